#include "metering/report.h"

#include <gtest/gtest.h>

namespace fastgpu::metering {
namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 20'000 * kDay;  // 2024-10-04T00:00:00Z

PriceTable Prices() {
  PriceTable p;
  p.gpu_hour_millicents["H100-80GB"] = 240'000;
  p.gpu_hour_millicents["T4"] = 36'000;
  return p;
}

UsageRecord Rec(const std::string& job, const std::string& model, int milli, int64_t start,
                int64_t end) {
  UsageRecord r;
  r.allocation_id = "alloc-" + job + std::to_string(start);
  r.job_id = job;
  r.gpu_model = model;
  r.gpu_count = 1;
  r.gpu_milli = milli;
  r.gpu_total_memory_mib = 16384;
  r.start_ms = start;
  r.end_ms = end;
  return r;
}

TEST(ReportTest, ByJobAddsUpToTheBill) {
  std::vector<UsageRecord> recs = {
      Rec("job-a", "H100-80GB", 500, kT0, kT0 + kHourMs),
      Rec("job-a", "H100-80GB", 500, kT0, kT0 + kHourMs / 2),
      Rec("job-b", "T4", 1000, kT0 + 10, kT0 + 10 + 7 * 1000),
  };
  auto r = BuildReport(recs, Prices(), GroupBy::kJob, kT0, kT0 + kDay);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0].key, "job-a");
  EXPECT_EQ(r->rows[0].cents, 180);  // 0.5 GPU x 1.5 h x $2.40
  EXPECT_EQ(r->rows[1].cents, 0);    // 7 s of a T4 at $0.36/h = 0.07 cents
  int64_t sum = 0;
  for (const auto& row : r->rows) sum += row.cents;
  EXPECT_EQ(sum, r->total_cents);
}

TEST(ReportTest, ByServiceGroupsReplicasAndLeavesPlainJobsApart) {
  std::vector<UsageRecord> recs = {
      Rec("job-a", "H100-80GB", 500, kT0, kT0 + kHourMs),
      Rec("job-b", "H100-80GB", 500, kT0, kT0 + kHourMs / 2),
      Rec("job-c", "H100-80GB", 1000, kT0, kT0 + kHourMs),
  };
  recs[0].service = "chat";
  recs[1].service = "chat";
  auto r = BuildReport(recs, Prices(), GroupBy::kService, kT0, kT0 + kDay);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0].key, "-");  // the plain job
  EXPECT_EQ(r->rows[0].cents, 240);
  EXPECT_EQ(r->rows[1].key, "chat");
  EXPECT_EQ(r->rows[1].cents, 180);  // 0.5 GPU x 1.5 replica-hours x $2.40
  EXPECT_EQ(r->rows[1].billed_seconds, 5400);
  EXPECT_EQ(r->total_cents, 420);
  EXPECT_EQ(ParseGroupBy("service").value_or(GroupBy::kJob), GroupBy::kService);
  EXPECT_EQ(GroupByName(GroupBy::kService), "service");
}

