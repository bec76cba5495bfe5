// FileEnv: the agent's own files (the state file, replica folders, logs and exit
// statuses) behind a small interface, after LevelDB's Env: PosixFileEnv() is the real
// file system, NewMemoryFileEnv() keeps everything in memory for tests. The agent takes
// one by injection (AgentOptions::env); nothing it writes for itself goes around it.
// Host files it only reads (/proc, cgroupfs, the GPU device nodes) and the files the real
// launcher's shim writes for a workload are outside it: they are the host's, not the
// agent's.
//
// Errors are values: NotFound when a file or folder to read is missing; Internal for
// any other failure (a write into a missing folder included), with the operation, the
// path and the reason ("open /x/agent-state.json.tmp: Is a directory").
//
// Thread safety: implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace fastgpu::agent {

class FileEnv {
 public:
  virtual ~FileEnv() = default;

  // The whole content of `path`, at most `max_bytes` (more: OutOfRange).
  virtual Result<std::string> ReadFile(const std::string& path,
                                       int64_t max_bytes = int64_t{16} << 20) = 0;
  // Up to `max_bytes` of `path` from `offset` (fewer at the end); "" when `offset` is at
  // or past the end.
  virtual Result<std::string> ReadFileRange(const std::string& path, int64_t offset,
                                            int64_t max_bytes) = 0;
  // The size of the file in bytes.
  virtual Result<int64_t> FileSize(const std::string& path) = 0;
  // True when a file or folder exists at `path`.
  virtual bool Exists(const std::string& path) = 0;

  // Creates or truncates `path` (mode 0600 when new) and writes `data`; with `sync`, the
  // content is on stable storage when it returns OK. Its folder must exist.
  virtual Status WriteFile(const std::string& path, std::string_view data, bool sync) = 0;
  // Appends `data` to `path` (created, mode 0600, when missing). Its folder must exist.
  virtual Status AppendFile(const std::string& path, std::string_view data) = 0;
  // Renames the file `from` to `to` in one step, replacing a file at `to`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Makes the entries of folder `dir` (a rename into it) durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Creates folder `dir` and its missing parents; OK when it exists.
  virtual Status CreateDirs(const std::string& dir) = 0;
  // The names in folder `dir`, sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Removes the file or folder at `path` with everything in it; OK when nothing is there.
  virtual Status RemoveAll(const std::string& path) = 0;
};

// The real file system (plain POSIX calls; never an exception). Process-wide.
FileEnv& PosixFileEnv();

// A file system in memory: folders and files in maps, "/" and "." always there; no modes
// or owners; thread-safe. For tests of the agent's bookkeeping.
std::unique_ptr<FileEnv> NewMemoryFileEnv();

// Replaces `path` so that a crash at any point leaves either its old or its new content:
// writes <path>.tmp with sync, renames it over `path`, syncs the folder.
Status WriteFileAtomically(FileEnv& env, const std::string& path, std::string_view data);

}  // namespace fastgpu::agent
