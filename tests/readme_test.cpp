// Every ```sh block of README.md runs as written against `fastgpu up --simulate-gpus
// 2xH100-80GB` (started here on a free loopback port with a temp data dir), in order, in
// one bash per block with `set -e`: every command must exit 0.
//
// How a block is read:
//   * A block with lines starting "$ " is a transcript: those lines (with their "\"
//     continuations) are the commands, the other lines are output and are not run.
//     Otherwise every line of the block is run.
//   * `fastgpu` and `build/fastgpu` are the binary built beside this test; FASTGPU_SERVER
//     and FASTGPU_TOKEN (the admin's) are set, HOME is a temp dir.
//   * A comment on the line before the block says how to treat it:
//       <!-- readme-test: skip (why) -->   not run (the reason is required);
//       <!-- readme-test: needs PATH ... -->  run only when PATH (relative to the source
//                                             tree) exists, from the source tree.
//   * Shortened on purpose, and only this: `sleep N` with N > 3 in a command runs as
//     `sleep 1`, so that the README's example jobs (sleep 5, 20, 90) end in seconds. The
//     jobs' outcome and every command's exit status do not depend on how long they sleep.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/server_process.h"
#include "tests/test_util.h"

namespace fastgpu::testing {
namespace {

struct Block {
  int line = 0;        // line of the opening fence in README.md
  std::string marker;  // the readme-test comment before it ("" when none)
  std::string script;  // the commands to run
  bool transcript = false;
};

std::vector<Block> ShellBlocks(const std::string& readme) {
  std::vector<Block> blocks;
  std::istringstream in(readme);
  std::string line, previous;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line != "```sh") {
      if (!line.empty()) previous = line;
      continue;
    }
    Block b;
    b.line = n;
    if (previous.rfind("<!-- readme-test:", 0) == 0) b.marker = previous;
    std::vector<std::string> body;
    while (std::getline(in, line) && line != "```") {
      ++n;
      body.push_back(line);
    }
    ++n;
    for (const auto& l : body) b.transcript = b.transcript || l.rfind("$ ", 0) == 0;
    bool continued = false;
    for (const auto& l : body) {
      if (b.transcript && !continued && l.rfind("$ ", 0) != 0) continue;  // output
      std::string cmd = b.transcript && !continued ? l.substr(2) : l;
      continued = !cmd.empty() && cmd.back() == '\\';
      b.script += cmd + "\n";
    }
    blocks.push_back(std::move(b));
    previous.clear();
  }
  return blocks;
}

// `build/fastgpu` is `fastgpu`; long sleeps are cut to 1 s (see the file comment).
std::string Adapt(const std::string& script) {
  std::string s =
      std::regex_replace(script, std::regex(R"((^|[^\w/.-])build/fastgpu\b)"), "$1fastgpu");
  std::string out;
  std::regex sleep_re(R"(\bsleep ([0-9]+)\b)");
  auto begin = std::sregex_iterator(s.begin(), s.end(), sleep_re);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out += s.substr(last, it->position() - last);
    out += std::stoi((*it)[1]) > 3 ? "sleep 1" : it->str();
    last = it->position() + it->length();
  }
  return out + s.substr(last);
}

