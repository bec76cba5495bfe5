#include "metering/price_json.h"

#include <cmath>
#include <cstdio>

namespace fastgpu::metering {

namespace json = boost::json;

namespace {

Result<int64_t> DollarsField(const json::value& v, const std::string& path) {
  if (v.is_string()) {
    auto r = ParseDollarsToMillicents(std::string(v.as_string()));
    if (!r.ok()) return InvalidArgument(path + ": " + r.status().message());
    return r;
  }
  if (v.is_int64() || v.is_uint64() || v.is_double()) {
    double d = v.to_number<double>();
    if (!std::isfinite(d) || d < 0 || d > 1e9) {
      return InvalidArgument(path + ": must be a dollar amount between 0 and 1e9");
    }
    // Round to 5 decimals in text, then parse exactly: 2.49 is 249000 millicents.
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.5f", d);
    auto r = ParseDollarsToMillicents(buf);
    if (!r.ok()) return InvalidArgument(path + ": " + r.status().message());
    return r;
  }
  return InvalidArgument(path + ": must be a dollar amount (\"2.49\")");
}

}  // namespace

std::string FormatMillicentsAsDollars(int64_t mc) {
  bool neg = mc < 0;
  int64_t a = neg ? -mc : mc;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%lld.%05lld", static_cast<long long>(a / 100000),
                static_cast<long long>(a % 100000));
  std::string s = buf;
  // Drop trailing zeros, keeping two decimals when there is a fraction at all.
  size_t dot = s.find('.');
  while (s.size() > dot + 3 && s.back() == '0') s.pop_back();
  if (s.substr(dot) == ".00") s.erase(dot);
  return (neg ? "-" : "") + s;
}

Result<PriceTable> PriceTableFromJson(const json::value& value) {
  if (!value.is_object()) return InvalidArgument("price table: must be a JSON object");
  PriceTable p;
  for (const auto& [key, v] : value.as_object()) {
    std::string k(key);
    if (v.is_null()) continue;
    if (k == "gpu_hour") {
      if (!v.is_object()) return InvalidArgument("gpu_hour: must be an object model -> price");
      for (const auto& [model, price] : v.as_object()) {
        std::string m(model);
        if (m.empty() || m.size() > 64) return InvalidArgument("gpu_hour: bad model name");
        for (char c : m) {
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
            return InvalidArgument("gpu_hour." + m + ": bad model name");
          }
        }
        FASTGPU_ASSIGN_OR_RETURN(p.gpu_hour_millicents[m], DollarsField(price, "gpu_hour." + m));
      }
    } else if (k == "default_gpu_hour") {
      FASTGPU_ASSIGN_OR_RETURN(p.default_gpu_hour_millicents, DollarsField(v, k));
    } else if (k == "cpu_hour") {
      FASTGPU_ASSIGN_OR_RETURN(p.cpu_hour_millicents, DollarsField(v, k));
    } else if (k == "gib_hour") {
      FASTGPU_ASSIGN_OR_RETURN(p.memory_gib_hour_millicents, DollarsField(v, k));
    } else if (k == "minimum_seconds") {
      if (!v.is_int64() || v.as_int64() < 0 || v.as_int64() > 86400 * 31) {
        return InvalidArgument("minimum_seconds: must be an integer from 0 to 2678400");
      }
      p.minimum_charge_seconds = v.as_int64();
    } else {
      return InvalidArgument(k + ": unknown field of the price table");
    }
  }
  FASTGPU_RETURN_IF_ERROR(ValidatePriceTable(p));
  return p;
}

Result<PriceTable> ParsePriceTable(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return InvalidArgument("price table: not valid JSON (" + ec.message() + ")");
  return PriceTableFromJson(v);
}

json::object PriceTableToJson(const PriceTable& p) {
  json::object gpu;
  for (const auto& [model, mc] : p.gpu_hour_millicents) gpu[model] = FormatMillicentsAsDollars(mc);
  return {{"gpu_hour", std::move(gpu)},
          {"default_gpu_hour", FormatMillicentsAsDollars(p.default_gpu_hour_millicents)},
          {"cpu_hour", FormatMillicentsAsDollars(p.cpu_hour_millicents)},
          {"gib_hour", FormatMillicentsAsDollars(p.memory_gib_hour_millicents)},
          {"minimum_seconds", p.minimum_charge_seconds}};
}

}  // namespace fastgpu::metering
