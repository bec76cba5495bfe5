// Small text helpers shared by modules: lower-case hex of bytes, ASCII lower case.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fastgpu {

// "00ff..." for the bytes [data, data + n).
std::string HexLower(const unsigned char* data, size_t n);

// `s` with A-Z turned into a-z (other bytes unchanged).
std::string AsciiLower(std::string_view s);

}  // namespace fastgpu
