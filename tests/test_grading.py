"""Instructors grade the labs end to end, with nbgrader and with otter-grader (issue 18).

For every lab, in temporary folders and on the test driver:

- **nbgrader**: an nbgrader course made by ``tools/make_student.py --nbgrader-course`` (the lab
  with nbgrader's metadata, and a ``nbgrader_config.py`` that puts the book's task stubs into
  ``generate_assignment``); ``nbgrader generate_assignment``; three submissions made from the
  released notebook: the reference solution (each task cell given the solution's code), the
  untouched release, and one with only Task 1 solved; ``nbgrader autograde``; the scores read from
  the gradebook; ``nbgrader generate_feedback`` for the partial submission;
- **otter-grader**: the lab's otter master notebook made by ``tools/make_otter.py`` from the same
  markers; ``otter assign``; the same three submissions made from otter's handout and its
  solution notebook; graded with ``otter.api.grade_submission``, otter's documented local grading
  (``otter grade`` itself needs Docker).

Both must agree: full marks for the reference, zero for the untouched lab, exactly Task 1's points
for the partial one, every task worth the ``autograded`` points of the lab's metadata. The feedback
on the partial submission names the failing tasks in the labs' own words. Lab L1 gets two more
submissions under each tool: one whose check cells (nbgrader) or tests (otter) were edited to pass,
which must still score zero, and one that passes Task 3's visible asserts with a wrong answer,
which the hidden tests must catch.

``nbgrader validate``, what JupyterLab's Validate button runs, is driven on the student edition
(``tools/make_student.py``): it must list every task as failing on each unsolved lab, succeed on
solved Lab L1, and notice edited checks.

The twelve grading pipelines (six labs, two tools) run one at a time (threads would share CPython 3.11's ast.parse, python/cpython#106905), each in its own course
folder, with all of a lab's submissions in one ``autograde`` (nbgrader) or one Python process
(otter); the whole module takes about as long as running every lab a few times. Under
pytest-xdist its tests form one group (``xdist_group("grading")``), so they share the graded
fixture on one worker.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from booklib import ROOT, load_tool
from conftest import in_ci
from virtbook.booktools import teaching

LABS = sorted((ROOT / "labs").glob("0*.ipynb"))
KINDS = ("reference", "untouched", "first-task")
#: Submissions only Lab L1 gets: checks edited to pass, and a wrong Task 3 that passes the
#: visible asserts (a missing <driver> read as qcow2 instead of raw; the hidden test catches it).
L1_EXTRA = ("edited-checks", "visible-only")
WRONG_TASK3 = ('driver.get("type") if driver is not None else "raw"',
               'driver.get("type") if driver is not None else "qcow2"')

pytestmark = [pytest.mark.skipif(
    importlib.util.find_spec("nbgrader") is None or importlib.util.find_spec("otter") is None,
    reason="nbgrader and otter-grader are pinned in requirements.txt: run `make setup`")]
if importlib.util.find_spec("xdist") is not None:
    # Under pytest-xdist (--dist loadgroup) every test here runs on one worker, so the module's
    # fixtures grade each lab once, while other files' tests run on the other workers.
    pytestmark.append(pytest.mark.xdist_group("grading"))


@pytest.fixture(scope="module", autouse=True)
def graders_installed():
    for name in ("nbgrader", "otter"):
        if importlib.util.find_spec(name) is None and in_ci():
            pytest.fail(f"{name} is pinned in requirements.txt but not installed: run `make setup`")


make_student = load_tool("make_student")
make_otter = load_tool("make_otter")


def env(home: Path) -> dict:
    """This environment's programs first on PATH (nbgrader calls its `alembic`), no user
    configuration, and the test driver (VIRTBOOK_URI unset)."""
    out = {**os.environ,
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
           "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_DATA_DIR": str(home / ".jupyter-data")}
    out.pop("VIRTBOOK_URI", None)
    return out


def run(args: list[str], cwd: Path, home: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env(home), capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args[:4])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-4000:]}"
    return done


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


def text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def solution_code(source: str) -> str:
    """A task cell as a student who solved it would leave it: the solution, without markers."""
    return "\n".join(line for line in source.splitlines()
                     if not re.match(r"^\s*#{3}\s*(BEGIN|END) SOLUTION\s*$", line))


def lab_points(lab: Path) -> list[int]:
    """The autograded points of each task, from the lab's metadata."""
    cells = [{**c, "source": text(c)} for c in load(lab)["cells"]]
    return [t.autograded for t in teaching.lab_tasks(cells)]


