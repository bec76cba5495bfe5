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
  Result<FileInfo> Stat(const std::string& path) override {
    struct stat sb;
    if (::stat(path.c_str(), &sb) != 0) return Failed("stat", path, errno);
    FileInfo info;
    info.is_dir = S_ISDIR(sb.st_mode);
    info.size = static_cast<int64_t>(sb.st_size);
    info.mode = static_cast<uint32_t>(sb.st_mode & 07777);
    info.modified = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::seconds(sb.st_mtim.tv_sec) + std::chrono::nanoseconds(sb.st_mtim.tv_nsec)));
    return info;
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
    // Each missing folder from the top down, so that each gets mode 0755 (less the umask).
    std::vector<std::string> chain;
    for (std::filesystem::path p = std::filesystem::path(dir).lexically_normal();
         !p.empty() && p != p.root_path(); p = p.parent_path()) {
      std::string s = p.string();
      while (s.size() > 1 && s.back() == '/') s.pop_back();
      struct stat sb;
      if (::stat(s.c_str(), &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) return Internal("create " + dir + ": " + s + " is a file");
        break;
      }
      chain.push_back(s);
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) {
        return Internal("create " + dir + ": " + *it + ": " + std::strerror(errno));
      }
    }
    return OkStatus();
  }
  Status Chmod(const std::string& path, uint32_t mode) override {
    if (::chmod(path.c_str(), static_cast<mode_t>(mode & 07777)) != 0) {
      return Failed("chmod", path, errno);
    }
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
  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) == 0) return OkStatus();
    int err = errno;
    std::string what = "rmdir " + dir + ": " + std::strerror(err);
    if (err == ENOENT) return NotFound(what);
    if (err == ENOTEMPTY || err == EEXIST) return FailedPrecondition(what);
    if (err == EBUSY) return Unavailable(what);
    return Internal(what);
  }

 private:
  // NotFound for a missing path, Internal otherwise.
  static Status Failed(const std::string& op, const std::string& path, int err) {
    if (err == ENOENT || err == ENOTDIR) {
      return NotFound(op + " " + path + ": " + std::strerror(err));
    }
    return Errno(op, path, err);
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
  explicit MemoryEnv(const Clock& clock) : clock_(clock), dirs_{"/", "."} {
    meta_["/"] = Meta{0755, clock_.Now()};
    meta_["."] = Meta{0755, clock_.Now()};
  }

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
  Result<FileInfo> Stat(const std::string& path) override {
    std::lock_guard lock(mu_);
    const std::string n = Normal(path);
    FileInfo info;
    if (auto it = files_.find(n); it != files_.end()) {
      info.size = static_cast<int64_t>(it->second.size());
    } else if (dirs_.count(n)) {
      info.is_dir = true;
    } else {
      return Missing("stat", path);
    }
    const Meta& m = meta_[n];
    info.mode = m.mode;
    info.modified = m.modified;
    return info;
  }
  Status WriteFile(const std::string& path, std::string_view data, bool) override {
    std::lock_guard lock(mu_);
    const std::string n = Normal(path);
    FASTGPU_RETURN_IF_ERROR(Writable("open", path, n));
    Touch(n, 0600);
    files_[n] = std::string(data);
    return OkStatus();
  }
  Status AppendFile(const std::string& path, std::string_view data) override {
    std::lock_guard lock(mu_);
    const std::string n = Normal(path);
    FASTGPU_RETURN_IF_ERROR(Writable("open", path, n));
    Touch(n, 0600);
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
    Meta m = meta_[f];
    meta_.erase(f);
    meta_[t] = m;
    meta_[Parent(f)].modified = meta_[Parent(t)].modified = clock_.Now();
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
    for (const std::string& d : chain) Touch(d, 0755);
    return OkStatus();
  }
  Status Chmod(const std::string& path, uint32_t mode) override {
    std::lock_guard lock(mu_);
    const std::string n = Normal(path);
    if (!files_.count(n) && !dirs_.count(n)) return Missing("chmod", path);
    meta_[n].mode = mode & 07777;
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
    std::erase_if(meta_,
                  [&](const auto& e) { return e.first == n || e.first.starts_with(prefix); });
    if (auto it = meta_.find(Parent(n)); it != meta_.end()) it->second.modified = clock_.Now();
    return OkStatus();
  }
  Status RemoveDir(const std::string& dir) override {
    std::lock_guard lock(mu_);
    const std::string n = Normal(dir);
    if (files_.count(n)) return Internal("rmdir " + dir + ": Not a directory");
    if (!dirs_.count(n)) return Missing("rmdir", dir);
    if (n == "/" || n == ".") return Internal("rmdir " + dir + ": refused");
    for (const std::string& d : dirs_) {
      if (d != n && Parent(d) == n) {
        return FailedPrecondition("rmdir " + dir + ": Directory not empty");
      }
    }
    // Its files go with it, as cgroupfs's control files do.
    std::erase_if(files_, [&](const auto& e) {
      if (Parent(e.first) != n) return false;
      meta_.erase(e.first);
      return true;
    });
    dirs_.erase(n);
    meta_.erase(n);
    if (auto it = meta_.find(Parent(n)); it != meta_.end()) it->second.modified = clock_.Now();
    return OkStatus();
  }

 private:
  static Status Missing(const std::string& op, const std::string& path) {
    return NotFound(op + " " + path + ": No such file or directory");
  }
  // Stamps `n` changed now, with `mode` when it is new, and its folder when `n` is new
  // (mu_ held).
  void Touch(const std::string& n, uint32_t mode) {
    TimePoint now = clock_.Now();
    auto [it, added] = meta_.try_emplace(n, Meta{mode, now});
    it->second.modified = now;
    if (added) meta_[Parent(n)].modified = now;
  }
  // A file may be written at `n` (mu_ held).
  Status Writable(const std::string& op, const std::string& path, const std::string& n) const {
    if (dirs_.count(n)) return Internal(op + " " + path + ": Is a directory");
    if (!dirs_.count(Parent(n))) return Internal(op + " " + path + ": No such file or directory");
    return OkStatus();
  }

  struct Meta {
    uint32_t mode = 0;
    TimePoint modified;
  };

  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::string> files_;  // normal path -> content
  std::set<std::string> dirs_;                // normal paths
  std::map<std::string, Meta> meta_;          // normal path (file or folder) -> its meta
};

}  // namespace

FileEnv& PosixFileEnv() {
  static PosixEnv env;
  return env;
}

std::unique_ptr<FileEnv> NewMemoryFileEnv(const Clock* clock) {
  return std::make_unique<MemoryEnv>(clock != nullptr ? *clock : SystemClock::Default());
}

Status WriteFileAtomically(FileEnv& env, const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  FASTGPU_RETURN_IF_ERROR(env.WriteFile(tmp, data, /*sync=*/true));
  FASTGPU_RETURN_IF_ERROR(env.Rename(tmp, path));
  // Best effort, as before: the rename is done; a folder that cannot be synced is rare.
  env.SyncDir(std::filesystem::path(path).parent_path().string()).IgnoreError();
  return OkStatus();
}

}  // namespace fastgpu::agent
