#!/usr/bin/env bash
# Builds FastGPU, installs the `fastgpu` binary and starts `fastgpu up`: control plane with
# embedded SQLite and a local agent. Arguments go to `fastgpu up` (see `fastgpu up --help`).
# The binary goes to $FASTGPU_PREFIX/bin (default /usr/local/bin) when that folder is
# writable, so that `fastgpu ...` works from any shell afterwards; FASTGPU_INSTALL=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh fastgpu
BUILD_DIR=${FASTGPU_BUILD_DIR:-build}
if [[ -n "${FASTGPU_SANITIZE:-}" && -z "${FASTGPU_BUILD_DIR:-}" ]]; then BUILD_DIR=build-san; fi
bin="./$BUILD_DIR/fastgpu"
prefix=${FASTGPU_PREFIX:-/usr/local}
if [[ "${FASTGPU_INSTALL:-1}" != 0 ]]; then
  if mkdir -p "$prefix/bin" 2>/dev/null && [[ -w "$prefix/bin" ]]; then
    cmake --install "$BUILD_DIR" --prefix "$prefix" >/dev/null
    bin="$prefix/bin/fastgpu"
    echo "fastgpu: installed $bin" >&2
  else
    echo "fastgpu: $prefix/bin is not writable; run the CLI as $bin" >&2
  fi
fi
exec "$bin" up "$@"
