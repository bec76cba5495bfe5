#include "placer/batch_placers.h"

#include "placer/batch_placers_internal.h"

namespace fastgpu::placer {
namespace {

using Factory = Result<std::unique_ptr<sched::BatchPlacer>> (*)(const BatchOptions&);
struct Entry {
  const char* name;
  Factory make;
};
constexpr Entry kBatchPlacers[] = {
    {"ilp-batch", &MakeIlpBatch},
};

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Result<std::unique_ptr<sched::BatchPlacer>> MakeBatchPlacer(std::string_view name,
                                                            const BatchOptions& options) {
  for (const Entry& e : kBatchPlacers) {
    if (name == e.name) return e.make(options);
  }
  return NotFound("no batch placer named '" + std::string(name) +
                  "' (known: " + Join(BatchPlacerNames()) + ")");
}

std::vector<std::string> BatchPlacerNames() {
  std::vector<std::string> names;
  for (const Entry& e : kBatchPlacers) names.emplace_back(e.name);
  return names;
}

bool IsBatchPlacer(std::string_view name) {
  for (const Entry& e : kBatchPlacers) {
    if (name == e.name) return true;
  }
  return false;
}

std::string KnownPlacersText() {
  return "online policies: " + Join(sched::PolicyNames()) +
         "; batch placers: " + Join(BatchPlacerNames());
}

}  // namespace fastgpu::placer
