// vm types end to end, without booting a guest: `fastgpu up` with simulated GPUs that offer
// vGPU types (--simulate-vgpu-types) registers them; `job submit --isolation vm --gpu 0.3`
// lands on the 0.5 type and `job get` shows it; a vm job no type holds waits saying why;
// libvirt that does not answer is a reason on the node (`node list`) and on the replica.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "tests/json_output.h"
#include "tests/server_process.h"
#include "tests/test_util.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

std::string Str(const json::value& v, const char* key) {
  const json::value* f = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return f != nullptr && f->is_string() ? std::string(f->as_string()) : "";
}

TEST(VmTypesE2eTest, AFractionLandsOnTheSmallestTypeThatHoldsIt) {
  TempDir dir;
  // A guest "kernel" that exists (the agent then runs vm work) and a libvirt socket that
  // does not: the guest never boots, the placement is what is checked.
  const std::string kernel = dir.path() + "/vmlinuz";
  std::ofstream(kernel) << "not a kernel";
  ServerProcess up({"up", "--data-dir", dir.path(), "--simulate-gpus", "1xH100-80GB",
                    "--heartbeat-interval", "0.2", "--vm-kernel", kernel,
                    "--vm-libvirt-uri", "qemu+unix:///system?socket=" + dir.path() + "/none.sock",
                    "--simulate-vgpu-types", "H100-2-20C:0.25,H100-4-40C:0.5"});
  ASSERT_TRUE(up.ok()) << up.output();
  const std::string flags =
      "--server " + up.url() + " --token " + ReadFirstLine(dir.path() + "/admin.token");
  // The node lists the GPU's offer, and why vm work cannot run there now.
  std::string nodes;
  for (int i = 0; i < 100; ++i) {
    CommandResult r = RunFastgpu("node list " + flags);
    nodes = r.output;
    if (nodes.find("vm isolation offers:") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(nodes.find("GPU 0: passthrough, H100-2-20C (0.25 GPU), H100-4-40C (0.5 GPU)"),
            std::string::npos)
      << nodes;
  EXPECT_TRUE(nodes.find("cannot connect to libvirt") != std::string::npos ||
              nodes.find("libvirt is not installed") != std::string::npos)
      << nodes;

  CommandResult sub = RunFastgpu("job submit -o json --gpu 0.3 --isolation vm --cpu 1 --memory "
                                 "256Mi " + flags + " -- true");
  ASSERT_EQ(sub.exit_code, 0) << sub.output;
  const std::string id = Str(JsonOutput(sub), "id");
  json::value job = WaitForJob(flags, id, [](const json::object& j) {
    return !j.at("allocations").as_array().empty();
  });
  ASSERT_TRUE(job.is_object());
  const json::value& slice =
      job.at("allocations").as_array()[0].at("slices").as_array()[0];
  EXPECT_EQ(slice.at("milli").as_int64(), 500) << json::serialize(job);
  EXPECT_EQ(Str(slice, "vm_type"), "H100-4-40C") << json::serialize(job);
  CommandResult shown = RunFastgpu("job get " + id + " " + flags);
  EXPECT_NE(shown.output.find("0:500m/vm(H100-4-40C)"), std::string::npos) << shown.output;
  // libvirt does not answer: the replica fails with that reason, it does not hang.
  job = WaitForJob(flags, id, [](const json::object& j) {
    return Str(j, "state") == "failed";
  });
  const std::string message = Str(job.at("allocations").as_array()[0], "message");
  EXPECT_TRUE(message.find("cannot connect to libvirt") != std::string::npos ||
              message.find("libvirt is not installed") != std::string::npos)
      << json::serialize(job);

  // More than any type holds: waits, saying why.
  CommandResult big = RunFastgpu("job submit -o json --gpu 0.6 --isolation vm " + flags +
                                 " -- true");
  ASSERT_EQ(big.exit_code, 0) << big.output;
  const std::string big_id = Str(JsonOutput(big), "id");
  job = WaitForJob(flags, big_id, [](const json::object& j) {
    return Str(j, "reason").find("no GPU offers a vm type of at least 0.6") != std::string::npos;
  });
  EXPECT_EQ(Str(job, "state"), "pending") << json::serialize(job);
}

}  // namespace
}  // namespace fastgpu::testing
