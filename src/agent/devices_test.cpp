#include "agent/devices.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

// A BPF interpreter for the instructions BuildDeviceProgram emits (64-bit ALU with an
// immediate or a register, 32-bit context loads, JNE with an immediate, EXIT). Any other
// instruction, a read outside the context or a jump out of the program fails the test.
int Eval(const std::vector<bpf_insn>& prog, const bpf_cgroup_dev_ctx& ctx) {
  uint64_t reg[11] = {};
  const auto* bytes = reinterpret_cast<const uint8_t*>(&ctx);
  for (size_t pc = 0, steps = 0; steps < 10000; ++steps) {
    if (pc >= prog.size()) {
      ADD_FAILURE() << "ran off the end of the program";
      return -1;
    }
    const bpf_insn& i = prog[pc++];
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: {
        if (i.src_reg != BPF_REG_1 || i.off < 0 || i.off + 4 > int{sizeof(ctx)}) {
          ADD_FAILURE() << "bad load at " << pc - 1;
          return -1;
        }
        uint32_t v;
        std::memcpy(&v, bytes + i.off, 4);
        reg[i.dst_reg] = v;
        break;
      }
      case BPF_ALU64 | BPF_AND | BPF_K:
        reg[i.dst_reg] &= static_cast<uint64_t>(int64_t{i.imm});
        break;
      case BPF_ALU64 | BPF_RSH | BPF_K:
        reg[i.dst_reg] >>= i.imm;
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        reg[i.dst_reg] = static_cast<uint64_t>(int64_t{i.imm});
        break;
      case BPF_ALU64 | BPF_MOV | BPF_X:
        reg[i.dst_reg] = reg[i.src_reg];
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (reg[i.dst_reg] != static_cast<uint64_t>(int64_t{i.imm})) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT:
        return static_cast<int>(reg[BPF_REG_0]);
      default:
        ADD_FAILURE() << "unexpected instruction code " << int{i.code} << " at " << pc - 1;
        return -1;
    }
  }
  ADD_FAILURE() << "the program does not end";
  return -1;
}

bpf_cgroup_dev_ctx Ctx(int type, int access, uint32_t major, uint32_t minor) {
  return {static_cast<uint32_t>(access << 16 | type), major, minor};
}

constexpr int kChar = BPF_DEVCG_DEV_CHAR, kBlock = BPF_DEVCG_DEV_BLOCK;
constexpr int kR = BPF_DEVCG_ACC_READ, kW = BPF_DEVCG_ACC_WRITE, kM = BPF_DEVCG_ACC_MKNOD;

TEST(DeviceProgramTest, AllowsExactlyTheRules) {
  std::vector<DeviceRule> rules = StandardDeviceRules();
  rules.push_back({'c', 195, 0, "rw"});  // a GPU
  rules.push_back({'b', 8, 0, "r"});     // a read-only disk
  auto prog = BuildDeviceProgram(rules);
  EXPECT_EQ(Eval(prog, Ctx(kChar, kR | kW, 1, 3)), 1);    // null
  EXPECT_EQ(Eval(prog, Ctx(kChar, kR, 1, 9)), 1);         // urandom
  EXPECT_EQ(Eval(prog, Ctx(kChar, kR | kW, 136, 7)), 1);  // any pts
  EXPECT_EQ(Eval(prog, Ctx(kChar, kR | kW, 195, 0)), 1);  // its GPU
  EXPECT_EQ(Eval(prog, Ctx(kChar, kR | kW, 195, 1)), 0);  // another GPU
  EXPECT_EQ(Eval(prog, Ctx(kChar, kR | kW, 1, 1)), 0);    // /dev/mem
  EXPECT_EQ(Eval(prog, Ctx(kChar, kM, 1, 3)), 0);         // mknod is not granted
  EXPECT_EQ(Eval(prog, Ctx(kChar, kR | kM, 136, 7)), 0);
  EXPECT_EQ(Eval(prog, Ctx(kBlock, kR | kW, 1, 3)), 0);  // type must match
  EXPECT_EQ(Eval(prog, Ctx(kBlock, kR, 8, 0)), 1);
  EXPECT_EQ(Eval(prog, Ctx(kBlock, kW, 8, 0)), 0);  // write not in "r"
  EXPECT_EQ(Eval(prog, Ctx(kChar, kR, 8, 0)), 0);
}

TEST(DeviceProgramTest, EmptyRulesDenyEverythingAndWildcardsMatchAll) {
  auto none = BuildDeviceProgram({});
  EXPECT_EQ(Eval(none, Ctx(kChar, kR, 1, 3)), 0);
  auto all = BuildDeviceProgram({{'c', DeviceRule::kAny, DeviceRule::kAny, "rwm"}});
  EXPECT_EQ(Eval(all, Ctx(kChar, kR | kW | kM, 4242, 17)), 1);
  EXPECT_EQ(Eval(all, Ctx(kBlock, kR, 8, 0)), 0);
}

TEST(DeviceProgramTest, TheKernelVerifierAcceptsIt) {
  if (geteuid() != 0) GTEST_SKIP() << "loading BPF programs needs root";
  std::vector<DeviceRule> rules = StandardDeviceRules();
  for (int minor = 0; minor < 8; ++minor) rules.push_back({'c', 195, minor, "rw"});
  auto fd = LoadDeviceProgram(BuildDeviceProgram(rules));
  if (!fd.ok() && fd.status().code() == StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << fd.status();
  }
  ASSERT_TRUE(fd.ok()) << fd.status();
  close(*fd);
}

TEST(DeviceRulesTest, V1LinesAndRulesFromDeviceNodes) {
  EXPECT_EQ((DeviceRule{'c', 1, 3, "rw"}).ToV1(), "c 1:3 rw");
  EXPECT_EQ((DeviceRule{'c', 136, DeviceRule::kAny, "rw"}).ToV1(), "c 136:* rw");
  EXPECT_EQ((DeviceRule{'b', DeviceRule::kAny, DeviceRule::kAny, "m"}).ToV1(), "b *:* m");
  testing::TempDir dir;
  std::string plain = dir.path() + "/plain";
  ASSERT_EQ(close(creat(plain.c_str(), 0600)), 0);
  std::vector<std::string> skipped;
  auto rules =
      DeviceRulesForPaths({"/dev/null", plain, dir.path() + "/missing", "/dev/null"}, &skipped);
  ASSERT_EQ(rules.size(), 1u);  // the duplicate is dropped
  EXPECT_EQ(rules[0], (DeviceRule{'c', 1, 3, "rw"}));
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped[0].find("not a device node"), std::string::npos);
  EXPECT_NE(skipped[1].find("missing"), std::string::npos);
}

}  // namespace
}  // namespace fastgpu::agent
