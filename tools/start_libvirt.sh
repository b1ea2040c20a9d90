#!/usr/bin/env bash
# Start a libvirt daemon (virtlogd + libvirtd) by hand, for hosts without systemd (CI containers).
#
#   tools/start_libvirt.sh          start both daemons if qemu:///system does not answer yet
#   tools/start_libvirt.sh --check  only say whether qemu:///system answers (exit 0) or not (exit 1)
#
# The labs and tests/test_realhost.py use qemu:///system. On a desktop with systemd the daemon is
# socket-activated and this script finds it already answering and does nothing. It never stops a
# daemon and never changes libvirt's configuration. Exit status: 0 when qemu:///system answers at
# the end; 1 when it cannot be started (the reason is printed); 2 on a usage error.
# Needs root (libvirtd in system mode runs as root); under CI a failure here fails the run.
#
# One host setting comes first, /dev/kvm's owner and mode. On Debian, udev gives /dev/kvm group
# 'kvm' and mode 0660 (udev's 50-udev-default.rules, and static-nodes-permissions.conf for
# systemd-tmpfiles: "z /dev/kvm 0660 - kvm -"), and QEMU runs as 'libvirt-qemu', a member of
# 'kvm'. In a container without udev the node stays root:root 0600. libvirt then finds that KVM
# was usable when it probed QEMU (as root) but is not usable for the QEMU user, throws its cached
# QEMU capabilities away ("KVM was enabled when probing ..., but it is not available now") and
# probes QEMU again at every define, start or capabilities call: tens of seconds each. So where
# no udev runs and /dev/kvm is still root:root, the script applies Debian's rule by hand.
set -euo pipefail

URI="qemu:///system"
answers() { virsh -c "$URI" version >/dev/null 2>&1; }

case "${1:-}" in
  "") ;;
  --check) if answers; then echo "libvirt: $URI answers"; exit 0; else echo "libvirt: $URI does not answer"; exit 1; fi ;;
  *) echo "start_libvirt.sh: unknown option '$1' (use no option or --check)" >&2; exit 2 ;;
esac

for cmd in virsh libvirtd virtlogd; do
  if ! command -v "$cmd" >/dev/null; then
    echo "libvirt: '$cmd' is not installed; run tools/system_deps.sh host first" >&2
    exit 1
  fi
done

# /dev/kvm as Debian's udev would leave it (see the header); only where no udev manages devices.
kvm_node() {
  [ -c /dev/kvm ] || return 0
  [ "$(id -u)" -eq 0 ] || return 0
  [ -e /run/udev/control ] && return 0
  getent group kvm >/dev/null || return 0
  local now
  now=$(stat -c '%U:%G %a' /dev/kvm)
  if [ "$now" = "root:root 600" ]; then
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
    echo "libvirt: /dev/kvm was root:root 0600 (no udev here); set to root:kvm 0660 as Debian's udev does"
  fi
}
kvm_node

if answers; then
  echo "libvirt: $URI already answers; nothing to start"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "libvirt: $URI does not answer and starting libvirtd in system mode needs root" >&2
  echo "  run: sudo $0   (or start it with: sudo systemctl start libvirtd)" >&2
  exit 1
fi

# virtlogd collects each QEMU process's log; libvirtd refuses to start a domain without it.
if ! pgrep -x virtlogd >/dev/null; then
  virtlogd --daemon
fi
if ! pgrep -x libvirtd >/dev/null; then
  libvirtd --daemon
fi

# The socket appears a moment after the daemon forks; wait up to 30 s for an answer.
for _ in $(seq 1 60); do
  if answers; then
    echo "libvirt: started; $URI answers ($(virsh -c "$URI" version --daemon 2>/dev/null | sed -n 's/^Running against daemon: *//p'))"
    exit 0
  fi
  sleep 0.5
done
echo "libvirt: libvirtd was started but $URI still does not answer after 30 s" >&2
exit 1
