"""nbgrader and an unprepared lab: `nbgrader generate_assignment` refuses a lab without the cell
metadata virtbook.booktools.teaching.nbgrader_source adds, and with --no-metadata it leaks the worked
answers. That a prepared lab becomes a student version (the student edition, cell by cell), and
the rest of nbgrader's cycle, is tested in tests/test_grading.py.

Each test builds a throw-away nbgrader course in a temporary folder (source/<assignment>/ holding
the notebook and its fixture) and runs nbgrader there with this environment's Python. nbgrader
needs no network for this. The tests skip with a reason where nbgrader is not installed; under CI
(CI=true) a missing nbgrader fails them, since requirements.txt pins it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from booklib import ROOT
from conftest import in_ci
from virtbook.booktools import teaching

LABS = sorted((ROOT / "labs").glob("0*.ipynb"))


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


def released(course: Path, assignment: str, lab: Path) -> dict:
    path = course / "release" / assignment / lab.name
    assert path.is_file(), f"no release version at release/{assignment}/{lab.name}"
    return json.loads(path.read_text(encoding="utf-8"))


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
