#include "metering/json_text.h"

#include <gtest/gtest.h>

#include <limits>

namespace fastgpu::metering {
namespace {

namespace json = boost::json;

TEST(JsonTextTest, DoublesArePlainDecimals) {
  EXPECT_EQ(json::serialize(json::value(0.016666)), "1.6666E-2");  // why this exists
  EXPECT_EQ(PlainDecimal(0.016666), "0.016666");
  EXPECT_EQ(PlainDecimal(0.0), "0.0");
  EXPECT_EQ(PlainDecimal(-0.0), "0.0");
  EXPECT_EQ(PlainDecimal(2.5), "2.5");
  EXPECT_EQ(PlainDecimal(100.0), "100.0");
  EXPECT_EQ(PlainDecimal(-1.25), "-1.25");
  EXPECT_EQ(PlainDecimal(1e-7), "0.0000001");
  EXPECT_EQ(PlainDecimal(1e21), "1000000000000000000000.0");
  EXPECT_EQ(PlainDecimal(std::numeric_limits<double>::quiet_NaN()), "null");
  // Every value reads back as the same double.
  for (double d : {0.1, 1.0 / 3, 96.13, 25762.0 / 42555, 3.6e6, 1e-300}) {
    EXPECT_EQ(json::parse(PlainDecimal(d)).to_number<double>(), d) << d;
  }
}

TEST(JsonTextTest, DocumentsKeepEverythingElse) {
  json::value v = json::parse(
      R"({"a":[1,-2,18446744073709551615,true,null,"x\"y\n"],"b":{"gpu_hours":1.6666E-2,"z":0E0}})");
  const std::string text = JsonText(v);
  EXPECT_EQ(
      text,
      R"({"a":[1,-2,18446744073709551615,true,null,"x\"y\n"],"b":{"gpu_hours":0.016666,"z":0.0}})");
  EXPECT_EQ(json::parse(text), v);
  EXPECT_EQ(JsonText(json::object{{"k\u00e9y", "v"}}), "{\"k\u00e9y\":\"v\"}");
}

}  // namespace
}  // namespace fastgpu::metering
