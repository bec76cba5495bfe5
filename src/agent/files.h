// Plain POSIX file reading for the agent: open/read/close loops that return a Result,
// never an exception. The agent reads /proc files of processes that may exit at any
// moment (read() then fails with ESRCH) and files that workloads' shims write; an
// iostream over such a file can throw from deep inside the library (a
// std::istreambuf_iterator does), so the agent does not use iostreams for file input.
//
// Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace fastgpu::agent {

// The whole content of `path`, at most `max_bytes` (more is an OutOfRange error).
// NotFound when the file (or, for /proc files, the process) does not exist or is gone
// (ENOENT, ESRCH); Internal for any other error, with the path and errno text.
Result<std::string> ReadWholeFile(const std::string& path, int64_t max_bytes = int64_t{16} << 20);

// Up to `max_bytes` of `path` from `offset` (fewer at the end of the file); "" when
// `offset` is at or past the end. Errors as ReadWholeFile.
Result<std::string> ReadFileRange(const std::string& path, int64_t offset, int64_t max_bytes);

// What is left to read from `fd` (not closed), at most `max_bytes`. Errors as
// ReadWholeFile (`what` names the file in messages).
Result<std::string> ReadToEnd(int fd, const std::string& what, int64_t max_bytes);

}  // namespace fastgpu::agent
