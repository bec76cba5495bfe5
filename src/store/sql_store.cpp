#include "store/sql_store.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "store/sql_tx.h"
#include "store/store_util.h"

namespace fastgpu::store {
namespace {

struct PendingWrite {
  std::function<Status(WriteTx&)>* fn;
  Status result;
  std::promise<Status> done;
};

class SqlStore final : public Store {
 public:
  SqlStore(const SqlStoreOptions& options, std::unique_ptr<SqlConn> writer,
           std::vector<std::unique_ptr<SqlConn>> readers)
      : options_(options), writer_(std::move(writer)), readers_(std::move(readers)) {
    for (auto& r : readers_) free_readers_.push_back(r.get());
    writer_thread_ = std::thread([this] { WriterLoop(); });
  }

  ~SqlStore() override {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    writer_thread_.join();
  }

  Status Write(std::function<Status(WriteTx&)> fn) override {
    if (std::this_thread::get_id() == writer_thread_.get_id()) {
      return FailedPrecondition("Store::Write called inside a write transaction");
    }
    PendingWrite pending{&fn, OkStatus(), {}};
    std::future<Status> done = pending.done.get_future();
    {
      std::lock_guard lock(queue_mu_);
      if (stopping_) return Unavailable("store is closing");
      queue_.push_back(&pending);
    }
    queue_cv_.notify_one();
    return done.get();
  }

  Status Read(std::function<Status(ReadTx&)> fn) override {
    SqlConn* conn = AcquireReader();
    Status s = ReadOn(*conn, fn);
    ReleaseReader(conn);
    return s;
  }

  std::string_view Kind() const override { return options_.kind; }

  std::unique_ptr<CommitWatch> WatchCommits(std::function<void()> on_commit) override {
    if (!options_.watch_commits) return nullptr;
    return options_.watch_commits(std::move(on_commit));
  }

  StoreStats Stats() const override {
    std::lock_guard lock(queue_mu_);
    StoreStats s = stats_;
    s.queued_writes = static_cast<int64_t>(queue_.size());
    return s;
  }

 private:
  Status ReadOn(SqlConn& conn, const std::function<Status(ReadTx&)>& fn) {
    FASTGPU_RETURN_IF_ERROR(conn.Exec(options_.begin_read));
    std::unique_ptr<ReadTx> tx = NewSqlReadTx(conn);
    Status s = RunGuarded([&] { return fn(*tx); });
    Status end = Stmt(conn, "COMMIT").Run();
    if (!end.ok() && conn.InTransaction()) conn.Exec("ROLLBACK").IgnoreError();
    return s.ok() ? end : s;
  }

  SqlConn* AcquireReader() {
    std::unique_lock lock(pool_mu_);
    pool_cv_.wait(lock, [this] { return !free_readers_.empty(); });
    SqlConn* conn = free_readers_.back();
    free_readers_.pop_back();
    return conn;
  }

  void ReleaseReader(SqlConn* conn) {
    {
      std::lock_guard lock(pool_mu_);
      free_readers_.push_back(conn);
    }
    pool_cv_.notify_one();
  }

  // The batch is taken once the write transaction is open: while BEGIN waits for the
  // database's write lock (another replica's transaction, or SQLite's busy wait), the
  // writes that arrive meanwhile join this batch, so batches grow with the contention and
  // one commit (one flush to disk) makes more of them durable.
  void WriterLoop() {
    for (;;) {
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything queued was answered
      }
      Status begin = Begin();
      std::vector<PendingWrite*> batch;
      {
        std::lock_guard lock(queue_mu_);
        while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      bool committed = false;
      if (begin.ok()) {
        committed = RunBatch(batch);
      } else {
        for (PendingWrite* p : batch) p->result = begin;
      }
      {
        std::lock_guard lock(queue_mu_);
        stats_.commits += committed ? 1 : 0;
        stats_.max_batch = std::max<int64_t>(stats_.max_batch, static_cast<int64_t>(batch.size()));
        for (PendingWrite* p : batch) ++(p->result.ok() ? stats_.writes_ok : stats_.writes_failed);
      }
      for (PendingWrite* p : batch) p->done.set_value(p->result);
    }
  }