@dataclass
class Graded:
    """One lab graded by one tool: scores per submission kind, and what the tool said."""

    scores: dict[str, dict[int, float]] = field(default_factory=dict)   # kind -> task -> score
    totals: dict[str, tuple[float, float]] = field(default_factory=dict)  # kind -> (score, max)
    feedback: str = ""
    seconds: float = 0.0
    release: dict = field(default_factory=dict)   # nbgrader: the released (student) notebook


# --- nbgrader -------------------------------------------------------------------------------------

def nbgrader_submission(kind: str, release: dict, source: dict, assignment: str) -> dict:
    nb = copy.deepcopy(release)
    solutions = {c["metadata"]["nbgrader"]["grade_id"]: text(c) for c in source["cells"]
                 if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id", "")
        task = re.match(rf"^{assignment}-task-(\d+)$", grade_id)
        if task and (kind in ("reference", "visible-only")
                     or (kind == "first-task" and task.group(1) == "1")):
            cell["source"] = solution_code(solutions[grade_id])
            if kind == "visible-only" and task.group(1) == "3":
                assert WRONG_TASK3[0] in cell["source"]
                cell["source"] = cell["source"].replace(*WRONG_TASK3)
        if kind == "edited-checks" and meta.get("grade"):
            number = grade_id.rsplit("-", 1)[-1]
            cell["source"] = f'print("Task {number}: every check passed.")'
    return nb


def grade_with_nbgrader(lab: Path, root: Path) -> Graded:
    start = time.monotonic()
    assignment = make_student.assignment_id(lab.name)
    course = root / "nbgrader" / assignment
    make_student.nbgrader_course([lab], course, course_id="test")
    run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
        course, course)
    release = load(course / "release" / assignment / lab.name)
    source = load(course / "source" / assignment / lab.name)
    kinds = KINDS + (L1_EXTRA if assignment == "l1" else ())
    for kind in kinds:
        save(course / "submitted" / kind / assignment / lab.name,
             nbgrader_submission(kind, release, source, assignment))
    run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--force"], course, course)
    run([sys.executable, "-m", "nbgrader", "generate_feedback", assignment,
         "--student=first-task", "--force"], course, course)
    graded = Graded(feedback=(course / "feedback" / "first-task" / assignment /
                              lab.with_suffix(".html").name).read_text(encoding="utf-8"),
                    release=release)
    for fixture in lab.parent.glob("*.xml"):
        assert (course / "release" / assignment / fixture.name).is_file(), fixture.name
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for kind in kinds:
            submission = gb.find_submission(assignment, kind)
            graded.totals[kind] = (submission.score, submission.max_score)
            notebook = gb.find_submission_notebook(lab.stem, assignment, kind)
            graded.scores[kind] = {int(g.name.rsplit("-", 1)[1]): g.score for g in notebook.grades}
    graded.seconds = time.monotonic() - start
    return graded


# --- otter ------------------------------------------------------------------------------------------

OTTER_GRADE = r"""
import json, sys
from otter.api import grade_submission
zip_path, out = sys.argv[1], {}
for kind, path in json.loads(sys.argv[2]).items():
    r = grade_submission(path, zip_path, quiet=True)
    out[kind] = {"total": r.total, "possible": r.possible,
                 "scores": {name: res.score for name, res in r.results.items()},
                 "report": r.summary(public_only=True) if kind == "first-task" else ""}
print("OTTER-RESULTS " + json.dumps(out))
"""


