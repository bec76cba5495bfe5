#include "common/clock.h"

#include <gtest/gtest.h>

namespace fastgpu {
namespace {

TEST(ManualClockTest, MovesOnlyForward) {
  ManualClock clock(FromUnixMillis(1000));
  EXPECT_EQ(clock.NowUnixMillis(), 1000);
  clock.Advance(std::chrono::milliseconds(500));
  EXPECT_EQ(clock.NowUnixMillis(), 1500);
  clock.Advance(std::chrono::milliseconds(-100));
  EXPECT_EQ(clock.NowUnixMillis(), 1500);
  clock.AdvanceTo(FromUnixMillis(1200));
  EXPECT_EQ(clock.NowUnixMillis(), 1500);
  clock.AdvanceTo(FromUnixMillis(9000));
  EXPECT_EQ(clock.NowUnixMillis(), 9000);
}

TEST(ClockTest, FormatsRfc3339) {
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(1764065461123)), "2025-11-25T10:11:01.123Z");
}

}  // namespace
}  // namespace fastgpu
