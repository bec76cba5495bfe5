#include "agent/file_env.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "agent/files.h"

namespace fastgpu::agent {
namespace {

Status Errno(const std::string& op, const std::string& path, int err) {
  return Internal(op + " " + path + ": " + std::strerror(err));
}

Status WriteAll(int fd, const std::string& path, std::string_view data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("write", path, errno);
    p += n;
    left -= static_cast<size_t>(n);
  }
  return OkStatus();
}

class PosixEnv final : public FileEnv {
 public:
  Result<std::string> ReadFile(const std::string& path, int64_t max_bytes) override {
    return ReadWholeFile(path, max_bytes);
  }
  Result<std::string> ReadFileRange(const std::string& path, int64_t offset,
                                    int64_t max_bytes) override {
    return fastgpu::agent::ReadFileRange(path, offset, max_bytes);
  }
  Result<int64_t> FileSize(const std::string& path) override {
    struct stat sb;
    if (::stat(path.c_str(), &sb) != 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) return NotFound("stat " + path + ": " + strerror(err));
      return Errno("stat", path, err);
    }
    return static_cast<int64_t>(sb.st_size);
  }
  bool Exists(const std::string& path) override {
    struct stat sb;
    return ::stat(path.c_str(), &sb) == 0;
  }
  Status WriteFile(const std::string& path, std::string_view data, bool sync) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Errno("open", path, errno);
    Status st = WriteAll(fd, path, data);
    if (st.ok() && sync && ::fsync(fd) != 0) st = Errno("fsync", path, errno);
    ::close(fd);
    return st;
  }
  Status AppendFile(const std::string& path, std::string_view data) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return Errno("open", path, errno);
    Status st = WriteAll(fd, path, data);
    ::close(fd);
    return st;
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Internal("rename " + from + " -> " + to + ": " + std::strerror(errno));
    }
    return OkStatus();
  }
  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("open", dir, errno);
    Status st = ::fsync(fd) == 0 ? OkStatus() : Errno("fsync", dir, errno);
    ::close(fd);
    return st;
  }
  Status CreateDirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Internal("create " + dir + ": " + ec.message());
    return OkStatus();
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    std::error_code ec;
    std::vector<std::string> names;
    std::filesystem::directory_iterator it(dir, ec), end;
    if (ec == std::errc::no_such_file_or_directory) return NotFound("list " + dir + ": missing");
    for (; !ec && it != end; it.increment(ec)) names.push_back(it->path().filename().string());
    if (ec) return Internal("list " + dir + ": " + ec.message());
    std::sort(names.begin(), names.end());
    return names;
  }
  Status RemoveAll(const std::string& path) override {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) return Internal("remove " + path + ": " + ec.message());
    return OkStatus();
  }
};

// Paths are compared in their lexically normal form without a trailing slash.
std::string Normal(const std::string& path) {
  std::string n = std::filesystem::path(path).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n.empty() ? "." : n;
}

std::string Parent(const std::string& normal) {
  std::string p = std::filesystem::path(normal).parent_path().string();
  return p.empty() ? "." : p;
}

class MemoryEnv final : public FileEnv {
 public:
  MemoryEnv() : dirs_{"/", "."} {}

