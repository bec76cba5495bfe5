#include "common/url_text.h"

#include <gtest/gtest.h>

#include <string>

namespace fastgpu {
namespace {

TEST(UrlTextTest, PathSegmentKeepsColonAndEscapesSlashPercentAndSpace) {
  EXPECT_EQ(EncodePathSegment("node-1:gpu_0.a~b"), "node-1:gpu_0.a~b");
  EXPECT_EQ(EncodePathSegment("a/b"), "a%2Fb");
  EXPECT_EQ(EncodePathSegment("50%"), "50%25");
  EXPECT_EQ(EncodePathSegment("my job"), "my%20job");
  EXPECT_EQ(EncodePathSegment("a?b#c"), "a%3Fb%23c");
  EXPECT_EQ(EncodePathSegment(""), "");
}

TEST(UrlTextTest, PathSegmentEscapesEveryUtf8Byte) {
  EXPECT_EQ(EncodePathSegment("caf\xC3\xA9"), "caf%C3%A9");
  EXPECT_EQ(EncodePathSegment("\xE6\x97\xA5"), "%E6%97%A5");
}

TEST(UrlTextTest, QueryValueEscapesWhatWouldChangeTheQuery) {
  EXPECT_EQ(EncodeQueryValue("node-1:a/b?c@d"), "node-1:a/b?c@d");
  EXPECT_EQ(EncodeQueryValue("a&b=c+d e#f%"), "a%26b%3Dc%2Bd%20e%23f%25");
  EXPECT_EQ(EncodeQueryValue("\xC3\xA9"), "%C3%A9");
}

TEST(UrlTextTest, DecodesEscapesInEitherCase) {
  EXPECT_EQ(DecodePathSegment("my%20job").value(), "my job");
  EXPECT_EQ(DecodePathSegment("a%2fb%2Fc").value(), "a/b/c");
  EXPECT_EQ(DecodePathSegment("a%3Ab:c").value(), "a:b:c");
  EXPECT_EQ(DecodePathSegment("100%25").value(), "100%");
  EXPECT_EQ(DecodePathSegment("caf%C3%A9").value(), "caf\xC3\xA9");
  EXPECT_EQ(DecodePathSegment("a+b").value(), "a+b");  // '+' is a space only in forms
  EXPECT_EQ(DecodePathSegment("").value(), "");
}

TEST(UrlTextTest, MalformedEscapesAreRefused) {
  for (const char* bad : {"%", "50%", "%2", "a%zz", "%g0", "%%", "x%2Gy", "%-1"}) {
    Result<std::string> r = DecodePathSegment(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(UrlTextTest, EncodeThenDecodeGivesBackEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(DecodePathSegment(EncodePathSegment(all)).value(), all);
  EXPECT_EQ(DecodePathSegment(EncodeQueryValue(all)).value(), all);
  for (unsigned char c : EncodePathSegment(all)) {
    EXPECT_TRUE(c > 0x20 && c < 0x7F && c != '/' && c != '?' && c != '#') << int(c);
  }
}

}  // namespace
}  // namespace fastgpu
