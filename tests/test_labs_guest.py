"""The lab guest without a hypervisor: its build tool, its console protocol, the domain-type
choice, <cputune>, KSM's opt-in and restore, and the refusals on the test driver.

What needs a real daemon (booting, snapshots of a running guest, the balloon, CPU caps) is in
tests/test_realhost.py. Here the build tool packs fake Debian packages made with dpkg-deb (no
network), the console is a fake that answers like tools/lab_guest/init, and KSM's sysfs folder
is a temporary directory.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from booklib import ROOT, load_tool
from virtbook import labs
from virtbook.labs import guest as guest_mod
from virtbook.labs.ownership import Record

libvirt = pytest.importorskip("libvirt")
tool = load_tool("lab_guest")


@pytest.fixture
def conn():
    c = labs.connect(quiet=True)
    yield c
    c.close()


# ----------------------------------------------------------------------------------------------
# The build tool
# ----------------------------------------------------------------------------------------------

def _modinfo(depends: str) -> bytes:
    """Bytes shaped like a kernel module's .modinfo section."""
    return b"\x7fELF fake module\0license=GPL\0depends=" + depends.encode() + b"\0name=x\0"


def _fake_deb(tmp: Path, name: str, files: dict[str, bytes]) -> Path:
    tree = tmp / f"src-{name}"
    for rel, data in files.items():
        path = tree / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@example.org>\n"
        "Description: test\n")
    deb = tmp / f"{name}_1.0_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(deb)], check=True,
                   capture_output=True)
    return deb


@pytest.fixture
def fake_packages(tmp_path, monkeypatch):
    """Make the tool 'download' two fake packages; return the cache root."""
    if shutil.which("dpkg-deb") is None or shutil.which("cpio") is None:
        pytest.skip("dpkg-deb and cpio are needed (tools/system_deps.sh host installs cpio)")
    mods = "lib/modules/9.9-test/kernel/drivers/virtio/"
    debs = {
        "linux-image-test": _fake_deb(tmp_path, "linux-image-test", {
            "boot/vmlinuz-9.9-test": b"KERNEL" * 100,
            mods + "virtio.ko": _modinfo(""),
            mods + "virtio_ring.ko": _modinfo(""),
            mods + "virtio_pci.ko": _modinfo("virtio,virtio_ring"),
            mods + "virtio_balloon.ko": _modinfo("virtio_ring,virtio"),
            mods + "virtio_net.ko": _modinfo("net_failover,virtio,virtio_ring"),
            "lib/modules/9.9-test/kernel/drivers/net/net_failover.ko": _modinfo("failover"),
            "lib/modules/9.9-test/kernel/net/core/failover.ko": _modinfo(""),
        }),
        "busybox-static": _fake_deb(tmp_path, "busybox-static", {"bin/busybox": b"BUSYBOX"}),
    }
    lock = {"packages": [{"name": n, "version": "1.0", "sha256": tool._sha256(d), "fallback": n,
                          "why": "test"} for n, d in debs.items()],
            "modules": ["virtio_pci", "virtio_net", "virtio_balloon"]}
    lock_path = tmp_path / "lock.json"
    lock_path.write_text(json.dumps(lock))
    monkeypatch.setattr(tool, "LOCK", lock_path)
    calls = []

    def fake_run(args, cwd=None, what=""):
        if args[:2] == ["apt-get", "download"]:
            name = args[-1].split("=")[0]
            calls.append(args[-1])
            shutil.copy(debs[name], Path(cwd) / debs[name].name)
            return ""
        return real_run(args, cwd, what)

    real_run = tool._run
    monkeypatch.setattr(tool, "_run", fake_run)
    cache = tmp_path / "cache"
    monkeypatch.setenv(tool.CACHE_VARIABLE, str(cache))
    return {"cache": cache, "calls": calls, "lock": lock_path}


def _cpio_names(initrd: Path) -> list[str]:
    data = gzip.decompress(initrd.read_bytes())
    listing = subprocess.run(["cpio", "-t", "--quiet"], input=data, capture_output=True, check=True)
    return listing.stdout.decode().split()


