#include "metering/price_json.h"

#include <gtest/gtest.h>

#include "metering/period.h"

namespace fastgpu::metering {
namespace {

TEST(PriceJsonTest, RoundTripsExactly) {
  auto p = ParsePriceTable(
      R"({"gpu_hour":{"H100-80GB":"2.49","G2":1.8},"cpu_hour":"0.04","gib_hour":0.00005,)"
      R"("minimum_seconds":60})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->gpu_hour_millicents.at("H100-80GB"), 249'000);
  EXPECT_EQ(p->gpu_hour_millicents.at("G2"), 180'000);
  EXPECT_EQ(p->cpu_hour_millicents, 4'000);
  EXPECT_EQ(p->memory_gib_hour_millicents, 5);
  EXPECT_EQ(p->minimum_charge_seconds, 60);
  auto again = PriceTableFromJson(PriceTableToJson(*p));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->gpu_hour_millicents, p->gpu_hour_millicents);
  EXPECT_EQ(again->memory_gib_hour_millicents, 5);
  EXPECT_EQ(PriceTableToJson(*p).at("cpu_hour").as_string(), "0.04");
}

TEST(PriceJsonTest, RefusesBadTables) {
  EXPECT_FALSE(ParsePriceTable("[1]").ok());
  EXPECT_FALSE(ParsePriceTable("{not json").ok());
  auto neg = ParsePriceTable(R"({"cpu_hour":-1})");
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.status().message().find("cpu_hour"), std::string::npos);
  auto unknown = ParsePriceTable(R"({"gpu_hours":{}})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("gpu_hours"), std::string::npos);
  EXPECT_FALSE(ParsePriceTable(R"({"gpu_hour":{"H100 80":"1"}})").ok());
  EXPECT_FALSE(ParsePriceTable(R"({"gpu_hour":{"H100":"1.000001"}})").ok());
  EXPECT_FALSE(ParsePriceTable(R"({"minimum_seconds":"60"})").ok());
  EXPECT_TRUE(ParsePriceTable("{}").ok());
}

TEST(PriceJsonTest, FormatsDollars) {
  EXPECT_EQ(FormatMillicentsAsDollars(249'000), "2.49");
  EXPECT_EQ(FormatMillicentsAsDollars(5), "0.00005");
  EXPECT_EQ(FormatMillicentsAsDollars(0), "0");
  EXPECT_EQ(FormatMillicentsAsDollars(300'000), "3");
  EXPECT_EQ(FormatMillicentsAsDollars(310'000), "3.10");
}

TEST(PeriodTest, CalendarMonthsInUtc) {
  // 2026-11-25T10:00:00Z = 1795600800000 ms.
  const int64_t t = 1'795'600'800'000;
  EXPECT_EQ(MonthKey(t), "2026-11");
  EXPECT_EQ(MonthStartMs(t), 1'793'491'200'000);      // 2026-11-01T00:00:00Z
  EXPECT_EQ(NextMonthStartMs(t), 1'796'083'200'000);  // 2026-12-01T00:00:00Z
  EXPECT_EQ(MonthStartMs(MonthStartMs(t)), MonthStartMs(t));
  EXPECT_EQ(MonthKey(MonthStartMs(t) - 1), "2026-10");
  EXPECT_EQ(MonthKey(1'798'761'600'000), "2027-01");  // 2027-01-01T00:00:00Z
}

TEST(PeriodTest, ParsesInstants) {
  EXPECT_EQ(*ParseInstantMs("2026-11-25"), 1'795'564'800'000);
  EXPECT_EQ(*ParseInstantMs("2026-11-25T10:00:00Z"), 1'795'600'800'000);
  EXPECT_EQ(*ParseInstantMs("2026-11-25T10:00:00.250Z"), 1'795'600'800'250);
  EXPECT_EQ(*ParseInstantMs("1795600800000"), 1'795'600'800'000);
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-11-25T25:00:00Z",
                          "2026-11-25T10:00:00", "2026-11-25 10:00", "-5"}) {
    EXPECT_FALSE(ParseInstantMs(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace fastgpu::metering