TEST(ReadmeTest, EveryShellBlockRunsAsWritten) {
  const std::string source = FASTGPU_SOURCE_DIR;
  std::ifstream f(source + "/README.md");
  ASSERT_TRUE(f) << "cannot read README.md";
  std::stringstream text;
  text << f.rdbuf();
  std::vector<Block> blocks = ShellBlocks(text.str());
  ASSERT_GE(blocks.size(), 4u);

  TempDir dir;
  ServerProcess up({"up", "--data-dir", dir.path(), "--simulate-gpus", "2xH100-80GB"});
  ASSERT_TRUE(up.ok()) << up.output();
  const std::string bin = std::string(FASTGPU_BINARY);
  // A directory whose `fastgpu` is the built binary, first on PATH.
  const std::string path_dir = dir.path() + "/bin";
  std::filesystem::create_directories(path_dir);
  std::filesystem::create_symlink(bin, path_dir + "/fastgpu");
  std::filesystem::create_directories(dir.path() + "/home");
  const std::string env = "export PATH='" + path_dir + "':\"$PATH\" HOME='" + dir.path() +
                          "/home' FASTGPU_SERVER='" + up.url() + "' FASTGPU_TOKEN='" +
                          ReadFirstLine(dir.path() + "/admin.token") + "'\n";

  int ran = 0;
  for (const Block& b : blocks) {
    SCOPED_TRACE("README.md line " + std::to_string(b.line) + ":\n" + b.script);
    std::string cwd = dir.path() + "/work";
    if (b.marker.find("readme-test: skip") != std::string::npos) {
      EXPECT_NE(b.marker.find("skip ("), std::string::npos) << "a skip needs a reason";
      continue;
    }
    if (auto pos = b.marker.find("readme-test: needs "); pos != std::string::npos) {
      std::string needed = b.marker.substr(pos + 19);
      needed = needed.substr(0, needed.find(' '));
      if (!std::filesystem::exists(source + "/" + needed)) {
        std::cout << "README.md line " << b.line << ": skipped, " << needed << " is absent\n";
        continue;
      }
      // Run in a temp tree where the path resolves as from the source tree (what the
      // block writes stays out of the source tree).
      cwd = dir.path() + "/tree/repo";
      std::filesystem::create_directories(cwd);
      // "../shared/traces/x": tree/shared -> <source>/../shared.
      size_t ups = 0;
      while (needed.compare(ups * 3, 3, "../") == 0) ++ups;
      const std::string first = needed.substr(0, needed.find('/', ups * 3));
      std::filesystem::path link = cwd;
      for (size_t i = 0; i < ups; ++i) link = link.parent_path();
      link /= first.substr(ups * 3);
      if (!std::filesystem::exists(link)) {
        std::filesystem::create_symlink(std::filesystem::canonical(source + "/" + first), link);
      }
    } else {
      EXPECT_EQ(b.marker, "") << "unknown readme-test marker";
    }
    std::filesystem::create_directories(dir.path() + "/work");
    const std::string script_path = dir.path() + "/block-" + std::to_string(b.line) + ".sh";
    std::ofstream(script_path) << "set -euo pipefail\nset -x\n"
                               << env << "cd '" << cwd << "'\n"
                               << Adapt(b.script);
    const std::string cmd = "bash '" + script_path + "' 2>&1";
    std::string output;
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, got);
    int status = pclose(p);
    std::cout << "README.md line " << b.line << ":\n" << output << "\n";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "README.md line " << b.line << " failed; its run:\n"
        << output;
    ++ran;
  }
  EXPECT_GE(ran, 2);
  EXPECT_EQ(up.Signal(SIGTERM), 0) << up.output();
}

TEST(ReadmeTest, ReadsTranscriptsAndMarkers) {
  const std::string md =
      "text\n<!-- readme-test: skip (why) -->\n```sh\nbash x\n```\n"
      "```sh\n$ fastgpu a \\\n    --b\nout put\n$ build/fastgpu c; sleep 90; sleep 2\n```\n";
  std::vector<Block> blocks = ShellBlocks(md);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].marker, "<!-- readme-test: skip (why) -->");
  EXPECT_EQ(blocks[0].line, 3);
  EXPECT_TRUE(blocks[1].transcript);
  EXPECT_EQ(blocks[1].marker, "");
  EXPECT_EQ(blocks[1].script, "fastgpu a \\\n    --b\nbuild/fastgpu c; sleep 90; sleep 2\n");
  EXPECT_EQ(Adapt(blocks[1].script), "fastgpu a \\\n    --b\nfastgpu c; sleep 1; sleep 2\n");
}

}  // namespace
}  // namespace fastgpu::testing