def test_build_packs_kernel_init_busybox_and_modules_in_dependency_order(fake_packages):
    folder = tool.build(log=lambda _t: None)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (folder / "vmlinuz").read_bytes() == b"KERNEL" * 100
    order = manifest["modules"]
    assert set(order) == {"virtio", "virtio_ring", "virtio_pci", "virtio_net", "virtio_balloon",
                          "net_failover", "failover"}
    for module, needs in [("virtio_pci", "virtio"), ("virtio_net", "net_failover"),
                          ("net_failover", "failover"), ("virtio_balloon", "virtio_ring")]:
        assert order.index(needs) < order.index(module)
    names = _cpio_names(folder / "initrd.gz")
    assert {"init", "bin/busybox", "etc/modules", "lib/modules/virtio_balloon.ko"} <= set(names)
    assert ("dev/console" in names) == manifest["console_node"]
    assert all(p["pinned"] for p in manifest["packages"])
    assert manifest["key"] == folder.name == tool.inputs_key()


def test_the_build_is_cached_until_an_input_changes(fake_packages, monkeypatch, tmp_path):
    first = tool.build(log=lambda _t: None)
    assert tool.build(log=lambda _t: None) == first and len(fake_packages["calls"]) == 2
    (first / "initrd.gz").write_bytes(b"damaged")
    assert tool.cached() is None                          # a damaged build is not used
    tool.build(log=lambda _t: None)
    assert len(fake_packages["calls"]) == 4
    init = tmp_path / "init"
    init.write_text(tool.INIT.read_text() + "# changed\n")
    monkeypatch.setattr(tool, "INIT", init)
    assert tool.inputs_key() != first.name and tool.cached() is None
    second = tool.build(log=lambda _t: None)
    assert second != first and not first.exists()          # the old build is pruned


def test_a_changed_package_is_refused(fake_packages):
    lock = json.loads(fake_packages["lock"].read_text())
    lock["packages"][1]["sha256"] = "0" * 64
    fake_packages["lock"].write_text(json.dumps(lock))
    with pytest.raises(tool.BuildError, match="pins 0000"):
        tool.build(log=lambda _t: None)


def test_module_order_names_a_missing_module(tmp_path):
    (tmp_path / "lib/modules/1/kernel").mkdir(parents=True)
    (tmp_path / "lib/modules/1/kernel/a.ko").write_bytes(_modinfo("zzz"))
    with pytest.raises(tool.BuildError, match="no module zzz"):
        tool.module_order(tmp_path, ["a"])


