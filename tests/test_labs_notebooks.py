"""The lab notebooks follow the lab conventions, and on the test driver they run twice in a row,
survive an interruption, and only ever change what they created.

Static checks read the notebooks: each task is an exercise, a code cell with nbgrader solution
regions, and a check cell of asserts (one condition each, with a message; a first assert that
names the task when it has not run; hidden tests; one printed line when all pass); the student edition (regions replaced by
``raise NotImplementedError``) still parses; no cell calls defineXML directly. The dynamic check
runs each lab in one kernel three times (complete, interrupted half way, complete) with libvirt's
mutating methods wrapped to log their targets, then inspects the log.
"""
from __future__ import annotations

import ast
import json
import re

import nbformat
import pytest
from nbclient import NotebookClient

from booklib import ROOT, code_cells, load_notebook, load_tool, source

make_student = load_tool("make_student")

pytest.importorskip("libvirt")

LABS = sorted((ROOT / "labs").glob("0*.ipynb"))
#: The labs that drive libvirt: all six (L5 and L6 in their last tasks, which check the simulators
#: against a real hypervisor).
LIBVIRT_LABS = [p for p in LABS if "from virtbook import labs" in p.read_text(encoding="utf-8")]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def markdown(nb: dict) -> str:
    return "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")


def task_cells(nb: dict) -> list[int]:
    """Indexes (in nb['cells']) of the code cells that hold a solution region."""
    return [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and BEGIN in source(c)]


@pytest.mark.parametrize("path", LABS, ids=[p.name for p in LABS])
def test_lab_has_every_part_a_lab_needs(path):
    nb = load_notebook(path)
    text = markdown(nb)
    assert re.match(r"# Lab L\d: \S", source(nb["cells"][0]))
    for title in ("Learning objectives", "Prerequisites", "Time and place"):
        assert f"{{admonition}} {title}" in text, title
    assert re.search(r"About \d+ minutes", text), "time estimate"
    for heading in ("## Summary", "## Further reading"):
        assert heading in text, heading
    if path in LIBVIRT_LABS:
        assert "test driver" in text and "VIRTBOOK_URI" in text, "what runs where"
        assert "## Clean up" in text
    exercises = len(re.findall(r"[`:]{3,}\{exercise\}", text))
    assert exercises >= 3
    assert len(re.findall(r"[`:]{3,}\{solution\}", text)) == exercises
    assert "solution-start" not in text and "solution-end" not in text
    assert len(task_cells(nb)) == exercises, "one task cell per exercise"


CHECK_HEAD = re.compile(r"^# Check your work: Task (\d+) ")
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def _one_condition(test: ast.expr) -> bool:
    """An assert's test is one condition: not ``a and b`` (split it into two asserts)."""
    return not (isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And))


