#include "agent/fake_inventory.h"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "model/gpu.h"

namespace fastgpu::agent {
namespace {

uint32_t Fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

std::string SimUuid(uint32_t seed_hash, int index) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "SIM-%08x-%04d", seed_hash, index);
  return buf;
}

}  // namespace

int64_t SimulatedMemoryMib(std::string_view model) {
  static const std::map<std::string, int64_t, std::less<>> kMemory = {
      {"H100-80GB", 81559}, {"H100-94GB", 95830}, {"H200-141GB", 143771}, {"H800-80GB", 81559},
      {"A100-80GB", 81920}, {"A100-40GB", 40960}, {"A800-80GB", 81920},   {"L40S", 46068},
      {"L40", 46068},       {"L4", 23034},        {"A10", 23028},         {"A30", 24576},
      {"A40", 46068},       {"T4", 15360},        {"V100", 16384},        {"V100M16", 16384},
      {"V100M32", 32768},   {"P100", 16384},      {"RTX4090", 24564},     {"RTX3090", 24576},
      {"B200", 183359}};
  if (auto it = kMemory.find(model); it != kMemory.end()) return it->second;
  size_t gb = model.find("GB");
  if (gb != std::string_view::npos) {
    size_t start = gb;
    while (start > 0 && model[start - 1] >= '0' && model[start - 1] <= '9') --start;
    int64_t gib = 0;
    auto [end, err] = std::from_chars(model.data() + start, model.data() + gb, gib);
    if (start < gb && err == std::errc() && end == model.data() + gb && gib < (int64_t{1} << 40)) {
      return gib * 1024;
    }
  }
  return 16384;
}

Result<std::unique_ptr<FakeGpuInventory>> FakeGpuInventory::Create(std::string_view spec,
                                                                   std::string_view uuid_seed,
                                                                   std::string fault_file) {
  std::vector<GpuSample> gpus;
  uint32_t seed_hash = Fnv1a(uuid_seed);
  std::stringstream groups{std::string(spec)};
  std::string group;
  while (std::getline(groups, group, ',')) {
    std::string bad = "simulated GPUs '" + std::string(spec) + "': group '" + group + "' ";
    size_t x = group.find('x');
    if (x == std::string::npos || x == 0) return InvalidArgument(bad + "is not <count>x<model>");
    int count = 0;
    for (size_t i = 0; i < x; ++i) {
      if (group[i] < '0' || group[i] > '9') return InvalidArgument(bad + "has a bad count");
      count = count * 10 + (group[i] - '0');
      if (count > 64) return InvalidArgument(bad + "asks for more than 64 GPUs");
    }
    std::string model = group.substr(x + 1);
    bool mig = false;
    if (model.size() > 4 && model.substr(model.size() - 4) == ":mig") {
      mig = true;
      model.resize(model.size() - 4);
    }
    if (count == 0) return InvalidArgument(bad + "has a zero count");
    FASTGPU_RETURN_IF_ERROR(model::ValidateGpuModelName(model).WithContext(bad));
    for (int i = 0; i < count; ++i) {
      GpuSample s;
      s.gpu.index = static_cast<int>(gpus.size());
      s.gpu.uuid = SimUuid(seed_hash, s.gpu.index);
      s.device_minor = s.gpu.index;
      s.gpu.model = model;
      s.gpu.memory_mib = SimulatedMemoryMib(model);
      s.gpu.mig_enabled = mig;
      s.gpu.simulated = true;
      s.product_name = "Simulated " + model;
      s.utilization_percent = 0;
      s.temperature_c = 40;
      s.power_mw = 60000;
      s.ecc_corrected = 0;
      s.ecc_uncorrected = 0;
      if (mig) {
        for (int m = 0; m < 7; ++m) {
          s.mig_instances.push_back({"MIG-" + s.gpu.uuid + "-" + std::to_string(m),
                                     "1g." + std::to_string(s.gpu.memory_mib / 8 / 1024) + "gb",
                                     s.gpu.memory_mib / 8});
        }
      }
      gpus.push_back(std::move(s));
    }
    if (gpus.size() > 64) return InvalidArgument("simulated GPUs: more than 64 in all");
  }
  if (gpus.empty()) return InvalidArgument("simulated GPUs: empty spec");
  return std::unique_ptr<FakeGpuInventory>(
      new FakeGpuInventory(std::string(spec), std::move(gpus), std::move(fault_file)));
}

FakeGpuInventory::FakeGpuInventory(std::string spec, std::vector<GpuSample> gpus,
                                   std::string fault_file)
    : spec_(std::move(spec)), fault_file_(std::move(fault_file)), gpus_(std::move(gpus)) {}

Result<std::vector<GpuSample>> FakeGpuInventory::Sample() {
  std::lock_guard lock(mu_);
  ApplyFaultFileLocked();
  return gpus_;
}

std::vector<GpuEvent> FakeGpuInventory::DrainEvents() {
  std::lock_guard lock(mu_);
  ApplyFaultFileLocked();
  std::vector<GpuEvent> out;
  out.swap(events_);
  return out;
}

void FakeGpuInventory::ApplyFaultFileLocked() {
  if (fault_file_.empty()) return;
  std::ifstream in(fault_file_);
  if (!in) return;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line still being written (no newline yet) waits
    if (++n <= fault_lines_applied_) continue;
    ApplyLineLocked(line);
    fault_lines_applied_ = n;
  }
}

void FakeGpuInventory::ApplyLineLocked(const std::string& line) {
  std::istringstream words(line.substr(0, line.find('#')));
  std::string verb;
  int index = -1;
  int64_t value = 0;
  if (!(words >> verb >> index)) return;
  if (index < 0 || index >= static_cast<int>(gpus_.size())) return;
  if (verb == "xid" && (words >> value)) {
    events_.push_back({index, static_cast<int>(value)});
  } else if (verb == "ecc" && (words >> value)) {
    gpus_[index].ecc_uncorrected = value;
  } else if (verb == "lost") {
    gpus_[index].present = false;
  } else if (verb == "temp" && (words >> value)) {
    gpus_[index].temperature_c = static_cast<int>(value);
  }
}

void FakeGpuInventory::InjectXid(int index, int xid) {
  std::lock_guard lock(mu_);
  if (index >= 0 && index < static_cast<int>(gpus_.size())) events_.push_back({index, xid});
}

void FakeGpuInventory::SetEccUncorrected(int index, int64_t count) {
  std::lock_guard lock(mu_);
  if (index >= 0 && index < static_cast<int>(gpus_.size())) gpus_[index].ecc_uncorrected = count;
}

void FakeGpuInventory::RemoveGpu(int index) {
  std::lock_guard lock(mu_);
  if (index >= 0 && index < static_cast<int>(gpus_.size())) gpus_[index].present = false;
}

void FakeGpuInventory::SetTemperature(int index, int celsius) {
  std::lock_guard lock(mu_);
  if (index >= 0 && index < static_cast<int>(gpus_.size())) gpus_[index].temperature_c = celsius;
}

}  // namespace fastgpu::agent