def test_the_build_is_skipped_where_no_qemu_can_boot_it(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(tool.shutil, "which", lambda _name: None)
    assert "QEMU is not installed" in tool.needed()
    monkeypatch.setenv("CI", "true")
    assert tool.needed() is None


def test_the_lock_pins_every_package_with_a_checksum():
    lock = json.loads((ROOT / "tools" / "lab_guest" / "lock.json").read_text())
    names = [p["name"] for p in lock["packages"]]
    assert any(re.match(r"linux-image-6\.1\.0-\d+-cloud-amd64$", n) for n in names)
    assert "busybox-static" in names
    for pkg in lock["packages"]:
        assert re.match(r"^[0-9a-f]{64}$", pkg["sha256"]) and pkg["version"] and pkg["why"]
    assert {"virtio_pci", "virtio_net", "virtio_balloon"} <= set(lock["modules"])


def test_the_guest_is_missing_until_built(monkeypatch, tmp_path):
    monkeypatch.setenv("VIRTBOOK_GUEST_CACHE", str(tmp_path / "empty"))
    with pytest.raises(labs.GuestMissing) as err:
        labs.guest_files()
    assert "make guest" in labs.explain(err.value)


# ----------------------------------------------------------------------------------------------
# The console protocol, against a fake console that answers like /init
# ----------------------------------------------------------------------------------------------

class FakeConsole:
    """Answers command lines the way tools/lab_guest/init does."""

    def __init__(self, answers=None, silent=False):
        self.data = ""
        self.closed = False
        self.sent = []
        self.answers = answers or {}
        self.silent = silent
        self.marker = ""
        self._cond = threading.Condition()

    def mark(self):
        return len(self.data)

    def text(self):
        return self.data

    def send(self, line):
        self.sent.append(line)
        ident, cmd, *args = line.split()
        if self.silent:
            return
        out = [f"VBGUEST {ident} BEGIN"]
        status = "OK"
        if cmd == "mark":
            if args:
                self.marker = " ".join(args)
            out.append(f"MARKER {self.marker}")
        elif cmd == "info":
            out.append("VBGUEST READY vcpus=2 memtotal_kib=62032 mac=52:54:00:aa:bb:cc "
                       "balloon=bound kernel=6.1.0-57-cloud-amd64 uptime=9.5")
        elif cmd in self.answers:
            out += self.answers[cmd]
        else:
            status = f"ERR unknown command '{cmd}'"
        out.append(f"VBGUEST {ident} {status}")
        self.data += "kernel noise\r\n" + "\r\n".join(out) + "\r\n"

    def wait_for(self, pattern, timeout, start=0):
        return pattern.search(self.data, start)

    def close(self):
        self.closed = True


class FakeDom:
    def name(self):
        return "vblab-fake"

    def isActive(self):  # libvirt's name
        return True


def _guest(console):
    view = guest_mod.GuestView(1, 94800, "52:54:00:aa:bb:cc", "bound", "k", 2.0)
    return guest_mod.Guest(FakeDom(), console, view)


def test_commands_return_their_own_output_lines_only():
    console = FakeConsole({"meminfo": ["MemTotal:          94800 kB", "MemFree:  100 kB",
                                       "HugePages_Total:       0"]})
    g = _guest(console)
    assert g.mark("before-snapshot") == "before-snapshot"
    assert g.mark() == "before-snapshot"
    assert g.meminfo() == {"MemTotal": 94800, "MemFree": 100, "HugePages_Total": 0}
    assert g.memtotal_kib() == 94800
    view = g.info()
    assert (view.vcpus, view.memtotal_kib, view.mac, view.balloon) == (2, 62032, "52:54:00:aa:bb:cc", "bound")
    assert [s.split()[0] for s in console.sent] == ["c1", "c2", "c3", "c4", "c5"]


def test_a_refused_command_and_a_silent_guest_are_one_sentence_each():
    with pytest.raises(labs.GuestError, match="refused 'bogus': unknown command 'bogus'"):
        _guest(FakeConsole()).command("bogus")
    with pytest.raises(labs.GuestError, match=r"did not answer 'ping' within 0.5 s \(the VM is still running\)"):
        _guest(FakeConsole(silent=True)).command("ping", timeout=0.5)


@pytest.mark.parametrize("call,message", [
    (lambda g: g.mark("two words"), "text must be 1..64 characters"),
    (lambda g: g.touch(0), "mib must be an integer in 1..4096, got 0"),
    (lambda g: g.touch(8, "a;b"), "text must be 1..32 characters"),
    (lambda g: g.spin(0), "loops must be an integer in 1..64, got 0"),
    (lambda g: g.command("ping", timeout=0), "timeout must be"),
])
def test_bad_arguments_are_refused_before_anything_is_sent(call, message):
    console = FakeConsole()
    with pytest.raises(ValueError, match=message):
        call(_guest(console))
    assert console.sent == []


def test_a_guest_without_its_balloon_driver_says_so():
    g = _guest(FakeConsole())
    g.view = guest_mod.GuestView(1, 94800, "52:54:00:aa:bb:cc", "missing", "k", 2.0)
    g.warnings = ["VBGUEST WARN could not load module virtio_balloon"]
    with pytest.raises(labs.ModuleMissing) as err:
        g.require_balloon()
    text = labs.explain(err.value)
    assert "virtio_balloon is missing" in text and "make guest" in text and "could not load" in text


def test_the_ready_line_parses_into_the_guests_view():
    line = ("VBGUEST READY vcpus=1 memtotal_kib=94800 mac=52:54:00:12:34:56 balloon=bound "
            "kernel=6.1.0-57-cloud-amd64 uptime=2.26")
    view = guest_mod.GuestView.parse(guest_mod.READY.search(line))
    assert view == guest_mod.GuestView(1, 94800, "52:54:00:12:34:56", "bound", "6.1.0-57-cloud-amd64", 2.26)


def test_the_init_script_answers_every_command_the_library_sends():
    init = (ROOT / "tools" / "lab_guest" / "init").read_text()
    for command in ("info", "meminfo", "uptime", "spin", "stop", "touch", "release", "mark",
                    "ping", "poweroff"):
        assert re.search(rf"^\s+{command}\)", init, re.M), command
    assert "VBGUEST READY vcpus=$vcpus memtotal_kib=$memtotal mac=$mac balloon=$balloon" in init
    assert "insmod" in init and "/etc/modules" in init


# ----------------------------------------------------------------------------------------------
# The test driver: nothing changes, and guests are refused with a reason
# ----------------------------------------------------------------------------------------------

def test_guests_are_refused_on_the_test_driver_and_nothing_is_created(conn):
    before = sorted(d.name() for d in conn.listAllDomains())
    with pytest.raises(labs.LabUnsupported, match="test driver cannot run an operating system"):
        labs.create_lab_vm("t-guest", guest=True)
    assert sorted(d.name() for d in conn.listAllDomains()) == before
    dom = labs.create_lab_vm("t-plain")
    with pytest.raises(labs.LabUnsupported, match="test driver runs no guest"):
        labs.boot_guest(dom)
    assert not labs.is_guest_vm(dom) and not dom.isActive()


def test_cputune_settings_land_in_the_definition(conn):
    dom = labs.create_lab_vm("t-tune", shares=2048, period=100000, quota=25000, pin="0")
    tune = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).find("cputune")
    assert tune.findtext("shares") == "2048" and tune.findtext("quota") == "25000"
    assert tune.find("vcpupin").get("cpuset") == "0" and tune.find("emulatorpin").get("cpuset") == "0"
    assert ET.fromstring(labs.lab_vm_xml("t-none")).find("cputune") is None


