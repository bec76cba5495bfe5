#!/usr/bin/env bash
# Installs the Debian 12 packages FastGPU builds and tests with, when any is missing.
# Safe to run again: it does nothing when everything is present.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev
  libsqlite3-dev libpq-dev coinor-libcbc-dev
  libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  gnuplot-nox procps
  nodejs npm
)
# Packages only the test suite needs (scripts/test.sh installs them): the PostgreSQL server
# (tests labelled "postgres" skip without it), valgrind (the leak check of a log-heavy `up`),
# clang 14 and libFuzzer (the fuzz test over the API), podman with crun and catatonit (its
# --init, a Recommends that --no-install-recommends would leave out) and busybox-static (the
# container tests, label "isolation", import an image made of /bin/busybox into storage of
# their own, so no registry and no global podman state is needed), Debian's python3 with
# venv and pip (the Python SDK's tests, label "sdk", and its offline `pip install`) and
# chromium (the dashboard's browser test, label "browser", tests/browser/, drives Debian's
# Chromium headless), and for the vm isolation tests (label "vm", docs/vm-isolation.md) QEMU,
# libvirt's daemon and clients (virt-xml-validate), libxml2-utils and a Debian kernel to
# boot (the tests start libvirtd themselves when none runs); their tests skip cleanly
# without them.
OPTIONAL=(postgresql valgrind clang-14 libfuzzer-14-dev podman crun catatonit busybox-static
  python3 python3-venv python3-pip chromium
  qemu-system-x86 libvirt-daemon-system libvirt-clients libxml2-utils linux-image-amd64)

missing=()
for p in "${PACKAGES[@]}" ${FASTGPU_WITH_OPTIONAL:+"${OPTIONAL[@]}"}; do
  # The dashboard (web/) builds with Node.js 18 or later and its npm: Debian's nodejs and npm,
  # or a Node.js of another origin that bundles npm (it conflicts with Debian's npm).
  if [[ "$p" == nodejs || "$p" == npm ]] && command -v node >/dev/null && command -v npm >/dev/null; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "fastgpu: installing missing Debian packages: ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