@pytest.mark.parametrize("path", LABS, ids=[p.name for p in LABS])
def test_each_task_has_solution_regions_then_a_check_cell_of_asserts(path):
    """Each task is followed by its check: asserts that test one condition each and say what
    they expected and found, a first assert that names the task when the task has not run,
    hidden tests for the graders, and one printed line when everything passed."""
    nb = load_notebook(path)
    cells = nb["cells"]
    for number, i in enumerate(task_cells(nb), start=1):
        markers = [line.strip() for line in source(cells[i]).splitlines()
                   if line.strip() in (BEGIN, END)]
        assert markers and markers == [BEGIN, END] * (len(markers) // 2), "balanced regions"
        follow = next(c for c in cells[i + 1:] if c["cell_type"] == "code")
        check = source(follow)
        head = CHECK_HEAD.match(check)
        assert head and int(head.group(1)) == number, f"cell after task {number} is not its check"
        lines = check.splitlines()
        assert lines.count(HIDDEN_BEGIN) == 1 and lines.count(HIDDEN_END) == 1, (
            f"task {number}: the check has one hidden-test region")
        assert lines.index(HIDDEN_BEGIN) < lines.index(HIDDEN_END) == len(lines) - 2
        tree = ast.parse(check)
        *body, last = tree.body
        assert ast.unparse(last) == f"print('Task {number}: every check passed.')", ast.unparse(last)
        guard = body[0]
        assert isinstance(guard, ast.Assert) and "globals()" in ast.unparse(guard.test), (
            f"task {number}: the first assert checks that the task has run")
        assert f"Task {number} has not run" in ast.literal_eval(guard.msg)
        for stmt in body:
            assert isinstance(stmt, (ast.Assert, ast.Assign, ast.For, ast.If)), ast.dump(stmt)[:80]
            if isinstance(stmt, (ast.For, ast.If)):
                assert any(isinstance(n, ast.Assert) for n in ast.walk(stmt))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                assert node.msg is not None, f"task {number}: an assert without a message: " \
                                             f"{ast.unparse(node)[:80]}"
                assert _one_condition(node.test), f"task {number}: two conditions in one " \
                                                  f"assert: {ast.unparse(node.test)[:80]}"
        printed = "".join(source({"source": o.get("text", "")}) for o in follow.get("outputs", []))
        assert printed == f"Task {number}: every check passed.\n", (
            f"task {number}: a passing check prints one line; stored {printed!r}")


@pytest.mark.parametrize("path", LABS, ids=[p.name for p in LABS])
def test_a_check_run_before_its_task_names_the_task(path, monkeypatch):
    """A student who runs a check cell before its task cell reads which task to run first, not
    ``NameError: name 'host' is not defined``: after the setup cells, each check alone fails
    with an AssertionError that names its task."""
    monkeypatch.delenv("VIRTBOOK_URI", raising=False)
    nb = nbformat.read(path, as_version=4)
    tasks = task_cells(load_notebook(path))
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells[:tasks[0]]):
            if cell.cell_type == "code":
                client.execute_cell(cell, i)
        for number, i in enumerate(tasks, start=1):
            check = next(j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code")
            cell = nbformat.v4.new_code_cell(nb.cells[check].source)
            try:
                client.execute_cell(cell, check)
            except Exception:  # the error output is what is checked
                pass
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert errors, f"the check of Task {number} passed without its task"
            assert errors[0].ename == "AssertionError", (errors[0].ename, errors[0].evalue)
            assert f"Task {number} has not run" in errors[0].evalue, errors[0].evalue
        _run(client, "print(labs.cleanup(conn))" if path in LIBVIRT_LABS else "pass")


#: What a task cell calls when it creates or starts libvirt objects and undoes its own earlier
#: attempt first.
START_OVER = re.compile(r"labs\.(start_over|stop|remove_snapshots|create_lab_vm)\(")


@pytest.mark.parametrize("path", LIBVIRT_LABS, ids=[p.name for p in LIBVIRT_LABS])
def test_tasks_that_make_libvirt_objects_run_again_after_an_attempt(path, monkeypatch):
    """A task cell, or a task's set-up cell (L5 Task 6, L6 Task 5), that creates or starts VMs,
    volumes or snapshots can simply be run again (after a failed attempt, or twice by mistake):
    run twice in a row, its check still passes. So can a task cell that changes a VM the set-up
    made (L5 Task 6 caps a guest; a rerun lifts the cap first)."""
    monkeypatch.delenv("VIRTBOOK_URI", raising=False)
    nb = nbformat.read(path, as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    tasks = task_cells(load_notebook(path))
    twice = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and i != first
             and (START_OVER.search(c.source) or (i in tasks and "labs.set_cpu_limits(" in c.source))]
    assert twice, f"{path.name}: no task makes libvirt objects"
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, i)       # raises if a cell (a check included) fails
            if i in twice:
                client.execute_cell(cell, i)


@pytest.mark.parametrize("path", LABS, ids=[p.name for p in LABS])
def test_student_edition_still_parses(path):
    student, _ = make_student.student_notebook(nbformat.read(path, as_version=4), path.name)
    for cell in student.cells:
        if cell.cell_type == "code":
            ast.parse(cell.source)


@pytest.mark.parametrize("path", LABS, ids=[p.name for p in LABS])
def test_notebooks_define_vms_only_through_the_guarded_helper(path):
    for cell in code_cells(load_notebook(path)):
        assert not re.search(r"\.defineXML\(", source(cell)), "use labs.define(), which refuses <uuid>"


