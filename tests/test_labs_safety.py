"""The labs never change or delete what they did not create, and never pass a <uuid> to defineXML.

Every test opens a fresh connection to the test-driver fleet (each connection loads
labs/fleet.xml anew), so the tests cannot influence each other. "Bystanders" are objects made
directly with libvirt, behind the labs' back, that carry some but not all of the three marks of
a lab-owned object.
"""
from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtbook import labs
from virtbook.labs.ownership import Record

libvirt = pytest.importorskip("libvirt")

BYSTANDER = """<domain type='test'><name>{name}</name>{metadata}
  <memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os>
  <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
  <source file='{disk}'/><target dev='vda' bus='virtio'/></disk></devices></domain>"""


@pytest.fixture
def conn():
    c = labs.connect(quiet=True)
    yield c
    c.close()


def _bystander(conn, name, *, metadata=False, disk="/var/lib/libvirt/images/web01.qcow2"):
    meta = f"<metadata>{labs.owner_element('fake')}</metadata>" if metadata else ""
    return conn.defineXML(BYSTANDER.format(name=name, metadata=meta, disk=disk))


def _state(dom):
    return (dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), dom.isActive(),
            sorted(s.getName() for s in dom.listAllSnapshots()))


# ----------------------------------------------------------------------------------------------
# The three marks
# ----------------------------------------------------------------------------------------------

def test_a_lab_vm_carries_all_three_marks(conn):
    dom = labs.create_lab_vm("t-own", lab="T")
    check = labs.ownership(dom)
    assert (check.name_ok, check.marked, check.recorded) == (True, True, True)
    assert check.owned and labs.owned(dom) is dom


@pytest.mark.parametrize("name,metadata,missing", [
    ("web01", False, 3),                     # a fleet VM: no mark at all
    ("vblab-prefix-only", False, 2),         # the right name, nothing else
    ("vblab-copied-xml", True, 1),           # name and copied metadata, but never recorded
    ("plain-name", True, 2),                 # metadata alone
])
def test_anything_short_of_three_marks_is_refused(conn, name, metadata, missing):
    dom = conn.lookupByName(name) if name == "web01" else _bystander(conn, name, metadata=metadata)
    check = labs.ownership(dom)
    assert not check.owned
    assert len(check.reasons) == missing
    with pytest.raises(labs.NotLabOwned) as err:
        labs.owned(dom)
    assert name in str(err.value) and "not created by these labs" in str(err.value)


@settings(max_examples=16, deadline=None)
@given(prefix=st.booleans(), metadata=st.booleans(), recorded=st.booleans())
def test_ownership_is_exactly_the_conjunction_of_the_marks(prefix, metadata, recorded):
    conn = labs.connect(quiet=True)
    try:
        name = ("vblab-" if prefix else "x-") + "probe"
        dom = _bystander(conn, name, metadata=metadata)
        if recorded:
            labs.record_for(conn).add("domains", dom.UUIDString(), name)
        assert labs.is_lab_owned(dom) == (prefix and metadata and recorded)
    finally:
        conn.close()


def test_snapshots_belong_to_their_vm(conn):
    mine = labs.create_lab_vm("t-snap")
    snap = mine.snapshotCreateXML("<domainsnapshot><name>s</name></domainsnapshot>", 0)
    assert labs.is_lab_owned(snap)
    fleet_snap = conn.lookupByName("web01").snapshotLookupByName("installed")
    with pytest.raises(labs.NotLabOwned):
        labs.owned(fleet_snap)


def test_volumes_need_the_lab_pool_the_prefix_and_the_record(conn):
    pool = labs.lab_pool(conn)
    sneaky = pool.createXML("<volume><name>vblab-sneaky.qcow2</name><capacity unit='MiB'>1</capacity>"
                            "<target><format type='qcow2'/></target></volume>", 0)
    assert not labs.is_lab_owned(sneaky)            # made behind the labs' back: not recorded
    fleet_vol = conn.storagePoolLookupByName("images").storageVolLookupByName("web01.qcow2")
    assert len(labs.ownership(fleet_vol).reasons) == 3
    with pytest.raises(ValueError, match="vol must be in the labs' pool"):
        labs.created(fleet_vol)
    recorded = labs.created(sneaky)
    assert labs.is_lab_owned(recorded)


# ----------------------------------------------------------------------------------------------
# Every destructive helper checks first
# ----------------------------------------------------------------------------------------------

