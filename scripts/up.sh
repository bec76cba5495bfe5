#!/usr/bin/env bash
# Builds FastGPU and starts `fastgpu up`: control plane with embedded SQLite and a local agent.
# Arguments go to `fastgpu up` (see `fastgpu up --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh fastgpu
exec ./"${FASTGPU_BUILD_DIR:-build}"/fastgpu up "$@"
