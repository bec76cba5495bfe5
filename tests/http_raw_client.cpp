#include "tests/http_raw_client.h"

#include <chrono>

namespace fastgpu::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

RawHttpClient::RawHttpClient(uint16_t port) : port_(port) {}

void RawHttpClient::Connect() {
  beast::error_code ec;
  stream_.socket().close(ec);
  buffer_.clear();
  stream_.expires_after(std::chrono::seconds(10));
  stream_.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
  connected_ = !ec;
}

RawHttpClient::Answer RawHttpClient::Send(const std::string& method, const std::string& target,
                                          const std::string& body) {
  if (!connected_) Connect();
  Answer out;
  if (!connected_) return out;
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  stream_.expires_after(std::chrono::seconds(10));
  http::write(stream_, req, ec);
  http::response<http::string_body> res;
  if (!ec) http::read(stream_, buffer_, res, ec);
  if (ec) {
    connected_ = false;
    return out;
  }
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  out.allow = std::string(res[http::field::allow]);
  out.keep_alive = res.keep_alive();
  if (!out.keep_alive) connected_ = false;
  return out;
}

}  // namespace fastgpu::testing
