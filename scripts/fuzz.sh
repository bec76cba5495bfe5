#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs http_api_fuzzer.
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
# SECONDS (default 60) bounds the run (-max_total_time). Exits 77 (skipped) when clang-14
# or libFuzzer is not installed, 0 when the run found nothing, 1 on a finding (libFuzzer's
# own default, 77, would read as "skipped"; the input is kept under build-fuzz/findings/).
# The build is -O1 with assertions on (no NDEBUG), so a library's assertion is a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
shift || true
CXX=${FASTGPU_FUZZ_CXX:-clang++-14}
BUILD_DIR=${FASTGPU_FUZZ_BUILD_DIR:-build-fuzz}

if ! command -v "$CXX" >/dev/null 2>&1; then
  echo "fuzz: $CXX not found (apt-get install clang-14 libfuzzer-14-dev); skipped" >&2
  exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' \
  >"$probe/p.cpp"
if ! "$CXX" -fsanitize=fuzzer "$probe/p.cpp" -o "$probe/p" >/dev/null 2>&1; then
  echo "fuzz: $CXX cannot link -fsanitize=fuzzer (install libfuzzer-14-dev); skipped" >&2
  exit 77
fi

launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_CXX_COMPILER="$CXX" "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" \
  -DFASTGPU_SANITIZE=address,undefined \
  -DFASTGPU_FUZZ=ON -DFASTGPU_BUILD_TESTS=OFF -DFASTGPU_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "${FASTGPU_JOBS:-2}" --target http_api_fuzzer

# Fuzz over a scratch copy of the seed corpus so that the committed one stays as it is.
work="$BUILD_DIR/corpus-work"
findings="$BUILD_DIR/findings"
mkdir -p "$work" "$findings"
cp -n fuzz/corpus/http_api/* "$work/" 2>/dev/null || true
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$BUILD_DIR/bin/http_api_fuzzer" "$work" -max_total_time="$SECONDS_TO_RUN" \
  -max_len=16384 -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -artifact_prefix="$findings/" "$@"
