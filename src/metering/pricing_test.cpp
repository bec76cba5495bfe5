#include "metering/pricing.h"

#include <gtest/gtest.h>

namespace fastgpu::metering {
namespace {

constexpr int64_t kHourMs = 3'600'000;

PriceTable Prices() {
  PriceTable p;
  p.gpu_hour_millicents["H100-80GB"] = 240'000;  // $2.40 per GPU-hour
  p.cpu_hour_millicents = 3'600;                  // $0.036 per core-hour
  p.memory_gib_hour_millicents = 360;             // $0.0036 per GiB-hour
  return p;
}

UsageRecord Gpu(int count, int milli, int64_t ms) {
  UsageRecord r;
  r.job_id = "job-1";
  r.gpu_model = "H100-80GB";
  r.gpu_count = count;
  r.gpu_milli = milli;
  r.gpu_total_memory_mib = 81920;
  r.start_ms = 1'000'000;
  r.end_ms = r.start_ms + ms;
  return r;
}

TEST(PricingTest, FractionPaysItsFraction) {
  UsageRecord r = Gpu(1, 500, kHourMs);
  EXPECT_EQ(BilledSeconds(r, Prices()), 3600);
  EXPECT_EQ(ChargeMicrocents(r, 3600, Prices()), 120'000'000);  // 120 cents
  EXPECT_EQ(RoundToCents(ChargeMicrocents(r, 3600, Prices())), 120);
  UsageRecord whole = Gpu(2, 1000, kHourMs);
  EXPECT_EQ(RoundToCents(ChargeMicrocents(whole, 3600, Prices())), 480);
}

TEST(PricingTest, MemoryHeavyFractionPaysItsMemoryShare) {
  UsageRecord r = Gpu(1, 250, kHourMs);
  r.gpu_memory_mib = 40960;  // half of the GPU's memory
  EXPECT_EQ(BilledGpuShareMicro(r), 500'000);
  EXPECT_EQ(RoundToCents(ChargeMicrocents(r, 3600, Prices())), 120);
  r.gpu_memory_mib = 8192;  // a tenth: compute share (a quarter) wins
  EXPECT_EQ(BilledGpuShareMicro(r), 250'000);
}

TEST(PricingTest, PerSecondRoundedUpWithMinimum) {
  UsageRecord r = Gpu(1, 1000, 1001);
  EXPECT_EQ(BilledSeconds(r, Prices()), 2);
  PriceTable p = Prices();
  p.minimum_charge_seconds = 60;
  EXPECT_EQ(BilledSeconds(r, p), 60);
  // One second of a whole GPU at $3.60/h is a tenth of a cent.
  p.gpu_hour_millicents["H100-80GB"] = 360'000;
  EXPECT_EQ(ChargeMicrocents(r, 1, p), 100'000);
}

TEST(PricingTest, CpuAndMemory) {
  UsageRecord r;
  r.cpu_milli = 2000;
  r.memory_mib = 8192;
  r.end_ms = kHourMs;
  // 2 cores * 3.6 cents + 8 GiB * 0.36 cents = 7.2 + 2.88 cents.
  EXPECT_EQ(ChargeMicrocents(r, 3600, Prices()), 10'080'000);
}

TEST(PricingTest, UnlistedModelUsesDefault) {
  UsageRecord r = Gpu(1, 1000, kHourMs);
  r.gpu_model = "T4";
  EXPECT_EQ(ChargeMicrocents(r, 3600, Prices()), 0);
  PriceTable p = Prices();
  p.default_gpu_hour_millicents = 50'000;
  EXPECT_EQ(RoundToCents(ChargeMicrocents(r, 3600, p)), 50);
}

TEST(PricingTest, Parsing) {
  EXPECT_EQ(*ParseDollarsToMillicents("2.49"), 249'000);
  EXPECT_EQ(*ParseDollarsToMillicents("$0.00001"), 1);
  EXPECT_EQ(*ParseDollarsToMillicents("3"), 300'000);
  EXPECT_FALSE(ParseDollarsToMillicents("-1").ok());
  EXPECT_FALSE(ParseDollarsToMillicents("1.000001").ok());
  EXPECT_FALSE(ParseDollarsToMillicents("abc").ok());
  EXPECT_FALSE(ParseDollarsToMillicents("").ok());
  EXPECT_EQ(FormatCents(12345), "$123.45");
  EXPECT_EQ(FormatCents(-7), "-$0.07");
  EXPECT_EQ(RoundToCents(500'000), 1);
  EXPECT_EQ(RoundToCents(499'999), 0);
  EXPECT_EQ(RoundToCents(-500'000), -1);
}

TEST(PricingTest, Validation) {
  PriceTable p = Prices();
  p.cpu_hour_millicents = -1;
  EXPECT_FALSE(ValidatePriceTable(p).ok());
  UsageRecord r = Gpu(1, 500, 10);
  r.end_ms = r.start_ms - 1;
  EXPECT_FALSE(ValidateUsageRecord(r).ok());
  r = Gpu(1, 1500, 10);
  EXPECT_FALSE(ValidateUsageRecord(r).ok());
}

}  // namespace
}  // namespace fastgpu::metering
