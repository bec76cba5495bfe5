#include "main/sandbox_flags.h"

#include <cstdio>

namespace fastgpu::main {

void AddSandboxFlags(CLI::App* cmd, const std::shared_ptr<SandboxFlags>& flags) {
  cmd->add_flag("--sandbox,!--no-sandbox", flags->enabled,
                "Run each workload as its own unprivileged uid in its own PID, mount, IPC and "
                "UTS namespaces, with the data dir hidden and only its GPUs in /dev (default on; "
                "degraded with a warning where the host cannot)");
  cmd->add_option("--sandbox-uids", flags->uids,
                  "The uids (and gids) replicas run as, one per replica, e.g. 200000-299999; "
                  "give a range no host user or other agent uses")
      ->capture_default_str();
  cmd->add_option("--sandbox-hide", flags->hide,
                  "Another folder to hide from workloads (repeatable; the data dir always is)");
}

Result<agent::SandboxOptions> SandboxOptionsFromFlags(const SandboxFlags& flags) {
  agent::SandboxOptions o;
  o.enabled = flags.enabled;
  long long first = 0, last = 0;
  char tail = 0;
  if (std::sscanf(flags.uids.c_str(), "%lld-%lld%c", &first, &last, &tail) != 2 || first <= 0 ||
      last < first || last > 0xfffffffeLL) {
    return InvalidArgument("--sandbox-uids: '" + flags.uids +
                           "' is not FIRST-LAST with 0 < FIRST <= LAST (e.g. 200000-299999)");
  }
  o.first_uid = first;
  o.last_uid = last;
  for (const std::string& h : flags.hide) {
    if (h.empty() || h[0] != '/') {
      return InvalidArgument("--sandbox-hide: '" + h + "' is not an absolute path");
    }
  }
  o.hide_paths = flags.hide;
  return o;
}

}  // namespace fastgpu::main
