"""virtbook.vmconfig: reading, comparing and checking libvirt domain XML definitions."""
from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtbook import vmconfig as vc
from virtbook.figures.vmconfig import draw_diagram

DATA = Path(__file__).resolve().parent.parent / "chapters" / "data"
WEB01 = (DATA / "ch02-web01.xml").read_text(encoding="utf-8")
TEST_DEFAULT = DATA / "ch02-test-default.xml"

SECOND_NIC = """
    <interface type='network'>
      <mac address='52:54:00:4e:7a:02'/>
      <source network='default'/>
      <model type='e1000'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x{slot:02x}' function='0x0'/>
    </interface>
  </devices>"""


def with_second_nic(slot: int) -> str:
    return WEB01.replace("</devices>", SECOND_NIC.format(slot=slot))


def domain(devices: str = "", memory: str = "<memory unit='MiB'>512</memory>",
           vcpu: str = "<vcpu>1</vcpu>", extra: str = "") -> str:
    return (f"<domain type='kvm'><name>t</name>{memory}{vcpu}{extra}"
            f"<devices>{devices}</devices></domain>")


def rules(hw: vc.VirtualHardware, **host) -> dict[str, str]:
    return {f.rule: f.severity for f in vc.validate(hw, **host)}


# ---------------------------------------------------------------------------------- parsing

def test_shipped_web_server_is_read_as_libvirt_describes_it():
    hw = vc.parse_domain_xml(WEB01)
    assert (hw.name, hw.domain_type, hw.arch, hw.machine) == ("web01", "kvm", "x86_64",
                                                              "pc-i440fx-7.2")
    assert (hw.vcpus, hw.current_vcpus, hw.memory_mib, hw.cpu_mode) == (2, 2, 4096, "host-model")
    disk, cdrom = hw.disks
    assert (disk.target, disk.bus, disk.format, disk.readonly) == ("vda", "virtio", "qcow2", False)
    assert (cdrom.device, cdrom.bus, cdrom.format, cdrom.readonly) == ("cdrom", "ide", "raw", True)
    assert str(cdrom.address) == "drive 0:0:0:0"
    (nic,) = hw.nics
    assert (nic.model, nic.mac, nic.source) == ("virtio", "52:54:00:4e:7a:01", "network default")
    assert {(i.type, i.bus) for i in hw.inputs} == {("tablet", "usb"), ("mouse", "ps2"),
                                                     ("keyboard", "ps2")}
    assert [g.type for g in hw.graphics] == ["vnc"] and hw.videos[0].model == "virtio"
    assert [str(a) for a, _ in hw.pci_devices] == [
        "0000:00:01.1", "0000:00:01.2", "0000:00:02.0", "0000:00:03.0", "0000:00:04.0",
        "0000:00:05.0"]


def test_shipped_test_driver_domain_matches_what_the_test_driver_defines():
    hw = vc.parse_domain_xml(TEST_DEFAULT.read_text(encoding="utf-8"))
    assert (hw.name, hw.domain_type, hw.vcpus, hw.memory_mib, hw.current_memory_mib) == (
        "test", "test", 2, 8192, 2048)
    assert [n.mac for n in hw.nics] == ["aa:bb:cc:dd:ee:ff"]
    assert [d.target for d in hw.disks] == ["vda"]


@given(unit=st.sampled_from(sorted(vc.MEMORY_UNITS)), amount=st.integers(1, 10**6))
def test_memory_units_convert_to_whole_kib_rounding_up(unit, amount):
    hw = vc.parse_domain_xml(domain(memory=f"<memory unit='{unit}'>{amount}</memory>"))
    assert hw.memory_kib == math.ceil(amount * vc.MEMORY_UNITS[unit] / 1024)
    assert hw.current_memory_kib == hw.memory_kib  # currentMemory defaults to memory


