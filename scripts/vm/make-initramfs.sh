#!/usr/bin/env bash
# Builds a FastGPU vm guest's initramfs from a static busybox and scripts/vm/guest-init:
#   scripts/vm/make-initramfs.sh OUT.cpio.gz [BUSYBOX]   (default /bin/busybox)
# Boot it with a Debian kernel: fastgpu agent --vm-kernel /boot/vmlinuz-... --vm-initrd OUT.
set -euo pipefail
out=$1
busybox=${2:-/bin/busybox}
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,proc,sys,dev,run,tmp,etc}
cp "$busybox" "$root/bin/busybox"
cp "$here/guest-init" "$root/init"
chmod 0755 "$root/init" "$root/bin/busybox"
(cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -1 >"$out"
