// RequestRate (request_rate.h): the sliding window, the last request, waiting requests,
// and counting from several threads at once.
#include "server/request_rate.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace fastgpu::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kT0 = TimePoint() + std::chrono::hours(24);

TEST(RequestRateTest, RateIsTheWindowsRequestsOverItsLength) {
  RequestRate rate(kT0, seconds(10));
  EXPECT_EQ(rate.Rate("a", kT0), 0);
  for (int i = 0; i < 50; ++i) rate.Record("a", kT0 + milliseconds(100 * i));  // 5 s
  EXPECT_DOUBLE_EQ(rate.Rate("a", kT0 + seconds(5)), 5.0);
  EXPECT_DOUBLE_EQ(rate.Rate("b", kT0 + seconds(5)), 0.0);
  // The first second's 10 requests leave the window at 10 s, the last at 15 s.
  EXPECT_DOUBLE_EQ(rate.Rate("a", kT0 + seconds(10)), 4.0);
  EXPECT_DOUBLE_EQ(rate.Rate("a", kT0 + seconds(15)), 0.0);
}

TEST(RequestRateTest, OldBucketsArePrunedAsNewOnesArrive) {
  RequestRate rate(kT0, seconds(2));
  rate.Record("a", kT0);
  rate.Record("a", kT0 + seconds(100));
  EXPECT_DOUBLE_EQ(rate.Rate("a", kT0 + seconds(100)), 0.5);
  // A reading older than the newest counts in the newest bucket.
  rate.Record("a", kT0 + seconds(99));
  EXPECT_DOUBLE_EQ(rate.Rate("a", kT0 + seconds(100)), 1.0);
}

TEST(RequestRateTest, LastRequestIsAtLeastTheStartOfCounting) {
  RequestRate rate(kT0, seconds(30));
  EXPECT_EQ(rate.LastRequest("a"), kT0);
  rate.Record("a", kT0 + seconds(7));
  EXPECT_EQ(rate.LastRequest("a"), kT0 + seconds(7));
  rate.Record("a", kT0 + seconds(3));  // out of order: the latest stays
  EXPECT_EQ(rate.LastRequest("a"), kT0 + seconds(7));
  rate.Restart(kT0 + seconds(60));  // a new leader: no idleness from before it led
  EXPECT_EQ(rate.LastRequest("a"), kT0 + seconds(60));
  EXPECT_EQ(rate.LastRequest("never"), kT0 + seconds(60));
}

TEST(RequestRateTest, WaitingCountsHeldRequests) {
  RequestRate rate(kT0);
  EXPECT_EQ(rate.Waiting("a"), 0);
  rate.BeginWait("a");
  rate.BeginWait("a");
  EXPECT_EQ(rate.Waiting("a"), 2);
  EXPECT_EQ(rate.Active(kT0), std::vector<std::string>{"a"});
  rate.EndWait("a");
  rate.EndWait("a");
  rate.EndWait("a");  // one too many changes nothing
  rate.EndWait("b");
  EXPECT_EQ(rate.Waiting("a"), 0);
  EXPECT_TRUE(rate.Active(kT0).empty());
}

TEST(RequestRateTest, ActiveNamesServicesWithRecentRequests) {
  RequestRate rate(kT0, seconds(30));
  rate.Record("b", kT0);
  rate.Record("a", kT0 + seconds(20));
  EXPECT_EQ(rate.Active(kT0 + seconds(25)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(rate.Active(kT0 + seconds(35)), std::vector<std::string>{"a"});
}

TEST(RequestRateTest, CountsEveryRequestFromManyThreads) {
  RequestRate rate(kT0, seconds(10));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&rate, t] {
      for (int i = 0; i < 1000; ++i) rate.Record(t % 2 == 0 ? "a" : "b", kT0 + milliseconds(i));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_DOUBLE_EQ(rate.Rate("a", kT0 + seconds(1)), 400.0);
  EXPECT_DOUBLE_EQ(rate.Rate("b", kT0 + seconds(1)), 400.0);
}

}  // namespace
}  // namespace fastgpu::server
