#!/usr/bin/env bash
# Builds FastGPU and runs the whole test suite with ctest.
# Extra arguments go to ctest (e.g. -R Model, -L postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
FASTGPU_WITH_OPTIONAL=1 bash scripts/build.sh
BUILD_DIR=${FASTGPU_BUILD_DIR:-build}
if [[ -n "${FASTGPU_SANITIZE:-}" && -z "${FASTGPU_BUILD_DIR:-}" ]]; then BUILD_DIR=build-san; fi
# The OpenAPI linter of the openapi_lint ctest (tests/openapi), installed when npm exists and
# the installed copy is older than the lock file; without it that test skips.
if command -v npm >/dev/null 2>&1 &&
  [[ ! tests/openapi/node_modules/.package-lock.json -nt tests/openapi/package-lock.json ]]; then
  if ! (cd tests/openapi && npm ci --no-audit --no-fund --ignore-scripts >/dev/null); then
    echo "warning: npm ci in tests/openapi failed; the openapi_lint test will skip" >&2
    rm -rf tests/openapi/node_modules  # a partial install would fail the test, not skip it
  fi
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j "${FASTGPU_TEST_JOBS:-$(nproc)}" --timeout 600 "$@"
