#include "model/image_ref.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "common/text.h"

namespace fastgpu::model {
namespace {

std::string NormalRegistry(std::string_view registry) {
  std::string r = AsciiLower(registry);
  if (r == "index.docker.io" || r == "registry-1.docker.io") return "docker.io";
  return r;
}

Status Bad(std::string_view text, const std::string& why) {
  return InvalidArgument("'" + std::string(text) + "' is not a valid image reference: " + why);
}

}  // namespace

std::string ImageRef::Canonical() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

Result<ImageRef> ParseImageRef(std::string_view text) {
  static const std::regex kDomain(
      R"(^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(?:\.(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*(?::[0-9]{1,5})?$)");
  static const std::regex kComponent(R"(^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$)");
  static const std::regex kTag(R"(^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$)");
  static const std::regex kDigest(R"(^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$)");
  if (text.empty()) return Bad(text, "it is empty");
  if (text.size() > 512) return Bad(text.substr(0, 64), "it is longer than 512 characters");
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return Bad(text, "it has a space, control or non-ASCII character");
    }
  }
  ImageRef ref;
  std::string_view name = text;
  if (size_t at = name.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(name.substr(at + 1));
    name = name.substr(0, at);
    if (!std::regex_match(ref.digest, kDigest)) {
      return Bad(text, "the digest '" + ref.digest + "' is not algorithm:hex");
    }
    if (ref.digest.rfind("sha256:", 0) == 0 && ref.digest.size() != 7 + 64) {
      return Bad(text, "a sha256 digest has 64 hex digits");
    }
  }
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(name.substr(colon + 1));
    name = name.substr(0, colon);
    if (!std::regex_match(ref.tag, kTag)) {
      return Bad(text, "the tag '" + ref.tag +
                           "' must be 1-128 of [A-Za-z0-9_.-], not starting "
                           "with '.' or '-'");
    }
  }
  if (name.empty()) return Bad(text, "the repository name is empty");
  if (name.size() > 255) return Bad(text, "the name is longer than 255 characters");
  std::string_view path = name;
  if (size_t first = name.find('/'); first != std::string_view::npos) {
    std::string_view head = name.substr(0, first);
    if (head.find_first_of(".:") != std::string_view::npos || head == "localhost") {
      if (!std::regex_match(std::string(head), kDomain)) {
        return Bad(text, "the registry '" + std::string(head) + "' is not host[:port]");
      }
      ref.registry = NormalRegistry(head);
      path = name.substr(first + 1);
    }
  }
  if (ref.registry.empty()) ref.registry = "docker.io";
  if (path.empty()) return Bad(text, "the repository name is empty");
  size_t start = 0;
  for (;;) {
    size_t end = path.find('/', start);
    std::string component(path.substr(start, end == std::string_view::npos ? end : end - start));
    if (!std::regex_match(component, kComponent)) {
      return Bad(text, component.empty()
                           ? "it has an empty path component"
                           : "the path component '" + component +
                                 "' must be lower-case letters and digits separated by '.', '_', "
                                 "'__' or '-'");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  ref.repository = std::string(path);
  if (ref.registry == "docker.io" && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

bool RegistryAllowed(const ImageRef& ref, const std::vector<std::string>& allowed) {
  const std::string mine = NormalRegistry(ref.registry);
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& a) { return NormalRegistry(a) == mine; });
}

}  // namespace fastgpu::model