@pytest.mark.parametrize("kwargs,message", [
    ({"shares": 1}, "shares must be an integer in 2..262144, got 1"),
    ({"period": 999}, "period must be an integer in 1000..1000000, got 999"),
    ({"quota": 10}, "quota must be an integer in 1000.."),
    ({"pin": "zero"}, "pin must be a host CPU set"),
])
def test_bad_cputune_values_are_refused_before_anything_is_created(conn, kwargs, message):
    with pytest.raises(ValueError, match=message):
        labs.create_lab_vm("t-badtune", **kwargs)
    assert "vblab-t-badtune" not in {d.name() for d in conn.listAllDomains()}
    assert labs.POOL_NAME not in {p.name() for p in conn.listAllStoragePools()}


@pytest.mark.parametrize("kwargs,message", [
    ({}, "give at least one of shares, period and quota"),
    ({"shares": 1}, "shares must be an integer in 2..262144"),
    ({"quota": 0}, "quota must be an integer in 1000.."),
])
def test_set_cpu_limits_checks_its_arguments(conn, kwargs, message):
    dom = labs.create_lab_vm("t-limits")
    with pytest.raises(ValueError, match=message):
        labs.set_cpu_limits(dom, **kwargs)
    with pytest.raises(labs.NotLabOwned):
        labs.set_cpu_limits(conn.lookupByName("web01"), shares=512)


def test_cpu_use_is_vcpu_time_per_wall_second():
    use = labs.CpuUse("vm", 4.0, 1.2, 1.0)
    assert use.share == pytest.approx(0.25) and use.total_share == pytest.approx(0.30)