def otter_submission(kind: str, student: dict, solved: dict) -> dict:
    nb = copy.deepcopy(student)
    answers = [i for i, c in enumerate(nb["cells"])
               if "otter_answer_cell" in c["metadata"].get("tags", [])]
    solutions = [i for i, c in enumerate(solved["cells"])
                 if "otter_assign_solution_cell" in c["metadata"].get("tags", [])]
    assert len(answers) == len(solutions) > 0
    for number, (i, j) in enumerate(zip(answers, solutions), start=1):
        if kind in ("reference", "visible-only") or (kind == "first-task" and number == 1):
            nb["cells"][i]["source"] = text(solved["cells"][j])
        if kind == "visible-only" and number == 3:
            assert WRONG_TASK3[0] in text(nb["cells"][i])
            nb["cells"][i]["source"] = text(nb["cells"][i]).replace(*WRONG_TASK3)
    if kind == "edited-checks":
        for test in nb["metadata"]["otter"]["tests"].values():
            for suite in test["suites"]:
                for case in suite["cases"]:
                    case["code"] = ">>> True\nTrue"
    return nb


def grade_with_otter(lab: Path, root: Path) -> Graded:
    start = time.monotonic()
    assignment = make_student.assignment_id(lab.name)
    folder = make_otter.build([lab], root / "otter")[assignment]
    student = load(folder / "dist" / "student" / lab.name)
    solved = load(folder / "dist" / "autograder" / lab.name)
    kinds = KINDS + (L1_EXTRA if assignment == "l1" else ())
    paths = {}
    for kind in kinds:
        path = folder / "submissions" / kind / lab.name
        save(path, otter_submission(kind, student, solved))
        paths[kind] = str(path)
    done = run([sys.executable, "-c", OTTER_GRADE, str(make_otter.autograder_zip(folder)),
                json.dumps(paths)], folder, folder)
    line = next(x for x in done.stdout.splitlines() if x.startswith("OTTER-RESULTS "))
    results = json.loads(line.removeprefix("OTTER-RESULTS "))
    graded = Graded(feedback=results["first-task"]["report"])
    for kind, r in results.items():
        graded.totals[kind] = (r["total"], r["possible"])
        graded.scores[kind] = {int(name.removeprefix("task")): score
                               for name, score in r["scores"].items()}
    graded.seconds = time.monotonic() - start
    return graded


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[tuple[str, str], Graded]:
    """{(tool, lab file name): Graded}: every lab graded by both tools, two pipelines at a time."""
    root = tmp_path_factory.mktemp("grading")
    jobs = {(tool, lab.name): (fn, lab) for lab in LABS
            for tool, fn in (("nbgrader", grade_with_nbgrader), ("otter", grade_with_otter))}
    # One at a time: CPython 3.11's ast.parse is not safe in threads (python/cpython#106905,
    # 'AST constructor recursion depth mismatch' seen here), and make test's other worker keeps
    # the second CPU busy anyway.
    with ThreadPoolExecutor(max_workers=1) as pool:
        futures = {key: pool.submit(fn, lab, root) for key, (fn, lab) in jobs.items()}
        out = {key: future.result() for key, future in futures.items()}
    for (tool, name), g in sorted(out.items()):
        print(f"{tool:>8} {name}: " + ", ".join(f"{k} {s:g}/{m:g}" for k, (s, m) in g.totals.items())
              + f" ({g.seconds:.0f} s)")
    return out


TOOLS = ("nbgrader", "otter")
CASES = [(tool, lab) for lab in LABS for tool in TOOLS]
IDS = [f"{tool}-{lab.stem[:2]}" for tool, lab in CASES]


