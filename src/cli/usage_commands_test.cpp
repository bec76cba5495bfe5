#include "cli/usage_commands.h"

#include <gtest/gtest.h>

namespace fastgpu::cli {
namespace {

TEST(UsageCommandsTest, ParsesGpuLimits) {
  EXPECT_EQ(*ParseGpuMilliLimit("4"), 4000);
  EXPECT_EQ(*ParseGpuMilliLimit("0.5"), 500);
  EXPECT_EQ(*ParseGpuMilliLimit("1.25"), 1250);
  EXPECT_EQ(*ParseGpuMilliLimit("1500m"), 1500);
  EXPECT_EQ(*ParseGpuMilliLimit("0"), 0);
  for (const char* bad : {"", "m", "-1", "0.0005", "four", "$4", "1.5x", "12m3"}) {
    EXPECT_FALSE(ParseGpuMilliLimit(bad).ok()) << bad;
  }
}

TEST(UsageCommandsTest, ParsesBudgetsInWholeCents) {
  EXPECT_EQ(*ParseDollarsToCents("100"), 10000);
  EXPECT_EQ(*ParseDollarsToCents("100.00"), 10000);
  EXPECT_EQ(*ParseDollarsToCents("$99.5"), 9950);
  EXPECT_FALSE(ParseDollarsToCents("0.001").ok());
  EXPECT_FALSE(ParseDollarsToCents("ten").ok());
}

TEST(UsageCommandsTest, AddsItsCommandsBesideOthers) {
  CLI::App app;
  int exit_code = 0;
  app.add_subcommand("usage", "placeholder");
  app.add_subcommand("tenant", "tenants")->add_subcommand("list", "list");
  RegisterUsageCommands(app, &exit_code);
  EXPECT_EQ(app.get_subcommand("usage")->get_description().rfind("Report metered", 0), 0u);
  EXPECT_NE(app.get_subcommand("price")->get_subcommand("set"), nullptr);
  EXPECT_NE(app.get_subcommand("tenant")->get_subcommand("quota"), nullptr);
  EXPECT_NE(app.get_subcommand("tenant")->get_subcommand("list"), nullptr);
  // Bad usage exits 2 before any request is sent.
  // CLI11 takes the arguments in reverse: tenant quota team-a --budget 0.001 --config ...
  app.parse(std::vector<std::string>{"/nonexistent/fastgpu.json", "--config", "0.001", "--budget",
                                     "team-a", "quota", "tenant"});
  EXPECT_EQ(exit_code, 2);
}

// `fastgpu price --help` names what each subcommand does, and each subcommand's help
// says it: list shows the table to any tenant, set changes the items given (admin).
TEST(UsageCommandsTest, PriceHelpMatchesItsSubcommands) {
  CLI::App app;
  int exit_code = 0;
  RegisterUsageCommands(app, &exit_code);
  CLI::App* price = app.get_subcommand("price");
  const std::string help = price->help();
  EXPECT_NE(help.find("`price list` shows it (any tenant)"), std::string::npos) << help;
  EXPECT_NE(help.find("`price set` changes it (admin)"), std::string::npos) << help;
  std::vector<std::string> names;
  for (CLI::App* sub : price->get_subcommands({})) names.push_back(sub->get_name());
  EXPECT_EQ(names, (std::vector<std::string>{"set", "list"}));
  const std::string set = price->get_subcommand("set")->help();
  EXPECT_NE(set.find("what is not given keeps its price"), std::string::npos) << set;
  for (const char* flag :
       {"--model", "--gpu-hour", "--cpu-hour", "--gib-hour", "--minimum-seconds"}) {
    EXPECT_NE(set.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(price->get_subcommand("list")->help().find("Show the price table (any tenant)"),
            std::string::npos);
  // `price set` without a price is bad usage (exit 2), before any request.
  app.parse(std::vector<std::string>{"/nonexistent/fastgpu.json", "--config", "set", "price"});
  EXPECT_EQ(exit_code, 2);
}

}  // namespace
}  // namespace fastgpu::cli
