#include "sim/batch_policy.h"

#include <map>
#include <mutex>

namespace fastgpu::sim {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BatchPlacerFactory, std::less<>> factories;
  LpUpperBoundHook lp_hook;
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();  // never destroyed: used from static init
  return *registry;
}

}  // namespace

bool RegisterBatchPlacer(std::string name, BatchPlacerFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories[std::move(name)] = std::move(factory);
  return true;
}

Result<std::unique_ptr<BatchPlacer>> MakeBatchPlacer(std::string_view name,
                                                     const BatchOptions& options) {
  BatchPlacerFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.factories.find(name);
    if (it == r.factories.end()) {
      return NotFound("no batch placer named '" + std::string(name) + "'");
    }
    factory = it->second;
  }
  return factory(options);
}

std::vector<std::string> BatchPlacerNames() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [name, factory] : r.factories) names.push_back(name);
  return names;
}

void SetLpUpperBoundHook(LpUpperBoundHook hook) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.lp_hook = std::move(hook);
}

LpUpperBoundHook GetLpUpperBoundHook() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.lp_hook;
}

}  // namespace fastgpu::sim
