// The JSON a `fastgpu ... -o json` command printed, for tests that run the binary.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

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

}  // namespace fastgpu::testing
