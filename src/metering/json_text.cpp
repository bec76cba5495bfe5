#include "metering/json_text.h"

#include <charconv>
#include <cmath>

namespace fastgpu::metering {

namespace json = boost::json;

namespace {

void Write(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      return;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      return;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      return;
    case json::kind::double_:
      out += PlainDecimal(v.get_double());
      return;
    case json::kind::string:
      out += json::serialize(v.get_string());
      return;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        Write(e, out);
      }
      out += ']';
      return;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, e] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::string(key));
        out += ':';
        Write(e, out);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string PlainDecimal(double value) {
  if (!std::isfinite(value)) return "null";
  // Fixed notation with the shortest digits that round-trip; at most ~330 characters.
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  if (ec != std::errc()) return "null";
  std::string s(buf, end);
  if (s == "-0") s = "0";
  if (s.find('.') == std::string::npos) s += ".0";
  return s;
}

std::string JsonText(const json::value& value) {
  std::string out;
  Write(value, out);
  return out;
}

}  // namespace fastgpu::metering