def test_memory_without_unit_is_kib_and_binary_units_agree():
    kib = vc.parse_domain_xml(domain(memory="<memory>4194304</memory>"))
    mib = vc.parse_domain_xml(domain(memory="<memory unit='MiB'>4096</memory>"))
    gib = vc.parse_domain_xml(domain(memory="<memory unit='G'>4</memory>"))
    decimal = vc.parse_domain_xml(domain(memory="<memory unit='GB'>4</memory>"))
    assert kib.memory_kib == mib.memory_kib == gib.memory_kib == 4 * 1024 * 1024
    assert decimal.memory_kib < gib.memory_kib


@pytest.mark.parametrize("xml, words", [
    ("<domain><name>t</name>", "not well-formed"),
    ("<vm><name>t</name></vm>", "root element must be <domain>"),
    (domain().replace("<name>t</name>", "<name> </name>"), "<name> is required"),
    (domain(memory=""), "<memory> is required"),
    (domain(memory="<memory unit='XB'>4</memory>"), "memory unit must be one of"),
    (domain(memory="<memory>lots</memory>"), "<memory> must be an integer >= 1"),
    (domain(vcpu=""), "<vcpu> is required"),
    (domain(vcpu="<vcpu>0</vcpu>"), "<vcpu> must be an integer >= 1, got '0'"),
    (domain("<interface type='network'><address type='pci' domain='0' bus='0' slot='0x20' "
            "function='0'/></interface>"), "PCI slot of <interface> must be an integer 0..31"),
    (domain("<interface type='network'><address type='pci' domain='0' bus='0' slot='3' "
            "function='8'/></interface>"), "PCI function of <interface> must be an integer 0..7"),
    (domain("<interface type='network'><mac address='52:54:00:zz:00:01'/></interface>"),
     "mac address must be six hex octets"),
    (domain("<disk type='file' device='disk'><source file='a'/></disk>"), "needs <target dev"),
    ("", "xml must be a non-empty string"),
])
def test_invalid_definitions_raise_valueerror_naming_the_element(xml, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        vc.parse_domain_xml(xml)


def test_disk_bus_is_inferred_from_the_target_name_when_missing():
    hw = vc.parse_domain_xml(domain("<disk type='file' device='disk'><source file='a.img'/>"
                                    "<target dev='sdb'/></disk>"))
    assert hw.disks[0].bus == "scsi"


# ---------------------------------------------------------------------------------- diff

def test_edit_adds_a_vcpu_and_a_nic_and_diff_reports_exactly_that():
    before, after = vc.parse_domain_xml(WEB01), vc.parse_domain_xml(
        with_second_nic(3).replace("<vcpu placement='static'>2</vcpu>",
                                   "<vcpu placement='static'>3</vcpu>"))
    changes = vc.diff(before, after)
    assert [(c.kind, c.component) for c in changes] == [
        ("changed", "vCPUs (max)"), ("changed", "vCPUs (at boot)"),
        ("added", "NIC 52:54:00:4e:7a:02")]
    assert changes[0].before == "2" and changes[0].after == "3"
    assert "e1000" in changes[2].after and "0000:00:03.0" in changes[2].after


def test_moving_a_device_is_a_change_not_an_add():
    a = vc.parse_domain_xml(with_second_nic(6))
    b = vc.parse_domain_xml(with_second_nic(7))
    (change,) = vc.diff(a, b)
    assert change.kind == "changed" and "00:06.0" in change.before and "00:07.0" in change.after


nic_sets = st.lists(st.tuples(st.integers(1, 0x1F), st.integers(0, 255)), min_size=0, max_size=6,
                    unique_by=lambda t: t[1])


def nics_xml(nics) -> str:
    return "".join(
        f"<interface type='network'><mac address='52:54:00:00:00:{octet:02x}'/>"
        f"<source network='default'/><model type='virtio'/>"
        f"<address type='pci' domain='0x0000' bus='0x00' slot='0x{slot:02x}' function='0x0'/>"
        f"</interface>" for slot, octet in nics)


@settings(max_examples=60, deadline=None)
@given(a=nic_sets, b=nic_sets, va=st.integers(1, 8), vb=st.integers(1, 8))
def test_diff_is_empty_on_itself_and_mirrors_when_reversed(a, b, va, vb):
    x = vc.parse_domain_xml(domain(nics_xml(a), vcpu=f"<vcpu>{va}</vcpu>"))
    y = vc.parse_domain_xml(domain(nics_xml(b), vcpu=f"<vcpu>{vb}</vcpu>"))
    assert vc.diff(x, x) == []
    forward = {(c.component, c.kind, c.before, c.after) for c in vc.diff(x, y)}
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    backward = {(c.component, flip[c.kind], c.after, c.before) for c in vc.diff(y, x)}
    assert forward == backward
    added = {c.component for c in vc.diff(x, y) if c.kind == "added"}
    assert added == {f"NIC 52:54:00:00:00:{o:02x}" for _, o in b} - {
        f"NIC 52:54:00:00:00:{o:02x}" for _, o in a}


# ---------------------------------------------------------------------------------- validate

def test_shipped_definitions_have_no_findings():
    assert vc.validate(vc.parse_domain_xml(WEB01)) == []
    assert vc.validate(vc.parse_domain_xml(TEST_DEFAULT.read_text(encoding="utf-8"))) == []


def test_second_nic_on_a_taken_slot_is_a_double_use_and_a_free_slot_is_fine():
    (finding,) = vc.validate(vc.parse_domain_xml(with_second_nic(3)))
    assert (finding.severity, finding.rule) == ("error", "pci-double-use")
    assert "Attempted double use of PCI Address 0000:00:03.0" in finding.message
    assert set(finding.devices) == {"NIC 52:54:00:4e:7a:01", "NIC 52:54:00:4e:7a:02"}
    assert vc.validate(vc.parse_domain_xml(with_second_nic(6))) == []


@settings(max_examples=80, deadline=None)
@given(nics=nic_sets)
def test_double_use_is_reported_exactly_when_two_devices_share_a_slot(nics):
    hw = vc.parse_domain_xml(domain(nics_xml(nics)))
    slots = [s for s, _ in nics]
    shared = {s for s in slots if slots.count(s) > 1}
    reported = {f.message.split("Address ")[1][:12] for f in vc.validate(hw)
                if f.rule == "pci-double-use"}
    assert reported == {f"0000:00:{s:02x}.0" for s in shared}


@pytest.mark.parametrize("function", [0, 1, 7])
def test_domain_bus_and_slot_zero_mean_no_address_whatever_the_function(function):
    # libvirt 9.0 moved such a card to a free slot; two of them are not a double use
    two = "".join(
        f"<interface type='network'><mac address='52:54:00:00:00:0{i}'/><address type='pci' "
        f"domain='0' bus='0' slot='0' function='{function}'/></interface>" for i in (1, 2))
    found = vc.validate(vc.parse_domain_xml(domain(two)))
    assert [(f.severity, f.rule) for f in found] == [("warning", "pci-address-unset")]
    assert len(found[0].devices) == 2
    assert not vc.PciAddress(0, 1, 0, function).is_unset


def test_libvirt_refusals_are_errors_and_surprises_are_warnings():
    dup_disk = domain("<disk type='file' device='disk'><source file='a'/><target dev='vda' "
                      "bus='virtio'/></disk><disk type='file' device='disk'><source file='b'/>"
                      "<target dev='vda' bus='virtio'/></disk>")
    assert rules(vc.parse_domain_xml(dup_disk)) == {"disk-target-duplicate": "error"}
    multicast = domain("<interface type='network'><mac address='01:00:5e:00:00:01'/></interface>")
    assert rules(vc.parse_domain_xml(multicast)) == {"mac-multicast": "error"}
    same_mac = domain("<interface type='network'><mac address='52:54:00:00:00:01'/></interface>"
                      "<interface type='network'><mac address='52:54:00:00:00:01'/></interface>")
    assert rules(vc.parse_domain_xml(same_mac)) == {"mac-duplicate": "warning"}
    too_many = vc.parse_domain_xml(domain(vcpu="<vcpu current='4'>2</vcpu>"))
    assert rules(too_many) == {"vcpu-current": "error"}
    balloon = vc.parse_domain_xml(domain(extra="<currentMemory unit='MiB'>1024</currentMemory>"))
    assert rules(balloon) == {"memory-current": "warning"}
    no_usb = domain("<controller type='usb' index='0' model='none'/><input type='tablet' "
                    "bus='usb'/><graphics type='vnc'/>")
    assert rules(vc.parse_domain_xml(no_usb)) == {"usb-disabled": "error"}


def test_errors_come_before_warnings():
    hw = vc.parse_domain_xml(domain(
        "<interface type='network'><mac address='52:54:00:00:00:01'/></interface>"
        "<interface type='network'><mac address='52:54:00:00:00:01'/></interface>",
        vcpu="<vcpu current='3'>2</vcpu>"))
    assert [f.severity for f in vc.validate(hw)] == ["error", "warning"]


def test_a_graphical_console_needs_an_absolute_pointer():
    no_tablet = WEB01.replace("<input type='tablet' bus='usb'>\n      <address type='usb' "
                              "bus='0' port='1'/>\n    </input>\n", "")
    hw = vc.parse_domain_xml(no_tablet)
    assert rules(hw) == {"pointer-relative-only": "warning"}
    assert vc.validate(hw)[0].devices == ("input mouse (ps2)",)
    headless = vc.parse_domain_xml(domain("<input type='mouse' bus='ps2'/>"))
    assert vc.validate(headless) == []


def test_host_size_warnings_compare_with_the_host():
    hw = vc.parse_domain_xml(TEST_DEFAULT.read_text(encoding="utf-8"))
    # the test driver's host: 16 CPUs, 3072 MiB; its domain "test": 2 vCPUs, up to 8192 MiB
    assert rules(hw, host_cpus=16, host_memory_mib=3072) == {"memory-exceeds-host": "warning"}
    assert rules(hw, host_cpus=1, host_memory_mib=8192) == {"vcpus-exceed-host": "warning"}
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="host_cpus must be an integer in 1 or more"):
            vc.validate(hw, host_cpus=bad)
    with pytest.raises(ValueError, match="host_memory_mib must be a number greater than 0"):
        vc.validate(hw, host_memory_mib=0)


