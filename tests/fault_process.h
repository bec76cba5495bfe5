// Helpers of the fault tests that run the real `fastgpu` binary: the binary as a child
// process whose output goes to a log file, a free loopback port (to restart a control plane on the
// same address), polling, and a small JSON client.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "tests/fastgpu_child.h"  // StartFastgpu

namespace fastgpu::testing {

// A port on 127.0.0.1 that was free a moment ago (0 when none could be bound).
int FreeLoopbackPort();

// Polls `done` every 50 ms until it holds or `timeout` passes; returns its last answer.
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The whole file ("" when unreadable).
std::string ReadText(const std::string& path);

// The URL after "listening on " in a control plane's log, "" while there is none.
std::string ListeningUrl(const std::string& log_path);

// A JSON client of the control plane with one bearer token; status 0 on transport errors.
class JsonClient {
 public:
  JsonClient(const std::string& url, const std::string& token);
  struct Reply {
    int status = 0;
    boost::json::value body;  // null when not JSON
    std::string raw;
    std::string Str(std::string_view key) const;
  };
  Reply Do(const std::string& method, const std::string& path, const std::string& body = "");

 private:
  std::unique_ptr<net::HttpClient> client_;
};

}  // namespace fastgpu::testing
