// OpenLibvirt: libvirt's C API loaded with dlopen. The handful of entry points used are
// declared here with libvirt's own signatures (libvirt-host.h, libvirt-domain.h of libvirt
// 9.0); their ABI is stable since libvirt 1.0.
#include "agent/libvirt.h"

#include <dlfcn.h>

#include <mutex>

namespace fastgpu::agent {
namespace {

using VirConnect = void*;
using VirDomain = void*;

struct LibvirtApi {
  VirConnect (*connect_open)(const char*) = nullptr;
  int (*connect_close)(VirConnect) = nullptr;
  VirDomain (*domain_create_xml)(VirConnect, const char*, unsigned) = nullptr;
  VirDomain (*domain_lookup_by_name)(VirConnect, const char*) = nullptr;
  int (*domain_destroy)(VirDomain) = nullptr;
  int (*domain_free)(VirDomain) = nullptr;
  int (*domain_get_state)(VirDomain, int*, int*, unsigned) = nullptr;
  const char* (*domain_get_name)(VirDomain) = nullptr;
  int (*connect_list_all_domains)(VirConnect, VirDomain**, unsigned) = nullptr;
  char* (*domain_get_xml_desc)(VirDomain, unsigned) = nullptr;
  const char* (*get_last_error_message)() = nullptr;
  void* (*get_last_error)() = nullptr;
  void (*set_error_func)(void*, void (*)(void*, void*)) = nullptr;
  std::string error;  // why loading failed; "" when loaded
};

constexpr int kVirDomainShutoff = 5;  // VIR_DOMAIN_SHUTOFF
constexpr int kVirErrNoDomain = 42;   // VIR_ERR_NO_DOMAIN
constexpr unsigned kListActive = 1;   // VIR_CONNECT_LIST_DOMAINS_ACTIVE

template <typename F>
bool Load(void* lib, const char* name, F* fn, std::string* error) {
  *fn = reinterpret_cast<F>(::dlsym(lib, name));
  if (*fn == nullptr && error->empty()) error->assign(std::string("libvirt lacks ") + name);
  return *fn != nullptr;
}

const LibvirtApi& Api() {
  static LibvirtApi api;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = ::dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      api.error = "libvirt is not installed (libvirt.so.0: " + std::string(::dlerror()) +
                  "; install libvirt-daemon-system)";
      return;
    }
    std::string& e = api.error;
    Load(lib, "virConnectOpen", &api.connect_open, &e);
    Load(lib, "virConnectClose", &api.connect_close, &e);
    Load(lib, "virDomainCreateXML", &api.domain_create_xml, &e);
    Load(lib, "virDomainLookupByName", &api.domain_lookup_by_name, &e);
    Load(lib, "virDomainDestroy", &api.domain_destroy, &e);
    Load(lib, "virDomainFree", &api.domain_free, &e);
    Load(lib, "virDomainGetState", &api.domain_get_state, &e);
    Load(lib, "virDomainGetName", &api.domain_get_name, &e);
    Load(lib, "virConnectListAllDomains", &api.connect_list_all_domains, &e);
    Load(lib, "virDomainGetXMLDesc", &api.domain_get_xml_desc, &e);
    Load(lib, "virGetLastErrorMessage", &api.get_last_error_message, &e);
    Load(lib, "virGetLastError", &api.get_last_error, &e);
    // Errors are returned as values; libvirt's default handler would also print them.
    if (Load(lib, "virSetErrorFunc", &api.set_error_func, &e)) {
      api.set_error_func(nullptr, [](void*, void*) {});
    }
  });
  return api;
}

std::string LastError(const LibvirtApi& api) {
  const char* m = api.get_last_error_message();
  return m != nullptr ? m : "unknown libvirt error";
}

// virErrorPtr's first field is the code (struct _virError { int code; ... }).
int LastErrorCode(const LibvirtApi& api) {
  void* e = api.get_last_error();
  return e != nullptr ? *static_cast<int*>(e) : 0;
}