def test_findings_and_tables_render_as_markdown():
    hw = vc.parse_domain_xml(with_second_nic(3))
    table = vc.hardware_markdown(hw)
    assert table.count("\n") + 1 == 2 + len(vc.hardware_rows(hw))
    assert len(vc.hardware_rows(hw)) == 2 + len(hw.devices) + len(hw.graphics)
    assert vc.findings_markdown([]) == "No conflicts found."
    assert "**error** `pci-double-use`" in vc.findings_markdown(vc.validate(hw))
    assert vc.changes_markdown([]).startswith("No differences")
    report = vc.report_markdown(hw, vc.parse_domain_xml(WEB01))
    assert "Changes against web01" in report and "pci-double-use" in report


# ---------------------------------------------------------------------------------- libvirt

def test_test_driver_read_falls_back_to_the_shipped_copy_without_libvirt(monkeypatch):
    monkeypatch.setitem(sys.modules, "libvirt", None)  # makes `import libvirt` raise ImportError
    src = vc.read_test_driver_domain(TEST_DEFAULT)
    assert src.origin == "shipped" and "not installed" in src.note
    assert src.xml == TEST_DEFAULT.read_text(encoding="utf-8")


def test_test_driver_read_rejects_real_hosts_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match="uri must be a libvirt test driver URI"):
        vc.read_test_driver_domain(TEST_DEFAULT, uri="qemu:///system")
    with pytest.raises(ValueError, match="fallback must be an existing domain XML file"):
        vc.read_test_driver_domain(tmp_path / "missing.xml")


