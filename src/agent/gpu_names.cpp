#include "agent/gpu_names.h"

#include <cctype>
#include <cmath>
#include <vector>

#include "model/gpu.h"

namespace fastgpu::agent {
namespace {

std::string StripVendor(std::string_view name) {
  for (std::string_view prefix : {"NVIDIA ", "Tesla ", "GeForce "}) {
    while (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) {
      name.remove_prefix(prefix.size());
    }
  }
  return std::string(name);
}

std::vector<std::string> UpperTokens(std::string_view name) {
  std::vector<std::string> tokens;
  std::string cur;
  for (char c : name) {
    if (c == ' ' || c == '-' || c == '_') {
      if (!cur.empty()) tokens.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  if (!cur.empty()) tokens.push_back(cur);
  return tokens;
}

// "80GB" -> 80; 0 when the token is not "<digits>GB".
int GbToken(const std::string& token) {
  if (token.size() < 3 || token.substr(token.size() - 2) != "GB") return 0;
  int gb = 0;
  for (size_t i = 0; i + 2 < token.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(token[i]))) return 0;
    gb = gb * 10 + (token[i] - '0');
    if (gb > 100000) return 0;
  }
  return gb;
}

}  // namespace

std::string SanitizeModelName(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (ok) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  size_t start = out.find_first_not_of('-');
  out = start == std::string::npos ? "" : out.substr(start);
  if (out.size() > 64) out.resize(64);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "unknown" : out;
}

std::string ModelFromProductName(std::string_view product_name, int64_t memory_mib) {
  std::string stripped = StripVendor(product_name);
  std::vector<std::string> tokens = UpperTokens(stripped);
  if (tokens.empty()) return SanitizeModelName(product_name);
  int gb = 0;
  for (const std::string& t : tokens) {
    if (gb == 0) gb = GbToken(t);
  }
  if (gb == 0 && memory_mib > 0) gb = static_cast<int>(std::lround(memory_mib / 1024.0));
  const std::string& family = tokens[0];
  const auto& known = model::KnownGpuModels();
  if (family == "H100") return gb >= 90 ? "H100-94GB" : "H100-80GB";
  if (family == "H200") return "H200-141GB";
  if (family == "A100") return gb >= 60 ? "A100-80GB" : "A100-40GB";
  if (family == "H800" || family == "A800") {
    std::string m = family + "-" + std::to_string(gb > 0 ? gb : 80) + "GB";
    return known.count(m) ? m : SanitizeModelName(m);
  }
  if (family == "V100") {
    if (gb >= 24) return "V100M32";
    if (gb > 0) return "V100M16";
    return "V100";
  }
  if (family == "RTX" && tokens.size() >= 2 && known.count("RTX" + tokens[1])) {
    return "RTX" + tokens[1];
  }
  if (known.count(family)) return family;
  return SanitizeModelName(stripped);
}

}  // namespace fastgpu::agent
