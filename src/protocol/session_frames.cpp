#include "protocol/session_frames.h"

#include <algorithm>

namespace fastgpu::protocol {

namespace {

std::string WithKind(FrameKind kind, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 1);
  out.push_back(static_cast<char>(kind));
  out.append(payload);
  return out;
}

void PutU16(std::string& out, int v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

int GetU16(std::string_view s, size_t at) {
  return (static_cast<unsigned char>(s[at]) << 8) | static_cast<unsigned char>(s[at + 1]);
}

}  // namespace

std::string EncodeInput(std::string_view bytes) { return WithKind(FrameKind::kInput, bytes); }
std::string EncodeOutput(std::string_view bytes) { return WithKind(FrameKind::kOutput, bytes); }
std::string EncodeStderr(std::string_view bytes) { return WithKind(FrameKind::kStderr, bytes); }
std::string EncodeEof() { return WithKind(FrameKind::kEof, ""); }
std::string EncodeMessage(std::string_view text) { return WithKind(FrameKind::kMessage, text); }

std::string EncodeResize(int rows, int cols) {
  std::string out(1, static_cast<char>(FrameKind::kResize));
  PutU16(out, std::clamp(rows, 1, 65535));
  PutU16(out, std::clamp(cols, 1, 65535));
  return out;
}

std::string EncodeExit(int exit_code) {
  std::string out(1, static_cast<char>(FrameKind::kExit));
  const auto u = static_cast<uint32_t>(exit_code);
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((u >> shift) & 0xff));
  return out;
}

Result<Frame> DecodeFrame(std::string_view message) {
  if (message.empty()) return InvalidArgument("session frame: empty");
  Frame f;
  std::string_view payload = message.substr(1);
  switch (message[0]) {
    case 'i':
    case 'o':
    case 'm':
    case '2':
      f.kind = static_cast<FrameKind>(message[0]);
      f.data = std::string(payload);
      return f;
    case 'e':
      f.kind = FrameKind::kEof;
      return f;
    case 'r':
      if (payload.size() != 4) return InvalidArgument("session frame: resize needs 4 bytes");
      f.kind = FrameKind::kResize;
      f.rows = GetU16(payload, 0);
      f.cols = GetU16(payload, 2);
      if (f.rows == 0 || f.cols == 0) return InvalidArgument("session frame: resize to 0");
      return f;
    case 'x': {
      if (payload.size() != 4) return InvalidArgument("session frame: exit needs 4 bytes");
      uint32_t u = 0;
      for (char c : payload) u = (u << 8) | static_cast<unsigned char>(c);
      f.kind = FrameKind::kExit;
      f.exit_code = static_cast<int32_t>(u);
      return f;
    }
    default:
      return InvalidArgument("session frame: unknown kind " +
                             std::to_string(static_cast<unsigned char>(message[0])));
  }
}

}  // namespace fastgpu::protocol
