#include "server/log_waiters.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace fastgpu::server {
namespace {

using std::chrono::milliseconds;

TEST(LogWaitersTest, NotifyWakesAWaitOnThatAllocationOnly) {
  LogWaiters waiters;
  LogWaiters::Watch a(waiters, "alloc-a");
  LogWaiters::Watch b(waiters, "alloc-b");
  EXPECT_EQ(waiters.watched(), 2);
  const uint64_t seen = a.Version();
  waiters.Notify("alloc-b");
  EXPECT_EQ(a.Version(), seen);
  std::thread notifier([&] {
    std::this_thread::sleep_for(milliseconds(50));
    waiters.Notify("alloc-a");
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_GT(a.Wait(seen, milliseconds(20000)), seen);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(10000));
  notifier.join();
}

TEST(LogWaitersTest, ANotifyBeforeTheWaitIsNotLostAndTheWaitTimesOut) {
  LogWaiters waiters;
  LogWaiters::Watch a(waiters, "alloc-a");
  const uint64_t seen = a.Version();
  waiters.Notify("alloc-a");  // between the read and the wait
  EXPECT_GT(a.Wait(seen, milliseconds(0)), seen);
  const uint64_t now = a.Version();
  EXPECT_EQ(a.Wait(now, milliseconds(10)), now);  // nothing new: the timeout
}

TEST(LogWaitersTest, UnwatchedAllocationsAreNotKept) {
  LogWaiters waiters;
  waiters.Notify("alloc-a");
  EXPECT_EQ(waiters.watched(), 0);
  {
    LogWaiters::Watch a(waiters, "alloc-a");
    LogWaiters::Watch again(waiters, "alloc-a");
    EXPECT_EQ(waiters.watched(), 1);
  }
  EXPECT_EQ(waiters.watched(), 0);
}

}  // namespace
}  // namespace fastgpu::server
