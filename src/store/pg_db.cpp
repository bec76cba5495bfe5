#include "store/pg_db.h"

#include <cstdlib>
#include <vector>

#include "store/store.h"

namespace fastgpu::store {
namespace {

constexpr Oid kByteaOid = 17;
constexpr Oid kTextOid = 25;

void DropNotice(void*, const char*) {}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class PgCursor final : public SqlCursor {
 public:
  PgCursor(PgConn& conn, std::string name, int params)
      : conn_(conn), name_(std::move(name)), params_(params) {}
  ~PgCursor() override { Reset(); }

  void BindInt(int i, int64_t v) override { Set(i, std::to_string(v), 0); }
  void BindText(int i, std::string_view text) override {
    if (text.find('\0') != std::string_view::npos && bind_status_.ok()) {
      bind_status_ = InvalidArgument("text with a NUL byte cannot be stored");
    }
    Set(i, std::string(text), 0);
  }
  void BindBlob(int i, std::string_view bytes) override { Set(i, std::string(bytes), 1); }
  void BindNull(int i) override {
    if (!Slot(i)) return;
    null_[i - 1] = true;
  }

  Result<bool> Step() override {
    if (!bind_status_.ok()) return bind_status_;
    if (res_ != nullptr) return ++row_ < PQntuples(res_);
    std::vector<const char*> values(params_);
    std::vector<int> lengths(params_), formats(params_);
    for (int i = 0; i < params_; ++i) {
      values[i] = null_[i] ? nullptr : values_[i].data();
      lengths[i] = static_cast<int>(values_[i].size());
      formats[i] = formats_[i];
    }
    res_ = PQexecPrepared(conn_.raw(), name_.c_str(), params_, values.data(), lengths.data(),
                          formats.data(), 0);
    const ExecStatusType st = PQresultStatus(res_);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      Status s = PgStatus(res_, conn_.raw(), name_);
      PQclear(res_);
      res_ = nullptr;
      return s;
    }
    row_ = 0;
    return PQntuples(res_) > 0;
  }
  int64_t Changes() const override {
    if (res_ == nullptr) return 0;
    return std::strtoll(PQcmdTuples(res_), nullptr, 10);
  }
  int64_t Int(int col) const override {
    const char* v = PQgetvalue(res_, row_, col);
    if (v[0] == 't') return 1;
    if (v[0] == 'f') return 0;
    return std::strtoll(v, nullptr, 10);
  }
  std::string Text(int col) const override {
    const char* v = PQgetvalue(res_, row_, col);
    const int n = PQgetlength(res_, row_, col);
    if (PQftype(res_, col) == kByteaOid && n >= 2 && v[0] == '\\' && v[1] == 'x') {
      std::string out;
      out.reserve(static_cast<size_t>(n - 2) / 2);
      for (int i = 2; i + 1 < n; i += 2) {
        out.push_back(static_cast<char>(HexDigit(v[i]) * 16 + HexDigit(v[i + 1])));
      }
      return out;
    }
    return std::string(v, static_cast<size_t>(n));
  }
  bool IsNull(int col) const override { return PQgetisnull(res_, row_, col) != 0; }
  void Reset() override {
    if (res_ != nullptr) PQclear(res_);
    res_ = nullptr;
    row_ = -1;
    values_.assign(params_, std::string());
    null_.assign(params_, true);
    formats_.assign(params_, 0);
    bind_status_ = OkStatus();
  }

 private:
  bool Slot(int i) {
    if (values_.size() != static_cast<size_t>(params_)) Reset();
    if (i < 1 || i > params_) {
      if (bind_status_.ok()) bind_status_ = Internal("bind: no parameter " + std::to_string(i));
      return false;
    }
    return true;
  }
  void Set(int i, std::string v, int format) {
    if (!Slot(i)) return;
    values_[i - 1] = std::move(v);
    null_[i - 1] = false;
    formats_[i - 1] = format;
  }

  PgConn& conn_;
  const std::string name_;
  const int params_;
  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<int> formats_;
  PGresult* res_ = nullptr;
  int row_ = -1;
  Status bind_status_;
};

}  // namespace

