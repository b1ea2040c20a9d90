"""connect(): the test driver by default, VIRTBOOK_URI on request, one printed line, quiet errors,
and a clear message when libvirt-python, the daemon or the fleet file is missing."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from virtbook import labs

libvirt = pytest.importorskip("libvirt")
ROOT_ENV = {"PYTHONPATH": str(labs.fixture_path().parents[1])}


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter on the test driver (VIRTBOOK_URI unset)."""
    env = {**os.environ, **ROOT_ENV}
    env.pop("VIRTBOOK_URI", None)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, env=env)


def test_default_is_the_test_driver_on_the_shipped_fleet(monkeypatch, capsys):
    monkeypatch.delenv("VIRTBOOK_URI", raising=False)
    assert labs.uri() == "test://" + labs.fixture_path().as_posix()
    conn = labs.connect()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "test driver (TEST)" in out
    assert re.search(r"libvirt \d+\.\d+\.\d+", out)
    assert "test:///…/labs/fleet.xml" in out
    assert str(labs.fixture_path().parent) not in out, "a machine path was printed"
    assert sorted(d.name() for d in conn.listAllDomains()) == ["build01", "db01", "legacy-erp", "web01"]
    assert labs.current() is conn and labs.is_test_driver()
    conn.close()


def test_virtbook_uri_switches_the_connection(monkeypatch, capsys):
    monkeypatch.setenv("VIRTBOOK_URI", "test:///default")
    conn = labs.connect()
    assert conn.getURI() == "test:///default"
    assert "at test:///default" in capsys.readouterr().out
    assert [d.name() for d in conn.listAllDomains()] == ["test"]
    conn.close()


def test_readonly_connections_say_so_and_do_not_become_current(capsys):
    rw = labs.connect(quiet=True)
    ro = labs.connect(readonly=True)
    assert "Connected read-only" in capsys.readouterr().out
    assert labs.current() is rw
    assert labs.summary(ro).readonly and not labs.summary(rw).readonly
    ro.close()
    rw.close()


def test_a_missing_daemon_is_one_sentence_not_a_traceback():
    with pytest.raises(labs.LabError) as err:
        labs.connect("qemu+unix:///system?socket=/nonexistent/virtbook/libvirt-sock", quiet=True)
    text = str(err.value)
    assert text.startswith("No libvirt daemon is listening on /nonexistent/virtbook/libvirt-sock")
    assert isinstance(err.value.__cause__, libvirt.libvirtError)


def test_an_unknown_uri_is_explained():
    """libvirt hands a URI no local driver knows to the daemon: with a daemon running, the daemon
    answers that no driver understands it; without one, the client cannot reach the socket.
    Either way the student gets one sentence that says what to do."""
    with pytest.raises(labs.LabError) as err:
        labs.connect("bogus:///x", quiet=True)
    message = str(err.value)
    assert ("No libvirt driver understands the URI bogus:///x" in message
            or message.startswith("No libvirt daemon is listening")), message
    assert "VIRTBOOK_URI" in message or "bogus:///x" in message


def test_a_missing_fleet_file_is_explained(monkeypatch, tmp_path):
    monkeypatch.delenv("VIRTBOOK_URI", raising=False)
    monkeypatch.setenv("VIRTBOOK_LAB_FLEET", str(tmp_path / "gone.xml"))
    with pytest.raises(labs.LabError, match="fleet file gone.xml is missing"):
        labs.connect(quiet=True)


def test_errors_do_not_reach_stderr():
    """libvirt's default handler prints each error to stderr; the labs' handler must not."""
    provoke = """
        import libvirt
        {setup}
        c = libvirt.open("test:///default")
        try:
            c.lookupByName("no-such-vm")
        except libvirt.libvirtError:
            pass
    """
    plain = run_python(provoke.format(setup=""))
    assert "Domain not found" in plain.stderr, "control: libvirt's default handler prints"
    quiet = run_python(provoke.format(setup="from virtbook import labs; labs.load_libvirt()"))
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_without_libvirt_python_the_labs_explain_and_the_book_still_imports():
    code = """
        import sys
        sys.modules["libvirt"] = None          # as if libvirt-python were not installed
        from virtbook import labs
        from virtbook.figures import labs as figures
        assert not labs.libvirt_available()
        try:
            labs.connect()
        except labs.LibvirtMissing as err:
            assert isinstance(err, ImportError)
            print(labs.explain(err))
        else:
            raise SystemExit("connect() should have failed")
        fig = figures.balloon_figure([128, 64], [128, 64], 128)
        print("figures still work:", type(fig).__name__)
    """
    run = run_python(code)
    assert run.returncode == 0, run.stderr
    assert "libvirt-python is not installed" in run.stdout and "pip install libvirt-python" in run.stdout
    assert "figures still work: Figure" in run.stdout


def test_current_before_connect_is_explained():
    run = run_python("""
        from virtbook import labs
        try:
            labs.current()
        except labs.LabError as err:
            print(err)
    """)
    assert "run conn = labs.connect() first" in run.stdout


def test_display_uri_leaves_other_uris_alone():
    assert labs.display_uri("qemu:///session") == "qemu:///session"
    assert labs.display_uri("test://" + labs.fixture_path().as_posix()) == "test:///…/labs/fleet.xml"
