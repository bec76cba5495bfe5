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

bool IsTailParam(std::string_view segment) {
  return IsParam(segment) && segment.size() > 5 &&
         segment.substr(segment.size() - 4) == "...}";
}

std::string_view ParamName(std::string_view segment) {
  segment = segment.substr(1, segment.size() - 2);
  if (segment.ends_with("...")) segment.remove_suffix(3);
  return segment;
}

std::optional<int> MatchPathTemplate(std::string_view pattern, std::string_view path,
                                     std::map<std::string, std::string, std::less<>>* params) {
  std::vector<std::string_view> want = Segments(pattern);
  const std::vector<std::string_view> got = Segments(path);
  const bool tail = !want.empty() && IsTailParam(want.back());
  std::string_view tail_name;
  if (tail) {
    tail_name = ParamName(want.back());
    want.pop_back();
    if (got.size() < want.size()) return std::nullopt;
  } else if (want.size() != got.size()) {
    return std::nullopt;
  }
  int literals = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (IsParam(want[i])) continue;
    if (want[i] != got[i]) return std::nullopt;
    ++literals;
  }
  if (params != nullptr) {
    params->clear();
    for (size_t i = 0; i < want.size(); ++i) {
      if (IsParam(want[i])) (*params)[std::string(ParamName(want[i]))] = std::string(got[i]);
    }
    if (tail) {
      // The rest as sent, from the '/' after the last matched segment (views into `path`).
      std::string_view rest;
      if (!want.empty()) {
        const std::string_view last = got[want.size() - 1];
        rest = path.substr(static_cast<size_t>(last.data() + last.size() - path.data()));
      } else {
        rest = path;
      }
      (*params)[std::string(tail_name)] = rest.empty() ? std::string("/") : std::string(rest);
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

Reply Reply::Forwarded(int http_status, std::string content_type, std::string body,
                       std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse resp{http_status, std::move(content_type), std::move(body)};
  resp.headers = std::move(headers);
  return Reply(std::move(resp));
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