Status PgStatus(const PGresult* res, PGconn* conn, std::string_view context) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = res ? PQresultErrorMessage(res) : "";
  if (msg.empty() && conn != nullptr) msg = PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const std::string where = std::string(context) + ": " + msg;
  const std::string code = state ? state : "";
  if (code.empty() || (conn != nullptr && PQstatus(conn) != CONNECTION_OK) ||
      code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0) {
    return Unavailable("lost the connection to PostgreSQL; retry later (" + where + ")");
  }
  if (code == "23505") return AlreadyExists(where);
  if (code == "23503") return NotFound("a row it refers to is missing (" + where + ")");
  if (code == "53100") return DiskFullError("postgres: " + where);
  if (code == "40001" || code == "40P01" || code == "53300" || code == "55P03" || code == "53200") {
    return Unavailable("PostgreSQL is busy; retry later (" + where + ")");
  }
  if (code == "22021" || code == "22P05") return InvalidArgument(where);
  return Internal("postgres " + code + ": " + where);
}

std::string RedactPgUrl(std::string_view url) {
  // scheme://user:password@host... -> scheme://user:***@host...
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t at = url.find('@', scheme + 3);
  const size_t slash = url.find('/', scheme + 3);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) {
    return std::string(url);
  }
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

std::string PgParameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      out.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
    } else if (c == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('$');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::unique_ptr<PgConn>> PgConn::Open(const std::string& url,
                                             std::chrono::seconds connect_timeout) {
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const std::string timeout = std::to_string(std::max<int64_t>(1, connect_timeout.count()));
  const char* values[] = {url.c_str(), timeout.c_str(), "fastgpu", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Internal("postgres: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn);
    if (msg.find("invalid") != std::string::npos && msg.find("URI") != std::string::npos) {
      return InvalidArgument("malformed PostgreSQL URL " + RedactPgUrl(url) + ": " + msg);
    }
    return Unavailable("cannot connect to PostgreSQL at " + RedactPgUrl(url) + ": " + msg);
  }
  std::unique_ptr<PgConn> c(new PgConn(conn));
  FASTGPU_RETURN_IF_ERROR(c->Setup());
  return c;
}

PgConn::~PgConn() {
  cache_.clear();
  PQfinish(conn_);
}

Status PgConn::Setup() {
  PQsetNoticeProcessor(conn_, DropNotice, nullptr);
  cache_.clear();
  // Durability does not depend on the server's default; notices stay out of logs.
  PGresult* res = PQexec(conn_,
                         "SET synchronous_commit TO on; SET client_min_messages TO warning;"
                         " SET TIME ZONE 'UTC'");
  Status s = PQresultStatus(res) == PGRES_COMMAND_OK ? OkStatus()
                                                     : PgStatus(res, conn_, "connection setup");
  PQclear(res);
  return s;
}

Status PgConn::Reconnect() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Unavailable("lost the connection to PostgreSQL and cannot reconnect; retry later (" +
                       std::string(PQerrorMessage(conn_)) + ")");
  }
  return Setup();
}

bool PgConn::InTransaction() const {
  const PGTransactionStatusType t = PQtransactionStatus(conn_);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

Status PgConn::Exec(const char* sql) {
  if (PQstatus(conn_) != CONNECTION_OK && !InTransaction()) {
    FASTGPU_RETURN_IF_ERROR(Reconnect());
  }
  PGresult* res = PQexec(conn_, sql);
  const ExecStatusType st = PQresultStatus(res);
  Status s =
      st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? OkStatus() : PgStatus(res, conn_, sql);
  PQclear(res);
  return s;
}

Result<SqlCursor*> PgConn::Cursor(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  const std::string text = PgParameters(sql);
  // Parameters the text does not use (a query shared by several filters skips some)
  // are declared TEXT: PostgreSQL cannot infer a type for them.
  std::vector<Oid> types;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '$') continue;
    const int n = std::atoi(text.c_str() + i + 1);
    if (n < 1) continue;
    if (static_cast<int>(types.size()) < n) types.resize(n, kTextOid);
    types[n - 1] = 0;
  }
  const int params = static_cast<int>(types.size());
  const std::string name = "s" + std::to_string(++next_name_);
  PGresult* res = PQprepare(conn_, name.c_str(), text.c_str(), params, types.data());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  Status s = ok ? OkStatus() : PgStatus(res, conn_, std::string("prepare ") + sql);
  PQclear(res);
  FASTGPU_RETURN_IF_ERROR(s);
  auto cursor = std::make_unique<PgCursor>(*this, name, params);
  cursor->Reset();
  SqlCursor* out = cursor.get();
  cache_.emplace(sql, std::move(cursor));
  return out;
}

}  // namespace fastgpu::store