def test_destructive_helpers_refuse_vms_they_did_not_create(conn):
    web = conn.lookupByName("web01")
    copied = _bystander(conn, "vblab-copied", metadata=True)
    for dom in (web, copied):
        before = _state(dom)
        with pytest.raises(labs.NotLabOwned):
            labs.remove_vm(dom)
        with pytest.raises(labs.NotLabOwned):
            labs.disk_write(dom, 0xAB)
        with pytest.raises(labs.NotLabOwned):
            labs.disk_read(dom)
        assert _state(dom) == before


def test_delete_volume_refuses_foreign_volumes(conn):
    vol = conn.storagePoolLookupByName("images").storageVolLookupByName("db01.qcow2")
    with pytest.raises(labs.NotLabOwned):
        labs.delete_volume(vol)
    assert conn.storagePoolLookupByName("images").storageVolLookupByName("db01.qcow2").key() == vol.key()


def test_cleanup_removes_only_lab_objects_and_says_what_it_left(conn):
    before = labs.fingerprint(conn)
    copied = _bystander(conn, "vblab-copied", metadata=True)
    prefix_only = _bystander(conn, "vblab-prefix-only")
    web_before = _state(conn.lookupByName("web01"))
    mine = labs.create_lab_vm("t-clean")
    mine.snapshotCreateXML("<domainsnapshot><name>s</name></domainsnapshot>", 0)
    pool = labs.lab_pool(conn)
    pool.createXML("<volume><name>vblab-foreign.qcow2</name><capacity unit='MiB'>1</capacity></volume>", 0)
    report = labs.cleanup(conn)
    names = {d.name() for d in conn.listAllDomains()}
    assert "vblab-t-clean" not in names and "vblab-t-clean" in report.removed
    assert {"vblab-copied", "vblab-prefix-only", "web01"} <= names
    kept = " ".join(what for what, _ in report.kept)
    assert "vblab-copied" in kept and "vblab-prefix-only" in kept and "vblab-foreign.qcow2" in kept
    # the pool still holds a foreign volume, so it stays
    assert labs.POOL_NAME not in report.removed
    assert pool.storageVolLookupByName("vblab-foreign.qcow2")
    assert _state(conn.lookupByName("web01")) == web_before
    assert _state(copied) == _state(conn.lookupByName("vblab-copied"))
    assert prefix_only.name() in names
    after = labs.fingerprint(conn)
    assert {k: v for k, v in after.items() if k in before} == before


def test_cleanup_is_idempotent(conn):
    labs.create_lab_vm("t-twice")
    first = labs.cleanup(conn)
    second = labs.cleanup(conn)
    assert "vblab-t-twice" in first.removed and labs.POOL_NAME in first.removed
    assert second.removed == [] and second.kept == []


def test_create_lab_vm_replaces_its_own_leftover_but_never_a_foreign_vm(conn):
    first = labs.create_lab_vm("t-again")
    first_uuid = first.UUIDString()
    second = labs.create_lab_vm("t-again")
    assert second.UUIDString() != first_uuid and labs.is_lab_owned(second)
    assert len([d for d in conn.listAllDomains() if d.name() == "vblab-t-again"]) == 1
    _bystander(conn, "vblab-taken", metadata=True)
    with pytest.raises(labs.NameTaken, match="not created by these labs"):
        labs.create_lab_vm("taken")
    assert conn.lookupByName("vblab-taken")


# ----------------------------------------------------------------------------------------------
# No <uuid> ever reaches defineXML
# ----------------------------------------------------------------------------------------------

class _SpyConnection:
    """Wraps a connection and records every XML document given to defineXML."""

    def __init__(self, inner):
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "defined", [])

    def __setattr__(self, name, value):  # the labs keep their per-connection state on the inner one
        setattr(self._inner, name, value)

    def defineXML(self, xml):  # libvirt's name
        self.defined.append(xml)
        return self._inner.defineXML(xml)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_no_uuid_reaches_define_xml_through_the_helpers(conn):
    spy = _SpyConnection(conn)
    labs.create_lab_vm("t-spy", conn=spy)
    labs.create_lab_vm("t-spy", conn=spy)                   # replacing a leftover
    source = conn.lookupByName("vblab-t-spy")
    clone = ET.fromstring(source.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    clone.find("name").text = "vblab-t-spy-clone"
    clone.remove(clone.find("uuid"))
    labs.define(ET.tostring(clone, encoding="unicode"), conn=spy)
    assert len(spy.defined) == 3
    assert all("<uuid" not in xml for xml in spy.defined)


def test_define_refuses_xml_with_a_uuid_and_leaves_the_existing_vm_alone(conn):
    web = conn.lookupByName("web01")
    before = _state(web)
    xml = web.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).replace("<name>web01</name>",
                                                               "<name>vblab-web01</name>")
    with pytest.raises(labs.UuidInXML) as err:
        labs.define(xml)
    assert isinstance(err.value, ValueError) and web.UUIDString() in str(err.value)
    assert _state(web) == before
    assert "vblab-web01" not in {d.name() for d in conn.listAllDomains()}


