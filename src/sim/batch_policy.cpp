#include "sim/batch_policy.h"

#include <mutex>

#include "sim/batch_placers_internal.h"

namespace fastgpu::sim {
namespace {

using Factory = Result<std::unique_ptr<BatchPlacer>> (*)(const BatchOptions&);
struct Entry {
  const char* name;
  Factory make;
};
constexpr Entry kBatchPlacers[] = {
    {"ilp-batch", &MakeIlpBatch},
};

struct LpHook {
  std::mutex mu;
  LpUpperBoundHook hook = &LpBoundShare;
};

LpHook& GetLpHook() {
  static LpHook hook;
  return hook;
}

}  // namespace

Result<std::unique_ptr<BatchPlacer>> MakeBatchPlacer(std::string_view name,
                                                     const BatchOptions& options) {
  for (const Entry& e : kBatchPlacers) {
    if (name == e.name) return e.make(options);
  }
  std::string known;
  for (const Entry& e : kBatchPlacers) known += (known.empty() ? "" : ", ") + std::string(e.name);
  return NotFound("no batch placer named '" + std::string(name) + "' (known: " + known + ")");
}

std::vector<std::string> BatchPlacerNames() {
  std::vector<std::string> names;
  for (const Entry& e : kBatchPlacers) names.emplace_back(e.name);
  return names;
}

void SetLpUpperBoundHook(LpUpperBoundHook hook) {
  LpHook& h = GetLpHook();
  std::lock_guard<std::mutex> lock(h.mu);
  h.hook = std::move(hook);
}

LpUpperBoundHook GetLpUpperBoundHook() {
  LpHook& h = GetLpHook();
  std::lock_guard<std::mutex> lock(h.mu);
  return h.hook;
}

}  // namespace fastgpu::sim
