// Logging through spdlog. Call InitLogging once from main; libraries just use
// spdlog::info(...) etc. Thread-safe (spdlog's default logger is).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/status.h"

namespace fastgpu {

// Sets the default logger to stderr with the given level ("trace", "debug", "info",
// "warn", "error", "off"). Returns InvalidArgument for an unknown level.
Status InitLogging(std::string_view level);

}  // namespace fastgpu
