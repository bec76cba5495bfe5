#include "cli/api_client.h"

namespace fastgpu::cli {

namespace json = boost::json;

Result<std::unique_ptr<ApiClient>> ApiClient::Create(const ClientConfig& config) {
  net::HttpClientOptions opts;
  opts.bearer_token = config.token;
  opts.ca_file = config.ca_cert;
  opts.connect_timeout = std::chrono::seconds(5);
  opts.read_timeout = std::chrono::seconds(60);
  auto http = net::HttpClient::Create(config.server, opts);
  if (!http.ok())
    return http.status().WithContext("server URL '" + net::RedactedUrl(config.server) + "'");
  return std::unique_ptr<ApiClient>(new ApiClient(config, std::move(http).value()));
}

namespace {

// A failed answer as a Status a person can act on (see the header).
Status AnswerStatus(const ClientConfig& config, const Result<net::HttpResponse>& res) {
  if (!res.ok()) {
    return Unavailable("cannot reach the control plane at " + config.server + ": " +
                       res.status().message());
  }
  Status st = net::ApiStatus(*res);
  if (st.code() == StatusCode::kUnauthenticated) {
    return Unauthenticated(
        st.message() + (config.token.empty()
                            ? " (no token: run `fastgpu login --token ...` or set FASTGPU_TOKEN)"
                            : " (check the token: `fastgpu login`, FASTGPU_TOKEN or --token)"));
  }
  return st;
}

}  // namespace

Result<net::HttpResponse> ApiClient::Stream(
    const std::string& path, const std::function<bool(std::string_view)>& on_chunk,
    const std::function<bool(const net::HttpResponse&)>& on_headers) {
  auto res = http_->GetStream(path, on_chunk, {}, on_headers);
  FASTGPU_RETURN_IF_ERROR(AnswerStatus(config_, res));
  return *std::move(res);
}

Result<json::value> ApiClient::Call(const std::string& method, const std::string& path,
                                    const std::string& body, const std::string& idempotency_key) {
  net::HttpHeaders headers;
  if (!idempotency_key.empty()) headers.emplace_back("Idempotency-Key", idempotency_key);
  auto res = http_->Do(method, path, body, headers);
  if (!res.ok() && !idempotency_key.empty()) res = http_->Do(method, path, body, headers);
  FASTGPU_RETURN_IF_ERROR(AnswerStatus(config_, res));
  boost::system::error_code ec;
  json::value v = json::parse(res->body, ec);
  if (ec) return Internal("the control plane answered something that is not JSON");
  return v;
}

Status UnexpectedAnswer(const Status& decode_error) {
  return Internal("unexpected answer from the control plane: " + decode_error.message());
}

}  // namespace fastgpu::cli
