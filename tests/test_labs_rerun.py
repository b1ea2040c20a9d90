"""The helpers that let a lab task run again, and the advice under a libvirt error in a notebook.

``labs.start_over``, ``labs.stop`` and ``labs.remove_snapshots`` undo a task's own earlier attempt
and nothing else; ``labs.connect`` has IPython end the traceback of any ``libvirtError`` with
``labs.explain``'s sentence. All on the test driver.
"""
from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from booklib import ROOT

libvirt = pytest.importorskip("libvirt")
from virtbook import labs  # noqa: E402


@pytest.fixture()
def conn(monkeypatch):
    monkeypatch.delenv("VIRTBOOK_URI", raising=False)
    c = labs.connect(quiet=True)
    yield c
    labs.cleanup(c)
    c.close()


def names(conn) -> set[str]:
    return {d.name() for d in conn.listAllDomains()}


def test_start_over_removes_a_lab_vm_and_an_orphan_volume_and_skips_what_is_missing(conn):
    labs.create_lab_vm("t-clone", lab="T")
    pool = labs.lab_pool(conn)
    labs.created(pool.createXML("<volume><name>vblab-t-orphan.qcow2</name>"
                                "<capacity unit='MiB'>1</capacity></volume>", 0))
    removed = labs.start_over("t-clone", "t-orphan", "t-never-made")
    assert removed == ["vblab-t-clone", "vblab-t-clone.qcow2", "vblab-t-orphan.qcow2"]
    assert "vblab-t-clone" not in names(conn)
    assert sorted(v.name() for v in pool.listAllVolumes()) == []
    assert labs.start_over("t-clone") == []


def test_start_over_refuses_what_the_labs_did_not_create(conn):
    xml = labs.lab_vm_xml("t-foreign", lab="T")
    conn.defineXML(xml)   # defined behind the labs' back: not in their record
    with pytest.raises(labs.NotLabOwned):
        labs.start_over("t-foreign")
    assert "vblab-t-foreign" in names(conn)
    conn.lookupByName("vblab-t-foreign").undefine()
    with pytest.raises(ValueError, match="names must be lab VM names"):
        labs.start_over("")


def test_stop_stops_running_lab_vms_only(conn):
    vm = labs.create_lab_vm("t-run", lab="T")
    vm.create()
    assert labs.stop(vm, "t-missing") == ["vblab-t-run"]
    assert not vm.isActive() and labs.stop("t-run") == []
    with pytest.raises(labs.NotLabOwned):
        labs.stop(conn.lookupByName("web01"))     # running, and not the labs'
    assert conn.lookupByName("web01").isActive()


def test_remove_snapshots_deletes_a_whole_tree_of_a_lab_vm_only(conn):
    vm = labs.create_lab_vm("t-snap", lab="T")
    xml = "<domainsnapshot><name>{}</name></domainsnapshot>"
    for name in ("a", "b", "c"):
        vm.snapshotCreateXML(xml.format(name), 0)
    vm.revertToSnapshot(vm.snapshotLookupByName("a"), 0)
    vm.snapshotCreateXML(xml.format("d"), 0)
    assert sorted(labs.remove_snapshots(vm)) == ["a", "b", "c", "d"]
    assert vm.snapshotNum() == 0
    with pytest.raises(labs.NotLabOwned):
        labs.remove_snapshots(conn.lookupByName("web01"))
    assert conn.lookupByName("web01").snapshotNum() >= 3


def test_a_libvirt_error_in_a_notebook_ends_with_the_advice():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from virtbook import labs\nconn = labs.connect()\n"
                                          "vm = labs.create_lab_vm('t-advice', lab='T')\nvm.create()"),
                nbformat.v4.new_code_cell("vm.create()"),
                nbformat.v4.new_code_cell("print(labs.cleanup(conn))")]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(ROOT / "labs")}}).execute()
    error = next(o for o in nb.cells[1].outputs if o.output_type == "error")
    assert error.ename == "libvirtError" and "already running" in error.evalue
    assert error.traceback[-1] == ("What to do (labs.explain): The VM is already running, so it "
                                   "cannot be started again: check dom.isActive() first, or stop "
                                   "it with dom.destroy() before starting it.")
    assert "removed" in nb.cells[2].outputs[0].text


def test_outside_ipython_nothing_is_installed():
    assert labs.connection.show_advice(libvirt) is False
