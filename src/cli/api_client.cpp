#include "cli/api_client.h"

namespace fastgpu::cli {

namespace json = boost::json;

Result<std::unique_ptr<ApiClient>> ApiClient::Create(const ClientConfig& config) {
  HttpClientOptions opts;
  opts.bearer_token = config.token;
  opts.ca_file = config.ca_cert;
  opts.connect_timeout = std::chrono::seconds(5);
  opts.read_timeout = std::chrono::seconds(60);
  auto http = HttpClient::Create(config.server, opts);
  if (!http.ok())
    return http.status().WithContext("server URL '" + RedactedUrl(config.server) + "'");
  return std::unique_ptr<ApiClient>(new ApiClient(config, std::move(http).value()));
}

Result<json::value> ApiClient::Call(const std::string& method, const std::string& path,
                                    const std::string& body, const std::string& idempotency_key) {
  HttpHeaders headers;
  if (!idempotency_key.empty()) headers.emplace_back("Idempotency-Key", idempotency_key);
  auto res = http_->Do(method, path, body, headers);
  if (!res.ok() && !idempotency_key.empty()) res = http_->Do(method, path, body, headers);
  if (!res.ok()) {
    return Unavailable("cannot reach the control plane at " + config_.server + ": " +
                       res.status().message());
  }
  Status st = ApiStatus(*res);
  if (st.code() == StatusCode::kUnauthenticated) {
    return Unauthenticated(
        st.message() + (config_.token.empty()
                            ? " (no token: run `fastgpu login --token ...` or set FASTGPU_TOKEN)"
                            : " (check the token: `fastgpu login`, FASTGPU_TOKEN or --token)"));
  }
  if (!st.ok()) return st;
  boost::system::error_code ec;
  json::value v = json::parse(res->body, ec);
  if (ec) return Internal("the control plane answered something that is not JSON");
  return v;
}

}  // namespace fastgpu::cli
