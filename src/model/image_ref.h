// Container image references: the `image` of a job spec, parsed and normalised.
//
// The grammar is the one of the OCI distribution reference (what podman and docker
// accept): [registry/]repository[:tag][@digest]. The first path component is a registry
// when it holds a '.' or a ':' or is "localhost"; otherwise the registry is docker.io and
// a single-component repository gets the "library/" prefix (so "busybox" and
// "docker.io/library/busybox:latest" name the same image). Without tag or digest the
// tag is "latest". Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace fastgpu::model {

struct ImageRef {
  std::string registry;    // "docker.io", "localhost", "registry.internal:5000" (lower case)
  std::string repository;  // "library/busybox", "team/trainer"
  std::string tag;         // "latest" when neither tag nor digest was given; "" with a digest only
  std::string digest;      // "sha256:<64 hex>", or ""

  // registry/repository[:tag][@digest]: the fully qualified name handed to the runtime,
  // so that no search list of the host decides which registry an image comes from.
  std::string Canonical() const;
};

// Parses a reference of at most 255 characters in its name part. InvalidArgument that
// says what is wrong (empty, upper case in the repository, a bad tag, digest or port).
Result<ImageRef> ParseImageRef(std::string_view text);

// Whether `ref`'s registry is one of `allowed` (host[:port], compared without case;
// "index.docker.io" and "registry-1.docker.io" count as "docker.io").
bool RegistryAllowed(const ImageRef& ref, const std::vector<std::string>& allowed);

}  // namespace fastgpu::model
