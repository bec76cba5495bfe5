// Percent-encoding of the text that goes into a URL (RFC 3986), by Boost.URL: the one
// place where the CLI escapes ids and names for paths and queries, and where the control
// plane decodes the path segments it routes on. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace fastgpu {

// `text` as one path segment: every byte outside RFC 3986's pchar set (unreserved,
// sub-delims, ':' and '@') becomes %XX, so '/', '%', '?', '#', spaces and non-ASCII
// (UTF-8) bytes are escaped and ':' is kept ("a:b/c d" is "a:b%2Fc%20d").
std::string EncodePathSegment(std::string_view text);

// `text` as one query parameter value: every byte outside unreserved, ':', '@', '/' and
// '?' becomes %XX, so '&', '=', '+', '#', '%' and spaces never change the query's shape.
std::string EncodeQueryValue(std::string_view text);

// A path segment with its %XX escapes decoded ("my%20job" is "my job"; '+' stays '+').
// InvalidArgument when a '%' is not followed by two hex digits ("50%", "%zz").
Result<std::string> DecodePathSegment(std::string_view segment);

}  // namespace fastgpu
