// The frames of an interactive session (docs/sessions.md): what the CLI, the control
// plane's relay and the node agent send each other over their WebSockets. Each frame is one
// binary WebSocket message whose first byte names its kind; the rest is its payload:
//
//   'i' input    bytes for the command's stdin (CLI -> agent)
//   'o' output   bytes the command wrote (agent -> CLI; a PTY's output, or stdout+stderr)
//   'e' eof      the CLI's stdin ended (pipe mode: the agent closes the command's stdin)
//   'r' resize   rows and columns, two 16-bit big-endian numbers (CLI -> agent)
//   'x' exit     the command's exit code, a 32-bit big-endian signed number (agent -> CLI;
//                a command killed by signal N exits 128 + N, as in a shell)
//   'm' message  UTF-8 text for the person at the terminal (relay -> CLI: why it ended)
//   '2' stderr   bytes the command wrote to its stderr (agent -> CLI; pipe mode only: a
//                terminal has one stream). Negotiated, so that an older peer still works:
//                the control plane's upgrade answer carries kStderrHeader when its relay
//                forwards '2' frames (an agent that does not see it sends stderr as 'o'),
//                and the relay sends '2' frames to a client only when it asked with
//                kStderrQuery in its attach URL (to any other, the bytes go as 'o').
//
// The relay forwards frames without looking inside them except to keep the output it
// buffers while no CLI is attached. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace fastgpu::protocol {

enum class FrameKind : char {
  kInput = 'i',
  kOutput = 'o',
  kEof = 'e',
  kResize = 'r',
  kExit = 'x',
  kMessage = 'm',
  kStderr = '2',
};

// The header (value "1") on the control plane's answer to a session WebSocket upgrade:
// its relay forwards stderr frames.
inline constexpr char kStderrHeader[] = "Fastgpu-Session-Stderr";
// The query parameter (value "1") of a client's attach URL: it reads stderr frames.
inline constexpr char kStderrQuery[] = "stderr";

// One decoded frame: `data` holds the bytes of input, output, stderr and message frames; `rows`
// and `cols` those of a resize; `exit_code` that of an exit.
struct Frame {
  FrameKind kind = FrameKind::kOutput;
  std::string data;
  int rows = 0;
  int cols = 0;
  int exit_code = 0;
};

std::string EncodeInput(std::string_view bytes);
std::string EncodeOutput(std::string_view bytes);
std::string EncodeStderr(std::string_view bytes);
std::string EncodeEof();
// rows and cols are clamped to 1..65535.
std::string EncodeResize(int rows, int cols);
std::string EncodeExit(int exit_code);
std::string EncodeMessage(std::string_view text);

// InvalidArgument for an empty message, an unknown kind, or a resize or exit frame of the
// wrong length (a peer's bytes are never trusted).
Result<Frame> DecodeFrame(std::string_view message);

}  // namespace fastgpu::protocol
