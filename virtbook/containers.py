"""What the kernel says about *this* process: its namespaces, its cgroup and its limits.

A container is not an object the Linux kernel knows about. It is an ordinary process that a
runtime (runc, crun, ...) started inside a set of fresh **namespaces** (what the process can
see) and a **cgroup** (what it may use). This module reads the same kernel files a runtime
writes, for the process that imports it, so a reader can look at their own notebook kernel
"as a container" and see which of the two mechanisms apply to it.

Sources for every file and format read here:

* Namespaces: M. Kerrisk et al., *namespaces(7)*, Linux man-pages, section "The /proc/pid/ns/
  directory": one symbolic link per namespace type whose target reads ``type:[inode]``; two
  processes are in the same namespace exactly when the inode numbers are equal.
  https://man7.org/linux/man-pages/man7/namespaces.7.html
* The fixed inode numbers of the *initial* namespaces: Linux kernel source,
  ``include/uapi/linux/nsfs.h`` (``enum init_ns_ino``: IPC 0xEFFFFFFF ... MNT 0xEFFFFFF8). Older
  kernels fixed only IPC, UTS, USER, PID (``include/linux/proc_ns.h``) and later CGROUP and TIME;
  MNT and NET were numbered dynamically, so a non-matching number there proves nothing.
* ``/proc/self/cgroup``: *cgroups(7)*, section "/proc/[pid]/cgroup": one line
  ``hierarchy-ID:controller-list:cgroup-path`` per hierarchy; the cgroup v2 line has ID 0 and an
  empty controller list. https://man7.org/linux/man-pages/man7/cgroups.7.html
* cgroup v2 limit files: T. Heo, *Control Group v2*, Linux kernel documentation
  (Documentation/admin-guide/cgroup-v2.rst), sections "CPU Interface Files" (``cpu.max`` =
  ``$MAX $PERIOD`` in microseconds, default ``max 100000``), "Memory Interface Files"
  (``memory.max``, default ``max``, the hard limit that invokes the OOM killer) and "PID
  Interface Files" (``pids.max``, default ``max``). All three exist on non-root cgroups only.
* cgroup v1 equivalents: *CFS Bandwidth Control*, Documentation/scheduler/sched-bwc.rst
  (``cpu.cfs_quota_us``, ``-1`` = no limit; ``cpu.cfs_period_us``, default 100 ms), and the v1
  memory controller's ``memory.limit_in_bytes``, which reports "no limit" as a huge page-aligned
  number just below 2**63.

Nothing here writes anything or needs privileges; every file that is missing or unreadable is
recorded in ``notes`` instead of raising, because the answer legitimately differs between a
laptop, a CI runner, a Docker container and a Binder pod.

The parsers are pure and can be checked by hand:

    >>> parse_ns_link("net:[4026531833]")
    ('net', 4026531833)
    >>> parse_cpu_max("50000 100000")
    (50000, 100000)
    >>> parse_cpu_max("max 100000")
    (None, 100000)
    >>> parse_proc_cgroup("0::/user.slice/session-2.scope\\n")[0].path
    '/user.slice/session-2.scope'
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

#: The namespace types of namespaces(7), in the order of its table.
NAMESPACE_TYPES: tuple[str, ...] = ("cgroup", "ipc", "net", "mnt", "pid", "time", "user", "uts")

#: Inode numbers of the initial namespaces (include/uapi/linux/nsfs.h, enum init_ns_ino).
INITIAL_NS_INODES: dict[str, int] = {
    "ipc": 0xEFFFFFFF, "uts": 0xEFFFFFFE, "user": 0xEFFFFFFD, "pid": 0xEFFFFFFC,
    "cgroup": 0xEFFFFFFB, "time": 0xEFFFFFFA, "net": 0xEFFFFFF9, "mnt": 0xEFFFFFF8,
}
#: Types whose initial inode was fixed only by recent kernels (dynamic before): see nsfs.h.
_DYNAMIC_ON_OLDER_KERNELS = frozenset({"net", "mnt"})

#: The cgroup v1 memory controller reports "no limit" as a page-aligned value just below 2**63;
#: anything this large is that sentinel, not a real machine's memory.
V1_UNLIMITED_THRESHOLD = 2**62

_NS_LINK = re.compile(r"^([a-z_]+):\[(\d+)\]$")

LIMIT_NAMES: tuple[str, ...] = ("cpu.max", "memory.max", "pids.max")


# --------------------------------------------------------------------------------------------
# Pure parsers
# --------------------------------------------------------------------------------------------

def parse_ns_link(target: str) -> tuple[str, int]:
    """Split a /proc/PID/ns link target such as ``'pid:[4026531836]'`` into (type, inode)."""
    match = _NS_LINK.match(target.strip()) if isinstance(target, str) else None
    if not match:
        raise ValueError(f"target must look like 'type:[inode]' (e.g. 'net:[4026531833]'), "
                         f"got {target!r}")
    return match.group(1), int(match.group(2))


@dataclass(frozen=True)
class CgroupEntry:
    """One line of /proc/self/cgroup: ``hierarchy-ID:controller-list:cgroup-path`` (cgroups(7)).

    ``controllers`` is empty for the cgroup v2 (unified) hierarchy, whose ID is 0.
    """

    hierarchy_id: int
    controllers: tuple[str, ...]
    path: str

    @property
    def is_v2(self) -> bool:
        return self.hierarchy_id == 0 and not self.controllers


def parse_proc_cgroup(text: str) -> tuple[CgroupEntry, ...]:
    """Parse the whole of /proc/self/cgroup into entries, in file order."""
    if not isinstance(text, str):
        raise ValueError(f"text must be the str content of /proc/self/cgroup, got {type(text).__name__}")
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[2].startswith("/"):
            raise ValueError(f"text line {number} must be 'hierarchy-ID:controller-list:/path', "
                             f"got {line!r}")
        controllers = tuple(c for c in parts[1].split(",") if c)
        entries.append(CgroupEntry(int(parts[0]), controllers, parts[2]))
    return tuple(entries)


def parse_cpu_max(text: str) -> tuple[int | None, int]:
    """Parse cgroup v2 ``cpu.max`` (``'$MAX $PERIOD'``, microseconds) into (quota or None, period).

    ``None`` as quota means ``max``: no bandwidth limit (cgroup-v2.rst, "CPU Interface Files").
    """
    fields = text.split() if isinstance(text, str) else []
    if len(fields) != 2 or not fields[1].isdigit() or not (fields[0] == "max" or fields[0].isdigit()):
        raise ValueError(f"text must be '$MAX $PERIOD' with $MAX 'max' or an integer, got {text!r}")
    period = int(fields[1])
    if period <= 0:
        raise ValueError(f"period must be a positive number of microseconds, got {period}")
    return (None if fields[0] == "max" else int(fields[0])), period


def parse_v1_cpu(quota_text: str, period_text: str) -> tuple[int | None, int]:
    """Parse cgroup v1 ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us``; quota ``-1`` means no limit."""
    try:
        quota, period = int(quota_text.strip()), int(period_text.strip())
    except (AttributeError, ValueError):
        raise ValueError(f"quota_text and period_text must be integers, got {quota_text!r}, "
                         f"{period_text!r}") from None
    if period <= 0:
        raise ValueError(f"period_text must be a positive number of microseconds, got {period}")
    if quota < -1 or quota == 0:
        raise ValueError(f"quota_text must be -1 (no limit) or a positive integer, got {quota}")
    return (None if quota == -1 else quota), period


def parse_count_or_max(text: str, name: str = "text") -> int | None:
    """Parse a single-value limit file (``memory.max``, ``pids.max``, ``memory.limit_in_bytes``).

    Returns None for "no limit": the literal ``max`` (v2) or v1's near-2**63 sentinel.
    """
    value = text.strip() if isinstance(text, str) else ""
    if value == "max":
        return None
    if not value.isdigit():
        raise ValueError(f"{name} must be 'max' or a non-negative integer, got {text!r}")
    number = int(value)
    return None if number >= V1_UNLIMITED_THRESHOLD else number


def parse_mountinfo(text: str) -> tuple["Mount", ...]:
    """The cgroup mounts listed in /proc/self/mountinfo (proc(5), "/proc/pid/mountinfo").

    Each line is ``ID parent major:minor root mount-point options [optional...] - fstype source
    super-options``; octal escapes such as ``\\040`` (space) are decoded.
    """
    def unescape(field: str) -> str:
        return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)

    mounts = []
    for line in text.splitlines():
        if " - " not in line:
            continue
        left, right = line.split(" - ", 1)
        lf, rf = left.split(), right.split()
        if len(lf) < 5 or len(rf) < 3 or rf[0] not in ("cgroup", "cgroup2"):
            continue
        options = tuple(o for o in rf[2].split(",") if o not in ("rw", "ro"))
        mounts.append(Mount(fstype=rf[0], root=unescape(lf[3]), mount_point=unescape(lf[4]),
                            options=options))
    return tuple(mounts)


@dataclass(frozen=True)
class Mount:
    """A mounted cgroup hierarchy: v2 (``cgroup2``) or one v1 hierarchy with its controllers."""

    fstype: str
    root: str
    mount_point: str
    options: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# What inspect_self returns
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NamespaceInfo:
    """One namespace of the process: its type, inode number and whether it is the initial one.

    ``initial`` is True/False when the inode settles it, None when it cannot (unreadable, or a
    MNT/NET inode on a kernel that numbers those dynamically).
    """

    name: str
    inode: int | None
    initial: bool | None
    error: str | None = None


@dataclass(frozen=True)
class Limit:
    """A resource limit as the cgroup files state it.

    ``value`` is CPUs (quota/period) for ``cpu.max``, bytes for ``memory.max``, processes for
    ``pids.max``; None with ``unlimited`` True means the files say "no limit"; None with
    ``source`` None means no file was found at all.
    """

    name: str
    value: float | None
    unlimited: bool
    source: str | None
    raw: str | None = None


@dataclass(frozen=True)
class SelfView:
    """The process's container-relevant state: namespaces, cgroup membership and limits."""

    pid: int
    namespaces: tuple[NamespaceInfo, ...]
    cgroups: tuple[CgroupEntry, ...]
    cgroup_version: str
    limits: tuple[Limit, ...]
    notes: tuple[str, ...] = field(default=())

    def namespace(self, name: str) -> NamespaceInfo:
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        raise ValueError(f"name must be one of {', '.join(NAMESPACE_TYPES)}, got {name!r}")

    def limit(self, name: str) -> Limit:
        for lim in self.limits:
            if lim.name == name:
                return lim
        raise ValueError(f"name must be one of {', '.join(LIMIT_NAMES)}, got {name!r}")

    @property
    def non_initial_namespaces(self) -> tuple[str, ...]:
        """Namespace types in which this process is certainly *not* in the host's initial one."""
        return tuple(ns.name for ns in self.namespaces if ns.initial is False)

    def report_lines(self) -> list[str]:
        """A plain-text report, one fact a line, for a notebook to print."""
        lines = [f"pid {self.pid}", "namespaces (type, inode, initial?):"]
        for ns in self.namespaces:
            state = {True: "initial", False: "NOT initial", None: "unknown"}[ns.initial]
            shown = str(ns.inode) if ns.inode is not None else f"- ({ns.error})"
            lines.append(f"  {ns.name:<7} {shown:<26} {state}")
        lines.append(f"cgroup version: {self.cgroup_version}")
        for entry in self.cgroups:
            ctrl = ",".join(entry.controllers) or "(v2)"
            lines.append(f"  {entry.hierarchy_id}:{ctrl}:{entry.path}")
        lines.append("limits:")
        for lim in self.limits:
            if lim.source is None:
                text = "no limit file found"
            elif lim.unlimited:
                text = f"unlimited   [{lim.source}]"
            else:
                text = f"{_format_limit(lim)}   [{lim.source}]"
            lines.append(f"  {lim.name:<11} {text}")
        lines += [f"note: {n}" for n in self.notes]
        return lines