def test_live_and_shipped_test_domains_describe_the_same_hardware():
    pytest.importorskip("libvirt")
    live = vc.read_test_driver_domain(TEST_DEFAULT)
    assert live.origin == "libvirt" and "test driver" in live.note
    shipped = TEST_DEFAULT.read_text(encoding="utf-8")
    assert vc.diff(vc.parse_domain_xml(shipped), vc.parse_domain_xml(live.xml)) == []


def test_test_driver_host_constants_are_what_the_live_driver_reports():
    libvirt = pytest.importorskip("libvirt")
    libvirt.registerErrorHandler(lambda *args: None, None)
    conn = libvirt.open("test:///default")
    try:
        _model, memory_mib, cpus, *_ = conn.getInfo()
    finally:
        conn.close()
    assert (cpus, memory_mib) == (vc.TEST_DRIVER_HOST_CPUS, vc.TEST_DRIVER_HOST_MEMORY_MIB)


def test_exercise_numbers_of_chapter_2():
    """The test driver's VM against its host (exercise 3) and 4 GB against 4 GiB (exercise 4)."""
    vm = vc.parse_domain_xml(TEST_DEFAULT.read_text(encoding="utf-8"))
    assert (vm.memory_mib, vm.current_memory_mib, vm.vcpus) == (8192, 2048, 2)
    found = vc.validate(vm, host_cpus=vc.TEST_DRIVER_HOST_CPUS,
                        host_memory_mib=vc.TEST_DRIVER_HOST_MEMORY_MIB)
    assert [f.rule for f in found] == ["memory-exceeds-host"]
    sizes = {unit: vc.parse_domain_xml(f"<domain><name>m</name><memory unit='{unit}'>4</memory>"
                                       "<vcpu>1</vcpu></domain>") for unit in ("GB", "G")}
    assert sizes["GB"].memory_kib == 3_906_250 and sizes["G"].memory_kib == 4_194_304
    assert sizes["GB"].memory_kib == 4_000_000_000 / 1024   # the division solution 4 shows
    assert sizes["GB"].memory_mib == pytest.approx(3814.70, abs=0.005)


