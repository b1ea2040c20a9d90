"""Linux capabilities, the model behind chapter 8's container-security section.

The capability numbers are those of ``include/uapi/linux/capability.h`` (``CAP_CHOWN`` = 0 ...
``CAP_CHECKPOINT_RESTORE`` = 40), and :data:`DOCKER_DEFAULT_CAPS` the 14 capabilities Docker keeps
by default (moby ``oci/caps`` default list; Docker documentation, "Runtime privilege and Linux
capabilities").

A container's privileges are a bit mask of these numbers: :func:`capability_mask` makes one,
:func:`decode_capabilities` reads one (as ``CapEff`` in ``/proc/PID/status`` shows it) and
:func:`own_capabilities` reads this process's own.
"""
from __future__ import annotations

from typing import Iterable

__all__ = ["CAPABILITIES", "DOCKER_DEFAULT_CAPS", "capability_mask", "decode_capabilities",
           "own_capabilities"]


#: Capability names by number (include/uapi/linux/capability.h; CAP_LAST_CAP is 40 since 5.9).
CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
    "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)

#: The capabilities Docker grants a container by default (moby, oci/caps defaults).
DOCKER_DEFAULT_CAPS: frozenset[str] = frozenset({
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
})


def capability_mask(names: Iterable[str]) -> int:
    """The bit mask (as in ``/proc/PID/status``) of a set of capability names.

    >>> hex(capability_mask(DOCKER_DEFAULT_CAPS))
    '0xa80425fb'
    """
    mask = 0
    for name in names:
        key = name if isinstance(name, str) and name.startswith("CAP_") else f"CAP_{name}"
        if key not in CAPABILITIES:
            raise ValueError(f"names must be capability names such as 'CAP_CHOWN' or 'CHOWN' "
                             f"(CAP_CHOWN..CAP_CHECKPOINT_RESTORE), got {name!r}")
        mask |= 1 << CAPABILITIES.index(key)
    return mask


def decode_capabilities(mask: int | str) -> list[str]:
    """The capability names in a mask, given as an int or as the hex text of a ``CapEff:``
    line. Bits above ``CAP_CHECKPOINT_RESTORE`` (newer kernels) are reported as ``CAP_<n>``.

    >>> decode_capabilities("00000000a80425fb")[:3]
    ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER']
    >>> len(decode_capabilities(0x1ffffffffff))      # full root: all 41
    41
    """
    if isinstance(mask, str):
        try:
            value = int(mask.strip(), 16)
        except ValueError:
            raise ValueError(f"mask must be an int or a hexadecimal string, got {mask!r}") from None
    elif isinstance(mask, int) and not isinstance(mask, bool):
        value = mask
    else:
        raise ValueError(f"mask must be an int or a hexadecimal string, got {mask!r}")
    if value < 0 or value >= 1 << 64:
        raise ValueError(f"mask must be in 0..2**64-1, got {value}")
    return [CAPABILITIES[b] if b < len(CAPABILITIES) else f"CAP_{b}"
            for b in range(64) if value >> b & 1]


def own_capabilities(status_text: str | None = None) -> dict[str, list[str]] | None:
    """The effective (``CapEff``) and bounding (``CapBnd``) capabilities of this process, read
    from ``/proc/self/status`` (proc(5)), or parsed from ``status_text`` if given. Returns
    ``None`` where there is no ``/proc`` (macOS, Windows).
    """
    if status_text is None:
        try:
            with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
                status_text = fh.read()
        except OSError:
            return None
    if not isinstance(status_text, str):
        raise ValueError(f"status_text must be a string, got {status_text!r}")
    out: dict[str, list[str]] = {}
    for line in status_text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("CapEff", "CapBnd"):
            out[key] = decode_capabilities(rest.strip())
    return out or None
