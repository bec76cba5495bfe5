// ApiClient: the CLI's view of the control plane's REST API.
//
// Wraps net::HttpClient: sends JSON, parses JSON answers, and turns failures into a
// Status whose message a person can act on: Unavailable "cannot reach the control plane
// at URL", Unauthenticated with a hint to log in, the API's own {"code","message"}
// otherwise. Not thread-safe (one connection).
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cli/config.h"
#include "common/result.h"
#include "net/http_client.h"

namespace fastgpu::cli {

class ApiClient {
 public:
  static Result<std::unique_ptr<ApiClient>> Create(const ClientConfig& config);

  // Sends the request; returns the parsed JSON answer of a 2xx response. A non-empty
  // `idempotency_key` is sent as Idempotency-Key and makes one retry after a
  // connection failure safe (it is then retried once).
  Result<boost::json::value> Call(const std::string& method, const std::string& path,
                                  const std::string& body = "",
                                  const std::string& idempotency_key = "");
  // A GET whose 2xx body goes to `on_chunk` as it arrives when `on_headers` accepts the
  // answer's headers, else is returned in the answer (HttpClient::GetStream). Failures
  // become a Status as with Call.
  Result<net::HttpResponse> Stream(const std::string& path,
                                   const std::function<bool(std::string_view)>& on_chunk,
                                   const std::function<bool(const net::HttpResponse&)>& on_headers);

 private:
  ApiClient(ClientConfig config, std::unique_ptr<net::HttpClient> http)
      : config_(std::move(config)), http_(std::move(http)) {}
  ClientConfig config_;
  std::unique_ptr<net::HttpClient> http_;
};

// An answer of an unexpected shape (a field missing or of another type, as the model's
// JsonObjectReader reports it): Internal "unexpected answer from the control plane: <field>:
// <what>". The commands read answers with that checked reader, never with throwing
// accessors, so such an answer ends the command with this message.
Status UnexpectedAnswer(const Status& decode_error);

}  // namespace fastgpu::cli