TEST(ReportTest, TinyChargesRoundPerCellInEveryGrouping) {
  // Two jobs of 0.4 cent each: each cell rounds to 0, so the model's row is 0 cents too
  // (its exact charge, 0.8 cent, is kept in microcents); rows add up to the total.
  PriceTable p;
  p.gpu_hour_millicents["T4"] = 144'000;  // $1.44/h = 0.04 cents per second
  std::vector<UsageRecord> recs = {Rec("job-a", "T4", 1000, kT0, kT0 + 10'000),
                                   Rec("job-b", "T4", 1000, kT0, kT0 + 10'000)};
  auto by_job = BuildReport(recs, p, GroupBy::kJob, kT0, kT0 + kDay);
  auto by_model = BuildReport(recs, p, GroupBy::kModel, kT0, kT0 + kDay);
  ASSERT_TRUE(by_job.ok() && by_model.ok());
  EXPECT_EQ(by_job->total_cents, 0);
  EXPECT_EQ(by_model->rows[0].cents, 0);
  EXPECT_EQ(by_model->rows[0].microcents, 800'000);
  EXPECT_EQ(by_model->total_cents, by_job->total_cents);
}

TEST(ReportTest, SplitsAtMidnightWithoutChangingTheTotal) {
  std::vector<UsageRecord> recs = {
      Rec("job-a", "H100-80GB", 1000, kT0 + kDay - kHourMs / 2, kT0 + kDay + kHourMs / 2)};
  auto by_day = BuildReport(recs, Prices(), GroupBy::kDay, kT0, kT0 + 2 * kDay);
  ASSERT_TRUE(by_day.ok());
  ASSERT_EQ(by_day->rows.size(), 2u);
  EXPECT_EQ(by_day->rows[0].key, "2024-10-04");
  EXPECT_EQ(by_day->rows[1].key, "2024-10-05");
  EXPECT_EQ(by_day->rows[0].billed_seconds, 1800);
  EXPECT_EQ(by_day->rows[1].billed_seconds, 1800);
  EXPECT_EQ(by_day->rows[0].cents + by_day->rows[1].cents, 240);
  EXPECT_EQ(by_day->total_cents, 240);
}

// Rows of every grouping add up to the total: 5 jobs of 18 s across a UTC midnight each
// (3 across the first, 2 across the second), each 9 s part costing 0.6 cent. Rounded per
// job, the bill would be 5 x 1 cent while days rounded on their own show 2 + 3 + 1 cents;
// rounded per cell (job, model, day) every grouping shows 10 cents.
TEST(ReportTest, RowsOfEveryGroupingAddUpToTheTotal) {
  std::vector<UsageRecord> recs;
  for (int i = 0; i < 5; ++i) {
    const int64_t midnight = kT0 + (i < 3 ? 1 : 2) * kDay;
    recs.push_back(
        Rec("job-" + std::to_string(i), "H100-80GB", 1000, midnight - 9000, midnight + 9000));
  }
  for (GroupBy by : {GroupBy::kJob, GroupBy::kModel, GroupBy::kDay, GroupBy::kService}) {
    auto r = BuildReport(recs, Prices(), by, kT0, kT0 + 4 * kDay);
    ASSERT_TRUE(r.ok()) << r.status();
    int64_t sum = 0;
    for (const UsageRow& row : r->rows) sum += row.cents;
    EXPECT_EQ(sum, r->total_cents) << GroupByName(by);
    EXPECT_EQ(r->total_cents, 10) << GroupByName(by);
    if (by == GroupBy::kDay) {
      ASSERT_EQ(r->rows.size(), 3u);
      EXPECT_EQ(r->rows[0].cents, 3);  // 3 x 0.6 cent, each rounded to 1
      EXPECT_EQ(r->rows[1].cents, 5);
      EXPECT_EQ(r->rows[2].cents, 2);
      EXPECT_EQ(r->rows[0].microcents, 1'800'000);  // the exact charge is kept
    }
  }
  // A month's bill is the sum of its days' bills.
  int64_t days = 0;
  for (int d = 0; d < 4; ++d) {
    auto r = BuildReport(recs, Prices(), GroupBy::kJob, kT0 + d * kDay, kT0 + (d + 1) * kDay);
    ASSERT_TRUE(r.ok());
    days += r->total_cents;
  }
  EXPECT_EQ(days, 10);
}

TEST(ReportTest, JsonHasPlainGpuHoursAndIntegerMoney) {
  // 60 s of a whole GPU: 0.016666... GPU-hours.
  std::vector<UsageRecord> recs = {Rec("job-a", "H100-80GB", 1000, kT0, kT0 + 60'000)};
  auto r = BuildReport(recs, Prices(), GroupBy::kJob, kT0, kT0 + kDay);
  ASSERT_TRUE(r.ok());
  const std::string json = ReportToJson(*r);
  EXPECT_NE(json.find("\"gpu_hours\":0.016667"), std::string::npos) << json;
  EXPECT_NE(json.find("\"gpu_milli_seconds\":60000"), std::string::npos) << json;
  EXPECT_NE(json.find("\"cents\":4,\"cost\":\"$0.04\""), std::string::npos) << json;
  EXPECT_EQ(json.find("E-"), std::string::npos) << json;
  EXPECT_EQ(json.find("E0"), std::string::npos) << json;
}

TEST(ReportTest, WindowClipsRecords) {
  std::vector<UsageRecord> recs = {
      Rec("job-a", "H100-80GB", 1000, kT0, kT0 + 2 * kHourMs),
      Rec("job-b", "H100-80GB", 1000, kT0 + 5 * kHourMs, kT0 + 6 * kHourMs)};
  PriceTable p = Prices();
  p.minimum_charge_seconds = 600;
  auto r = BuildReport(recs, p, GroupBy::kJob, kT0 + kHourMs, kT0 + 3 * kHourMs);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].billed_seconds, 3600);  // the hour inside the window, no minimum
  EXPECT_EQ(r->total_cents, 240);
}

TEST(ReportTest, FormatsAndErrors) {
  std::vector<UsageRecord> recs = {Rec("job-a", "H100-80GB", 500, kT0, kT0 + kHourMs)};
  auto r = BuildReport(recs, Prices(), GroupBy::kJob, kT0, kT0 + kDay);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReportToCsv(*r),
            "job,billed_seconds,gpu_hours,cost\njob-a,3600,0.500000,1.20\ntotal,,,1.20\n");
  EXPECT_NE(ReportToJson(*r).find("\"total\":\"$1.20\""), std::string::npos);
  EXPECT_FALSE(BuildReport(recs, Prices(), GroupBy::kJob, kT0 + kDay, kT0).ok());
  recs[0].end_ms = recs[0].start_ms - 5;
  EXPECT_FALSE(BuildReport(recs, Prices(), GroupBy::kJob, kT0, kT0 + kDay).ok());
  EXPECT_EQ(*ParseGroupBy("day"), GroupBy::kDay);
  EXPECT_FALSE(ParseGroupBy("week").ok());
}

}  // namespace
}  // namespace fastgpu::metering
