#include "store/store_test_util.h"

#include <map>
#include <mutex>

#ifdef FASTGPU_STORE_POSTGRES_ONLY
#include "common/testing/postgres_server.h"
#endif

namespace fastgpu::testing {

#ifdef FASTGPU_STORE_POSTGRES_ONLY
namespace {

// The binary's PostgreSQL server, started on first use; its error when it cannot start.
Result<PostgresServer*> SharedPostgres() {
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> server;
  static Status failed;
  std::lock_guard lock(mu);
  if (server == nullptr && failed.ok()) {
    auto started = PostgresServer::Start();
    if (started.ok()) {
      server = std::move(*started);
    } else {
      failed = started.status();
    }
  }
  if (!failed.ok()) return failed;
  return server.get();
}

}  // namespace

std::vector<StoreFactory> AllStoreFactories() {
  StoreFactory pg;
  pg.name = "postgres";
  // One database per test folder, so that a test that opens its folder again finds its data.
  pg.open = [](const std::filesystem::path& dir,
               int64_t max_log_bytes) -> std::unique_ptr<store::Store> {
    static std::map<std::string, std::string> urls;
    auto server = SharedPostgres();
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    std::string& url = urls[dir.string()];
    if (url.empty()) {
      auto made = (*server)->NewDatabaseUrl();
      EXPECT_TRUE(made.ok()) << made.status();
      if (!made.ok()) return nullptr;
      url = *made;
    }
    store::PostgresOptions opt;
    opt.url = url;
    opt.read_pool_size = 2;
    opt.max_log_bytes = max_log_bytes;
    auto store = store::OpenPostgresStore(opt);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  };
  pg.unavailable = [] {
    auto server = SharedPostgres();
    return server.ok() ? std::string() : server.status().ToString();
  };
  return {pg};
}

#else

std::vector<StoreFactory> AllStoreFactories() {
  std::vector<StoreFactory> out;
  out.push_back({"memory", [](const std::filesystem::path&, int64_t max_log_bytes) {
                   return store::NewMemoryStore(store::MemoryStoreOptions{max_log_bytes});
                 }});
#ifdef FASTGPU_STORE_HAS_SQLITE
  out.push_back({"sqlite",
                 [](const std::filesystem::path& dir,
                    int64_t max_log_bytes) -> std::unique_ptr<store::Store> {
                   store::SqliteOptions opt;
                   opt.max_log_bytes = max_log_bytes;
                   opt.path = (dir / "state.db").string();
                   auto store = store::OpenSqliteStore(opt);
                   EXPECT_TRUE(store.ok()) << store.status();
                   return store.ok() ? std::move(*store) : nullptr;
                 }});
#endif
  return out;
}

#endif  // FASTGPU_STORE_POSTGRES_ONLY

TimePoint T(int64_t unix_ms) { return FromUnixMillis(unix_ms); }

model::Tenant MakeTenant(const std::string& id, const std::string& name) {
  model::Tenant t;
  t.id = id;
  t.name = name;
  t.quota = model::Quota{4000, 100};
  t.created_at = T(1000);
  return t;
}

store::ApiToken MakeToken(const std::string& id, const std::string& tenant_id,
                          const std::string& hash) {
  store::ApiToken t;
  t.id = id;
  t.tenant_id = tenant_id;
  t.name = "ci";
  t.sha256_hex = hash;
  t.created_at = T(2000);
  return t;
}

store::NodeRecord MakeNode(const std::string& id, const std::string& agent_id, int gpus) {
  store::NodeRecord r;
  r.node.id = id;
  r.node.name = "host-" + agent_id;
  r.node.cpu_milli = 64000;
  r.node.memory_mib = 512 * 1024;
  for (int i = 0; i < gpus; ++i) {
    model::Gpu g;
    g.index = i;
    g.uuid = "SIM-" + agent_id + "-" + std::to_string(i);
    g.model = "H100-80GB";
    g.memory_mib = 81920;
    g.simulated = true;
    r.node.gpus.push_back(g);
  }
  r.node.simulated = true;
  r.agent_id = agent_id;
  r.token_sha256_hex = std::string(64, 'a');
  r.secret_sha256_hex = std::string(64, 'b');
  r.last_heartbeat = T(5000);
  r.registered_at = T(4000);
  return r;
}

model::Job MakeJob(const std::string& id, const std::string& tenant_id, int64_t created_ms) {
  model::Job j;
  j.id = id;
  j.tenant_id = tenant_id;
  j.spec.name = "train";
  j.spec.command = {"python", "train.py", "--lr=0.1"};
  j.spec.env = {{"A", "1"}, {"B", "two words"}};
  j.spec.shape.gpu_count = 1;
  j.spec.shape.gpu_milli = 500;
  j.spec.shape.gpu_memory_mib = 20480;
  j.spec.shape.gpu_models = {"H100-80GB", "A100-80GB"};
  j.spec.shape.cpu_milli = 2000;
  j.spec.shape.memory_mib = 8192;
  j.spec.shape.isolation = model::Isolation::kMps;
  j.spec.replicas = 2;
  j.spec.max_retries = 3;
  j.spec.priority = -7;
  j.created_at = T(created_ms);
  j.updated_at = T(created_ms);
  return j;
}

store::AllocationRecord MakeAlloc(const std::string& id, const std::string& job_id,
                                  const std::string& node_id, int replica) {
  store::AllocationRecord r;
  r.alloc.id = id;
  r.alloc.job_id = job_id;
  r.alloc.replica = replica;
  r.alloc.node_id = node_id;
  r.alloc.gpu_model = "H100-80GB";
  r.alloc.slices = {model::VgpuSlice{0, "SIM-0", 500, 20480, model::Isolation::kMps},
                    model::VgpuSlice{1, "SIM-1", 1000, 81920, model::Isolation::kExclusive}};
  r.alloc.cpu_milli = 2000;
  r.alloc.memory_mib = 8192;
  r.alloc.created_at = T(6000);
  return r;
}

void StoreConformanceTest::SetUp() {
  if (std::string why = GetParam().unavailable(); !why.empty()) GTEST_SKIP() << why;
  store_ = GetParam().open(dir_.path(), store::kDefaultMaxLogBytes);
  ASSERT_NE(store_, nullptr);
}

}  // namespace fastgpu::testing
