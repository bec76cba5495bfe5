#include "net/testing/test_http_server.h"

#include <strings.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace fastgpu::testing {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
}  // namespace

std::string TestRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), key.size()) == 0) {
      return value;
    }
  }
  return "";
}

std::string TestRequest::Path() const { return target.substr(0, target.find('?')); }

struct TestHttpServer::Impl {
  TestHandler handler;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  int port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<int> accepted{0};
  std::thread accept_thread;
  std::mutex mu;
  std::optional<asio::ssl::context> tls;        // set for StartTls
  std::vector<std::thread> connection_threads;  // guarded by mu
  std::set<int> open_fds;                       // guarded by mu

  void AcceptLoop() {
    while (!stopping) {
      boost::system::error_code ec;
      tcp::socket socket(ioc);
      acceptor.accept(socket, ec);
      if (ec || stopping) break;
      ++accepted;
      std::lock_guard lock(mu);
      open_fds.insert(socket.native_handle());
      connection_threads.emplace_back(
          [this, s = std::make_shared<tcp::socket>(std::move(socket))] { Serve(*s); });
    }
  }

  void Serve(tcp::socket& socket) {
    boost::system::error_code ec;
    if (tls) {
      asio::ssl::stream<tcp::socket&> stream(socket, *tls);
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (!ec) ServeOn(stream);
    } else {
      ServeOn(socket);
    }
    std::lock_guard lock(mu);
    open_fds.erase(socket.native_handle());
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  template <class Stream>
  void ServeOn(Stream& stream) {
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    while (!stopping) {
      http::request<http::string_body> req;
      http::read(stream, buffer, req, ec);
      if (ec) break;
      TestRequest treq{std::string(req.method_string()), std::string(req.target()), {}, req.body()};
      for (const auto& f : req) {
        treq.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      }
      TestResponse tres = handler(treq);
      if (tres.delay.count() > 0) std::this_thread::sleep_for(tres.delay);
      bool keep = req.keep_alive() && !tres.close;
      if (tres.chunks.empty()) {
        http::response<http::string_body> res{static_cast<http::status>(tres.status), 11};
        res.set(http::field::content_type, tres.content_type);
        res.body() = tres.body;
        res.keep_alive(keep);
        res.prepare_payload();
        http::write(stream, res, ec);
      } else {
        http::response<http::empty_body> res{static_cast<http::status>(tres.status), 11};
        res.set(http::field::content_type, tres.content_type);
        res.keep_alive(keep);
        res.chunked(true);
        http::response_serializer<http::empty_body> sr{res};
        http::write_header(stream, sr, ec);
        for (const std::string& c : tres.chunks) {
          if (!ec) asio::write(stream, http::make_chunk(asio::buffer(c)), ec);
        }
        if (!ec) asio::write(stream, http::make_chunk_last(), ec);
      }
      if (ec || !keep) break;
    }
  }
};

TestHttpServer::TestHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TestHttpServer::~TestHttpServer() { Stop(); }

Result<std::unique_ptr<TestHttpServer>> TestHttpServer::StartTls(TestHandler handler,
                                                                 const std::string& cert_file,
                                                                 const std::string& key_file) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->tls.emplace(asio::ssl::context::tls_server);
    impl->tls->use_certificate_chain_file(cert_file);
    impl->tls->use_private_key_file(key_file, asio::ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    return InvalidArgument(std::string("test TLS server: ") + e.what());
  }
  return Listen(std::move(impl), std::move(handler));
}

Result<std::unique_ptr<TestHttpServer>> TestHttpServer::Start(TestHandler handler) {
  return Listen(std::make_unique<Impl>(), std::move(handler));
}

Result<std::unique_ptr<TestHttpServer>> TestHttpServer::Listen(std::unique_ptr<Impl> impl,
                                                               TestHandler handler) {
  impl->handler = std::move(handler);
  boost::system::error_code ec;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("test server cannot listen on 127.0.0.1:0: " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  Impl* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->AcceptLoop(); });
  return std::unique_ptr<TestHttpServer>(new TestHttpServer(std::move(impl)));
}

void TestHttpServer::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  DropConnections();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mu);
    threads.swap(impl_->connection_threads);
  }
  for (auto& t : threads) t.join();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

void TestHttpServer::DropConnections() {
  std::lock_guard lock(impl_->mu);
  for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
}

int TestHttpServer::port() const { return impl_->port; }
std::string TestHttpServer::url() const {
  return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}
int TestHttpServer::connections_accepted() const { return impl_->accepted; }

}  // namespace fastgpu::testing