# ----------------------------------------------------------------------------------------------
# KVM or TCG: decided from the capabilities, without starting a domain
# ----------------------------------------------------------------------------------------------

class CapsConn:
    """Just enough of a QEMU connection for domain_type()."""

    def __init__(self, types, flags):
        guests = "".join(f"<domain type='{t}'/>" for t in types)
        features = "".join(f"<feature name='{f}'/>" for f in flags)
        self.caps = (f"<capabilities><host><cpu><arch>x86_64</arch>{features}</cpu></host>"
                     f"<guest><arch name='x86_64'>{guests}</arch></guest></capabilities>")
        self.started = 0

    def getType(self):
        return "QEMU"

    def getCapabilities(self):
        return self.caps

    def createXML(self, *_args):  # a probe domain must never be started
        self.started += 1
        raise AssertionError("domain_type() started a domain")


@pytest.mark.parametrize("types,flags,expected,reason", [
    (["qemu", "kvm"], ["vmx", "lm"], "kvm", "vmx flag"),
    (["qemu", "kvm"], ["svm"], "kvm", "svm flag"),
    (["qemu", "kvm"], ["lm", "sse2"], "qemu", "no vmx or svm flag"),
    (["qemu"], ["vmx"], "qemu", "offer no 'kvm'"),
])
def test_kvm_is_chosen_only_with_hardware_virtualization(monkeypatch, types, flags, expected, reason):
    monkeypatch.delenv("VIRTBOOK_LAB_DOMAIN_TYPE", raising=False)
    fake = CapsConn(types, flags)
    choice = labs.domain_type(fake)
    assert choice.type == expected and reason in choice.reason and fake.started == 0


def test_the_domain_type_can_be_forced_and_is_checked(monkeypatch):
    monkeypatch.setenv("VIRTBOOK_LAB_DOMAIN_TYPE", "qemu")
    assert labs.domain_type(CapsConn(["qemu", "kvm"], ["vmx"])).type == "qemu"
    monkeypatch.setenv("VIRTBOOK_LAB_DOMAIN_TYPE", "kvm")
    with pytest.raises(labs.LabUnsupported, match="offers only"):
        labs.domain_type(CapsConn(["qemu"], []))
    monkeypatch.setenv("VIRTBOOK_LAB_DOMAIN_TYPE", "xen")
    with pytest.raises(ValueError, match="must be 'kvm' or 'qemu', got 'xen'"):
        labs.domain_type(CapsConn(["qemu"], []))


# ----------------------------------------------------------------------------------------------
# KSM: only on request, and always put back
# ----------------------------------------------------------------------------------------------

class LocalConn:
    """Just enough of a local qemu:///system connection for the KSM helpers."""

    def __init__(self, uri="qemu:///system"):
        self.uri = uri

    def getType(self):
        return "QEMU"

    def getURI(self):
        return self.uri

    def getHostname(self):
        return "labhost"


@pytest.fixture
def fake_ksm(tmp_path, monkeypatch):
    folder = tmp_path / "ksm"
    folder.mkdir()
    values = {"run": 0, "pages_to_scan": 100, "sleep_millisecs": 20, "pages_shared": 0,
              "pages_sharing": 0, "pages_unshared": 0, "pages_volatile": 0, "full_scans": 3}
    for name, value in values.items():
        (folder / name).write_text(f"{value}\n")
    monkeypatch.setenv("VIRTBOOK_LAB_KSM_DIR", str(folder))
    monkeypatch.setenv("VIRTBOOK_LAB_STATE", str(tmp_path / "record.json"))
    monkeypatch.delenv("VIRTBOOK_LAB_KSM", raising=False)
    return folder


def _knobs(folder):
    return {k: int((folder / k).read_text()) for k in ("run", "pages_to_scan", "sleep_millisecs")}