def test_exercise_5_slot_range_of_chapter_2():
    """Solution 5(c): a PCI bus has slots 0x00 to 0x1f, so slot 0x20 is refused when parsed."""
    assert vc.PCI_LIMITS["slot"] == (0, 0x1F) == (0, 0x1f)
    with pytest.raises(ValueError, match="PCI slot of <interface> must be an integer 0..31"):
        vc.parse_domain_xml(domain("<interface type='network'><address type='pci' domain='0' "
                                   "bus='0' slot='0x20' function='0'/></interface>"))


@pytest.mark.parametrize("devices, vcpu", [
    ("<disk type='file' device='disk'><source file='/guest/a'/><target dev='vda' bus='virtio'/>"
     "</disk><disk type='file' device='disk'><source file='/guest/b'/><target dev='vda' "
     "bus='virtio'/></disk>", "<vcpu>1</vcpu>"),
    ("<interface type='network'><mac address='03:54:00:11:22:33'/><source network='default'/>"
     "</interface>", "<vcpu>1</vcpu>"),
    ("", "<vcpu current='3'>2</vcpu>"),
    ("<controller type='usb' index='0' model='none'/><input type='tablet' bus='usb'/>",
     "<vcpu>1</vcpu>"),
    ("<interface type='network'><mac address='52:54:00:11:22:33'/><source network='default'/>"
     "</interface><interface type='network'><mac address='52:54:00:11:22:33'/>"
     "<source network='default'/></interface>", "<vcpu>1</vcpu>"),
    ("<input type='tablet' bus='usb'/><graphics type='vnc'/>", "<vcpu>1</vcpu>"),
])
def test_errors_are_exactly_what_the_libvirt_test_driver_refuses(devices, vcpu):
    libvirt = pytest.importorskip("libvirt")
    libvirt.registerErrorHandler(lambda *args: None, None)
    xml = (f"<domain type='test'><name>virtbook-ch02-check</name><memory unit='MiB'>256"
           f"</memory>{vcpu}<os><type arch='x86_64'>hvm</type></os><devices>{devices}</devices>"
           f"</domain>")
    errors = [f for f in vc.validate(vc.parse_domain_xml(xml)) if f.severity == "error"]
    conn = libvirt.open("test:///default")
    try:
        try:
            conn.defineXML(xml).undefine()
            refused = False
        except libvirt.libvirtError:
            refused = True
    finally:
        conn.close()
    assert refused == bool(errors)


