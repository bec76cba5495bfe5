// The `fastgpu` binary's command line: help, version, bad usage.
#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace fastgpu::testing {
namespace {

TEST(CliTest, HelpListsEverySubcommand) {
  CommandResult r = RunFastgpu("--help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* sub : {"version", "up", "server", "agent", "sim", "login", "job", "node",
                          "tenant", "token", "usage", "service"}) {
    EXPECT_NE(r.output.find(sub), std::string::npos) << sub << " missing from:\n" << r.output;
  }
}

TEST(CliTest, EachSubcommandHasHelp) {
  for (const char* sub :
       {"up", "server", "agent", "sim", "job", "node", "tenant", "token", "service"}) {
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
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown command \"frobnicate\""), std::string::npos) << r.output;
  CommandResult bad_level = RunFastgpu("--log-level loud version");
  EXPECT_NE(bad_level.exit_code, 0);
  EXPECT_NE(bad_level.output.find("log level"), std::string::npos) << bad_level.output;
}

TEST(CliTest, BareCommandsPrintTheirHelp) {
  CommandResult none = RunFastgpu("");
  EXPECT_EQ(none.exit_code, 0) << none.output;
  EXPECT_NE(none.output.find("Subcommands:"), std::string::npos) << none.output;
  EXPECT_EQ(none.output.find("required"), std::string::npos) << none.output;
  CommandResult job = RunFastgpu("job");
  EXPECT_EQ(job.exit_code, 0) << job.output;
  EXPECT_NE(job.output.find("submit"), std::string::npos) << job.output;
}

TEST(CliTest, MistypedCommandsAndFlagsGetDidYouMean) {
  CommandResult jobs = RunFastgpu("jobs list");
  EXPECT_EQ(jobs.exit_code, 2) << jobs.output;
  EXPECT_NE(jobs.output.find("Did you mean this?\n        job\n"), std::string::npos)
      << jobs.output;
  CommandResult lst = RunFastgpu("job lst");
  EXPECT_EQ(lst.exit_code, 2) << lst.output;
  EXPECT_NE(lst.output.find("unknown command \"lst\" for \"fastgpu job\""), std::string::npos)
      << lst.output;
  EXPECT_NE(lst.output.find("        list\n"), std::string::npos) << lst.output;
  CommandResult gpus = RunFastgpu("job submit --gpus 1 -- true");
  EXPECT_EQ(gpus.exit_code, 2) << gpus.output;
  EXPECT_NE(gpus.output.find("unknown flag --gpus"), std::string::npos) << gpus.output;
  EXPECT_NE(gpus.output.find("        --gpu\n"), std::string::npos) << gpus.output;
  // A flag's value is not taken for a command.
  CommandResult level = RunFastgpu("--log-level warn jobz");
  EXPECT_NE(level.output.find("unknown command \"jobz\""), std::string::npos) << level.output;
}

TEST(CliTest, CompletionScriptsCoverTheCommandTree) {
  CommandResult bash = RunFastgpu("completion bash");
  ASSERT_EQ(bash.exit_code, 0) << bash.output;
  EXPECT_NE(bash.output.find("complete -o default -F _fastgpu fastgpu"), std::string::npos);
  EXPECT_NE(bash.output.find("\"job/submit\") words=\""), std::string::npos) << bash.output;
  EXPECT_NE(bash.output.find("--gpu-memory"), std::string::npos);
  EXPECT_NE(bash.output.find("\"service/create\") words=\""), std::string::npos) << bash.output;
  // The script is valid bash and completes `fastgpu job su` to `submit`.
  CommandResult run =
      RunFastgpu("version >/dev/null; bash -c 'source <(" + std::string(FASTGPU_BINARY) +
                 " completion bash); COMP_WORDS=(fastgpu job su); COMP_CWORD=2; _fastgpu; "
                 "echo \"completed: ${COMPREPLY[*]}\"'");
  EXPECT_NE(run.output.find("completed: submit"), std::string::npos) << run.output;
  CommandResult zsh = RunFastgpu("completion zsh");
  EXPECT_EQ(zsh.exit_code, 0);
  EXPECT_NE(zsh.output.find("bashcompinit"), std::string::npos);
  EXPECT_NE(RunFastgpu("completion fish").exit_code, 0);
}

}  // namespace
}  // namespace fastgpu::testing