def test_ksm_is_changed_only_when_the_reader_opts_in(fake_ksm):
    with pytest.raises(labs.LabUnsupported) as err:
        labs.KsmSession(LocalConn()).start()
    assert "VIRTBOOK_LAB_KSM=1" in labs.explain(err.value)
    assert _knobs(fake_ksm) == {"run": 0, "pages_to_scan": 100, "sleep_millisecs": 20}


def test_a_ksm_session_records_then_restores_the_hosts_settings(fake_ksm, monkeypatch):
    monkeypatch.setenv("VIRTBOOK_LAB_KSM", "1")
    conn = LocalConn()
    with labs.KsmSession(conn, pages_to_scan=1000, sleep_millisecs=10):
        assert _knobs(fake_ksm) == {"run": 1, "pages_to_scan": 1000, "sleep_millisecs": 10}
        assert len(labs.record_for(conn).items("settings")) == 3
    assert _knobs(fake_ksm) == {"run": 0, "pages_to_scan": 100, "sleep_millisecs": 20}
    assert labs.record_for(conn).items("settings") == {}


def test_an_interrupted_ksm_session_is_restored_by_the_next_runs_cleanup(fake_ksm, monkeypatch):
    monkeypatch.setenv("VIRTBOOK_LAB_KSM", "1")
    session = labs.KsmSession(LocalConn(), pages_to_scan=1000).start()
    session.active = False                                 # the kernel died: nothing ran stop()
    again = labs.KsmSession(LocalConn(), pages_to_scan=500).start()   # a second run, same record
    again.active = False
    assert _knobs(fake_ksm)["pages_to_scan"] == 500
    fresh = LocalConn()                                    # the next run: a new process and record
    restored = labs.restore_ksm(fresh)
    assert _knobs(fake_ksm) == {"run": 0, "pages_to_scan": 100, "sleep_millisecs": 20}
    assert "ksm run 1 -> 0" in restored and "ksm pages_to_scan 500 -> 100" in restored
    assert json.loads(Path(os.environ["VIRTBOOK_LAB_STATE"]).read_text())["hosts"][
        "qemu:///system@labhost"]["settings"] == {}


@pytest.mark.parametrize("uri,reason", [
    ("qemu+ssh://far/system", "run on another machine"),
    ("qemu://far/system", "run on another machine"),
])
def test_ksm_of_a_remote_host_is_left_alone(fake_ksm, monkeypatch, uri, reason):
    monkeypatch.setenv("VIRTBOOK_LAB_KSM", "1")
    assert reason in labs.ksm_unavailable(LocalConn(uri))
    with pytest.raises(labs.LabUnsupported, match="KSM cannot be used here"):
        labs.KsmSession(LocalConn(uri)).start()
    assert _knobs(fake_ksm)["run"] == 0


def test_a_kernel_without_ksm_is_one_sentence(fake_ksm, monkeypatch, tmp_path):
    monkeypatch.setenv("VIRTBOOK_LAB_KSM_DIR", str(tmp_path / "nothing"))
    with pytest.raises(labs.LabUnsupported) as err:
        labs.ksm_sample(1, conn=LocalConn())
    assert "CONFIG_KSM" in labs.explain(err.value)


def test_ksm_samples_read_the_counters_over_time(fake_ksm):
    (fake_ksm / "pages_sharing").write_text("36870\n")
    samples = labs.ksm_sample(0.3, interval=0.1, conn=LocalConn())
    assert len(samples) >= 3 and samples[0].t == 0.0 and samples[-1].t >= 0.25
    assert samples[-1].pages_sharing == 36870 and samples[-1].saved_mib == pytest.approx(144.0, abs=0.1)
    with pytest.raises(ValueError, match="interval must be"):
        labs.ksm_sample(1, interval=0, conn=LocalConn())


def test_the_record_keeps_settings_beside_objects(tmp_path):
    rec = Record(host="qemu:///system@h", path=tmp_path / "r.json")
    rec.add("settings", "/sys/kernel/mm/ksm/run", "0")
    assert Record(host="qemu:///system@h", path=tmp_path / "r.json").items("settings") == {
        "/sys/kernel/mm/ksm/run": "0"}
