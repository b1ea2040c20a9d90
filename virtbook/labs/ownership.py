"""What the labs own, and the three checks every destructive helper makes before acting.

A lab must never change or delete a VM, snapshot or volume it did not create. No single mark is
trustworthy on its own: anyone can give a VM a name that starts with the lab prefix, and anyone
can copy a domain XML that carries the lab's metadata element. So an object counts as lab-owned
only when all three hold:

1. **name**: its name starts with :data:`PREFIX` (``vblab-``);
2. **metadata**: (VMs) its domain XML carries the owner element in the :data:`OWNER_NS`
   namespace under ``<metadata>``; (volumes) it lives in the labs' own storage pool
   :data:`POOL_NAME`; (the pool) it has that name;
3. **record**: its UUID (VMs, pools) or key (volumes) is in the record of what the labs created on
   this host, which the helpers write at creation time.

Snapshots live inside their VM (their metadata in libvirt, their data inside the VM's qcow2
file), so a snapshot is lab-owned exactly when its VM is.

libvirt's ``<metadata>`` element exists for this purpose: "applications can use this element to
store their own custom metadata", each in its own XML namespace, read back with
``virDomainGetMetadata`` (libvirt, "Domain XML format", section "General metadata",
https://libvirt.org/formatdomain.html#general-metadata).

Where the record lives: for the test driver (whose state dies with the connection) it is kept in
memory on the connection object; for real hosts it is a JSON file, ``$VIRTBOOK_LAB_STATE`` if set,
else ``$XDG_STATE_HOME/virtbook/labs-record.json`` (``~/.local/state/...`` by default), keyed by
URI and host name, so an interrupted lab can be cleaned up by the next run. The same record keeps
the previous value of every host-wide setting a lab changed (the KSM knobs of Lab L6, see
:mod:`virtbook.labs.ksm`), so that :func:`virtbook.labs.cleanup` can put it back even after an
interruption.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from .._validate import check_choice
from .errors import PREFIX, NotLabOwned

#: The XML namespace of the owner element the labs put in a VM's ``<metadata>``.
OWNER_NS = "https://github.com/virtbook/virtbook/labs/owner/1"
#: Prefix used for the namespace in generated XML.
OWNER_PREFIX = "vblab"
#: Name of the labs' own storage pool.
POOL_NAME = PREFIX + "pool"

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


def lab_name(name: str) -> str:
    """The lab name for ``name``: the prefix is added when missing.

    >>> lab_name("l2-snap")
    'vblab-l2-snap'
    >>> lab_name("vblab-l2-snap")
    'vblab-l2-snap'
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a string of 1..41 characters a-z, 0-9 or '-', got {name!r}")
    base = name[len(PREFIX):] if name.startswith(PREFIX) else name
    if not _NAME.match(base):
        raise ValueError("name must be 1..41 characters a-z, 0-9 or '-' (starting with a letter or "
                         f"digit), got {name!r}")
    return PREFIX + base


def owner_element(lab: str) -> str:
    """The owner element the labs put under a VM's ``<metadata>``.

    >>> owner_element("L2")
    '<vblab:owner xmlns:vblab="https://github.com/virtbook/virtbook/labs/owner/1" lab="L2" />'
    """
    if not re.match(r"^[A-Za-z0-9_.-]{1,20}$", lab or ""):
        raise ValueError(f"lab must be 1..20 characters A-Z, a-z, 0-9, '_', '.' or '-', got {lab!r}")
    return f'<{OWNER_PREFIX}:owner xmlns:{OWNER_PREFIX}="{OWNER_NS}" lab="{lab}" />'


def has_owner_metadata(domain_xml: str) -> bool:
    """True when a domain XML document carries the labs' owner element under ``<metadata>``."""
    try:
        root = ET.fromstring(domain_xml)
    except ET.ParseError:
        return False
    return root.find(f"metadata/{{{OWNER_NS}}}owner") is not None


# ----------------------------------------------------------------------------------------------
# The record of what the labs created
# ----------------------------------------------------------------------------------------------

#: What the record holds: objects the labs created (by UUID or key, with their names), and
#: ``settings``: host-wide settings a lab changed (by file, with the value found before).
KINDS = ("domains", "volumes", "pools", "settings")