def _format_limit(lim: Limit) -> str:
    if lim.name == "cpu.max":
        return f"{lim.value:.2f} CPUs"
    if lim.name == "memory.max":
        return f"{lim.value / 2**20:.0f} MiB"
    return f"{lim.value:.0f} processes"


# --------------------------------------------------------------------------------------------
# Reading the live system
# --------------------------------------------------------------------------------------------

def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (FileNotFoundError, PermissionError, NotADirectoryError, OSError):
        return None


def read_namespaces(proc_root: str | os.PathLike = "/proc", pid: str = "self") -> tuple[
        tuple[NamespaceInfo, ...], list[str]]:
    """Read /proc/PID/ns/* with os.readlink; missing or forbidden links become NamespaceInfo errors."""
    base = Path(proc_root) / str(pid) / "ns"
    infos, notes = [], []
    for name in NAMESPACE_TYPES:
        try:
            kind, inode = parse_ns_link(os.readlink(base / name))
        except FileNotFoundError:
            infos.append(NamespaceInfo(name, None, None, "absent"))
            notes.append(f"{name} namespace: no {base / name} (kernel without it, or no /proc)")
            continue
        except PermissionError:
            infos.append(NamespaceInfo(name, None, None, "permission denied"))
            continue
        except (OSError, ValueError) as err:
            infos.append(NamespaceInfo(name, None, None, type(err).__name__))
            continue
        expected = INITIAL_NS_INODES.get(kind)
        if inode == expected:
            initial: bool | None = True
        elif kind in _DYNAMIC_ON_OLDER_KERNELS:
            initial = None
        else:
            initial = False
        infos.append(NamespaceInfo(name, inode, initial))
    return tuple(infos), notes


