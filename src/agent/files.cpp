#include "agent/files.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace fastgpu::agent {
namespace {

Status ErrnoStatus(const std::string& op, const std::string& what, int err) {
  std::string m = op + " " + what + ": " + strerror(err);
  if (err == ENOENT || err == ESRCH) return NotFound(m);
  return Internal(m);
}

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Result<std::string> ReadToEnd(int fd, const std::string& what, int64_t max_bytes) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", what, errno);
    if (n == 0) return out;
    if (static_cast<int64_t>(out.size()) + n > max_bytes) {
      return OutOfRange(what + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> ReadWholeFile(const std::string& path, int64_t max_bytes) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open", path, errno);
  return ReadToEnd(fd.get(), path, max_bytes);
}

Result<std::string> ReadFileRange(const std::string& path, int64_t offset, int64_t max_bytes) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open", path, errno);
  std::string out;
  if (offset < 0 || max_bytes <= 0) return out;
  out.resize(static_cast<size_t>(max_bytes));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = pread(fd.get(), out.data() + got, out.size() - got,
                      static_cast<off_t>(offset + static_cast<int64_t>(got)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", path, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

}  // namespace fastgpu::agent
