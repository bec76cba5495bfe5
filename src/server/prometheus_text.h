// Pieces of the Prometheus text format shared by the server's metrics renderers
// (metrics.cpp, pool_metrics.cpp). Pure functions; thread-safe.
#pragma once

#include <string>

namespace fastgpu::server {

// A sample value: "%.9g".
std::string PromNumber(double v);
// A label value with backslash, double quote and newline escaped.
std::string PromEscape(const std::string& s);
// Appends "# HELP name help" and "# TYPE name type" lines to `out`.
void PromHeader(const char* name, const char* help, const char* type, std::string& out);

}  // namespace fastgpu::server