def _relative(cgroup_path: str, mount_root: str) -> str:
    """The cgroup path relative to where its hierarchy is mounted (cgroup namespaces shift it)."""
    if mount_root not in ("", "/") and (cgroup_path == mount_root
                                        or cgroup_path.startswith(mount_root.rstrip("/") + "/")):
        cgroup_path = cgroup_path[len(mount_root.rstrip("/")):]
    return cgroup_path.strip("/")


def _ancestors(mount_point: str, rel: str) -> list[Path]:
    """The process's cgroup directory and each parent up to the mount point, innermost first."""
    parts = [p for p in rel.split("/") if p and p != ".."]
    dirs = [Path(mount_point, *parts[:i]) for i in range(len(parts), -1, -1)]
    return dirs


def _tightest(candidates: list[tuple[float | None, str, str]]) -> tuple[float | None, bool, str | None, str | None]:
    """Effective limit = the smallest along the ancestor chain (limits are hierarchical)."""
    if not candidates:
        return None, False, None, None
    limited = [c for c in candidates if c[0] is not None]
    if not limited:
        value, source, raw = None, candidates[0][1], candidates[0][2]
        return None, True, source, raw
    value, source, raw = min(limited, key=lambda c: c[0])
    return value, False, source, raw


def _limits_v2(mount: Mount, entry: CgroupEntry) -> list[Limit]:
    rel = _relative(entry.path, mount.root)
    dirs = _ancestors(mount.mount_point, rel)
    out = []
    for name in LIMIT_NAMES:
        found: list[tuple[float | None, str, str]] = []
        for d in dirs:
            raw = _read(d / name)
            if raw is None:
                continue
            try:
                if name == "cpu.max":
                    quota, period = parse_cpu_max(raw)
                    value = None if quota is None else quota / period
                else:
                    count = parse_count_or_max(raw, name)
                    value = None if count is None else float(count)
            except ValueError:
                continue
            found.append((value, str(d / name), raw.strip()))
        value, unlimited, source, raw = _tightest(found)
        out.append(Limit(name, value, unlimited, source, raw))
    return out


