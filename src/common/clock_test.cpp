#include "common/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

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

TEST(ManualClockTest, MonotonicReadingMovesWithTheClock) {
  ManualClock clock(FromUnixMillis(5000));
  const MonoTime start = clock.MonotonicNow();
  clock.Advance(std::chrono::milliseconds(250));
  EXPECT_EQ(clock.MonotonicNow() - start, std::chrono::milliseconds(250));
  clock.AdvanceTo(FromUnixMillis(6000));
  EXPECT_EQ(clock.MonotonicNow() - start, std::chrono::milliseconds(1000));
}

TEST(ManualClockTest, SleepBlocksUntilTheClockIsAdvancedPastItsDeadline) {
  ManualClock clock;
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepFor(std::chrono::seconds(5));
    woke = true;
  });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(clock.NextDeadline(), clock.MonotonicNow() + std::chrono::seconds(5));
  clock.Advance(std::chrono::milliseconds(4999));
  // Its deadline is still ahead, so it is still blocked (it leaves the count when it returns).
  EXPECT_EQ(clock.Waiters(), 1);
  EXPECT_FALSE(woke);
  clock.Advance(std::chrono::milliseconds(1));
  sleeper.join();
  EXPECT_TRUE(woke);
  EXPECT_EQ(clock.Waiters(), 0);
  EXPECT_EQ(clock.NextDeadline(), MonoTime::max());
}

TEST(ManualClockTest, WaitEndsWhenItsConditionIsNotifiedWithoutTimePassing) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable_any cv;
  bool stop = false;
  std::atomic<int> result{-1};
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    result = clock.WaitFor(lock, cv, std::chrono::hours(1), [&] { return stop; }) ? 1 : 0;
  });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_EQ(result, 1);
  EXPECT_EQ(clock.NowUnixMillis(), ToUnixMillis(TimePoint(std::chrono::hours(24))));
}

TEST(ManualClockTest, WaitEndsAtItsDeadlineOnTheManualClock) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable_any cv;
  std::atomic<int> result{-1};
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    result = clock.WaitFor(lock, cv, std::chrono::seconds(30), [] { return false; }) ? 1 : 0;
  });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  clock.Advance(std::chrono::seconds(29));
  EXPECT_EQ(clock.Waiters(), 1);
  EXPECT_EQ(result, -1);
  clock.AdvanceTo(clock.Now() + std::chrono::seconds(1));
  waiter.join();
  EXPECT_EQ(result, 0);
}

TEST(ManualClockTest, ManyWaitersWakeInDeadlineOrder) {
  ManualClock clock;
  std::mutex order_mu;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 3; i >= 1; --i) {
    threads.emplace_back([&, i] {
      clock.SleepFor(std::chrono::seconds(i));
      std::lock_guard lock(order_mu);
      order.push_back(i);
    });
  }
  ASSERT_TRUE(clock.AwaitWaiters(3));
  for (int i = 1; i <= 3; ++i) {
    clock.Advance(std::chrono::seconds(1));
    ASSERT_TRUE(clock.AwaitWaiters(3 - i));
    // The one due has returned before the next advance.
    for (;;) {
      {
        std::lock_guard lock(order_mu);
        if (static_cast<int>(order.size()) == i) break;
      }
      std::this_thread::yield();
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(SystemClockTest, WaitReturnsAtItsDeadlineOrWhenDone) {
  SystemClock& clock = SystemClock::Default();
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  const MonoTime start = clock.MonotonicNow();
  EXPECT_FALSE(clock.WaitFor(lock, cv, std::chrono::milliseconds(20), [] { return false; }));
  EXPECT_GE(clock.MonotonicNow() - start, std::chrono::milliseconds(20));
  EXPECT_TRUE(clock.WaitFor(lock, cv, std::chrono::hours(1), [] { return true; }));
}

TEST(ClockTest, FormatsRfc3339) {
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(1764065461123)), "2025-11-25T10:11:01.123Z");
}

}  // namespace
}  // namespace fastgpu
