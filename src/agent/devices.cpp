#include "agent/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

namespace fastgpu::agent {
namespace {

// Instruction encoders (the kernel's BPF_* macros, as values).
bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn LoadCtxWord(uint8_t dst, int16_t off) {
  return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0);
}
bpf_insn AluImm(uint8_t op, uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn MovReg(uint8_t dst, uint8_t src) {
  return Insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn JneImm(uint8_t dst, int32_t imm) {
  return Insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm);
}
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

int32_t AccessBits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access) {
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
  }
  return bits;
}

long Bpf(int cmd, bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

std::string Number(int64_t n) { return n == DeviceRule::kAny ? "*" : std::to_string(n); }

}  // namespace

std::string DeviceRule::ToV1() const {
  return std::string(1, type) + " " + Number(major) + ":" + Number(minor) + " " + access;
}

std::vector<DeviceRule> StandardDeviceRules() {
  return {
      {'c', 1, 3, "rw"}, {'c', 1, 5, "rw"}, {'c', 1, 7, "rw"}, {'c', 1, 8, "rw"},
      {'c', 1, 9, "rw"}, {'c', 5, 0, "rw"}, {'c', 5, 2, "rw"}, {'c', 136, DeviceRule::kAny, "rw"}};
}

std::vector<DeviceRule> DeviceRulesForPaths(const std::vector<std::string>& paths,
                                            std::vector<std::string>* skipped) {
  std::vector<DeviceRule> rules;
  for (const std::string& path : paths) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
      if (skipped != nullptr) skipped->push_back(path + ": " + strerror(errno));
      continue;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
      if (skipped != nullptr) skipped->push_back(path + ": not a device node");
      continue;
    }
    DeviceRule r{S_ISCHR(st.st_mode) ? 'c' : 'b', static_cast<int64_t>(major(st.st_rdev)),
                 static_cast<int64_t>(minor(st.st_rdev)), "rw"};
    bool dup = false;
    for (const DeviceRule& have : rules) dup = dup || have == r;
    if (!dup) rules.push_back(r);
  }
  return rules;
}

std::vector<bpf_insn> BuildDeviceProgram(const std::vector<DeviceRule>& rules) {
  // r2 = device type, r3 = asked access, r4 = major, r5 = minor.
  std::vector<bpf_insn> prog = {
      LoadCtxWord(BPF_REG_2, offsetof(bpf_cgroup_dev_ctx, access_type)),
      AluImm(BPF_AND, BPF_REG_2, 0xFFFF),
      LoadCtxWord(BPF_REG_3, offsetof(bpf_cgroup_dev_ctx, access_type)),
      AluImm(BPF_RSH, BPF_REG_3, 16),
      LoadCtxWord(BPF_REG_4, offsetof(bpf_cgroup_dev_ctx, major)),
      LoadCtxWord(BPF_REG_5, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  for (const DeviceRule& rule : rules) {
    // One block per rule; each test jumps past the block's end when it does not match.
    std::vector<bpf_insn> block;
    block.push_back(JneImm(BPF_REG_2, rule.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
    block.push_back(MovReg(BPF_REG_6, BPF_REG_3));
    block.push_back(AluImm(BPF_AND, BPF_REG_6, ~AccessBits(rule.access)));
    block.push_back(JneImm(BPF_REG_6, 0));
    if (rule.major != DeviceRule::kAny) {
      block.push_back(JneImm(BPF_REG_4, static_cast<int32_t>(rule.major)));
    }
    if (rule.minor != DeviceRule::kAny) {
      block.push_back(JneImm(BPF_REG_5, static_cast<int32_t>(rule.minor)));
    }
    block.push_back(AluImm(BPF_MOV, BPF_REG_0, 1));
    block.push_back(Exit());
    const int n = static_cast<int>(block.size());
    for (int i = 0; i < n; ++i) {
      if (block[i].code == (BPF_JMP | BPF_JNE | BPF_K))
        block[i].off = static_cast<int16_t>(n - 1 - i);
    }
    prog.insert(prog.end(), block.begin(), block.end());
  }
  prog.push_back(AluImm(BPF_MOV, BPF_REG_0, 0));
  prog.push_back(Exit());
  return prog;
}

Result<int> LoadDeviceProgram(const std::vector<bpf_insn>& program) {
  static const char kLicense[] = "GPL";
  std::string log(64 * 1024, '\0');
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insn_cnt = static_cast<uint32_t>(program.size());
  attr.insns = reinterpret_cast<uint64_t>(program.data());
  attr.license = reinterpret_cast<uint64_t>(kLicense);
  attr.log_buf = reinterpret_cast<uint64_t>(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  attr.log_level = 1;
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) {
    int err = errno;
    if (err == EPERM || err == ENOSYS || (err == EINVAL && log[0] == '\0')) {
      return FailedPrecondition(std::string("bpf(BPF_PROG_LOAD) of a device program: ") +
                                strerror(err));
    }
    log.resize(strnlen(log.data(), log.size()));
    return Internal(std::string("the kernel refused the device program: ") + strerror(err) +
                    (log.empty() ? "" : ": " + log));
  }
  return static_cast<int>(fd);
}

Status AttachDeviceProgram(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules) {
  FASTGPU_ASSIGN_OR_RETURN(int prog, LoadDeviceProgram(BuildDeviceProgram(rules)));
  int dir = open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    int err = errno;
    close(prog);
    return Internal("cannot open " + cgroup_dir + ": " + strerror(err));
  }
  bpf_attr attr{};
  attr.target_fd = static_cast<uint32_t>(dir);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  long rc = Bpf(BPF_PROG_ATTACH, &attr);
  int err = errno;
  close(dir);
  close(prog);
  if (rc != 0) {
    return Internal("cannot attach the device program to " + cgroup_dir + ": " + strerror(err));
  }
  return OkStatus();
}

}  // namespace fastgpu::agent