  Result<std::string> ReadFile(const std::string& path, int64_t max_bytes) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(Normal(path));
    if (it == files_.end()) return Missing("open", path);
    if (static_cast<int64_t>(it->second.size()) > max_bytes) {
      return OutOfRange(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    return it->second;
  }
  Result<std::string> ReadFileRange(const std::string& path, int64_t offset,
                                    int64_t max_bytes) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(Normal(path));
    if (it == files_.end()) return Missing("open", path);
    const std::string& data = it->second;
    if (offset < 0 || max_bytes <= 0 || offset >= static_cast<int64_t>(data.size())) {
      return std::string();
    }
    return data.substr(static_cast<size_t>(offset), static_cast<size_t>(max_bytes));
  }
  Result<int64_t> FileSize(const std::string& path) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(Normal(path));
    if (it == files_.end()) return Missing("stat", path);
    return static_cast<int64_t>(it->second.size());
  }
  bool Exists(const std::string& path) override {
    std::lock_guard lock(mu_);
    const std::string n = Normal(path);
    return files_.count(n) > 0 || dirs_.count(n) > 0;
  }
  Status WriteFile(const std::string& path, std::string_view data, bool) override {
    std::lock_guard lock(mu_);
    const std::string n = Normal(path);
    FASTGPU_RETURN_IF_ERROR(Writable("open", path, n));
    files_[n] = std::string(data);
    return OkStatus();
  }
  Status AppendFile(const std::string& path, std::string_view data) override {
    std::lock_guard lock(mu_);
    const std::string n = Normal(path);
    FASTGPU_RETURN_IF_ERROR(Writable("open", path, n));
    files_[n].append(data);
    return OkStatus();
  }
  Status Rename(const std::string& from, const std::string& to) override {
    std::lock_guard lock(mu_);
    const std::string f = Normal(from), t = Normal(to);
    auto it = files_.find(f);
    const std::string what = "rename " + from + " -> " + to;
    if (it == files_.end()) return Internal(what + ": No such file or directory");
    if (dirs_.count(t)) return Internal(what + ": Is a directory");
    if (!dirs_.count(Parent(t))) return Internal(what + ": No such file or directory");
    std::string data = std::move(it->second);
    files_.erase(it);
    files_[t] = std::move(data);
    return OkStatus();
  }
  Status SyncDir(const std::string& dir) override {
    std::lock_guard lock(mu_);
    if (!dirs_.count(Normal(dir))) return Internal("open " + dir + ": No such file or directory");
    return OkStatus();
  }
  Status CreateDirs(const std::string& dir) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> chain;
    for (std::string d = Normal(dir); !dirs_.count(d); d = Parent(d)) {
      if (files_.count(d)) return Internal("create " + dir + ": " + d + " is a file");
      chain.push_back(d);
    }
    dirs_.insert(chain.begin(), chain.end());
    return OkStatus();
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    std::lock_guard lock(mu_);
    const std::string d = Normal(dir);
    if (!dirs_.count(d)) return Missing("list", dir);
    std::set<std::string> names;
    auto add = [&](const std::string& p) {
      if (p != d && Parent(p) == d) names.insert(std::filesystem::path(p).filename().string());
    };
    for (const auto& [p, data] : files_) add(p);
    for (const std::string& p : dirs_) add(p);
    return std::vector<std::string>(names.begin(), names.end());
  }
  Status RemoveAll(const std::string& path) override {
    std::lock_guard lock(mu_);
    const std::string n = Normal(path);
    if (n == "/" || n == ".") return Internal("remove " + path + ": refused");
    const std::string prefix = n + "/";
    std::erase_if(files_,
                  [&](const auto& e) { return e.first == n || e.first.starts_with(prefix); });
    std::erase_if(dirs_, [&](const std::string& p) { return p == n || p.starts_with(prefix); });
    return OkStatus();
  }

 private:
  static Status Missing(const std::string& op, const std::string& path) {
    return NotFound(op + " " + path + ": No such file or directory");
  }
  // A file may be written at `n` (mu_ held).
  Status Writable(const std::string& op, const std::string& path, const std::string& n) const {
    if (dirs_.count(n)) return Internal(op + " " + path + ": Is a directory");
    if (!dirs_.count(Parent(n))) return Internal(op + " " + path + ": No such file or directory");
    return OkStatus();
  }

  std::mutex mu_;
  std::map<std::string, std::string> files_;  // normal path -> content
  std::set<std::string> dirs_;                // normal paths
};

}  // namespace

FileEnv& PosixFileEnv() {
  static PosixEnv env;
  return env;
}

std::unique_ptr<FileEnv> NewMemoryFileEnv() { return std::make_unique<MemoryEnv>(); }

Status WriteFileAtomically(FileEnv& env, const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  FASTGPU_RETURN_IF_ERROR(env.WriteFile(tmp, data, /*sync=*/true));
  FASTGPU_RETURN_IF_ERROR(env.Rename(tmp, path));
  // Best effort, as before: the rename is done; a folder that cannot be synced is rare.
  env.SyncDir(std::filesystem::path(path).parent_path().string()).IgnoreError();
  return OkStatus();
}

}  // namespace fastgpu::agent
