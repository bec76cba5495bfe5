#include "metering/pricing.h"

#include <algorithm>
#include <cstdio>

namespace fastgpu::metering {
namespace {
__extension__ typedef __int128 Int128;
}  // namespace

int64_t PriceTable::GpuHourMillicents(std::string_view model) const {
  auto it = gpu_hour_millicents.find(std::string(model));
  return it == gpu_hour_millicents.end() ? default_gpu_hour_millicents : it->second;
}

Status ValidatePriceTable(const PriceTable& p) {
  for (const auto& [model, price] : p.gpu_hour_millicents) {
    if (model.empty()) return InvalidArgument("price table: empty GPU model name");
    if (price < 0) return InvalidArgument("price table: negative price for " + model);
  }
  if (p.default_gpu_hour_millicents < 0) return InvalidArgument("price table: negative default GPU price");
  if (p.cpu_hour_millicents < 0) return InvalidArgument("price table: negative CPU price");
  if (p.memory_gib_hour_millicents < 0) return InvalidArgument("price table: negative memory price");
  if (p.minimum_charge_seconds < 0) return InvalidArgument("price table: negative minimum charge");
  return OkStatus();
}

Result<int64_t> ParseDollarsToMillicents(std::string_view text) {
  std::string t(text);
  if (!t.empty() && t[0] == '$') t.erase(0, 1);
  if (t.empty()) return InvalidArgument("empty price");
  int64_t whole = 0, frac = 0;
  int frac_digits = 0;
  bool dot = false, digit = false;
  for (char c : t) {
    if (c == '.' && !dot) {
      dot = true;
    } else if (c >= '0' && c <= '9') {
      digit = true;
      if (dot) {
        if (++frac_digits > 5) return InvalidArgument("price '" + t + "': at most 5 decimals");
        frac = frac * 10 + (c - '0');
      } else {
        if (whole > 1'000'000'000) return InvalidArgument("price '" + t + "' is too large");
        whole = whole * 10 + (c - '0');
      }
    } else {
      return InvalidArgument("price '" + std::string(text) + "' is not a dollar amount");
    }
  }
  if (!digit) return InvalidArgument("price '" + std::string(text) + "' is not a dollar amount");
  while (frac_digits < 5) {
    frac *= 10;
    ++frac_digits;
  }
  return whole * 100000 + frac;
}

std::string FormatCents(int64_t cents) {
  char buf[48];
  int64_t a = cents < 0 ? -cents : cents;
  std::snprintf(buf, sizeof(buf), "%s$%lld.%02lld", cents < 0 ? "-" : "",
                static_cast<long long>(a / 100), static_cast<long long>(a % 100));
  return buf;
}

Status ValidateUsageRecord(const UsageRecord& r) {
  if (r.end_ms < r.start_ms) return InvalidArgument("usage record ends before it starts");
  if (r.gpu_count < 0 || r.cpu_milli < 0 || r.memory_mib < 0 || r.gpu_memory_mib < 0) {
    return InvalidArgument("usage record has a negative amount");
  }
  if (r.gpu_count > 0 && (r.gpu_milli < 1 || r.gpu_milli > 1000)) {
    return InvalidArgument("usage record gpu_milli must be 1..1000");
  }
  return OkStatus();
}

int64_t BilledSeconds(const UsageRecord& r, const PriceTable& p) {
  int64_t ms = std::max<int64_t>(0, r.end_ms - r.start_ms);
  int64_t secs = (ms + 999) / 1000;
  return std::max(secs, p.minimum_charge_seconds);
}

int64_t BilledGpuShareMicro(const UsageRecord& r) {
  if (r.gpu_count <= 0) return 0;
  int64_t compute = static_cast<int64_t>(r.gpu_milli) * 1000;
  int64_t memory = 0;
  if (r.gpu_memory_mib > 0 && r.gpu_total_memory_mib > 0) {
    // Round the memory share up: a cap of a third of the GPU pays at least a third.
    memory = (r.gpu_memory_mib * 1'000'000 + r.gpu_total_memory_mib - 1) / r.gpu_total_memory_mib;
  }
  return std::min<int64_t>(1'000'000, std::max(compute, memory));
}

int64_t ChargeMicrocents(const UsageRecord& r, int64_t seconds, const PriceTable& p) {
  // Every part is a numerator over kDenom = 3600 s/h * 1e6 (share micro) * 1024 (MiB/GiB),
  // in millicents; microcents = millicents * 1000. Rounded once, half up.
  using i128 = Int128;
  const i128 kDenom = static_cast<i128>(3600) * 1'000'000 * 1024;
  i128 gpu = static_cast<i128>(seconds) * r.gpu_count * BilledGpuShareMicro(r) *
             p.GpuHourMillicents(r.gpu_model) * 1024;
  i128 cpu = static_cast<i128>(seconds) * r.cpu_milli * 1000 * p.cpu_hour_millicents * 1024;
  i128 mem = static_cast<i128>(seconds) * r.memory_mib * 1'000'000 * p.memory_gib_hour_millicents;
  i128 micro = (gpu + cpu + mem) * 1000;
  return static_cast<int64_t>((micro + kDenom / 2) / kDenom);
}

int64_t RoundToCents(int64_t microcents) {
  if (microcents >= 0) return (microcents + 500'000) / 1'000'000;
  return -((-microcents + 500'000) / 1'000'000);
}

}  // namespace fastgpu::metering
