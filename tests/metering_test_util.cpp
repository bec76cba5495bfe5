#include "tests/metering_test_util.h"

namespace fastgpu::metering_test {

std::string JobBody(const std::string& gpu, int64_t cpu_milli, int64_t memory_mib, int replicas,
                    int priority) {
  return R"({"command":["train"],"shape":{)" + gpu + R"(,"cpu_milli":)" +
         std::to_string(cpu_milli) + R"(,"memory_mib":)" + std::to_string(memory_mib) +
         R"(},"replicas":)" + std::to_string(replicas) + R"(,"priority":)" +
         std::to_string(priority) + "}";
}

std::string Submit(TestControlPlane& cp, const std::string& token, const std::string& body) {
  Reply r = cp.Do("POST", "/v1/jobs", token, body);
  EXPECT_EQ(r.status, 201) << r.raw;
  return r.Str("id");
}

std::vector<std::string> AllocationsOf(TestControlPlane& cp, const std::string& job_id) {
  Reply r = cp.Do("GET", "/v1/allocations?job=" + job_id, cp.admin());
  EXPECT_EQ(r.status, 200) << r.raw;
  std::vector<std::string> ids;
  if (!r.body.is_object()) return ids;
  for (const auto& a : r.body.at("allocations").as_array()) {
    ids.emplace_back(a.at("allocation_id").as_string());
  }
  return ids;
}

json::object Report(const std::string& alloc, const std::string& state, int64_t started_ms,
                    int64_t ended_ms) {
  json::object o{{"allocation_id", alloc}, {"state", state}};
  if (started_ms > 0) o["started_at"] = started_ms;
  if (ended_ms > 0) o["ended_at"] = ended_ms;
  if (state == "exited") {
    o["exit_code"] = 0;
    o["signal"] = 0;
  }
  return o;
}

Reply Usage(TestControlPlane& cp, const std::string& token, const std::string& query) {
  Reply r = cp.Do("GET", "/v1/usage?" + query, token);
  EXPECT_EQ(r.status, 200) << r.raw;
  return r;
}

std::string TenantId(TestControlPlane& cp, const std::string& name) {
  Reply r = cp.Do("GET", "/v1/tenants/" + name, cp.admin());
  EXPECT_EQ(r.status, 200) << r.raw;
  return r.Str("id");
}

void SetPrices(TestControlPlane& cp, const std::string& json_body) {
  Reply r = cp.Do("PUT", "/v1/prices", cp.admin(), json_body);
  ASSERT_EQ(r.status, 200) << r.raw;
}

int64_t RowCents(const Reply& report, const std::string& key) {
  if (!report.body.is_object()) return -1;
  for (const auto& row : report.body.at("rows").as_array()) {
    if (row.at("key").as_string() == key) return row.at("cents").as_int64();
  }
  return -1;
}

}  // namespace fastgpu::metering_test
