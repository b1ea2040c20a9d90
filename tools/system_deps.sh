#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the book needs, or say exactly how to.
#   tools/system_deps.sh book   what `make book` needs: a Python venv and libvirt's headers
#                               (libvirt-python is built from source against them)
#   tools/system_deps.sh test   the above, plus what the test suite drives (headless Chromium)
#   tools/system_deps.sh host   the above, plus a real libvirt daemon with QEMU and Debian's cpio,
#                               which packs the labs' guest (tools/lab_guest.py; used by .ci/run)
# It installs with apt-get when it runs as root or when sudo works without a password; otherwise
# it stops and prints the one command to run.
set -euo pipefail
level=${1:-book}
case "$level" in
  book) want=(python3-venv python3-dev gcc pkg-config libvirt-dev) ;;
  test) want=(python3-venv python3-dev gcc pkg-config libvirt-dev chromium) ;;
  host) want=(python3-venv python3-dev gcc pkg-config libvirt-dev chromium
              libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils cpio) ;;
  *) echo "system_deps.sh: level must be one of book, test, host; got '$level'" >&2; exit 2 ;;
esac

have() {  # is the capability behind a package present, however it was installed?
  case "$1" in
    python3-venv) python3 -c 'import venv, ensurepip' 2>/dev/null ;;
    python3-dev)  python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' ;;
    gcc)          command -v gcc >/dev/null ;;
    pkg-config)   command -v pkg-config >/dev/null ;;
    libvirt-dev)  command -v pkg-config >/dev/null && pkg-config --exists libvirt ;;
    chromium)     command -v chromium >/dev/null || command -v chromium-browser >/dev/null ;;
    libvirt-daemon-system) command -v libvirtd >/dev/null ;;
    libvirt-clients) command -v virsh >/dev/null ;;
    qemu-system-x86) command -v qemu-system-x86_64 >/dev/null ;;
    qemu-utils)   command -v qemu-img >/dev/null ;;
    cpio)         command -v cpio >/dev/null ;;
    *) dpkg -s "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for p in "${want[@]}"; do have "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "Missing system packages: ${missing[*]}." >&2
  echo "This is not a Debian/Ubuntu machine: install their equivalents with your package manager." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO=(sudo)
else
  echo "Missing system packages: ${missing[*]}. Run this once, then run make again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
