#include <functional>
#include <utility>

#include "scheduler/policies_internal.h"
#include "scheduler/policy.h"

namespace fastgpu::sched {
namespace {

using Factory = std::unique_ptr<Policy> (*)(const PolicyOptions&);
struct Entry {
  const char* name;
  Factory make;
};
constexpr Entry kPolicies[] = {
    {"first-fit", &MakeFirstFit},
    {"best-fit", &MakeBestFit},
    {"dot-product", &MakeDotProduct},
    {"gpu-packing", &MakeGpuPacking},
    {"gpu-clustering", &MakeGpuClustering},
    {"fgd", &MakeFgd},
    {"random", &MakeRandom},
    {"fastgpu", &MakeFastGpu},
};

}  // namespace

std::vector<std::string> PolicyNames() {
  std::vector<std::string> names;
  for (const Entry& e : kPolicies) names.emplace_back(e.name);
  return names;
}

Result<std::unique_ptr<Policy>> MakePolicy(std::string_view name, const PolicyOptions& options) {
  for (const Entry& e : kPolicies) {
    if (name == e.name) return e.make(options);
  }
  std::string known;
  for (const Entry& e : kPolicies) known += (known.empty() ? "" : ", ") + std::string(e.name);
  return NotFound("no placement policy named '" + std::string(name) + "' (known: " + known + ")");
}

Result<std::vector<NodePlacement>> PlaceGang(Policy& policy, Cluster& cluster,
                                             const Request& request) {
  if (request.replicas < 1) {
    return InvalidArgument("request " + request.id + " asks for no replicas");
  }
  std::vector<NodePlacement> done;
  auto undo = [&] {
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      cluster.Release(*it).IgnoreError();  // cannot fail: we applied exactly these
      policy.OnNodeChanged(cluster, it->node);
    }
  };
  for (int r = 0; r < request.replicas; ++r) {
    Result<NodePlacement> placed = policy.Place(cluster, request.shape);
    if (!placed.ok()) {
      undo();
      std::string what = request.replicas > 1 ? "replica " + std::to_string(r + 1) + " of " +
                                                    std::to_string(request.replicas) + ": "
                                              : "";
      return placed.status().WithContext("request " + request.id + (what.empty() ? "" : " ") +
                                         what.substr(0, what.size() ? what.size() - 2 : 0));
    }
    Status applied = cluster.Apply(*placed);
    if (!applied.ok()) {
      undo();
      return Internal("policy " + std::string(policy.Name()) +
                      " chose a placement that does not apply: " + applied.message());
    }
    policy.OnNodeChanged(cluster, placed->node);
    done.push_back(std::move(*placed));
  }
  return done;
}

}  // namespace fastgpu::sched
