#include "common/join_token.h"

#include <gtest/gtest.h>

namespace fastgpu {
namespace {

const std::string kHash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(JoinToken, OldTokenIsAllSecret) {
  auto t = ParseJoinToken("9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->secret, "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c");
  EXPECT_EQ(t->ca_sha256, "");
  auto fake = ParseJoinToken("join-secret\n");  // as read from a file
  ASSERT_TRUE(fake.ok());
  EXPECT_EQ(fake->secret, "join-secret");
  EXPECT_EQ(FormatJoinToken(*fake), "join-secret");
}

TEST(JoinToken, PinnedTokenRoundTrips) {
  JoinToken in{"s3cret", kHash};
  std::string text = FormatJoinToken(in);
  EXPECT_EQ(text, "s3cret.sha256:" + kHash);
  auto out = ParseJoinToken(text);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->secret, "s3cret");
  EXPECT_EQ(out->ca_sha256, kHash);
}

TEST(JoinToken, PinAcceptsUpperCaseAndOpensslColons) {
  std::string colons;
  for (size_t i = 0; i < kHash.size(); i += 2) {
    if (!colons.empty()) colons += ':';
    colons += static_cast<char>(std::toupper(kHash[i]));
    colons += static_cast<char>(std::toupper(kHash[i + 1]));
  }
  auto pin = ParseSha256Pin(colons);
  ASSERT_TRUE(pin.ok()) << pin.status();
  EXPECT_EQ(*pin, kHash);
  auto t = ParseJoinToken("abc.sha256:" + colons);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->ca_sha256, kHash);
  EXPECT_EQ(*ParseSha256Pin("sha256:" + kHash), kHash);
  EXPECT_EQ(*ParseSha256Pin(kHash), kHash);
}

TEST(JoinToken, BadPinsAreRefusedWithoutEchoingTheSecret) {
  for (const std::string& bad :
       {"topsecret.sha256:" + kHash.substr(1), "topsecret.sha256:" + kHash + "00",
        "topsecret.sha256:" + kHash.substr(2) + "zz", std::string("topsecret.sha256:"),
        "topsecret.sha256:0:1" + kHash.substr(3)}) {
    auto t = ParseJoinToken(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(t.status().message().find("topsecret"), std::string::npos) << t.status();
  }
  EXPECT_FALSE(ParseJoinToken("").ok());
  EXPECT_FALSE(ParseJoinToken(".sha256:" + kHash).ok());
  EXPECT_FALSE(ParseSha256Pin("sha1:" + kHash).ok());
}

}  // namespace
}  // namespace fastgpu