@pytest.mark.parametrize("tool, lab", CASES, ids=IDS)
def test_reference_gets_full_marks_untouched_zero_and_first_task_its_points(graded, tool, lab):
    points = lab_points(lab)
    assert points and all(p is not None and p > 0 for p in points), \
        f"{lab.name}: every task needs its autograded points in the lab's metadata"
    g = graded[(tool, lab.name)]
    full = float(sum(points))
    assert g.totals["reference"] == (full, full), g.scores["reference"]
    assert g.scores["reference"] == {n: float(p) for n, p in enumerate(points, start=1)}
    assert g.totals["untouched"] == (0.0, full), g.scores["untouched"]
    assert g.totals["first-task"] == (float(points[0]), full), g.scores["first-task"]
    assert g.scores["first-task"][1] == points[0]


@pytest.mark.parametrize("tool, lab", CASES, ids=IDS)
def test_feedback_on_the_partial_submission_names_the_failing_tasks(graded, tool, lab):
    feedback = graded[(tool, lab.name)].feedback
    if tool == "nbgrader":  # an HTML page
        feedback = re.sub(r"<[^>]+>", " ", feedback)
    feedback = re.sub(r"\s+", " ", feedback)
    for number in range(2, len(lab_points(lab)) + 1):
        assert f"Task {number} has not run" in feedback or f"Task {number} (" in feedback, \
            f"{tool} feedback on {lab.name} does not name Task {number}"
    if tool == "nbgrader":  # the feedback shows the whole notebook, with the task's own error
        assert "is not done yet: in the Task 2 cell" in feedback


@pytest.mark.parametrize("tool", TOOLS)
def test_editing_the_checks_earns_nothing_and_hidden_tests_are_graded(graded, tool):
    """nbgrader puts its locked test cells back before autograding; otter grades with the tests
    in its autograder zip, not the ones in the notebook. Both run the hidden tests, which only
    the graders hold: a Task 3 that passes the visible asserts with a wrong answer loses them."""
    g = graded[(tool, LABS[0].name)]
    points = lab_points(LABS[0])
    assert g.totals["edited-checks"] == (0.0, float(sum(points)))
    assert g.totals["visible-only"] == (float(sum(points) - points[2]), float(sum(points)))
    assert g.scores["visible-only"][3] == 0


SOLUTION = re.compile(r"^(\s*)#{3}\s*BEGIN SOLUTION\s*$(.*?)^\s*#{3}\s*END SOLUTION\s*$", re.M | re.S)


@pytest.mark.parametrize("lab", LABS, ids=[p.stem[:2] for p in LABS])
def test_nbgraders_release_is_the_student_edition(graded, lab, edition):
    """What `nbgrader generate_assignment` releases in a course made by make_student is, cell by
    cell, the student edition `make student` writes: the same preprocessors made both. No
    solution text, worked answer, hidden test or output reaches students."""
    release = graded[("nbgrader", lab.name)].release
    student = load(edition / lab.name)
    assert [text(c) for c in release["cells"]] == [text(c) for c in student["cells"]]
    original = load(lab)
    sources = [text(c) for c in original["cells"]]
    outside = "\n".join(SOLUTION.sub("", s) for s in sources)
    secret = {line.strip() for s in sources for m in SOLUTION.finditer(s)
              for line in m.group(2).splitlines()}
    secret |= {line.strip() for s in sources for line in s.split("### BEGIN HIDDEN TESTS")[-1]
               .split("### END HIDDEN TESTS")[0].splitlines() if "### BEGIN HIDDEN TESTS" in s}
    everything = json.dumps(release)
    leaked = [line for line in secret if len(line) >= 16 and line not in outside
              and json.dumps(line)[1:-1] in everything]
    assert not leaked, f"solution or hidden-test text in the release: {leaked[:3]}"
    assert "{solution}" not in everything, "a worked answer reached the release"
    assert all(not c.get("outputs") for c in release["cells"] if c["cell_type"] == "code")
    for number, title in enumerate([t.title for t in teaching.lab_tasks(
            [{**c, "source": text(c)} for c in original["cells"]])], start=1):
        code = re.sub(r'"\s*\n\s*"', "", "\n".join(text(c) for c in release["cells"]))
        assert f'"Task {number} ({title}) is not done yet' in code, f"Task {number}'s stub"


