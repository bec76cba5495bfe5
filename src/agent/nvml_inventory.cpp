#include "agent/nvml_inventory.h"

#include <dlfcn.h>

#include <cctype>
#include <cstring>
#include <vector>

#include "agent/gpu_names.h"

namespace fastgpu::agent {
namespace {

// The few NVML types used, declared from the public NVML ABI (nvml.h): return codes
// are ints, devices and event sets are opaque pointers.
using NvmlReturn = int;
using NvmlDevice = struct NvmlDeviceOpaque*;
using NvmlEventSet = struct NvmlEventSetOpaque*;
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr NvmlReturn kNvmlErrorGpuIsLost = 15;
constexpr unsigned long long kNvmlEventTypeXidCriticalError = 0x8ULL;
constexpr int kNvmlTemperatureGpu = 0;
constexpr int kNvmlMemoryErrorCorrected = 0;
constexpr int kNvmlMemoryErrorUncorrected = 1;
constexpr int kNvmlVolatileEcc = 0;
constexpr unsigned kNvmlMigEnabled = 1;
constexpr unsigned kNvmlBufferSize = 96;

struct NvmlMemory {
  unsigned long long total, free, used;
};
struct NvmlUtilization {
  unsigned int gpu, memory;
};
struct NvmlEventData {
  NvmlDevice device;
  unsigned long long event_type;
  unsigned long long event_data;
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};

}  // namespace

struct NvmlGpuInventory::Api {
  void* handle = nullptr;
  bool initialised = false;
  NvmlEventSet events = nullptr;
  std::vector<NvmlDevice> devices;
  std::vector<GpuSample> base;  // static facts read at open
  std::string driver;

  NvmlReturn (*Init)() = nullptr;
  NvmlReturn (*Shutdown)() = nullptr;
  const char* (*ErrorString)(NvmlReturn) = nullptr;
  NvmlReturn (*GetCount)(unsigned*) = nullptr;
  NvmlReturn (*GetHandleByIndex)(unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*GetUuid)(NvmlDevice, char*, unsigned) = nullptr;
  NvmlReturn (*GetName)(NvmlDevice, char*, unsigned) = nullptr;
  NvmlReturn (*GetMemoryInfo)(NvmlDevice, NvmlMemory*) = nullptr;
  NvmlReturn (*GetMinorNumber)(NvmlDevice, unsigned*) = nullptr;  // optional
  // nvmlPciInfo_t: busIdLegacy[16], domain, bus, device, pciDeviceId, pciSubSystemId,
  // busId[32] ("00000000:65:00.0").
  struct PciInfo {
    char bus_id_legacy[16];
    unsigned domain, bus, device, device_id, subsystem_id;
    char bus_id[32];
  };
  NvmlReturn (*GetPciInfo)(NvmlDevice, PciInfo*) = nullptr;  // optional
  // Optional entry points (absent in old drivers): fields stay unknown.
  NvmlReturn (*GetDriverVersion)(char*, unsigned) = nullptr;
  NvmlReturn (*GetUtilization)(NvmlDevice, NvmlUtilization*) = nullptr;
  NvmlReturn (*GetTemperature)(NvmlDevice, int, unsigned*) = nullptr;
  NvmlReturn (*GetPowerUsage)(NvmlDevice, unsigned*) = nullptr;
  NvmlReturn (*GetTotalEccErrors)(NvmlDevice, int, int, unsigned long long*) = nullptr;
  NvmlReturn (*GetMigMode)(NvmlDevice, unsigned*, unsigned*) = nullptr;
  NvmlReturn (*GetMaxMigDeviceCount)(NvmlDevice, unsigned*) = nullptr;
  NvmlReturn (*GetMigDeviceHandleByIndex)(NvmlDevice, unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*EventSetCreate)(NvmlEventSet*) = nullptr;
  NvmlReturn (*RegisterEvents)(NvmlDevice, unsigned long long, NvmlEventSet) = nullptr;
  NvmlReturn (*EventSetWait)(NvmlEventSet, NvmlEventData*, unsigned) = nullptr;
  NvmlReturn (*EventSetFree)(NvmlEventSet) = nullptr;

  template <class F>
  bool Resolve(F*& fn, const char* name) {
    fn = reinterpret_cast<F*>(dlsym(handle, name));
    return fn != nullptr;
  }
  std::string Error(NvmlReturn r) const {
    const char* s = ErrorString != nullptr ? ErrorString(r) : nullptr;
    return s != nullptr ? s : "NVML error " + std::to_string(r);
  }

