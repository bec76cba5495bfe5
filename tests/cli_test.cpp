// The `fastgpu` binary's command line: help, version, bad usage.
#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace fastgpu::testing {
namespace {

TEST(CliTest, HelpListsEverySubcommand) {
  CommandResult r = RunFastgpu("--help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* sub : {"version", "up", "server", "agent", "sim", "login", "job", "node",
                          "tenant", "token", "usage"}) {
    EXPECT_NE(r.output.find(sub), std::string::npos) << sub << " missing from:\n" << r.output;
  }
}

TEST(CliTest, EachSubcommandHasHelp) {
  for (const char* sub : {"up", "server", "agent", "sim", "job", "node", "tenant", "token"}) {
    CommandResult r = RunFastgpu(std::string(sub) + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub;
  }
}

TEST(CliTest, Version) {
  CommandResult r = RunFastgpu("version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("fastgpu 0."), std::string::npos) << r.output;
}

TEST(CliTest, UnknownSubcommandIsAUsageError) {
  CommandResult r = RunFastgpu("frobnicate");
  EXPECT_NE(r.exit_code, 0);
  CommandResult none = RunFastgpu("");
  EXPECT_NE(none.exit_code, 0);
  CommandResult bad_level = RunFastgpu("--log-level loud version");
  EXPECT_NE(bad_level.exit_code, 0);
  EXPECT_NE(bad_level.output.find("log level"), std::string::npos) << bad_level.output;
}

}  // namespace
}  // namespace fastgpu::testing
