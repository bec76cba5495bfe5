#include "server/api_route.h"

#include "metering/json_text.h"

namespace fastgpu::server {

namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::string_view AuthLevelName(AuthLevel level) {
  switch (level) {
    case AuthLevel::kNone:
      return "none";
    case AuthLevel::kJoin:
      return "join";
    case AuthLevel::kNode:
      return "node";
    case AuthLevel::kTenant:
      return "tenant";
    case AuthLevel::kAdmin:
      return "admin";
  }
  return "admin";
}

std::optional<int> MatchPathTemplate(std::string_view pattern, std::string_view path,
                                     std::map<std::string, std::string, std::less<>>* params) {
  const std::vector<std::string_view> want = Segments(pattern);
  const std::vector<std::string_view> got = Segments(path);
  if (want.size() != got.size()) return std::nullopt;
  int literals = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (IsParam(want[i])) continue;
    if (want[i] != got[i]) return std::nullopt;
    ++literals;
  }
  if (params != nullptr) {
    params->clear();
    for (size_t i = 0; i < want.size(); ++i) {
      if (IsParam(want[i])) {
        (*params)[std::string(want[i].substr(1, want[i].size() - 2))] = std::string(got[i]);
      }
    }
  }
  return literals;
}

const std::string& Call::Param(std::string_view name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

Reply Reply::Json(const json::value& body, SuccessStatus status) {
  return Reply({static_cast<int>(status), "application/json", metering::JsonText(body)});
}

Reply Reply::Text(std::string content_type, std::string body) {
  return Reply({200, std::move(content_type), std::move(body)});
}

Reply Reply::File(std::string content_type, std::string body,
                  std::vector<std::pair<std::string, std::string>> headers) {
  return Reply({200, std::move(content_type), std::move(body), std::move(headers)});
}

Reply Reply::NotModified(std::string content_type,
                         std::vector<std::pair<std::string, std::string>> headers) {
  return Reply({304, std::move(content_type), "", std::move(headers)});
}

Reply Reply::WebSocket(WebSocketHandler handler) {
  HttpResponse resp;
  resp.status = 101;
  resp.websocket = std::move(handler);
  return Reply(std::move(resp));
}

Reply Reply::Stream(std::string content_type,
                    std::vector<std::pair<std::string, std::string>> headers,
                    std::function<void(const StreamWriter&)> stream) {
  HttpResponse resp;
  resp.content_type = std::move(content_type);
  resp.headers = std::move(headers);
  resp.stream = std::move(stream);
  return Reply(std::move(resp));
}

Reply Reply::Replayed(int http_status, std::string body) {
  return Reply({http_status, "application/json", std::move(body)});
}

Reply Reply::Unprocessable(const Status& why) {
  return Reply({422, "application/json", ErrorJson(why)});
}

HttpResponse ErrorResponse(const Status& status) {
  return {HttpStatusFor(status.code()), "application/json", ErrorJson(status)};
}

}  // namespace fastgpu::server