def test_points_match_the_instructor_guides_rubric():
    """Each lab's rubric in the instructor guide gives every task the points of the lab's
    metadata, of which "Check passes (N)" are the autograded ones, and a clean run its own."""
    guide = "\n".join(text(c) for c in load(ROOT / "instructor.ipynb")["cells"]
                      if c["cell_type"] == "markdown")
    for lab in LABS:
        nb = load(lab)
        number = f"L{int(lab.name[:2])}"
        section = guide.split(f"### Lab {number}:", 1)[1].split("\n### ", 1)[0]
        rows = re.findall(r"^\| \{ref\}`Task (\d+):[^|]*\| (\d+) \| Check passes \((\d+)\)", section, re.M)
        cells = [{**c, "source": text(c)} for c in nb["cells"]]
        tasks = teaching.lab_tasks(cells)
        assert [(int(n), int(p), int(a)) for n, p, a in rows] == \
            [(t.number, t.points, t.autograded) for t in tasks], number
        clean = nb["metadata"].get(teaching.LAB_METADATA, {}).get("clean_run_points")
        clean_row = re.search(r"^\| Clean run \| (\d+) \|", section, re.M)
        assert (int(clean_row.group(1)) if clean_row else None) == clean, number
        total = re.search(r"^\| \*\*Total\*\* \| \*\*(\d+)\*\* \|", section, re.M)
        assert int(total.group(1)) == sum(t.points for t in tasks) + (clean or 0) == 20, number


# --- Validate ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("edition") / "student"
    make_student.build(LABS, out)
    return out / "labs"


def validate(path: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "nbgrader", "validate", path.name], cwd=path.parent,
                          env=env(path.parent), capture_output=True, text=True, timeout=600)
    return done.stdout + done.stderr


def solved_edition(student: dict, lab: Path) -> dict:
    """The student edition with every task cell completed as the reference solution does."""
    full = {c["metadata"]["nbgrader"]["grade_id"]: text(c)
            for c in make_student.course_notebook(__import__("nbformat").read(lab, as_version=4),
                                                  lab.name, make_student.assignment_id(lab.name))["cells"]
            if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    nb = copy.deepcopy(student)
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in full:
            cell["source"] = solution_code(full[grade_id])
    return nb


@pytest.mark.parametrize("lab", LABS, ids=[p.stem[:2] for p in LABS])
def test_validate_reports_every_unsolved_task(edition, lab):
    tasks = len(lab_points(lab))
    unsolved = validate(edition / lab.name)
    assert f"VALIDATION FAILED ON {tasks} CELL(S)" in unsolved, unsolved[-2000:]
    assert "Success!" not in unsolved
    for number in range(1, tasks + 1):
        assert f"AssertionError: Task {number} has not run" in unsolved \
            or f"NotImplementedError: Task {number} (" in unsolved, f"Task {number} not named"


def test_validate_passes_a_solved_lab(edition, tmp_path):
    """Validate on Lab L1 solved as the reference does: success. (For every lab, the same checks
    passing on the reference solution is what full marks under nbgrader's autograde, above,
    prove; one lab here keeps the module's time down.)"""
    lab = LABS[0]
    solved = tmp_path / lab.name
    save(solved, solved_edition(load(edition / lab.name), lab))
    for fixture in lab.parent.glob("*.xml"):
        (tmp_path / fixture.name).write_bytes(fixture.read_bytes())
    passed = validate(solved)
    assert "Success! Your notebook passes all the tests." in passed, passed[-3000:]


def test_validate_notices_edited_checks(edition, tmp_path):
    lab = LABS[0]
    nb = load(edition / lab.name)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell["source"] = 'print("passed")'
    save(tmp_path / lab.name, nb)
    out = validate(tmp_path / lab.name)
    assert f"THE CONTENTS OF {len(lab_points(lab))} TEST CELL(S) HAVE CHANGED!" in out, out[-2000:]