def _limits_v1(mounts: tuple[Mount, ...], entries: tuple[CgroupEntry, ...]) -> list[Limit]:
    def locate(controller: str) -> list[Path]:
        entry = next((e for e in entries if controller in e.controllers), None)
        mount = next((m for m in mounts if m.fstype == "cgroup" and controller in m.options), None)
        if entry is None or mount is None:
            return []
        return _ancestors(mount.mount_point, _relative(entry.path, mount.root))

    out = []
    cpu_found = []
    for d in locate("cpu"):
        quota, period = _read(d / "cpu.cfs_quota_us"), _read(d / "cpu.cfs_period_us")
        if quota is None or period is None:
            continue
        try:
            q, p = parse_v1_cpu(quota, period)
        except ValueError:
            continue
        cpu_found.append((None if q is None else q / p, str(d / "cpu.cfs_quota_us"),
                          f"{quota.strip()} {period.strip()}"))
    out.append(Limit("cpu.max", *_tightest(cpu_found)))
    for name, controller, filename in (("memory.max", "memory", "memory.limit_in_bytes"),
                                       ("pids.max", "pids", "pids.max")):
        found = []
        for d in locate(controller):
            raw = _read(d / filename)
            if raw is None:
                continue
            try:
                count = parse_count_or_max(raw, filename)
            except ValueError:
                continue
            found.append((None if count is None else float(count), str(d / filename), raw.strip()))
        out.append(Limit(name, *_tightest(found)))
    return out


