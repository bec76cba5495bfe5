// OpenPostgresStore: the Store over a PostgreSQL database (a SqlStore, sql_store.h: one
// writer connection with group commit, a pool of reader connections).
//
// Several control-plane replicas may write to one database. Each write transaction first
// takes one transaction-level advisory lock, so write transactions run one at a time
// across every replica, as SQLite's single writer does: a write sees every write committed
// before it (READ COMMITTED, each statement after the lock), and the change feed's seq
// rises in commit order. Reads are REPEATABLE READ, READ ONLY snapshots that never wait.
#include <poll.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "store/pg_db.h"
#include "store/pg_schema.h"
#include "store/sql_store.h"
#include "store/store.h"

namespace fastgpu::store {

// Every write transaction notifies this channel as it commits (NOTIFY is delivered only
// when the transaction commits); PgCommitWatch listens on it.
#define FASTGPU_PG_COMMIT_CHANNEL "fastgpu_commits"

namespace {

// A thread with a connection of its own that LISTENs on the commit channel and calls
// on_commit for each burst of notifications. A lost connection is opened again (every
// second until it is back), and on_commit is called once it is.
class PgCommitWatch final : public CommitWatch {
 public:
  PgCommitWatch(std::string url, std::chrono::seconds timeout, std::function<void()> on_commit)
      : url_(std::move(url)), timeout_(timeout), on_commit_(std::move(on_commit)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~PgCommitWatch() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  bool Stopping() {
    std::lock_guard lock(mu_);
    return stop_;
  }

  void Run() {
    std::unique_ptr<PgConn> conn;
    bool was_connected = false;
    while (!Stopping()) {
      if (!conn || !conn->Connected()) {
        conn.reset();
        auto opened = PgConn::Open(url_, timeout_);
        if (opened.ok() && (*opened)->Exec("LISTEN " FASTGPU_PG_COMMIT_CHANNEL).ok()) {
          conn = std::move(*opened);
          if (was_connected) on_commit_();  // commits may have been missed while away
          was_connected = true;
        } else {
          std::unique_lock lock(mu_);
          cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; });
          continue;
        }
      }
      // Wakes for a notification, or every 200 ms to see whether to stop.
      pollfd fd{PQsocket(conn->raw()), POLLIN, 0};
      if (::poll(&fd, 1, 200) < 0 && errno != EINTR) continue;
      if (PQconsumeInput(conn->raw()) == 0) {
        conn.reset();  // lost: opened again above
        continue;
      }
      bool any = false;
      while (PGnotify* n = PQnotifies(conn->raw())) {
        PQfreemem(n);
        any = true;
      }
      if (any) on_commit_();
    }
  }

  const std::string url_;
  const std::chrono::seconds timeout_;
  const std::function<void()> on_commit_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // guarded by mu_
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace

bool IsPostgresUrl(std::string_view url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

std::string RedactStoreUrl(std::string_view url) { return RedactPgUrl(url); }

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  if (!IsPostgresUrl(options.url)) {
    return InvalidArgument("postgres store: the URL must start with postgresql:// (got '" +
                           RedactPgUrl(options.url) + "')");
  }
  if (options.read_pool_size < 1) return InvalidArgument("postgres store: read_pool_size < 1");
  if (options.max_batch < 1) return InvalidArgument("postgres store: max_batch < 1");
  if (options.max_log_bytes < 0) return InvalidArgument("postgres store: max_log_bytes < 0");
  FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> writer,
                           PgConn::Open(options.url, options.connect_timeout));
  FASTGPU_RETURN_IF_ERROR(MigratePgSchema(*writer).WithContext(RedactPgUrl(options.url)));
  std::vector<std::unique_ptr<SqlConn>> readers;
  for (int i = 0; i < options.read_pool_size; ++i) {
    FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> r,
                             PgConn::Open(options.url, options.connect_timeout));
    readers.push_back(std::move(r));
  }
  SqlStoreOptions so;
  so.kind = "postgres";
  so.begin_write = kPgBeginWrite;
  so.begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
  so.commit = "NOTIFY " FASTGPU_PG_COMMIT_CHANNEL "; COMMIT";  // delivered at the commit
  so.max_batch = options.max_batch;
  so.max_log_bytes = options.max_log_bytes;
  so.watch_commits = [url = options.url, timeout = options.connect_timeout](
                         std::function<void()> on_commit) -> std::unique_ptr<CommitWatch> {
    return std::make_unique<PgCommitWatch>(url, timeout, std::move(on_commit));
  };
  return NewSqlStore(so, std::move(writer), std::move(readers));
}

}  // namespace fastgpu::store
