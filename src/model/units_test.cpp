#include "model/units.h"

#include <gtest/gtest.h>

namespace fastgpu::model {
namespace {

TEST(UnitsTest, GpuAmounts) {
  EXPECT_EQ(*ParseGpuAmount("0.5"), (GpuAmount{1, 500}));
  EXPECT_EQ(*ParseGpuAmount("500m"), (GpuAmount{1, 500}));
  EXPECT_EQ(*ParseGpuAmount("2"), (GpuAmount{2, 1000}));
  EXPECT_EQ(*ParseGpuAmount("1"), (GpuAmount{1, 1000}));
  EXPECT_EQ(*ParseGpuAmount("1000m"), (GpuAmount{1, 1000}));
  EXPECT_EQ(*ParseGpuAmount(" 0.25 "), (GpuAmount{1, 250}));
  EXPECT_EQ(*ParseGpuAmount("0"), (GpuAmount{0, 0}));
  EXPECT_EQ(*ParseGpuAmount(".1"), (GpuAmount{1, 100}));
}

TEST(UnitsTest, BadGpuAmounts) {
  for (const char* bad : {"", "abc", "-1", "1.5", "0.0001", "1.2.3", "2x", "5000000", "0.5m"}) {
    EXPECT_FALSE(ParseGpuAmount(bad).ok()) << bad;
  }
  EXPECT_NE(ParseGpuAmount("1.5").status().message().find("whole count"), std::string::npos);
}

TEST(UnitsTest, Memory) {
  EXPECT_EQ(*ParseMemoryMib("40GiB"), 40 * 1024);
  EXPECT_EQ(*ParseMemoryMib("40Gi"), 40 * 1024);
  // Decimal units as Kubernetes reads them (8G = 8e9 bytes), rounded up to whole MiB.
  EXPECT_EQ(*ParseMemoryMib("8G"), 7630);
  EXPECT_EQ(*ParseMemoryMib("8GB"), 7630);
  EXPECT_EQ(*ParseMemoryMib("1M"), 1);
  EXPECT_EQ(*ParseMemoryMib("1048.576MB"), 1000);
  EXPECT_EQ(*ParseMemoryMib("1T"), 953675);
  EXPECT_EQ(*ParseMemoryMib("512MiB"), 512);
  EXPECT_EQ(*ParseMemoryMib("1TiB"), 1024 * 1024);
  EXPECT_EQ(*ParseMemoryMib("1.5GiB"), 1536);
  EXPECT_EQ(*ParseMemoryMib("2048"), 2048);
  EXPECT_EQ(*ParseMemoryMib("80gib"), 80 * 1024);
}

TEST(UnitsTest, BadMemory) {
  for (const char* bad : {"", "GiB", "-4GiB", "4KiB", "4K", "4KB", "1.0001GiB", "99999999999TiB",
                          "0.5MiB", "4 XB", "4PB"}) {
    EXPECT_FALSE(ParseMemoryMib(bad).ok()) << bad;
  }
}

TEST(UnitsTest, Cpu) {
  EXPECT_EQ(*ParseCpuMilli("2"), 2000);
  EXPECT_EQ(*ParseCpuMilli("500m"), 500);
  EXPECT_EQ(*ParseCpuMilli("0.25"), 250);
  EXPECT_FALSE(ParseCpuMilli("-1").ok());
  EXPECT_FALSE(ParseCpuMilli("two").ok());
}

TEST(UnitsTest, Formatting) {
  EXPECT_EQ(FormatGpuAmount({1, 500}), "0.5");
  EXPECT_EQ(FormatGpuAmount({2, 1000}), "2");
  EXPECT_EQ(FormatGpuAmount({0, 0}), "0");
  EXPECT_EQ(FormatGpuMilli(1500), "1.5 GPU");
  EXPECT_EQ(FormatGpuMilli(250), "0.25 GPU");
  EXPECT_EQ(FormatGpuMilli(2000), "2 GPU");
  EXPECT_EQ(FormatMemoryMib(40 * 1024), "40GiB");
  EXPECT_EQ(FormatMemoryMib(512), "512MiB");
  EXPECT_EQ(FormatMemoryMib(1536), "1.5GiB");
  EXPECT_EQ(FormatMemoryMib(1024 * 1024), "1TiB");
  EXPECT_EQ(FormatCpuMilli(2500), "2.5");
  EXPECT_EQ(FormatCpuMilli(250), "0.25");
  // Round trips.
  for (const char* s : {"0.5", "0.125", "3", "0.001"}) {
    EXPECT_EQ(FormatGpuAmount(*ParseGpuAmount(s)), s);
  }
}

}  // namespace
}  // namespace fastgpu::model