class Libvirt final : public Hypervisor {
 public:
  Libvirt(const LibvirtApi& api, VirConnect conn) : api_(api), conn_(conn) {}
  ~Libvirt() override { api_.connect_close(conn_); }

  Status Start(const std::string& xml) override {
    VirDomain d = api_.domain_create_xml(conn_, xml.c_str(), 0);
    if (d == nullptr) return FailedPrecondition("libvirt refused the domain: " + LastError(api_));
    api_.domain_free(d);
    return OkStatus();
  }

  Result<bool> Running(const std::string& name) override {
    VirDomain d = api_.domain_lookup_by_name(conn_, name.c_str());
    if (d == nullptr) {
      if (LastErrorCode(api_) == kVirErrNoDomain) return false;
      return Unavailable("libvirt: " + LastError(api_));
    }
    int state = 0;
    int reason = 0;
    int rc = api_.domain_get_state(d, &state, &reason, 0);
    std::string error = rc < 0 ? LastError(api_) : "";
    int code = rc < 0 ? LastErrorCode(api_) : 0;
    api_.domain_free(d);
    if (rc < 0) {
      if (code == kVirErrNoDomain) return false;
      return Unavailable("libvirt: " + error);
    }
    return state != kVirDomainShutoff;
  }

  Status Destroy(const std::string& name) override {
    VirDomain d = api_.domain_lookup_by_name(conn_, name.c_str());
    if (d == nullptr) {
      if (LastErrorCode(api_) == kVirErrNoDomain) return OkStatus();
      return Unavailable("libvirt: " + LastError(api_));
    }
    int rc = api_.domain_destroy(d);
    std::string error = rc < 0 ? LastError(api_) : "";
    int code = rc < 0 ? LastErrorCode(api_) : 0;
    api_.domain_free(d);
    if (rc < 0 && code != kVirErrNoDomain && code != 55 /* VIR_ERR_OPERATION_INVALID */) {
      return Unavailable("libvirt could not destroy " + name + ": " + error);
    }
    return OkStatus();
  }

  Result<std::vector<std::string>> List(const std::string& prefix) override {
    VirDomain* domains = nullptr;
    int n = api_.connect_list_all_domains(conn_, &domains, kListActive);
    if (n < 0) return Unavailable("libvirt: " + LastError(api_));
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
      const char* name = api_.domain_get_name(domains[i]);
      if (name != nullptr && std::string_view(name).starts_with(prefix)) names.emplace_back(name);
      api_.domain_free(domains[i]);
    }
    ::free(domains);
    return names;
  }

  Result<std::string> Xml(const std::string& name) override {
    VirDomain d = api_.domain_lookup_by_name(conn_, name.c_str());
    if (d == nullptr) {
      if (LastErrorCode(api_) == kVirErrNoDomain) return NotFound("no domain " + name);
      return Unavailable("libvirt: " + LastError(api_));
    }
    char* xml = api_.domain_get_xml_desc(d, 0);
    std::string error = xml == nullptr ? LastError(api_) : "";
    api_.domain_free(d);
    if (xml == nullptr) return Unavailable("libvirt: " + error);
    std::string out(xml);
    ::free(xml);
    return out;
  }

 private:
  const LibvirtApi& api_;
  VirConnect conn_;
};

}  // namespace

Result<std::unique_ptr<Hypervisor>> OpenLibvirt(const std::string& uri) {
  const LibvirtApi& api = Api();
  if (!api.error.empty()) return Unavailable(api.error);
  VirConnect conn = api.connect_open(uri.c_str());
  if (conn == nullptr) {
    return Unavailable("cannot connect to libvirt at " + uri + ": " + LastError(api) +
                       " (is libvirtd running?)");
  }
  return std::unique_ptr<Hypervisor>(std::make_unique<Libvirt>(api, conn));
}

}  // namespace fastgpu::agent
