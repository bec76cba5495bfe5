// A raw HTTP/1.1 client for tests that must send what a well-behaved client would not:
// arbitrary methods and targets, many requests on one keep-alive connection.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string>

namespace fastgpu::testing {

// One keep-alive connection to 127.0.0.1:`port`. Not thread-safe.
class RawHttpClient {
 public:
  explicit RawHttpClient(uint16_t port);

  struct Answer {
    int status = 0;  // 0: the connection failed or closed
    std::string body;
    std::string allow;  // the Allow header
    bool keep_alive = false;
  };
  // Sends `method target` with `body` and reads the answer. Reconnects first when the
  // server closed the previous connection.
  Answer Send(const std::string& method, const std::string& target, const std::string& body = "");

 private:
  void Connect();

  uint16_t port_;
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_{ioc_};
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace fastgpu::testing