  // Opens the write transaction and the first write's savepoint (one round trip).
  Status Begin() {
    SqlConn& c = *writer_;
    Status begin = c.Exec((std::string(options_.begin_write) + "; SAVEPOINT w").c_str());
    if (!begin.ok() && c.InTransaction()) c.Exec("ROLLBACK").IgnoreError();
    return begin;
  }

  // Runs every write of `batch` in the transaction Begin opened; sets each one's result.
  // True when the transaction committed. Each write runs inside the savepoint w, so a failed one is
  // undone alone. The savepoint statements share their round trip with their neighbours:
  // BEGIN with the first SAVEPOINT, one write's RELEASE with the next write's SAVEPOINT,
  // and the last write's savepoint ends with the COMMIT. After a ROLLBACK TO, w stays
  // and stands at the same point, so the next write runs inside it as it is.
  bool RunBatch(const std::vector<PendingWrite*>& batch) {
    SqlConn& c = *writer_;
    for (size_t i = 0; i < batch.size(); ++i) {
      PendingWrite* p = batch[i];
      // A transaction object per write: what it remembers of rows (a tenant read twice)
      // never outlives the write, whose savepoint may be rolled back.
      std::unique_ptr<WriteTx> tx = NewSqlWriteTx(c, options_.max_log_bytes);
      Status s = RunGuarded([&] { return (*p->fn)(*tx); });
      const bool last = i + 1 == batch.size();
      Status end = OkStatus();
      if (!s.ok()) {
        end = c.Exec("ROLLBACK TO w");
      } else if (!last) {
        end = c.Exec("RELEASE w; SAVEPOINT w");
      }
      if (!end.ok() || !c.InTransaction()) {
        // The transaction is broken (or SQLite rolled it back): nothing of the batch
        // can commit. Fail this write, those before it, and those not yet run.
        // A transaction lost to a full disk stays Unavailable: retry once space returns.
        const Status& cause = end.ok() ? s : end;
        Status broken = cause.code() == StatusCode::kUnavailable
                            ? Unavailable("write transaction aborted: " + cause.message())
                            : Internal("write transaction aborted: " +
                                       (end.ok() ? std::string("rolled back by the database")
                                                 : end.ToString()));
        for (PendingWrite* q : batch) {
          if (q->result.ok()) q->result = broken;
        }
        if (c.InTransaction()) c.Exec("ROLLBACK").IgnoreError();
        return false;
      }
      p->result = s;
    }
    // Releases the last savepoint with it; a batch whose every write was rolled back has
    // nothing to announce.
    const bool any_ok =
        std::any_of(batch.begin(), batch.end(), [](PendingWrite* p) { return p->result.ok(); });
    Status commit = c.Exec(any_ok ? options_.commit : "COMMIT");
    if (!commit.ok()) {
      if (c.InTransaction()) c.Exec("ROLLBACK").IgnoreError();
      for (PendingWrite* p : batch) {
        if (p->result.ok()) p->result = commit.WithContext("commit");
      }
      return false;
    }
    return true;
  }

  const SqlStoreOptions options_;
  std::unique_ptr<SqlConn> writer_;  // used only by the writer thread after construction
  std::vector<std::unique_ptr<SqlConn>> readers_;

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<PendingWrite*> queue_;  // guarded by queue_mu_
  bool stopping_ = false;            // guarded by queue_mu_
  StoreStats stats_;                 // guarded by queue_mu_

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<SqlConn*> free_readers_;  // guarded by pool_mu_

  std::thread writer_thread_;  // last: starts after everything above exists
};

}  // namespace

std::unique_ptr<Store> NewSqlStore(const SqlStoreOptions& options, std::unique_ptr<SqlConn> writer,
                                   std::vector<std::unique_ptr<SqlConn>> readers) {
  return std::make_unique<SqlStore>(options, std::move(writer), std::move(readers));
}

}  // namespace fastgpu::store
