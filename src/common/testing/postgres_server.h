// PostgresServer: a PostgreSQL server of a test's own, in a temporary folder, listening on
// 127.0.0.1 only at a free port, with trust authentication for the user "fastgpu". For
// tests only (library fastgpu_testing); tests that use it carry the ctest label
// "postgres" and skip (GTEST_SKIP with Start's reason) where PostgreSQL is not installed.
//
// The server's programs (initdb, postgres, createdb) come from $FASTGPU_PG_BINDIR, else
// the newest /usr/lib/postgresql/<version>/bin (Debian's `postgresql` package). As root,
// the server runs as the unprivileged user "postgres" (PostgreSQL refuses root); the
// folder is made for that user. The server stops (immediately) when the object is
// destroyed or the test process dies.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/testing/child_process.h"

namespace fastgpu::testing {

class PostgresServer {
 public:
  // Makes a cluster (initdb) and starts it; waits up to `timeout` until it accepts
  // connections. Unavailable, with the reason, when PostgreSQL is missing or cannot start.
  static Result<std::unique_ptr<PostgresServer>> Start(
      std::chrono::seconds timeout = std::chrono::seconds(60));
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // postgresql://fastgpu@127.0.0.1:<port>/<database>
  std::string Url(const std::string& database) const;
  // Creates an empty database. Internal with createdb's output on failure.
  Status CreateDatabase(const std::string& name);
  // A new database with a unique name ("t1", "t2", ...), and its URL.
  Result<std::string> NewDatabaseUrl();

  // Kills the server at once (SIGKILL of the postmaster and of every backend, waited for),
  // as a crash would; Restart() brings it back on the same port and folder.
  void Kill();
  Status Restart(std::chrono::seconds timeout = std::chrono::seconds(60));

 private:
  PostgresServer() = default;
  Status Launch(std::chrono::seconds timeout);
  std::string Run(const std::string& program) const;  // the program's path, run as owner

  std::string bindir_;
  std::string root_;  // the temporary folder (data/ and the log inside)
  int port_ = 0;
  int next_db_ = 0;
  bool as_postgres_ = false;  // run the programs as the user "postgres"
  ChildProcess server_;
};

}  // namespace fastgpu::testing
