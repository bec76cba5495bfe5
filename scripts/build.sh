#!/usr/bin/env bash
# Configures and builds FastGPU into ./build (or $FASTGPU_BUILD_DIR).
# Arguments name the targets to build (default: everything), e.g. `scripts/build.sh fastgpu`.
# FASTGPU_SANITIZE=address,undefined builds with sanitizers; BUILD_TYPE sets the CMake build type.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD_DIR=${FASTGPU_BUILD_DIR:-build}
if [[ -n "${FASTGPU_SANITIZE:-}" && -z "${FASTGPU_BUILD_DIR:-}" ]]; then BUILD_DIR=build-san; fi
cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DFASTGPU_SANITIZE="${FASTGPU_SANITIZE:-}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$BUILD_DIR" -j "${FASTGPU_JOBS:-$(nproc)}" "${targets[@]}"
