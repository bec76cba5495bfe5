// The HTTP server's side of a WebSocket upgrade (http_server.cpp): takes the connection's
// stream and the upgrade request, accepts, and hands the open WebSocketConn to the
// handler. Internal to the server module.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "server/websocket.h"

namespace fastgpu::server {

// Each runs on the stream's executor; `handler` is called there once the upgrade is
// accepted (never when the handshake fails: the connection is closed then).
void UpgradeToWebSocket(boost::beast::tcp_stream stream,
                        boost::beast::http::request<boost::beast::http::string_body> req,
                        WebSocketHandler handler);
void UpgradeToWebSocket(boost::beast::ssl_stream<boost::beast::tcp_stream> stream,
                        boost::beast::http::request<boost::beast::http::string_body> req,
                        WebSocketHandler handler);

}  // namespace fastgpu::server