# ---------------------------------------------------------------------------------- drawing

def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_diagram_labels_every_pci_device_and_marks_conflicts_only_when_present():
    before = len(plt.get_fignums())
    hw = vc.parse_domain_xml(WEB01)
    texts = _texts(draw_diagram(hw))
    for addr, _ in hw.pci_devices:
        assert any(str(addr)[5:] in t for t in texts), addr
    assert not any("CONFLICT" in t for t in texts)
    clash = vc.parse_domain_xml(with_second_nic(3))
    assert sum("CONFLICT" in t for t in _texts(draw_diagram(clash))) == 2
    assert len(plt.get_fignums()) == before


def test_diagram_draws_into_a_given_axes():
    from virtbook.figures import style
    fig, ax = style.figure(5, 3)
    assert draw_diagram(vc.parse_domain_xml(WEB01), ax=ax) is fig


# ---------------------------------------------------------------------------------- widget

def test_widget_render_reports_bad_xml_instead_of_raising():
    from virtbook.widgets import vmconfig as w
    png, report = w.render("<domain><name>x</name>")
    assert report.startswith("<p><strong>Not a valid definition:</strong>") and png is None
    png, report = w.render(with_second_nic(3), vc.parse_domain_xml(WEB01), diagram=False)
    assert "pci-double-use" in report and "<table>" in report and png is None
    png, _ = w.render(WEB01)
    assert png.startswith(b"\x89PNG")


def test_widget_editor_holds_the_xml_and_checks_its_arguments():
    from virtbook.widgets import vmconfig as w
    box = w.vm_editor(WEB01, diagram=False)
    assert box.children[0].value == WEB01 and box.children[0].continuous_update is False
    assert len(box.children) == 2  # no diagram asked for: the XML and its report
    with pytest.raises(ValueError, match="rows must be an integer in 3 or more"):
        w.vm_editor(WEB01, rows=1)


def test_widget_redraws_its_report_when_the_xml_changes():
    from virtbook.widgets import vmconfig as w
    editor, report = w.vm_editor(WEB01, diagram=False).children
    assert "No conflicts found." in report.value and "No differences" in report.value
    editor.value = with_second_nic(3)
    assert "pci-double-use" in report.value and "NIC 52:54:00:4e:7a:02" in report.value
    editor.value = "<domain>"
    assert report.value.startswith("<p><strong>Not a valid definition:</strong>")


def test_widget_with_a_diagram_shows_it_and_keeps_it_for_bad_xml():
    from virtbook.widgets import vmconfig as w
    editor, report, image = w.vm_editor(WEB01).children
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG")
    editor.value = with_second_nic(3)
    assert bytes(image.value) != first
    second = bytes(image.value)
    editor.value = "<domain>"
    assert bytes(image.value) == second and "Not a valid definition" in report.value


def test_functions_that_need_parsed_hardware_say_so_when_given_xml_text():
    hw = vc.parse_domain_xml(WEB01)
    for call, name in ((lambda: vc.diff(WEB01, hw), "before"),
                       (lambda: vc.diff(hw, WEB01), "after"),
                       (lambda: vc.validate(WEB01), "hw"), (lambda: vc.hardware_rows(WEB01), "hw"),
                       (lambda: draw_diagram(WEB01), "hw")):
        with pytest.raises(ValueError, match=f"{name} must be a VirtualHardware from "
                                             r"parse_domain_xml\(\), got str"):
            call()