@dataclass
class Record:
    """UUIDs (domains, pools) and keys (volumes) the labs created on one host, with their names.

    ``path`` is None for an in-memory record (test driver); otherwise every change is written to
    the JSON file at once, so that a kernel that dies half way leaves an accurate record behind.
    """

    host: str
    path: Path | None = None
    entries: dict[str, dict[str, str]] = field(default_factory=lambda: {k: {} for k in KINDS})

    def add(self, kind: str, ident: str, name: str) -> None:
        check_choice("kind", kind, KINDS)
        self._reload()
        self.entries[kind][ident] = name
        self._save()

    def discard(self, kind: str, ident: str) -> None:
        check_choice("kind", kind, KINDS)
        self._reload()
        self.entries[kind].pop(ident, None)
        self._save()

    def has(self, kind: str, ident: str) -> bool:
        check_choice("kind", kind, KINDS)
        self._reload()
        return ident in self.entries[kind]

    def items(self, kind: str) -> dict[str, str]:
        check_choice("kind", kind, KINDS)
        self._reload()
        return dict(self.entries[kind])

    # -- persistence ---------------------------------------------------------------------------
    def _reload(self) -> None:
        if self.path is None or not self.path.is_file():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return
        host = data.get("hosts", {}).get(self.host, {})
        self.entries = {k: dict(host.get(k, {})) for k in KINDS}

    def _save(self) -> None:
        if self.path is None:
            return
        data: dict = {"version": 1, "hosts": {}}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                data = {"version": 1, "hosts": {}}
        data.setdefault("hosts", {})[self.host] = self.entries
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".labs-record-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


def record_path() -> Path:
    """Where real-host records are kept (see the module docstring)."""
    explicit = os.environ.get("VIRTBOOK_LAB_STATE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "virtbook" / "labs-record.json"


def record_for(conn) -> Record:
    """The record for the host behind ``conn`` (created on first use)."""
    rec = getattr(conn, "_virtbook_record", None)
    if rec is not None:
        return rec
    if conn.getType() == "TEST":
        rec = Record(host=conn.getURI(), path=None)
    else:
        rec = Record(host=f"{conn.getURI()}@{conn.getHostname()}", path=record_path())
        rec._reload()
    conn._virtbook_record = rec
    return rec


# ----------------------------------------------------------------------------------------------
# The three checks
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ownership:
    """The result of the three checks for one object; ``owned`` only when all three pass."""

    what: str
    name_ok: bool
    marked: bool
    recorded: bool
    reasons: tuple[str, ...]

    @property
    def owned(self) -> bool:
        return self.name_ok and self.marked and self.recorded


def _kind_of(obj) -> str:
    cls = type(obj).__name__
    kinds = {"virDomain": "domain", "virDomainSnapshot": "snapshot",
             "virStorageVol": "volume", "virStoragePool": "pool"}
    if cls not in kinds:
        raise ValueError("obj must be a libvirt virDomain, virDomainSnapshot, virStorageVol or "
                         f"virStoragePool, got {cls}")
    return kinds[cls]


def ownership(obj) -> Ownership:
    """Run the three ownership checks on a domain, snapshot, volume or pool (reads only)."""
    kind = _kind_of(obj)
    if kind == "snapshot":
        dom = obj.getDomain()
        inner = ownership(dom)
        what = f"snapshot '{obj.getName()}' of VM '{dom.name()}'"
        return Ownership(what, inner.name_ok, inner.marked, inner.recorded, inner.reasons)
    if kind == "domain":
        conn, name, ident = obj.connect(), obj.name(), obj.UUIDString()
        what = f"VM '{name}'"
        rec_kind = "domains"
        xml = obj.XMLDesc(0)
        marked = has_owner_metadata(xml)
        mark_reason = "its domain XML has no virtbook owner metadata"
    elif kind == "pool":
        conn, name, ident = obj.connect(), obj.name(), obj.UUIDString()
        what = f"storage pool '{name}'"
        rec_kind = "pools"
        marked = name == POOL_NAME
        mark_reason = f"it is not the labs' pool '{POOL_NAME}'"
    else:
        conn, name, ident = obj.connect(), obj.name(), obj.key()
        what = f"volume '{name}'"
        rec_kind = "volumes"
        pool = obj.storagePoolLookupByVolume()
        marked = pool.name() == POOL_NAME
        mark_reason = f"it is not in the labs' own pool '{POOL_NAME}'"
    name_ok = name.startswith(PREFIX)
    recorded = record_for(conn).has(rec_kind, ident)
    reasons = []
    if not name_ok:
        reasons.append(f"its name does not start with '{PREFIX}'")
    if not marked:
        reasons.append(mark_reason)
    if not recorded:
        reasons.append("it is not in the labs' record of what they created on this host")
    return Ownership(what, name_ok, marked, recorded, tuple(reasons))


def is_lab_owned(obj) -> bool:
    """True when ``obj`` passes all three checks."""
    return ownership(obj).owned


def owned(obj):
    """Return ``obj`` unchanged when it is lab-owned; raise :class:`NotLabOwned` otherwise.

    Use it as a guard in front of any call that changes or deletes something::

        labs.owned(snap).delete(0)
    """
    result = ownership(obj)
    if not result.owned:
        raise NotLabOwned(result.what, list(result.reasons))
    return obj
