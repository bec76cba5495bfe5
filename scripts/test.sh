#!/usr/bin/env bash
# Builds FastGPU and runs the whole test suite with ctest.
# Extra arguments go to ctest (e.g. -R Model, -L postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
FASTGPU_WITH_OPTIONAL=1 bash scripts/build.sh
BUILD_DIR=${FASTGPU_BUILD_DIR:-build}
if [[ -n "${FASTGPU_SANITIZE:-}" && -z "${FASTGPU_BUILD_DIR:-}" ]]; then BUILD_DIR=build-san; fi
# The OpenAPI linter of the openapi_lint ctest (tests/openapi); without npm that test skips.
if command -v npm >/dev/null 2>&1; then
  (cd tests/openapi && npm ci --no-audit --no-fund --ignore-scripts >/dev/null) ||
    echo "warning: npm ci in tests/openapi failed; the openapi_lint test will skip" >&2
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j "${FASTGPU_TEST_JOBS:-$(nproc)}" --timeout 600 "$@"
