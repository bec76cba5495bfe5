#include "common/url_text.h"

#include <boost/url/encode.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace fastgpu {
namespace {

constexpr auto kQueryValueChars = boost::urls::unreserved_chars + ':' + '@' + '/' + '?';

}  // namespace

std::string EncodePathSegment(std::string_view text) {
  return boost::urls::encode(text, boost::urls::pchars);
}

std::string EncodeQueryValue(std::string_view text) {
  return boost::urls::encode(text, kQueryValueChars);
}

Result<std::string> DecodePathSegment(std::string_view segment) {
  auto checked = boost::urls::make_pct_string_view(segment);
  if (!checked) {
    return InvalidArgument("malformed %-escape in path segment '" + std::string(segment) + "'");
  }
  return checked->decode();
}

}  // namespace fastgpu
