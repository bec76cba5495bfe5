#include "model/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

namespace fastgpu::model {
namespace {

__extension__ typedef __int128 Int128;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Parses a non-negative decimal "12", "0.5", ".25" into thousandths. Refuses more
// than three decimals, signs, exponents and empty text.
Result<int64_t> ParseThousandths(std::string_view num, std::string_view whole_text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("'" + std::string(whole_text) + "': " + why);
  };
  if (num.empty()) return bad("expected a number");
  int64_t int_part = 0;
  int64_t frac = 0;
  int frac_digits = 0;
  bool seen_dot = false, seen_digit = false;
  for (char c : num) {
    if (c == '.') {
      if (seen_dot) return bad("more than one decimal point");
      seen_dot = true;
    } else if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (seen_dot) {
        if (++frac_digits > 3) return bad("at most three decimals are supported");
        frac = frac * 10 + (c - '0');
      } else {
        if (int_part > std::numeric_limits<int64_t>::max() / 10000) return bad("too large");
        int_part = int_part * 10 + (c - '0');
      }
    } else if (c == '-') {
      return bad("must not be negative");
    } else {
      return bad(std::string("unexpected character '") + c + "'");
    }
  }
  if (!seen_digit) return bad("expected a number");
  while (frac_digits < 3) {
    frac *= 10;
    ++frac_digits;
  }
  return int_part * 1000 + frac;
}

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) !=
        std::tolower(static_cast<unsigned char>(suffix[i])))
      return false;
  }
  return true;
}

}  // namespace

Result<GpuAmount> ParseGpuAmount(std::string_view text) {
  std::string_view s = Trim(text);
  int64_t milli = 0;
  if (!s.empty() && (s.back() == 'm' || s.back() == 'M')) {
    auto r = ParseThousandths(s.substr(0, s.size() - 1), text);
    if (!r.ok()) return r.status();
    if (*r % 1000 != 0) return InvalidArgument("'" + std::string(text) + "': milli must be whole");
    milli = *r / 1000;
  } else {
    auto r = ParseThousandths(s, text);
    if (!r.ok()) return r.status();
    milli = *r;
  }
  if (milli == 0) return GpuAmount{0, 0};
  if (milli < 1000) return GpuAmount{1, static_cast<int>(milli)};
  if (milli % 1000 != 0) {
    return InvalidArgument("'" + std::string(text) +
                           "': a GPU request is a fraction of one GPU (below 1) or a whole count");
  }
  if (milli / 1000 > 1024) return InvalidArgument("'" + std::string(text) + "': too many GPUs");
  return GpuAmount{static_cast<int>(milli / 1000), 1000};
}

Result<int64_t> ParseMemoryMib(std::string_view text) {
  std::string_view s = Trim(text);
  struct Suffix {
    const char* text;
    int64_t bytes;  // per unit; 0: refused
    bool binary;    // binary units must give whole MiB; decimal ones round up to the next MiB
  };
  constexpr int64_t kMiB = 1024 * 1024;
  static const Suffix kSuffixes[] = {
      {"TiB", 1024 * 1024 * kMiB, true},
      {"GiB", 1024 * kMiB, true},
      {"MiB", kMiB, true},
      {"KiB", 0, true},
      {"Ti", 1024 * 1024 * kMiB, true},
      {"Gi", 1024 * kMiB, true},
      {"Mi", kMiB, true},
      {"Ki", 0, true},
      {"TB", 1000000000000, false},
      {"GB", 1000000000, false},
      {"MB", 1000000, false},
      {"KB", 0, false},
      {"T", 1000000000000, false},
      {"G", 1000000000, false},
      {"M", 1000000, false},
      {"K", 0, false},
  };
  int64_t per_unit = kMiB;  // bare number: MiB
  bool binary = true;
  for (const Suffix& suf : kSuffixes) {
    if (EndsWithNoCase(s, suf.text)) {
      if (suf.bytes == 0) {
        return InvalidArgument("'" + std::string(text) +
                               "': use MiB, GiB or TiB (binary), or MB, GB, TB (decimal)");
      }
      per_unit = suf.bytes;
      binary = suf.binary;
      s = Trim(s.substr(0, s.size() - std::string_view(suf.text).size()));
      break;
    }
  }
  auto r = ParseThousandths(s, text);
  if (!r.ok()) return r.status();
  // bytes * 1000 = value_thousandths * per_unit
  Int128 bytes_1e3 = static_cast<Int128>(*r) * per_unit;
  const Int128 mib_1e3 = static_cast<Int128>(kMiB) * 1000;
  if (binary && bytes_1e3 % mib_1e3 != 0) {
    return InvalidArgument("'" + std::string(text) + "': not a whole number of MiB");
  }
  Int128 mib = (bytes_1e3 + mib_1e3 - 1) / mib_1e3;
  if (mib > std::numeric_limits<int64_t>::max() / kMiB) {
    return InvalidArgument("'" + std::string(text) + "': too large");
  }
  return static_cast<int64_t>(mib);
}

Result<int64_t> ParseCpuMilli(std::string_view text) {
  std::string_view s = Trim(text);
  if (!s.empty() && s.back() == 'm') {
    auto r = ParseThousandths(s.substr(0, s.size() - 1), text);
    if (!r.ok()) return r.status();
    if (*r % 1000 != 0) return InvalidArgument("'" + std::string(text) + "': milli must be whole");
    return *r / 1000;
  }
  return ParseThousandths(s, text);
}

std::string FormatGpuAmount(const GpuAmount& a) {
  if (a.count == 0) return "0";
  if (a.milli_per_gpu >= 1000) return std::to_string(a.count);
  return FormatCpuMilli(a.milli_per_gpu);
}

std::string FormatMemoryMib(int64_t mib) {
  char buf[48];
  if (mib >= 1024 * 1024 && mib % (1024 * 1024) == 0) {
    std::snprintf(buf, sizeof(buf), "%lldTiB", static_cast<long long>(mib / (1024 * 1024)));
  } else if (mib >= 1024 && mib % 1024 == 0) {
    std::snprintf(buf, sizeof(buf), "%lldGiB", static_cast<long long>(mib / 1024));
  } else if (mib >= 1024) {
    std::snprintf(buf, sizeof(buf), "%.1fGiB", static_cast<double>(mib) / 1024.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%lldMiB", static_cast<long long>(mib));
  }
  return buf;
}

std::string FormatCpuMilli(int64_t milli) {
  std::string out = std::to_string(milli / 1000);
  int64_t frac = milli % 1000;
  if (frac != 0) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "%03lld", static_cast<long long>(frac));
    std::string f = buf;
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

std::string FormatGpuMilli(int64_t milli) { return FormatCpuMilli(milli) + " GPU"; }

}  // namespace fastgpu::model
