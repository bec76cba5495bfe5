#include "server/tls_certs.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/testing/temp_dir.h"

namespace fastgpu::server {
namespace {

using fastgpu::testing::FileMode;
using fastgpu::testing::ReadFile;
using fastgpu::testing::TempDir;

// Verifies the chain in `chain_file` (leaf first) against the CA in `ca_file` for `name`
// with OpenSSL's own verifier; returns "" or the verifier's complaint.
std::string VerifyChain(const std::string& chain_file, const std::string& ca_file,
                        const std::string& name) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_load_file(store, ca_file.c_str());
  FILE* f = std::fopen(chain_file.c_str(), "r");
  X509* leaf = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  if (name.find_first_not_of("0123456789.:") == std::string::npos) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  }
  std::string out;
  if (X509_verify_cert(ctx) != 1) {
    out = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  }
  X509_STORE_CTX_free(ctx);
  X509_free(leaf);
  X509_STORE_free(store);
  return out;
}

TEST(TlsCerts, FirstStartMakesACaAndAServerCertificate) {
  TempDir dir;
  const std::string d = dir.path() + "/data";  // made on the way, mode 0700
  auto files = EnsureAutoTls(d, {"10.9.8.7", "cp.example.com", "localhost", "127.0.0.1"});
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_TRUE(files->created_ca);
  EXPECT_TRUE(files->issued_server);
  EXPECT_EQ(files->ca_file, d + "/ca.crt");
  EXPECT_EQ(files->cert_file, d + "/server.crt");
  EXPECT_EQ(files->key_file, d + "/server.key");
  EXPECT_EQ(FileMode(d), 0700);
  EXPECT_EQ(FileMode(d + "/ca.key"), 0600);
  EXPECT_EQ(FileMode(d + "/server.key"), 0600);
  EXPECT_EQ(FileMode(d + "/ca.crt"), 0644);
  EXPECT_EQ(files->ca_sha256.size(), 64u);
  auto ca_hash = CertificateFileSha256(files->ca_file);
  ASSERT_TRUE(ca_hash.ok());
  EXPECT_EQ(*ca_hash, files->ca_sha256);
  // server.crt is the leaf followed by the CA.
  std::string chain = ReadFile(files->cert_file);
  EXPECT_NE(chain.find(ReadFile(files->ca_file)), std::string::npos);
  for (const std::string name : {"10.9.8.7", "cp.example.com", "localhost", "127.0.0.1"}) {
    EXPECT_EQ(VerifyChain(files->cert_file, files->ca_file, name), "") << name;
  }
  EXPECT_NE(VerifyChain(files->cert_file, files->ca_file, "other.example.com"), "");
  EXPECT_NE(VerifyChain(files->cert_file, files->ca_file, "10.9.8.6"), "");
}

TEST(TlsCerts, RestartReusesTheFilesAndANewNameKeepsTheCa) {
  TempDir dir;
  auto first = EnsureAutoTls(dir.path(), {"127.0.0.1"});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string ca = ReadFile(dir.path() + "/ca.crt"),
                    ca_key = ReadFile(dir.path() + "/ca.key");
  const std::string crt = ReadFile(dir.path() + "/server.crt");
  const std::string key = ReadFile(dir.path() + "/server.key");

  auto again = EnsureAutoTls(dir.path(), {"127.0.0.1"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created_ca);
  EXPECT_FALSE(again->issued_server);
  EXPECT_EQ(again->ca_sha256, first->ca_sha256);
  EXPECT_EQ(ReadFile(dir.path() + "/server.crt"), crt);
  EXPECT_EQ(ReadFile(dir.path() + "/server.key"), key);

  auto renamed = EnsureAutoTls(dir.path(), {"127.0.0.1", "cp2.example.com"});
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_FALSE(renamed->created_ca);
  EXPECT_TRUE(renamed->issued_server);
  EXPECT_EQ(renamed->ca_sha256, first->ca_sha256);
  EXPECT_EQ(ReadFile(dir.path() + "/ca.crt"), ca);
  EXPECT_EQ(ReadFile(dir.path() + "/ca.key"), ca_key);
  EXPECT_NE(ReadFile(dir.path() + "/server.crt"), crt);
  EXPECT_EQ(FileMode(dir.path() + "/server.key"), 0600);
  EXPECT_EQ(VerifyChain(dir.path() + "/server.crt", dir.path() + "/ca.crt", "cp2.example.com"), "");
}

TEST(TlsCerts, AServerCertificateOfAnotherCaIsReplaced) {
  TempDir a, b;
  ASSERT_TRUE(EnsureAutoTls(a.path(), {"127.0.0.1"}).ok());
  ASSERT_TRUE(EnsureAutoTls(b.path(), {"127.0.0.1"}).ok());
  std::filesystem::copy_file(b.path() + "/server.crt", a.path() + "/server.crt",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(b.path() + "/server.key", a.path() + "/server.key",
                             std::filesystem::copy_options::overwrite_existing);
  auto files = EnsureAutoTls(a.path(), {"127.0.0.1"});
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_TRUE(files->issued_server);
  EXPECT_EQ(VerifyChain(a.path() + "/server.crt", a.path() + "/ca.crt", "127.0.0.1"), "");
}

TEST(TlsCerts, AHalfCaIsRefused) {
  TempDir dir;
  ASSERT_TRUE(EnsureAutoTls(dir.path(), {"127.0.0.1"}).ok());
  std::filesystem::remove(dir.path() + "/ca.key");
  auto files = EnsureAutoTls(dir.path(), {"127.0.0.1"});
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(files.status().message().find("ca.crt but no ca.key"), std::string::npos);
}

TEST(TlsCerts, InspectFindsTheCaAtTheEndOfAChain) {
  TempDir dir, other;
  auto made = EnsureAutoTls(dir.path(), {"127.0.0.1"});
  ASSERT_TRUE(made.ok());
  auto files = InspectTlsFiles(made->cert_file, made->key_file);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->ca_sha256, made->ca_sha256);
  ASSERT_TRUE(EnsureAutoTls(other.path(), {"127.0.0.1"}).ok());
  auto mismatch = InspectTlsFiles(made->cert_file, other.path() + "/server.key");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(InspectTlsFiles(dir.path() + "/missing.crt", made->key_file).ok());
  // A chain of one certificate names no CA.
  auto leaf_only = InspectTlsFiles(made->ca_file, dir.path() + "/ca.key");
  ASSERT_TRUE(leaf_only.ok()) << leaf_only.status();
  EXPECT_EQ(leaf_only->ca_sha256, "");
}

TEST(TlsCerts, NamesAndLoopback) {
  auto wildcard = ServerCertificateNames("0.0.0.0", {"cp.example.com"});
  auto has = [](const std::vector<std::string>& v, const std::string& n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  EXPECT_TRUE(has(wildcard, "127.0.0.1"));
  EXPECT_TRUE(has(wildcard, "localhost"));
  EXPECT_TRUE(has(wildcard, "cp.example.com"));
  EXPECT_FALSE(has(wildcard, "0.0.0.0"));
  auto one = ServerCertificateNames("10.1.2.3", {});
  ASSERT_FALSE(one.empty());
  EXPECT_EQ(one.front(), "10.1.2.3");
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.3.0.1"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_EQ(ColonFingerprint("ab01"), "AB:01");
}

}  // namespace
}  // namespace fastgpu::server
