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

  void WriterLoop() {
    for (;;) {
      std::vector<PendingWrite*> batch;
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything queued was answered
        while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      const bool committed = RunBatch(batch);
      {
        std::lock_guard lock(queue_mu_);
        stats_.commits += committed ? 1 : 0;
        stats_.max_batch = std::max<int64_t>(stats_.max_batch, static_cast<int64_t>(batch.size()));
        for (PendingWrite* p : batch) ++(p->result.ok() ? stats_.writes_ok : stats_.writes_failed);
      }
      for (PendingWrite* p : batch) p->done.set_value(p->result);
    }
  }

  // Runs every write of `batch` in one transaction; sets each one's result. True when
  // the transaction committed.
  bool RunBatch(const std::vector<PendingWrite*>& batch) {
    SqlConn& c = *writer_;
    Status begin = c.Exec(options_.begin_write);
    if (!begin.ok()) {
      for (PendingWrite* p : batch) p->result = begin;
      return false;
    }
    std::unique_ptr<WriteTx> tx = NewSqlWriteTx(c, options_.max_log_bytes);
    for (size_t i = 0; i < batch.size(); ++i) {
      PendingWrite* p = batch[i];
      Status s = Stmt(c, "SAVEPOINT w").Run();
      if (s.ok()) {
        s = RunGuarded([&] { return (*p->fn)(*tx); });
        Status end = s.ok() ? Stmt(c, "RELEASE w").Run() : Stmt(c, "ROLLBACK TO w").Run();
        if (!s.ok() && end.ok()) end = Stmt(c, "RELEASE w").Run();
        if (s.ok()) s = end;
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
      }
      p->result = s;
    }
    Status commit = Stmt(c, "COMMIT").Run();
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
