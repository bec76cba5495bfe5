#include "protocol/session_frames.h"

#include <gtest/gtest.h>

namespace fastgpu::protocol {
namespace {

TEST(SessionFrames, RoundTripsEachKind) {
  auto in = DecodeFrame(EncodeInput(std::string("ls\r\0x", 5)));
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->kind, FrameKind::kInput);
  EXPECT_EQ(in->data, std::string("ls\r\0x", 5));

  auto out = DecodeFrame(EncodeOutput("hello"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->kind, FrameKind::kOutput);
  EXPECT_EQ(out->data, "hello");

  auto eof = DecodeFrame(EncodeEof());
  ASSERT_TRUE(eof.ok());
  EXPECT_EQ(eof->kind, FrameKind::kEof);

  auto rs = DecodeFrame(EncodeResize(50, 300));
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->kind, FrameKind::kResize);
  EXPECT_EQ(rs->rows, 50);
  EXPECT_EQ(rs->cols, 300);

  for (int code : {0, 3, 130, 255, -1}) {
    auto x = DecodeFrame(EncodeExit(code));
    ASSERT_TRUE(x.ok());
    EXPECT_EQ(x->kind, FrameKind::kExit);
    EXPECT_EQ(x->exit_code, code);
  }

  auto m = DecodeFrame(EncodeMessage("idle"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind, FrameKind::kMessage);
  EXPECT_EQ(m->data, "idle");

  auto err = DecodeFrame(EncodeStderr("oops\n"));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->kind, FrameKind::kStderr);
  EXPECT_EQ(err->data, "oops\n");
  EXPECT_EQ(EncodeStderr("x")[0], '2');
}

TEST(SessionFrames, ResizeIsClamped) {
  auto rs = DecodeFrame(EncodeResize(0, 100000));
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->rows, 1);
  EXPECT_EQ(rs->cols, 65535);
}

TEST(SessionFrames, RefusesMalformedFrames) {
  EXPECT_FALSE(DecodeFrame("").ok());
  EXPECT_FALSE(DecodeFrame("z123").ok());
  EXPECT_FALSE(DecodeFrame("r12").ok());
  EXPECT_FALSE(DecodeFrame(std::string("r\0\0\0\x05", 5)).ok());
  EXPECT_FALSE(DecodeFrame("x12345").ok());
  EXPECT_FALSE(DecodeFrame("x").ok());
}

}  // namespace
}  // namespace fastgpu::protocol
