// The product version, set by CMake from project(VERSION).
#pragma once

namespace fastgpu {
const char* Version();
}  // namespace fastgpu