@pytest.mark.parametrize("path", LIBVIRT_LABS, ids=[p.name for p in LIBVIRT_LABS])
def test_labs_start_by_cleaning_up_and_end_by_proving_nothing_else_changed(path):
    cells = list(code_cells(load_notebook(path)))
    first, last = source(cells[0]), source(cells[-1])
    assert "labs.connect()" in first and "labs.cleanup(" in first and "labs.fingerprint(" in first
    assert "labs.cleanup(" in last and "labs.fingerprint(conn) == before" in last


SPY = r'''
import json
import libvirt
_VB_LOG = {"define": [], "mutate": []}

def _vb_wrap(cls, method, who):
    original = getattr(cls, method)
    def wrapper(self, *args, **kwargs):
        _VB_LOG["mutate"].append([cls.__name__, method, who(self)])
        return original(self, *args, **kwargs)
    setattr(cls, method, wrapper)

_vb_define = libvirt.virConnect.defineXML
def _vb_logged_define(self, xml, *args):
    _VB_LOG["define"].append(xml)
    return _vb_define(self, xml, *args)
libvirt.virConnect.defineXML = _vb_logged_define
for _m in ("create", "createWithFlags", "destroy", "destroyFlags", "undefine", "undefineFlags",
           "revertToSnapshot", "setMemory", "setMemoryFlags", "setVcpus", "setVcpusFlags", "pinVcpu",
           "pinVcpuFlags", "snapshotCreateXML", "setSchedulerParameters", "setSchedulerParametersFlags",
           "managedSave", "shutdown", "reboot", "reset", "suspend", "resume", "setMetadata"):
    _vb_wrap(libvirt.virDomain, _m, lambda d: d.name())
_vb_wrap(libvirt.virDomainSnapshot, "delete", lambda s: s.getDomain().name())
_vb_wrap(libvirt.virStorageVol, "delete", lambda v: v.name())
for _m in ("createXML", "createXMLFrom", "destroy", "delete", "undefine", "build", "create"):
    _vb_wrap(libvirt.virStoragePool, _m, lambda p: p.name())
'''


def _run(client, cell_source: str, index: int = 0):
    return client.execute_cell(nbformat.v4.new_code_cell(cell_source), index)


@pytest.mark.parametrize("path", LABS, ids=[p.name for p in LABS])
def test_lab_runs_twice_and_after_an_interruption_touching_only_lab_objects(path, monkeypatch):
    monkeypatch.delenv("VIRTBOOK_URI", raising=False)
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        _run(client, SPY)
        for run in (code, code[: len(code) // 2], code):     # complete, interrupted, complete
            for i, cell in enumerate(run):
                client.execute_cell(cell, i)
        out = _run(client, "print(json.dumps(_VB_LOG))")
    log = json.loads("".join(o["text"] for o in out["outputs"] if o.get("name") == "stdout"))
    if path not in LIBVIRT_LABS:
        assert log == {"define": [], "mutate": []}, "a simulator lab touches no hypervisor"
        return
    assert log["define"], "the lab defines at least one VM"
    assert all("<uuid" not in xml for xml in log["define"])
    assert log["mutate"], "the spy saw the lab change something"
    for cls, method, target in log["mutate"]:
        if cls == "virStoragePool":
            assert target == "vblab-pool", (method, target)
        else:
            assert target.startswith("vblab-"), (cls, method, target)


def test_every_lab_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for path in LABS:
        assert f"- file: labs/{path.stem}" in toc
    assert toc.index("labs/index") < toc.index(f"labs/{LABS[0].stem}")


def test_fleet_file_is_valid_for_the_test_driver():
    libvirt = pytest.importorskip("libvirt")
    from virtbook import labs

    conn = labs.connect(quiet=True)
    doms = {d.name(): d for d in conn.listAllDomains()}
    states = {name: d.info()[0] for name, d in doms.items()}
    assert libvirt.VIR_DOMAIN_RUNNING in states.values() and libvirt.VIR_DOMAIN_SHUTOFF in states.values()
    assert doms["web01"].snapshotNum() >= 3
    pool = conn.storagePoolLookupByName("images")
    assert len(pool.listAllVolumes()) >= 3
    assert not any(labs.is_lab_owned(d) for d in doms.values())
    assert all(not name.startswith(labs.PREFIX) for name in doms)
    conn.close()
