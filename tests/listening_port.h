// Waiting for a `fastgpu server` / `fastgpu up` child to listen: the port of the first
// "listening on http://127.0.0.1:<port>" line in its log. Header-only, for the process
// helpers of tests/ (up_process.cpp, server_process.cpp).
#pragma once

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "common/testing/child_process.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::testing {

// Polls `log_path` every 50 ms; the port, or 0 when `child` exited or `timeout` passed first.
inline int WaitForListeningPort(ChildProcess& child, const std::string& log_path,
                                std::chrono::milliseconds timeout) {
  const std::string marker = "listening on http://127.0.0.1:";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline && child.Alive()) {
    const std::string text = ReadFile(log_path);
    const size_t at = text.find(marker);
    const size_t end = at == std::string::npos ? at : text.find('\n', at);
    if (end != std::string::npos) {
      return std::atoi(text.substr(at + marker.size(), end - at - marker.size()).c_str());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

}  // namespace fastgpu::testing
