#include "agent/vm_runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <thread>

#include "agent/files.h"

namespace fastgpu::agent {
namespace {

void WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// Appends what `fd` holds past `*offset`.
void ReadNew(int fd, int64_t* offset, std::string* into) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, *offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    into->append(buf, static_cast<size_t>(n));
    *offset += n;
  }
}

}  // namespace

Status WriteVmRun(const std::string& path, const VmRun& run) {
  boost::json::object o{{"uri", run.uri},
                        {"name", run.name},
                        {"xml_path", run.xml_path},
                        {"output_path", run.output_path},
                        {"console_path", run.console_path},
                        {"nonce", run.nonce}};
  std::string text = boost::json::serialize(o);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot write " + path + ": " + std::strerror(errno));
  WriteAll(fd, text);
  ::close(fd);
  return OkStatus();
}

Result<VmRun> ReadVmRun(const std::string& path) {
  FASTGPU_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path, 1 << 20));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return InvalidArgument(path + " is not a vm run's JSON");
  VmRun run;
  auto get = [&](const char* key, std::string* out) {
    const boost::json::value* f = v.as_object().if_contains(key);
    if (f != nullptr && f->is_string()) *out = std::string(f->as_string());
  };
  get("uri", &run.uri);
  get("name", &run.name);
  get("xml_path", &run.xml_path);
  get("output_path", &run.output_path);
  get("console_path", &run.console_path);
  get("nonce", &run.nonce);
  if (run.name.empty() || run.xml_path.empty() || run.output_path.empty() || run.nonce.empty()) {
    return InvalidArgument(path + " lacks a field of a vm run");
  }
  return run;
}

std::string GuestOutput::Line(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::string marker = nonce_ + " exit ";
  size_t at = line.rfind(marker);
  if (at != std::string::npos) {
    std::string code = line.substr(at + marker.size());
    if (!code.empty() && code.size() <= 3 &&
        code.find_first_not_of("0123456789") == std::string::npos) {
      exit_code_ = std::stoi(code);
      return line.substr(0, at);  // output that did not end its line
    }
  }
  return line + "\n";
}

std::string GuestOutput::Feed(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t start = 0;
  for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
    out += Line(pending_.substr(start, nl - start));
  }
  pending_.erase(0, start);
  return out;
}

std::string GuestOutput::Finish() {
  std::string out;
  if (!pending_.empty()) {
    out = Line(std::move(pending_));
    if (!out.empty()) out.pop_back();  // it had no '\n'
  }
  pending_.clear();
  return out;
}

int RunVm(const VmRun& run, Hypervisor& hypervisor, int out_fd, int err_fd,
          const std::atomic<bool>& stop, std::chrono::milliseconds poll) {
  auto say = [&](const std::string& m) { WriteAll(err_fd, "fastgpu vm: " + m + "\n"); };
  auto cleanup = [&] {
    ::unlink(run.output_path.c_str());
    if (!run.console_path.empty()) ::unlink(run.console_path.c_str());
  };
  Result<std::string> xml = ReadWholeFile(run.xml_path, 1 << 20);
  if (!xml.ok()) {
    say("cannot read the domain: " + xml.status().message());
    return kVmRunFailed;
  }
  // A domain of this name left from an earlier run of this replica (the runner was
  // killed) is destroyed: this run starts the guest afresh.
  hypervisor.Destroy(run.name).IgnoreError();
  cleanup();
  if (Status st = hypervisor.Start(*xml); !st.ok()) {
    say(st.message());
    cleanup();
    return kVmRunFailed;
  }
  // QEMU creates the serial files when the guest starts.
  int fd = -1;
  int64_t offset = 0;
  GuestOutput output(run.nonce);
  auto pump = [&] {
    if (fd < 0) fd = ::open(run.output_path.c_str(), O_RDONLY | O_CLOEXEC);
    std::string bytes;
    if (fd >= 0) ReadNew(fd, &offset, &bytes);
    WriteAll(out_fd, output.Feed(bytes));
  };
  bool stopped = false;
  for (;;) {
    pump();
    if (stop.load()) {
      stopped = true;
      break;
    }
    Result<bool> running = hypervisor.Running(run.name);
    if (running.ok() && !*running) break;
    if (!running.ok()) say(running.status().message());
    std::this_thread::sleep_for(poll);
  }
  if (stopped) {
    Status st = hypervisor.Destroy(run.name);
    if (!st.ok()) say(st.message());
  }
  pump();
  WriteAll(out_fd, output.Finish());
  if (fd >= 0) ::close(fd);
  cleanup();
  if (stopped) return -1;
  if (!output.exit_code()) {
    say("the guest ended without reporting an exit code");
    if (!run.console_path.empty()) {
      // Its console's last lines say why (a kernel panic, a missing init).
      auto size = ReadWholeFile(run.console_path, 64 << 20);
      if (size.ok()) {
        std::string tail = size->substr(size->size() > 2048 ? size->size() - 2048 : 0);
        say("the guest's console ended with:\n" + tail);
      }
    }
    return kVmNoExitCode;
  }
  return *output.exit_code();
}

}  // namespace fastgpu::agent
