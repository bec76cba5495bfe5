// The JSON a `fastgpu ... -o json` command printed, for tests that run the binary.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "tests/test_util.h"

namespace fastgpu::testing {

// The parsed output; a null value (and a test failure naming the output) when it is not
// JSON.
inline boost::json::value JsonOutput(const CommandResult& r) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.output, ec);
  EXPECT_FALSE(ec) << r.output;
  return ec ? boost::json::value() : v;
}

// Polls `fastgpu job get ID -o json FLAGS` every 100 ms, at most `tries` times (default 30
// s), until `done(job)` holds; the last answer (and a test failure showing it) when it never
// does.
template <typename Pred>
boost::json::value WaitForJob(const std::string& flags, const std::string& id, Pred done,
                              int tries = 300) {
  boost::json::value last;
  for (int i = 0; i < tries; ++i) {
    CommandResult r = RunFastgpu("job get " + id + " -o json " + flags);
    if (r.exit_code == 0) {
      last = JsonOutput(r);
      if (last.is_object() && done(last.as_object())) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << id << ": condition never held; last: " << boost::json::serialize(last);
  return last;
}

}  // namespace fastgpu::testing
