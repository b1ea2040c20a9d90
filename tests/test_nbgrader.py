"""nbgrader accepts the labs: `nbgrader generate_assignment` turns each lab, prepared with
virtbook.teaching.nbgrader_source, into a student version with nbgrader's stubs and no solution
text; an unprepared copy is refused, and with --no-metadata it leaks the worked answers.

Each test builds a throw-away nbgrader course in a temporary folder (source/<assignment>/ holding
the notebook and its fixture) and runs nbgrader there with this environment's Python. nbgrader
needs no network for this. The tests skip with a reason where nbgrader is not installed; under CI
(CI=true) a missing nbgrader fails them, since requirements.txt pins it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from booklib import ROOT
from conftest import in_ci
from virtbook import teaching

LABS = sorted((ROOT / "labs").glob("0*.ipynb"))
SOLUTION = re.compile(r"^(\s*)#{3}\s*BEGIN SOLUTION\s*$(.*?)^\s*#{3}\s*END SOLUTION\s*$", re.M | re.S)
#: Solution lines shorter than this (``pass``, ``)``) may also appear outside any solution.
MIN_LEAK_CHARS = 16


@pytest.fixture(scope="module", autouse=True)
def nbgrader_installed():
    if importlib.util.find_spec("nbgrader") is None:
        if in_ci():
            pytest.fail("nbgrader is pinned in requirements.txt but not installed: run `make setup`")
        pytest.skip("nbgrader is not installed here (it is pinned in requirements.txt; `make setup`)")


def course_with(tmp_path: Path, lab: Path, assignment: str, prepare: bool) -> Path:
    """A course folder whose source/<assignment>/ holds the lab and the labs' fixture files."""
    course = tmp_path / "course"
    folder = course / "source" / assignment
    folder.mkdir(parents=True)
    nb = json.loads(lab.read_text(encoding="utf-8"))
    if prepare:
        nb = teaching.nbgrader_source(nb, assignment)
    (folder / lab.name).write_text(json.dumps(nb, indent=1), encoding="utf-8")
    for fixture in lab.parent.glob("*.xml"):
        shutil.copy2(fixture, folder / fixture.name)
    return course


def generate(course: Path, assignment: str, *flags: str) -> subprocess.CompletedProcess:
    """Run `nbgrader generate_assignment` in the course with this interpreter, isolated from any
    user configuration. nbgrader calls the `alembic` program of its environment, so that
    environment's bin folder goes first on PATH."""
    env = {**os.environ,
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
           "JUPYTER_CONFIG_DIR": str(course / ".jupyter"),
           "JUPYTER_DATA_DIR": str(course / ".jupyter-data")}
    env.pop("VIRTBOOK_URI", None)
    return subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                           "--force", *flags], cwd=course, env=env, capture_output=True,
                          text=True, timeout=300)


def solution_lines(nb: dict) -> list[str]:
    """Substantial lines inside solution regions that appear nowhere else in the notebook."""
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in nb["cells"]]
    outside = "\n".join(SOLUTION.sub("", s) for s in sources)
    lines = {line.strip() for s in sources for m in SOLUTION.finditer(s)
             for line in m.group(2).splitlines()}
    return sorted(line for line in lines if len(line) >= MIN_LEAK_CHARS and line not in outside)


def released(course: Path, assignment: str, lab: Path) -> dict:
    path = course / "release" / assignment / lab.name
    assert path.is_file(), f"no release version at release/{assignment}/{lab.name}"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("lab", LABS, ids=[p.name for p in LABS])
def test_a_prepared_lab_becomes_a_student_version(lab, tmp_path):
    assignment = "l" + lab.name[1]
    course = course_with(tmp_path, lab, assignment, prepare=True)
    run = generate(course, assignment)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    student = released(course, assignment, lab)
    original = json.loads(lab.read_text(encoding="utf-8"))
    tasks = teaching.lab_tasks([{**c, "source": "".join(c["source"])} for c in original["cells"]])
    text = lambda cell: "".join(cell["source"])  # noqa: E731
    by_id = {c["metadata"]["nbgrader"]["grade_id"]: c for c in student["cells"]
             if "nbgrader" in c.get("metadata", {})}
    for task in tasks:
        cell = by_id[f"{assignment}-task-{task.number}"]
        assert "raise NotImplementedError()" in text(cell) and "# YOUR CODE HERE" in text(cell)
        assert "BEGIN SOLUTION" not in text(cell) and "END SOLUTION" not in text(cell)
        check = by_id[f"{assignment}-check-{task.number}"]
        assert check["metadata"]["nbgrader"]["locked"] and len(check["metadata"]["nbgrader"]["checksum"]) == 32
        assert text(check) == "".join(original["cells"][task.check_cell]["source"])
    everything = json.dumps(student)
    leaked = [line for line in solution_lines(original) if json.dumps(line)[1:-1] in everything]
    assert not leaked, f"solution text in the student version: {leaked[:3]}"
    assert "{solution}" not in everything, "a worked answer reached the student version"
    assert all(not c.get("outputs") for c in student["cells"] if c["cell_type"] == "code")
    for fixture in lab.parent.glob("*.xml"):
        assert (course / "release" / assignment / fixture.name).is_file()


def test_an_unprepared_lab_is_refused_and_no_metadata_leaks_the_worked_answers(tmp_path):
    lab = LABS[0]
    course = course_with(tmp_path, lab, "l1", prepare=False)
    refused = generate(course, "l1")
    assert "Solution region detected in a non-solution cell" in refused.stdout + refused.stderr
    assert not (course / "release" / "l1" / lab.name).exists()
    lax = generate(course, "l1", "--no-metadata")
    assert lax.returncode == 0, lax.stdout[-2000:] + lax.stderr[-3000:]
    student = released(course, "l1", lab)
    sources = ["".join(c["source"]) for c in student["cells"]]
    assert any("raise NotImplementedError()" in s for s in sources)
    assert not any("BEGIN SOLUTION" in s for s in sources)
    assert any("{solution}" in s for s in sources), (
        "nbgrader now drops {solution} blocks itself: the guide's warning about them is out of date")
