"""Time the grading of a class: N identical submissions of a lab, under nbgrader and otter-grader.

Each submission is the lab's reference solution (the slowest kind to grade: every cell runs to the
end), made from the released notebook exactly as tests/test_grading.py makes it, on the test
driver. For each lab and tool it reports the set-up (not part of grading), then the grading:

- nbgrader: one ``nbgrader autograde <lab>`` over the whole class, then one
  ``nbgrader generate_feedback <lab>``, each timed as a whole command;
- otter-grader: ``otter run -a <autograder zip> <submission>`` once per submission, otter's
  grading without Docker (``otter grade`` runs the same in Docker containers), timed per run
  and in total; and ``otter.api.grade_submission`` over the whole class in one Python process
  (the local grading API), timed in total.

Every grade is checked to be full marks, so a fast but broken grading cannot pass for a result.

Usage (from the repository root)::

    python benchmarks/bench_grading.py                         # Lab L1, 30 students, both tools
    python benchmarks/bench_grading.py --labs 01 04 --students 5 --tools otter
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tools"))

from _timing import Summary, count, header  # noqa: E402

import make_otter  # noqa: E402
import make_student  # noqa: E402


def env(home: Path) -> dict:
    out = {**os.environ,
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
           "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_DATA_DIR": str(home / ".jupyter-data")}
    out.pop("VIRTBOOK_URI", None)
    return out


def run(args: list[str], cwd: Path) -> float:
    """Run a command; return its wall-clock seconds (raises with its output if it fails)."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env(cwd), capture_output=True, text=True,
                          timeout=7200)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def solved(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if not re.match(r"^\s*#{3}\s*(BEGIN|END) SOLUTION\s*$", line))


def bench_nbgrader(lab: Path, students: int, work: Path) -> list[str]:
    assignment = make_student.assignment_id(lab.name)
    course = work / "nbgrader" / assignment
    start = time.perf_counter()
    make_student.nbgrader_course([lab], course, course_id="bench")
    run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"], course)
    release = json.loads((course / "release" / assignment / lab.name).read_text(encoding="utf-8"))
    source = json.loads((course / "source" / assignment / lab.name).read_text(encoding="utf-8"))
    answers = {c["metadata"]["nbgrader"]["grade_id"]: solved(text(c)) for c in source["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    nb = copy.deepcopy(release)
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    for k in range(students):
        path = course / "submitted" / f"student{k:02d}" / assignment / lab.name
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb), encoding="utf-8")
    setup = time.perf_counter() - start
    autograde = run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--force"], course)
    feedback = run([sys.executable, "-m", "nbgrader", "generate_feedback", assignment, "--force"],
                   course)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = [(s.score, s.max_score) for s in gb.assignment_submissions(assignment)]
    assert len(scores) == students and all(s == m > 0 for s, m in scores), scores
    return [f"  nbgrader {lab.name}: set-up {setup:.1f} s (course, generate_assignment, "
            f"{students} submissions)",
            f"    autograde of {students} submissions: {autograde:.1f} s "
            f"({autograde / students:.2f} s each), every one {scores[0][0]:g}/{scores[0][1]:g}",
            f"    generate_feedback: {feedback:.1f} s; grading in all "
            f"{autograde + feedback:.1f} s"]


def bench_otter(lab: Path, students: int, work: Path) -> list[str]:
    start = time.perf_counter()
    folder = make_otter.build([lab], work / "otter")[make_student.assignment_id(lab.name)]
    autograder = make_otter.autograder_zip(folder)
    submission = folder / "dist" / "autograder" / lab.name   # the handout with its solutions
    setup = time.perf_counter() - start
    seconds, totals = [], []
    for k in range(students):
        out = work / "otter-results" / f"student{k:02d}"
        out.mkdir(parents=True)
        seconds.append(run([sys.executable, "-m", "otter", "run", "--no-logo", "-a",
                            str(autograder), "-o", str(out), str(submission)], folder))
        result = json.loads((out / "results.json").read_text(encoding="utf-8"))
        graded = [t for t in result["tests"] if "score" in t]
        totals.append((sum(t["score"] for t in graded), sum(t["max_score"] for t in graded)))
    assert all(s == m > 0 for s, m in totals), totals
    api = run([sys.executable, "-c", OTTER_API, str(autograder), str(submission), str(students)],
              folder)
    each = Summary.of(seconds)
    return [f"  otter {lab.name}: set-up {setup:.1f} s (master notebook, otter assign)",
            f"    otter run, once per submission, {students} submissions: {sum(seconds):.1f} s in "
            f"all; each median {each.median_ms / 1000:.1f} s, p95 {each.p95_ms / 1000:.1f} s; "
            f"every one {totals[0][0]:g}/{totals[0][1]:g}",
            f"    otter.api.grade_submission, {students} submissions in one Python process: "
            f"{api:.1f} s ({api / students:.2f} s each)"]


#: otter's local grading API over the whole class in one process; exits non-zero unless every
#: submission gets full marks.
OTTER_API = """
import sys
from otter.api import grade_submission
zip_path, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for _ in range(n):
    r = grade_submission(path, zip_path, quiet=True)
    assert r.total == r.possible > 0, (r.total, r.possible)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", nargs="+", default=["01"],
                        help="lab numbers (01 ... 06) or 'all'; default 01")
    parser.add_argument("--students", type=count(1), default=30)
    parser.add_argument("--tools", nargs="+", choices=("nbgrader", "otter"),
                        default=["nbgrader", "otter"])
    args = parser.parse_args(argv)
    every = sorted((ROOT / "labs").glob("0*.ipynb"))
    labs = every if "all" in args.labs else [p for p in every if p.name[:2] in args.labs]
    if not labs:
        parser.error(f"--labs must name labs among {[p.name[:2] for p in every]}, got {args.labs}")
    lines = header(sys.argv if argv is None else [sys.argv[0], *argv])
    for line in lines:
        print(line, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        for lab in labs:
            for tool in args.tools:
                fn = bench_nbgrader if tool == "nbgrader" else bench_otter
                for line in fn(lab, args.students, Path(tmp) / f"{tool}-{lab.stem}"):
                    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
