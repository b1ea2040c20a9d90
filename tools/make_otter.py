#!/usr/bin/env python3
"""Write each lab as an otter-grader assignment, from the same markers as the student edition.

    python tools/make_otter.py [--out _build/otter] [NOTEBOOK_OR_FOLDER ...]   (default: labs)

For every lab it writes ``<out>/<l1>/<lab>.ipynb``, an otter "master notebook" in otter's own
format (Otter Assign, notebook format v1: raw cells ``# ASSIGNMENT CONFIG``, ``# BEGIN QUESTION``,
``# BEGIN SOLUTION``, ``# BEGIN TESTS`` and their ends), then runs ``otter assign`` on it, which
writes ``<out>/<l1>/dist/student/`` (the handout) and ``<out>/<l1>/dist/autograder/`` (the
handout with solutions, and the autograder zip that ``otter grade``, ``otter run`` and
``otter.api.grade_submission`` use). Nothing is a second copy of a lab; the master is computed:

- the book-specific parts come out as in the student edition (tools/make_student.py): worked
  ``{solution}`` blocks, glued figure directives, stored inline-expression values, cells tagged
  ``solution``;
- each task (:func:`virtbook.booktools.teaching.lab_tasks`) becomes one otter question ``task<n>`` worth the
  task's ``autograded`` points from the lab's metadata, all or nothing, like nbgrader's test cell;
- the task cell is the question's solution: each ``### BEGIN SOLUTION`` ... ``### END SOLUTION``
  region becomes otter's ``# BEGIN SOLUTION NO PROMPT`` ... ``# END SOLUTION``, followed by a
  ``# BEGIN PROMPT`` block holding the student edition's stub (:func:`virtbook.booktools.teaching.task_stub`),
  so the handout raises the same error naming the task;
- the check cell becomes the question's tests: its visible asserts a public test (otter shows
  the first failing assert and its message when ``grader.check("task1")`` fails, and prints the
  check's "passed" line when it passes), and the same asserts followed by the ``### BEGIN HIDDEN
  TESTS`` region a hidden test (otter's ``hidden: true``), which only the autograder holds. Each
  test is the check's lines as one function and its call, so it stops at the first failed
  assert. A student who edits the tests in the handout changes nothing that is graded.

Grading uses otter's notebook format with tests in the notebook's metadata (``tests: files:
false``), no PDF and no export cell, and ``run_tests: false`` (the book's own tests run the
reference solution through the autograder instead). See the instructor guide for the commands.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
import make_student  # noqa: E402
from virtbook.booktools import teaching  # noqa: E402

HIDDEN_BEGIN = re.compile(r"^\s*#{3}\s*BEGIN HIDDEN TESTS\s*$")
HIDDEN_END = re.compile(r"^\s*#{3}\s*END HIDDEN TESTS\s*$")
PASSED_LINE = re.compile(r"^print\((['\"])(Task \d+: every check passed\.)\1\)\s*$")


def _raw(text: str) -> dict:
    return nbformat.v4.new_raw_cell(text)


def _code(text: str) -> dict:
    return nbformat.v4.new_code_cell(text)


def solution_cell(text: str, task: teaching.Task) -> str:
    """A task cell in otter's solution syntax, with the student edition's stub as the prompt."""
    lines = text.splitlines()
    out = []
    for k, line in enumerate(lines):
        begin = make_student.BEGIN_SOLUTION.match(line)
        if begin:
            indent = begin.group(1)
            function = None
            for above in reversed(lines[:k]):
                match = make_student._DEF.match(above)
                if match and len(match.group(1)) < len(indent):
                    function = match.group(2)
                    break
            out.append(f"{indent}# BEGIN SOLUTION NO PROMPT")
            stub = teaching.task_stub(task, function).split("\n")
            pending = [f'{indent}""" # BEGIN PROMPT'] + [indent + s for s in stub] + \
                [f'{indent}"""  # END PROMPT']
            continue
        if make_student.END_SOLUTION.match(line):
            out.append(f"{indent}# END SOLUTION")
            out.extend(pending)
            continue
        out.append(line)
    return "\n".join(out)


def otter_tests(text: str, number: int) -> list[dict]:
    """The public and the hidden test of one check cell, in otter's test-cell syntax."""
    visible, hidden, inside, passed = [], [], False, None
    for line in text.splitlines():
        if HIDDEN_BEGIN.match(line):
            inside = True
        elif HIDDEN_END.match(line):
            inside = False
        elif PASSED_LINE.match(line):
            passed = PASSED_LINE.match(line).group(2)
        elif inside:
            hidden.append(line)
        else:
            visible.append(line)
    if passed is None:
        raise ValueError(f"the check of task {number} must end with its 'passed' line")
    head = ('""" # BEGIN TEST CONFIG\n'
            f"success_message: {json.dumps(passed)}\n"
            f"failure_message: {json.dumps(f'Task {number}: a check failed; its message says which.')}\n"
            '""" # END TEST CONFIG\n')
    cells = [_code(head + _as_function(f"check_task{number}", visible))]
    if hidden:
        cells.append(_code('""" # BEGIN TEST CONFIG\nhidden: true\n""" # END TEST CONFIG\n'
                           + _as_function(f"check_task{number}_hidden", visible + hidden)))
    return cells


