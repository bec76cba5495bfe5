#include "main/pool_flags.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>

#include "agent/agent.h"
#include "agent/fake_inventory.h"
#include "agent/launcher.h"
#include "common/clock.h"
#include "server/pool_exec_provider.h"
#include "server/pool_sim_provider.h"

namespace fastgpu::main {

namespace {

// An agent with simulated GPUs, stopped (with its workloads) when the pool gives it back.
class InProcessNode : public server::SimulatedNode {
 public:
  explicit InProcessNode(std::unique_ptr<agent::Agent> agent) : agent_(std::move(agent)) {}
  ~InProcessNode() override { agent_->Stop(); }

 private:
  std::unique_ptr<agent::Agent> agent_;
};

Result<std::unique_ptr<server::SimulatedNode>> StartSimulatedNode(
    const server::NodeRequest& r, const PoolAgentSettings& settings) {
  if (r.shape.gpus <= 0) return InvalidArgument("simulated nodes need GPUs (shape.gpus)");
  FASTGPU_ASSIGN_OR_RETURN(auto inventory,
                           agent::FakeGpuInventory::Create(
                               std::to_string(r.shape.gpus) + "x" + r.shape.gpu_model, r.name));
  agent::AgentOptions ao;
  ao.server_url = r.server_url;
  ao.join_token = r.join_token;
  ao.ca_file = settings.ca_file;
  ao.data_dir = settings.data_dir + "/pool/" + r.name;
  std::error_code ec;
  std::filesystem::remove_all(ao.data_dir, ec);  // a fresh node: no state of an earlier one
  ao.name = r.name;
  ao.inventory = std::move(inventory);
  ao.launcher = agent::MakeShimLauncher();
  ao.clock = &SystemClock::Default();
  ao.cpu_milli = r.shape.cpu_milli;
  ao.memory_mib = r.shape.memory_mib;
  ao.kill_workloads_on_stop = true;
  auto a = std::make_unique<agent::Agent>(std::move(ao));
  FASTGPU_RETURN_IF_ERROR(a->Start());
  return std::unique_ptr<server::SimulatedNode>(std::make_unique<InProcessNode>(std::move(a)));
}

}  // namespace

Result<std::shared_ptr<server::NodePool>> OpenPool(const std::string& pool_file,
                                                   const PoolAgentSettings& settings) {
  FASTGPU_ASSIGN_OR_RETURN(server::PoolConfig config, server::LoadPoolFile(pool_file));
  std::map<std::string, server::ExecProviderConfig> exec;
  std::map<std::string, std::chrono::seconds> delays;
  for (const auto& g : config.groups) {
    if (g.provider == "exec") exec[g.name] = g.exec;
    if (g.provider == "simulated") delays[g.name] = g.simulated.boot_delay;
  }
  std::map<std::string, std::unique_ptr<server::NodeProvider>> providers;
  providers["exec"] = std::make_unique<server::ExecProvider>(std::move(exec));
  const PoolAgentSettings* s = &settings;
  providers["simulated"] = std::make_unique<server::SimulatedProvider>(
      SystemClock::Default(),
      [s](const server::NodeRequest& r) { return StartSimulatedNode(r, *s); }, std::move(delays));
  FASTGPU_ASSIGN_OR_RETURN(
      auto pool,
      server::NodePool::Create(std::move(config), std::move(providers), SystemClock::Default()));
  return std::shared_ptr<server::NodePool>(std::move(pool));
}

}  // namespace fastgpu::main