def test_define_refuses_a_name_without_the_prefix_or_already_taken(conn):
    xml = labs.lab_vm_xml("t-def")
    with pytest.raises(ValueError, match="must start with 'vblab-'"):
        labs.define(xml.replace("vblab-t-def", "t-def"))
    labs.define(xml)
    with pytest.raises(labs.NameTaken, match="earlier run of the labs"):
        labs.define(xml)


def test_define_adds_the_owner_metadata_when_missing(conn):
    root = ET.fromstring(labs.lab_vm_xml("t-meta"))
    root.remove(root.find("metadata"))
    dom = labs.define(ET.tostring(root, encoding="unicode"), lab="T")
    assert labs.has_owner_metadata(dom.XMLDesc()) and labs.is_lab_owned(dom)


# ----------------------------------------------------------------------------------------------
# Parameters and the record
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,message", [
    ({"memory_mib": 16}, "memory_mib must be an integer in 32..4096, got 16"),
    ({"memory_mib": 128, "current_memory_mib": 256}, "current_memory_mib must be an integer in 16..128, got 256"),
    ({"vcpus": 0}, "vcpus must be an integer in 1..16, got 0"),
    ({"vcpus": 2, "max_vcpus": 1}, "max_vcpus must be an integer in 2..16, got 1"),
    ({"disk_mib": 0}, "disk_mib must be an integer in 1..1024, got 0"),
    ({"vcpus": True}, "vcpus must be an integer in 1..16, got True"),
])
def test_bad_parameters_name_the_parameter_and_its_range(conn, kwargs, message):
    with pytest.raises(ValueError) as err:
        labs.create_lab_vm("t-bad", **kwargs)
    assert str(err.value) == message
    assert "vblab-t-bad" not in {d.name() for d in conn.listAllDomains()}


@given(st.text(max_size=50))
def test_lab_name_accepts_only_simple_names(name):
    base = name[len("vblab-"):] if name.startswith("vblab-") else name
    simple = bool(base) and len(base) <= 41 and base[0].isalnum() and base.isascii() and all(
        c.islower() or c.isdigit() or c == "-" for c in base)
    if simple:
        assert labs.lab_name(name) == "vblab-" + base
    else:
        with pytest.raises(ValueError, match="name must be"):
            labs.lab_name(name)


def test_lab_macs_are_valid_deterministic_and_unused(conn):
    used = {m.get("address") for d in conn.listAllDomains() for m in ET.fromstring(d.XMLDesc()).iter("mac")}
    mac = labs.lab_mac(conn, "vblab-x")
    assert labs.is_mac(mac) and mac.startswith("52:54:00:") and mac not in used
    assert labs.lab_mac(conn, "vblab-x") == mac
    web_mac = "52:54:00:3a:10:01"
    assert web_mac in used and all(labs.lab_mac(conn, f"vblab-{i}") != web_mac for i in range(50))


def test_the_record_survives_a_new_process(tmp_path):
    path = tmp_path / "record.json"
    first = Record(host="qemu:///system@h", path=path)
    first.add("domains", "uuid-1", "vblab-a")
    first.add("volumes", "/pool/vblab-a.qcow2", "vblab-a.qcow2")
    other = Record(host="qemu:///session@h", path=path)
    other.add("domains", "uuid-2", "vblab-b")
    again = Record(host="qemu:///system@h", path=path)
    assert again.has("domains", "uuid-1") and again.has("volumes", "/pool/vblab-a.qcow2")
    assert not again.has("domains", "uuid-2")
    again.discard("domains", "uuid-1")
    data = json.loads(path.read_text())
    assert data["hosts"]["qemu:///system@h"]["domains"] == {}
    assert data["hosts"]["qemu:///session@h"]["domains"] == {"uuid-2": "vblab-b"}
    with pytest.raises(ValueError, match="kind must be one of"):
        again.add("networks", "x", "y")


def test_the_test_driver_record_lives_with_its_connection():
    a = labs.connect(quiet=True)
    labs.create_lab_vm("t-mem")
    b = labs.connect(quiet=True)
    assert labs.record_for(a).items("domains") and not labs.record_for(b).items("domains")
    assert labs.record_for(a).path is None
    a.close()
    b.close()


def test_domain_type_on_the_test_driver(conn):
    choice = labs.domain_type(conn)
    assert choice.type == "test" and "test" in choice.reason
    assert f"type='{choice.type}'" in labs.lab_vm_xml("t-type")