def inspect_self(proc_root: str | os.PathLike = "/proc",
                 pid: str = "self") -> SelfView:
    """Read the namespaces, cgroup membership and cgroup limits of a process (by default, this one).

    ``proc_root`` exists so that tests can point it at a fake tree; the cgroup files are found
    through the mount points listed in ``<proc_root>/<pid>/mountinfo``, as a runtime would find
    them. Works on cgroup v2, v1 and the hybrid layout (v1 controllers plus an empty v2
    hierarchy); reports "unavailable" where there is no /proc at all (macOS, Windows).
    """
    if not isinstance(pid, str) or not (pid == "self" or pid.isdigit()):
        raise ValueError(f"pid must be 'self' or a decimal process ID string, got {pid!r}")
    namespaces, notes = read_namespaces(proc_root, pid)
    base = Path(proc_root) / pid
    cgroup_text = _read(base / "cgroup")
    entries: tuple[CgroupEntry, ...] = ()
    if cgroup_text is None:
        notes.append(f"no {base / 'cgroup'}: the cgroup state cannot be read here")
        version = "unavailable"
    else:
        try:
            entries = parse_proc_cgroup(cgroup_text)
        except ValueError as err:
            notes.append(f"could not parse {base / 'cgroup'}: {err}")
        has_v2 = any(e.is_v2 for e in entries)
        has_v1 = any(e.controllers for e in entries)
        version = {(True, False): "v2", (False, True): "v1", (True, True): "hybrid"}.get(
            (has_v2, has_v1), "unavailable")
    mounts = parse_mountinfo(_read(base / "mountinfo") or "")
    limits: list[Limit] = []
    v2_entry = next((e for e in entries if e.is_v2), None)
    v2_mount = next((m for m in mounts if m.fstype == "cgroup2"), None)
    if version == "v2" and v2_entry and v2_mount:
        limits = _limits_v2(v2_mount, v2_entry)
    elif version in ("v1", "hybrid"):
        limits = _limits_v1(mounts, entries)
        if version == "hybrid" and v2_entry and v2_mount:
            # A controller enabled on the v2 side wins over an absent v1 one.
            v2_limits = {lim.name: lim for lim in _limits_v2(v2_mount, v2_entry)}
            limits = [v2_limits[lim.name] if lim.source is None and v2_limits[lim.name].source
                      else lim for lim in limits]
    if not limits:
        limits = [Limit(name, None, False, None) for name in LIMIT_NAMES]
    for lim in limits:
        if lim.source is None and version != "unavailable":
            notes.append(f"{lim.name}: no limit file on the path from this cgroup to its "
                         "hierarchy's root (root cgroups have none)")
    return SelfView(pid=os.getpid() if pid == "self" else int(pid), namespaces=namespaces,
                    cgroups=entries, cgroup_version=version, limits=tuple(limits),
                    notes=tuple(notes))