def _as_function(name: str, lines: list[str]) -> str:
    """The check's lines as one function and its call: otter runs a test as a doctest, which
    would report every statement after the first failure again; a function stops at the first
    failed assert, whose message is then all the student reads."""
    body = [("    " + line) if line.strip() else "" for line in lines
            if not line.lstrip().startswith("#")]
    return "\n".join([f"def {name}():"] + body + [f"{name}()"])


def master_notebook(nb: nbformat.NotebookNode, name: str, assignment: str) -> nbformat.NotebookNode:
    """The otter master notebook of one lab."""
    cleaned, _ = make_student.book_specific(json.loads(nbformat.writes(nb)), name)
    for cell in cleaned["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        else:
            cell["source"] = teaching.drop_solution_directives(cell["source"])
    tasks = {t.cell: t for t in teaching.lab_tasks(cleaned["cells"])}
    if not tasks:
        raise ValueError(f"{name}: a lab needs at least one task (a code cell with '### BEGIN "
                         "SOLUTION')")
    checks = {t.check_cell: t for t in tasks.values() if t.check_cell is not None}
    config = {"name": assignment, "init_cell": True, "check_all_cell": False,
              "export_cell": False, "run_tests": False, "generate": True,
              "tests": {"files": False, "ok_format": True}}
    cells = [_raw("# ASSIGNMENT CONFIG\n" + "\n".join(_yaml(config)))]
    for index, cell in enumerate(cleaned["cells"]):
        if index in checks:
            continue
        if index not in tasks:
            cells.append(nbformat.from_dict(cell))
            continue
        task = tasks[index]
        points = task.autograded if task.autograded is not None else 2
        cells.append(_raw(f"# BEGIN QUESTION\nname: task{task.number}\npoints: {points}\n"
                          "all_or_nothing: true"))
        cells.append(_raw("# BEGIN SOLUTION"))
        cells.append(_code(solution_cell(cell["source"], task)))
        cells.append(_raw("# END SOLUTION"))
        if task.check_cell is not None:
            cells.append(_raw("# BEGIN TESTS"))
            cells += otter_tests(cleaned["cells"][task.check_cell]["source"], task.number)
            cells.append(_raw("# END TESTS"))
        cells.append(_raw("# END QUESTION"))
    master = nbformat.v4.new_notebook(cells=cells, metadata=cleaned.get("metadata", {}))
    return master


def _yaml(config: dict, indent: str = "") -> list[str]:
    lines = []
    for key, value in config.items():
        if isinstance(value, dict):
            lines.append(f"{indent}{key}:")
            lines += _yaml(value, indent + "  ")
        else:
            lines.append(f"{indent}{key}: {json.dumps(value)}")
    return lines


def assign(master: Path, dist: Path) -> subprocess.CompletedProcess:
    """Run ``otter assign`` with this interpreter's otter on one master notebook."""
    return subprocess.run([sys.executable, "-m", "otter", "assign", "--no-pdfs", str(master),
                           str(dist)], capture_output=True, text=True, cwd=master.parent,
                          timeout=600)


def build(sources: list[Path], out: Path, run_assign: bool = True) -> dict[str, Path]:
    """Write the master notebook of each lab into ``out/<l1>/`` and, unless ``run_assign`` is
    False, run otter assign into ``out/<l1>/dist``. Returns {assignment id: its folder}."""
    folders = {}
    for path in sources:
        assignment = make_student.assignment_id(path.name)
        folder = out / assignment
        folder.mkdir(parents=True, exist_ok=True)
        master = folder / path.name
        nbformat.write(master_notebook(nbformat.read(path, as_version=4), str(path), assignment),
                       master)
        if run_assign:
            run = assign(master, folder / "dist")
            if run.returncode != 0:
                raise RuntimeError(f"otter assign failed on {master}:\n{run.stdout[-2000:]}"
                                   f"{run.stderr[-3000:]}")
        folders[assignment] = folder
    return folders


def autograder_zip(folder: Path) -> Path:
    """The autograder zip ``otter assign`` wrote for one assignment folder."""
    found = sorted((folder / "dist" / "autograder").glob("*.zip"))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one autograder zip in {folder / 'dist' / 'autograder'}, "
                                f"found {len(found)}")
    return found[0]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["labs"])
    parser.add_argument("--out", default="_build/otter", type=Path)
    args = parser.parse_args(argv)
    try:
        folders = build(make_student.collect(args.paths), args.out)
    except (ValueError, make_student.MarkerError, RuntimeError) as err:
        print(f"make_otter: {err}", file=sys.stderr)
        return 1
    for assignment, folder in folders.items():
        print(f"{assignment}: handout in {folder / 'dist' / 'student'}, autograder "
              f"{autograder_zip(folder).relative_to(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
