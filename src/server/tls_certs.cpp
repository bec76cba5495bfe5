#include "server/tls_certs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/text.h"

namespace fastgpu::server {

namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(X509_NAME* p) const { X509_NAME_free(p); }
};
using X509Ptr = std::unique_ptr<X509, Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;

constexpr int64_t kDaySeconds = 24 * 3600;
constexpr int64_t kCaValiditySeconds = 3650 * kDaySeconds;
constexpr int64_t kServerValiditySeconds = 365 * kDaySeconds;
constexpr int64_t kRenewBeforeSeconds = 30 * kDaySeconds;

// The last OpenSSL error as text (and the queue cleared), for messages.
std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  std::string text = e == 0                                  ? "unknown OpenSSL error"
                     : ERR_reason_error_string(e) != nullptr ? ERR_reason_error_string(e)
                                                             : "OpenSSL error " + std::to_string(e);
  ERR_clear_error();
  return text;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `text` to `path` through a temporary file renamed over it, with `mode`.
Status WriteFileAtomically(const std::string& path, const std::string& text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Internal("cannot write " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, mode);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Internal("cannot write " + path + ": " + std::strerror(errno));
  }
  return OkStatus();
}

std::vector<X509Ptr> ParseCerts(const std::string& pem) {
  std::vector<X509Ptr> out;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  ERR_clear_error();  // the end of the input reads as an error
  return out;
}

Result<std::vector<X509Ptr>> LoadCerts(const std::string& path) {
  FASTGPU_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  auto certs = ParseCerts(pem);
  if (certs.empty()) return InvalidArgument(path + ": no PEM certificate in it");
  return certs;
}

Result<KeyPtr> LoadKey(const std::string& path) {
  FASTGPU_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return InvalidArgument(path + ": no PEM private key in it (" + OpenSslError() + ")");
  return key;
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string Sha256Of(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return "";
  return HexLower(md, n);
}

Result<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Internal("cannot make an EC P-256 key: " + OpenSslError());
  return key;
}

bool IsIpAddress(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  std::unique_ptr<X509_EXTENSION, Free> ext(
      X509V3_EXT_conf_nid(nullptr, ctx, nid, const_cast<char*>(value.c_str())));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Internal(std::string("certificate extension ") + OBJ_nid2sn(nid) + "=" + value + ": " +
                    OpenSslError());
  }
  return OkStatus();
}

// A certificate for `key`'s public half named `common_name`, issued by `issuer` (signed
// with `issuer_key`), or self-signed when `issuer` is null. `sans` empty makes a CA.
Result<X509Ptr> MakeCert(EVP_PKEY* key, const std::string& common_name, X509* issuer,
                         EVP_PKEY* issuer_key, const std::vector<std::string>& sans,
                         int64_t validity_seconds) {
  X509Ptr cert(X509_new());
  const bool is_ca = issuer == nullptr;
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Internal("no random bytes: " + OpenSslError());
  serial[0] &= 0x7f;  // a positive serial number
  std::unique_ptr<BIGNUM, Free> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // an hour of clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(validity_seconds));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("FastGPU"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), is_ca ? name : X509_get_subject_name(issuer));
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, is_ca ? cert.get() : issuer, cert.get(), nullptr, nullptr, 0);
  if (is_ca) {
    FASTGPU_RETURN_IF_ERROR(
        AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
    FASTGPU_RETURN_IF_ERROR(
        AddExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
    FASTGPU_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  } else {
    FASTGPU_RETURN_IF_ERROR(
        AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
    FASTGPU_RETURN_IF_ERROR(
        AddExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
    FASTGPU_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth"));
    FASTGPU_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
    FASTGPU_RETURN_IF_ERROR(
        AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
    std::string san;
    for (const std::string& n : sans) {
      if (n.empty() || n.find_first_of(",\n") != std::string::npos) continue;
      if (!san.empty()) san += ",";
      san += (IsIpAddress(n) ? "IP:" : "DNS:") + n;
    }
    if (san.empty()) return InvalidArgument("server certificate: no names to issue it for");
    FASTGPU_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_alt_name, san));
  }
  if (X509_sign(cert.get(), is_ca ? key : issuer_key, EVP_sha256()) == 0) {
    return Internal("cannot sign the certificate: " + OpenSslError());
  }
  return cert;
}

// Why an existing server certificate cannot be reused, or "" when it can.
std::string ServerCertProblem(const std::string& cert_path, const std::string& key_path, X509* ca,
                              const std::vector<std::string>& names) {
  auto certs = LoadCerts(cert_path);
  if (!certs.ok()) return certs.status().message();
  auto key = LoadKey(key_path);
  if (!key.ok()) return key.status().message();
  X509* leaf = (*certs)[0].get();
  if (X509_check_private_key(leaf, key->get()) != 1) {
    ERR_clear_error();
    return "server.key does not match server.crt";
  }
  EVP_PKEY* ca_key = X509_get0_pubkey(ca);
  if (ca_key == nullptr || X509_verify(leaf, ca_key) != 1) {
    ERR_clear_error();
    return "server.crt was not issued by ca.crt";
  }
  time_t renew_by = std::time(nullptr) + kRenewBeforeSeconds;
  if (X509_cmp_time(X509_get0_notAfter(leaf), &renew_by) <= 0) return "it expires within 30 days";
  for (const std::string& n : names) {
    int ok = IsIpAddress(n) ? X509_check_ip_asc(leaf, n.c_str(), 0)
                            : X509_check_host(leaf, n.c_str(), n.size(), 0, nullptr);
    if (ok != 1) return "it does not cover " + n;
  }
  return "";
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr a4{};
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  return false;
}

std::vector<std::string> ServerCertificateNames(const std::string& host,
                                                const std::vector<std::string>& extra) {
  std::vector<std::string> names;
  auto add = [&names](const std::string& n) {
    if (!n.empty() && std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  if (host == "0.0.0.0" || host == "::" || host.empty()) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
      for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (i->ifa_addr->sa_family == AF_INET) {
          inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text,
                    sizeof text);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
          const in6_addr& a6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr;
          if (IN6_IS_ADDR_LINKLOCAL(&a6)) continue;  // needs a zone; never in a URL here
          inet_ntop(AF_INET6, &a6, text, sizeof text);
        }
        add(text);
      }
      ::freeifaddrs(list);
    }
  } else {
    add(host);
  }
  add(HostName());
  add("localhost");
  add("127.0.0.1");
  add("::1");
  for (const std::string& n : extra) add(n);
  return names;
}