  ~Api() {
    if (events != nullptr && EventSetFree != nullptr) EventSetFree(events);
    if (initialised) Shutdown();
    if (handle != nullptr) dlclose(handle);
  }
};

Result<std::unique_ptr<NvmlGpuInventory>> NvmlGpuInventory::Open(const std::string& library) {
  auto api = std::make_unique<Api>();
  api->handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (api->handle == nullptr) {
    const char* err = dlerror();
    return Unavailable("no NVML: cannot load " + library + " (" + (err ? err : "unknown") +
                       "); is the NVIDIA driver installed?");
  }
  Api& a = *api;
  const char* missing = nullptr;
  if (!a.Resolve(a.Init, "nvmlInit_v2"))
    missing = "nvmlInit_v2";
  else if (!a.Resolve(a.Shutdown, "nvmlShutdown"))
    missing = "nvmlShutdown";
  else if (!a.Resolve(a.ErrorString, "nvmlErrorString"))
    missing = "nvmlErrorString";
  else if (!a.Resolve(a.GetCount, "nvmlDeviceGetCount_v2"))
    missing = "nvmlDeviceGetCount_v2";
  else if (!a.Resolve(a.GetHandleByIndex, "nvmlDeviceGetHandleByIndex_v2"))
    missing = "nvmlDeviceGetHandleByIndex_v2";
  else if (!a.Resolve(a.GetUuid, "nvmlDeviceGetUUID"))
    missing = "nvmlDeviceGetUUID";
  else if (!a.Resolve(a.GetName, "nvmlDeviceGetName"))
    missing = "nvmlDeviceGetName";
  else if (!a.Resolve(a.GetMemoryInfo, "nvmlDeviceGetMemoryInfo"))
    missing = "nvmlDeviceGetMemoryInfo";
  if (missing != nullptr) {
    return Unavailable("no NVML: " + library + " lacks " + missing);
  }
  a.Resolve(a.GetDriverVersion, "nvmlSystemGetDriverVersion");
  a.Resolve(a.GetMinorNumber, "nvmlDeviceGetMinorNumber");
  a.Resolve(a.GetPciInfo, "nvmlDeviceGetPciInfo_v3");
  a.Resolve(a.GetUtilization, "nvmlDeviceGetUtilizationRates");
  a.Resolve(a.GetTemperature, "nvmlDeviceGetTemperature");
  a.Resolve(a.GetPowerUsage, "nvmlDeviceGetPowerUsage");
  a.Resolve(a.GetTotalEccErrors, "nvmlDeviceGetTotalEccErrors");
  a.Resolve(a.GetMigMode, "nvmlDeviceGetMigMode");
  a.Resolve(a.GetMaxMigDeviceCount, "nvmlDeviceGetMaxMigDeviceCount");
  a.Resolve(a.GetMigDeviceHandleByIndex, "nvmlDeviceGetMigDeviceHandleByIndex");
  a.Resolve(a.EventSetCreate, "nvmlEventSetCreate");
  a.Resolve(a.RegisterEvents, "nvmlDeviceRegisterEvents");
  a.Resolve(a.EventSetWait, "nvmlEventSetWait_v2");
  a.Resolve(a.EventSetFree, "nvmlEventSetFree");

  NvmlReturn r = a.Init();
  if (r != kNvmlSuccess) return Unavailable("no NVML: nvmlInit failed: " + a.Error(r));
  a.initialised = true;
  char buf[kNvmlBufferSize];
  if (a.GetDriverVersion != nullptr && a.GetDriverVersion(buf, sizeof(buf)) == kNvmlSuccess) {
    a.driver = buf;
  }
  unsigned count = 0;
  r = a.GetCount(&count);
  if (r != kNvmlSuccess) return Unavailable("no NVML: cannot count GPUs: " + a.Error(r));
  if (count == 0) return Unavailable("no NVML GPU: NVML loaded but found no GPU");
  if (a.EventSetCreate != nullptr && a.EventSetCreate(&a.events) != kNvmlSuccess) {
    a.events = nullptr;
  }
  for (unsigned i = 0; i < count; ++i) {
    NvmlDevice dev = nullptr;
    r = a.GetHandleByIndex(i, &dev);
    if (r != kNvmlSuccess) {
      return Unavailable("NVML: GPU " + std::to_string(i) + ": " + a.Error(r));
    }
    GpuSample s;
    s.gpu.index = static_cast<int>(i);
    if (a.GetUuid(dev, buf, sizeof(buf)) == kNvmlSuccess) s.gpu.uuid = buf;
    if (a.GetName(dev, buf, sizeof(buf)) == kNvmlSuccess) s.product_name = buf;
    if (Api::PciInfo pci{}; a.GetPciInfo != nullptr && a.GetPciInfo(dev, &pci) == kNvmlSuccess) {
      std::string id(pci.bus_id, strnlen(pci.bus_id, sizeof(pci.bus_id)));
      // sysfs and libvirt name it with a 4-digit domain: "0000:65:00.0".
      if (id.size() >= 12) s.pci_address = id.substr(id.size() - 12);
      for (char& c : s.pci_address)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    unsigned minor = 0;
    if (a.GetMinorNumber != nullptr && a.GetMinorNumber(dev, &minor) == kNvmlSuccess) {
      s.device_minor = static_cast<int>(minor);
    }
    NvmlMemory mem{};
    if (a.GetMemoryInfo(dev, &mem) == kNvmlSuccess) {
      s.gpu.memory_mib = static_cast<int64_t>(mem.total >> 20);
    }
    s.gpu.model = ModelFromProductName(s.product_name, s.gpu.memory_mib);
    if (a.events != nullptr && a.RegisterEvents != nullptr) {
      a.RegisterEvents(dev, kNvmlEventTypeXidCriticalError, a.events);  // unsupported: no events
    }
    a.devices.push_back(dev);
    a.base.push_back(std::move(s));
  }
  auto inventory = std::unique_ptr<NvmlGpuInventory>(new NvmlGpuInventory());
  inventory->api_ = std::move(api);
  return inventory;
}

NvmlGpuInventory::~NvmlGpuInventory() = default;

std::string NvmlGpuInventory::Describe() const {
  return "NVML, driver " + (api_->driver.empty() ? std::string("unknown") : api_->driver) + ", " +
         std::to_string(api_->devices.size()) + " GPUs";
}

Result<std::vector<GpuSample>> NvmlGpuInventory::Sample() {
  Api& a = *api_;
  std::vector<GpuSample> out = a.base;
  char buf[kNvmlBufferSize];
  for (size_t i = 0; i < a.devices.size(); ++i) {
    NvmlDevice dev = a.devices[i];
    GpuSample& s = out[i];
    NvmlMemory mem{};
    NvmlReturn r = a.GetMemoryInfo(dev, &mem);
    if (r == kNvmlErrorGpuIsLost || a.GetUuid(dev, buf, sizeof(buf)) == kNvmlErrorGpuIsLost) {
      s.present = false;
      continue;
    }
    NvmlUtilization util{};
    if (a.GetUtilization && a.GetUtilization(dev, &util) == kNvmlSuccess) {
      s.utilization_percent = static_cast<int>(util.gpu);
    }
    unsigned value = 0;
    if (a.GetTemperature && a.GetTemperature(dev, kNvmlTemperatureGpu, &value) == kNvmlSuccess) {
      s.temperature_c = static_cast<int>(value);
    }
    if (a.GetPowerUsage && a.GetPowerUsage(dev, &value) == kNvmlSuccess) s.power_mw = value;
    unsigned long long ecc = 0;
    if (a.GetTotalEccErrors) {
      if (a.GetTotalEccErrors(dev, kNvmlMemoryErrorCorrected, kNvmlVolatileEcc, &ecc) ==
          kNvmlSuccess) {
        s.ecc_corrected = static_cast<int64_t>(ecc);
      }
      if (a.GetTotalEccErrors(dev, kNvmlMemoryErrorUncorrected, kNvmlVolatileEcc, &ecc) ==
          kNvmlSuccess) {
        s.ecc_uncorrected = static_cast<int64_t>(ecc);
      }
    }
    unsigned current = 0, pending = 0, max_mig = 0;
    if (a.GetMigMode && a.GetMigMode(dev, &current, &pending) == kNvmlSuccess) {
      s.gpu.mig_enabled = current == kNvmlMigEnabled;
    }
    if (s.gpu.mig_enabled && a.GetMaxMigDeviceCount && a.GetMigDeviceHandleByIndex &&
        a.GetMaxMigDeviceCount(dev, &max_mig) == kNvmlSuccess) {
      for (unsigned m = 0; m < max_mig; ++m) {
        NvmlDevice mig = nullptr;
        if (a.GetMigDeviceHandleByIndex(dev, m, &mig) != kNvmlSuccess) continue;  // empty slot
        MigInstance inst;
        if (a.GetUuid(mig, buf, sizeof(buf)) == kNvmlSuccess) inst.uuid = buf;
        if (a.GetName(mig, buf, sizeof(buf)) == kNvmlSuccess) {
          std::string name = buf;
          size_t pos = name.find("MIG ");
          if (pos != std::string::npos) inst.profile = name.substr(pos + 4);
        }
        NvmlMemory mig_mem{};
        if (a.GetMemoryInfo(mig, &mig_mem) == kNvmlSuccess) {
          inst.memory_mib = static_cast<int64_t>(mig_mem.total >> 20);
        }
        if (!inst.uuid.empty()) s.mig_instances.push_back(std::move(inst));
      }
    }
  }
  return out;
}

std::vector<GpuEvent> NvmlGpuInventory::DrainEvents() {
  Api& a = *api_;
  std::vector<GpuEvent> out;
  if (a.events == nullptr || a.EventSetWait == nullptr) return out;
  for (int n = 0; n < 1000; ++n) {
    NvmlEventData data{};
    if (a.EventSetWait(a.events, &data, 0) != kNvmlSuccess) break;  // timeout: none left
    if ((data.event_type & kNvmlEventTypeXidCriticalError) == 0) continue;
    for (size_t i = 0; i < a.devices.size(); ++i) {
      if (a.devices[i] == data.device) {
        out.push_back({static_cast<int>(i), static_cast<int>(data.event_data)});
      }
    }
  }
  return out;
}

}  // namespace fastgpu::agent
