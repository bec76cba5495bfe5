// The `exec` node provider: the operator's own command starts and stops machines, as
// Cluster Autoscaler's external provider and Nomad's autoscaler targets do. The group's
// `exec.command` runs with one more argument, the verb, a JSON object on stdin and (for
// list) a JSON object on stdout:
//   create  stdin {"group","name","shape":{"gpu_model","gpus","cpu_milli","memory_mib"},
//                  "server_url","join_token"}: start a machine whose agent runs
//                  `fastgpu agent --server <server_url> --join-token <join_token> --name <name>`;
//   delete  stdin {"group","name"}: give the machine back (exit 0 also when it is gone);
//   list    stdin {"group"}; stdout {"nodes":["<name>", ...]}: the group's machines.
// Exit status 0 is success; otherwise the call fails with the command's stderr (its last
// 2 KiB) as the reason. Each call is bounded by the group's exec.timeout (real time): past
// it the command's process group is killed and the call fails. docs/pool.md has a sample
// script for a cloud CLI.
//
// Thread-safe (no shared state; each call runs its own process).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "server/pool_provider.h"

namespace fastgpu::server {

// What one run of a command gave.
struct ExecResult {
  int exit_code = -1;  // -1 when killed or it did not start
  std::string out;     // stdout (at most 1 MiB)
  std::string err;     // stderr (its last 2 KiB)
};

// Runs argv with `input` on stdin, for at most `timeout`. DeadlineExceeded when it ran
// past the timeout (killed), Internal when it could not start; else its result, whatever
// its exit code.
Result<ExecResult> RunCommand(const std::vector<std::string>& argv, const std::string& input,
                              std::chrono::milliseconds timeout);

class ExecProvider : public NodeProvider {
 public:
  // The groups' settings by group name.
  explicit ExecProvider(std::map<std::string, ExecProviderConfig> groups);

  Status Create(const NodeRequest& request) override;
  Status Delete(const std::string& group, const std::string& name) override;
  Result<std::vector<std::string>> List(const std::string& group) override;

 private:
  // Runs the group's command with `verb`; the failure's message names the verb and says
  // the exit code and stderr.
  Result<std::string> Run(const std::string& group, const std::string& verb,
                          const std::string& input);
  std::map<std::string, ExecProviderConfig> groups_;
};

}  // namespace fastgpu::server