Result<TlsFiles> EnsureAutoTls(const std::string& dir, const std::vector<std::string>& names) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Internal("cannot create " + dir + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  TlsFiles files;
  files.ca_file = dir + "/ca.crt";
  files.cert_file = dir + "/server.crt";
  files.key_file = dir + "/server.key";
  const std::string ca_key_path = dir + "/ca.key";
  const bool have_ca_cert = std::filesystem::exists(files.ca_file, ec);
  const bool have_ca_key = std::filesystem::exists(ca_key_path, ec);
  if (have_ca_cert != have_ca_key) {
    return FailedPrecondition(dir + " has " +
                              (have_ca_cert ? "ca.crt but no ca.key" : "ca.key but no ca.crt") +
                              "; restore the missing file, or remove both to make a new CA "
                              "(agents that pin the old one must then get a new join token)");
  }
  X509Ptr ca;
  KeyPtr ca_key;
  if (have_ca_cert) {
    auto certs = LoadCerts(files.ca_file);
    if (!certs.ok()) return certs.status();
    ca = std::move((*certs)[0]);
    FASTGPU_ASSIGN_OR_RETURN(ca_key, LoadKey(ca_key_path));
    if (X509_check_private_key(ca.get(), ca_key.get()) != 1) {
      ERR_clear_error();
      return FailedPrecondition(ca_key_path + " is not the key of " + files.ca_file);
    }
  } else {
    FASTGPU_ASSIGN_OR_RETURN(ca_key, NewKey());
    std::string host = HostName();
    FASTGPU_ASSIGN_OR_RETURN(
        ca,
        MakeCert(ca_key.get(), "FastGPU control plane CA" + (host.empty() ? "" : " (" + host + ")"),
                 nullptr, nullptr, {}, kCaValiditySeconds));
    // The key first: a crash between the two leaves ca.key alone, which the next start
    // refuses instead of silently making another CA.
    FASTGPU_RETURN_IF_ERROR(WriteFileAtomically(ca_key_path, KeyPem(ca_key.get()), 0600));
    FASTGPU_RETURN_IF_ERROR(WriteFileAtomically(files.ca_file, CertPem(ca.get()), 0644));
    files.created_ca = true;
  }
  files.ca_sha256 = Sha256Of(ca.get());
  std::string problem = files.created_ca
                            ? "a new CA"
                            : ServerCertProblem(files.cert_file, files.key_file, ca.get(), names);
  if (!problem.empty()) {
    FASTGPU_ASSIGN_OR_RETURN(KeyPtr key, NewKey());
    FASTGPU_ASSIGN_OR_RETURN(X509Ptr cert, MakeCert(key.get(), "FastGPU control plane", ca.get(),
                                                    ca_key.get(), names, kServerValiditySeconds));
    FASTGPU_RETURN_IF_ERROR(WriteFileAtomically(files.key_file, KeyPem(key.get()), 0600));
    FASTGPU_RETURN_IF_ERROR(
        WriteFileAtomically(files.cert_file, CertPem(cert.get()) + CertPem(ca.get()), 0644));
    files.issued_server = true;
  }
  return files;
}

Result<TlsFiles> InspectTlsFiles(const std::string& cert_file, const std::string& key_file) {
  auto certs = LoadCerts(cert_file);
  if (!certs.ok()) return InvalidArgument("--tls-cert: " + certs.status().message());
  auto key = LoadKey(key_file);
  if (!key.ok()) return InvalidArgument("--tls-key: " + key.status().message());
  if (X509_check_private_key((*certs)[0].get(), key->get()) != 1) {
    ERR_clear_error();
    return InvalidArgument("--tls-key " + key_file +
                           " is not the key of the first certificate in " + cert_file);
  }
  TlsFiles files;
  files.cert_file = cert_file;
  files.key_file = key_file;
  X509* last = certs->back().get();
  if (certs->size() > 1 && X509_check_ca(last) >= 1) {
    files.ca_file = cert_file;
    files.ca_sha256 = Sha256Of(last);
  }
  return files;
}

Result<std::string> CertificateFileSha256(const std::string& pem_file) {
  auto certs = LoadCerts(pem_file);
  if (!certs.ok()) return InvalidArgument(certs.status().message());
  return Sha256Of((*certs)[0].get());
}

std::string ColonFingerprint(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    if (!out.empty()) out += ':';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i + 1])));
  }
  return out;
}

}  // namespace fastgpu::server
