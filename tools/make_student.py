#!/usr/bin/env python3
"""Write the student edition of the labs: solutions out, stubs in, outputs cleared.

    python tools/make_student.py [--out _build/student] [NOTEBOOK_OR_FOLDER ...]   (default: labs)
    python tools/make_student.py --book-config _config.student.yml --book-toc _toc.student.yml
    python tools/make_student.py --nbgrader-course COURSE [NOTEBOOK_OR_FOLDER ...]

The second form (with ``--book-toc``) writes a copy of _config.yml and _toc.yml that build the
student edition of the HTML book: the chapters with every exercise's solution hidden
(sphinx-exercise's ``hide_solutions``; the book uses only the non-gated ``{solution}`` directive,
which that option supports), without the lab pages and the instructor guide.

The third form prepares an nbgrader course: ``COURSE/source/l1/`` and so on, each holding the lab
made ready for nbgrader (:func:`virtbook.booktools.teaching.nbgrader_source`, with the book-specific parts
below already removed) and the labs' fixture files, and ``COURSE/nbgrader_config.py``, which has
``nbgrader generate_assignment`` write the same stubs as this edition (:class:`TaskStubs`).

The student edition of each lab notebook (the full edition, with solutions) is what nbgrader's
``generate_assignment`` would release, made with nbgrader's own preprocessors, so that nbgrader's
Validate (the JupyterLab button and ``nbgrader validate``) knows the tasks and the tests:

- :func:`virtbook.booktools.teaching.nbgrader_source` marks each task cell as an autograded answer and each
  check cell as an autograded test (locked, worth the task's ``autograded`` points from the lab's
  metadata), and removes every ``{solution}`` directive (the worked answer the book shows in a
  dropdown under each exercise);
- nbgrader's ``LockCells``, ``ClearSolutions`` (as :class:`TaskStubs`), ``ClearOutput``,
  ``ComputeChecksums``, ``ClearHiddenTests``, ``ClearMarkScheme`` and ``CheckCellMetadata`` then do
  what they do in ``generate_assignment``: each region between ``### BEGIN SOLUTION`` and ``###
  END SOLUTION`` becomes a stub (in a Markdown answer ``YOUR ANSWER HERE``), each region between
  ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` is removed, every output and execution
  count is cleared, and the tests carry checksums. :class:`TaskStubs` is ClearSolutions with a
  stub that says which task to complete and where (:func:`virtbook.booktools.teaching.task_stub`) instead
  of a bare ``raise NotImplementedError()``.

What is specific to the book, and done here:

- each cell tagged ``solution`` is removed, and so is a Markdown cell that held nothing but worked
  ``{solution}`` blocks;
- every glued figure's directive is removed, ``{glue:figure} NAME`` and the image-less
  ``{figure}`` (with ``:name: NAME``) that replaces it in notebooks converted for JupyterLab: the
  figure itself is displayed under the code cell that makes it, and the directive's alt text and
  caption describe the figure drawn from the reference solution, so they would give answers away.
  A ``{figure}`` with an image file is a static picture and stays;
- the values stored for inline expressions (``{eval}``, in a Markdown cell's ``user_expressions``
  metadata), which were computed by the reference solution, and any stored widget state are
  removed: JupyterLab shows each expression until the student's own run evaluates it.

The other files a lab needs (fixture XML, labs/index.md) are copied beside them, and the edition is
zipped into ``<out>.zip``. It fails, writing nothing, if a marker is unbalanced or nested, or if
any solution text would survive into the student edition.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import nbformat
from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme,
                                    ClearOutput, ClearSolutions, ComputeChecksums, LockCells)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from virtbook.booktools import teaching  # noqa: E402

BEGIN_SOLUTION = re.compile(r"^(\s*)#{3}\s*BEGIN SOLUTION\s*$")
END_SOLUTION = re.compile(r"^\s*#{3}\s*END SOLUTION\s*$")
BEGIN_HIDDEN = re.compile(r"^\s*#{3}\s*BEGIN HIDDEN TESTS\s*$")
END_HIDDEN = re.compile(r"^\s*#{3}\s*END HIDDEN TESTS\s*$")
#: What every code stub raises (the sentence after it names the task).
STUB_CODE = "raise NotImplementedError("
STUB_MARKDOWN = "YOUR ANSWER HERE"
#: Solution lines shorter than this (``pass``, ``)``, ``conn.close()``) may well appear in the
#: handout too, so the leak check looks only at substantial lines.
MIN_LEAK_CHARS = 16
#: A placeholder ClearSolutions writes for each region, replaced by the task's stub.
_PLACEHOLDER = "__VIRTBOOK_TASK_STUB__"
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)\s*\(")


class MarkerError(ValueError):
    """A notebook's solution or hidden-test markers are unbalanced, nested or leaked."""


def check_markers(text: str, where: str) -> int:
    """Check the solution and hidden-test markers of one cell; return its solution regions.

    nbgrader would stop at the same mistakes with a RuntimeError; this names the cell and line.

    >>> check_markers("x = 1\\n    ### BEGIN SOLUTION\\n    y = 2\\n    ### END SOLUTION\\n", "t")
    1
    """
    state, regions = "plain", 0  # plain | solution | hidden
    for number, line in enumerate(text.splitlines(), start=1):
        begin = BEGIN_SOLUTION.match(line)
        if begin or BEGIN_HIDDEN.match(line):
            if state != "plain":
                raise MarkerError(f"{where}, line {number}: a BEGIN marker inside an open "
                                  f"{state} region (markers must not nest)")
            state = "solution" if begin else "hidden"
            regions += bool(begin)
        elif END_SOLUTION.match(line) or END_HIDDEN.match(line):
            expected = "solution" if END_SOLUTION.match(line) else "hidden"
            if state != expected:
                raise MarkerError(f"{where}, line {number}: an END marker for a {expected} region "
                                  f"that was not opened")
            state = "plain"
    if state != "plain":
        raise MarkerError(f"{where}: a {state} region is opened but never closed")
    return regions


def region_lines(text: str) -> list[str]:
    """The lines inside solution and hidden-test regions (what must not reach students)."""
    inside, lines = False, []
    for line in text.splitlines():
        if BEGIN_SOLUTION.match(line) or BEGIN_HIDDEN.match(line):
            inside = True
        elif END_SOLUTION.match(line) or END_HIDDEN.match(line):
            inside = False
        elif inside:
            lines.append(line)
    return lines


class TaskStubs(ClearSolutions):
    """nbgrader's ClearSolutions, with a stub per task that says which task and where.

    A task cell (one that :func:`virtbook.booktools.teaching.nbgrader_source` gave ``{"task": n, "title":
    ...}`` metadata) gets :func:`virtbook.booktools.teaching.task_stub` in each solution region, naming the
    function the region is the body of, if any; every other cell gets nbgrader's usual stub.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.get("metadata", {}).get(teaching.LAB_METADATA, {})
        if cell.cell_type != "code" or "task" not in meta:
            return super().preprocess_cell(cell, resources, cell_index)
        default = self.code_stub
        self.code_stub = {**default, resources["language"]: _PLACEHOLDER}
        try:
            cell, resources = super().preprocess_cell(cell, resources, cell_index)
        finally:
            self.code_stub = default
        task = teaching.Task(int(meta["task"]), cell_index, None, 0, str(meta.get("title", "")))
        lines = cell.source.split("\n")
        out = []
        for k, line in enumerate(lines):
            if line.strip() != _PLACEHOLDER:
                out.append(line)
                continue
            indent = line[: len(line) - len(line.lstrip())]
            function = None
            for above in reversed(lines[:k]):
                match = _DEF.match(above)
                if match and len(match.group(1)) < len(indent):
                    function = match.group(2)
                    break
            out += [indent + stub for stub in teaching.task_stub(task, function).split("\n")]
        cell.source = "\n".join(out)
        return cell, resources


#: nbgrader's generate_assignment pipeline without what needs a course database (SaveCells) or
#: templates (IncludeHeaderFooter, InstantiateTests), in its order: ClearHiddenTests after the
#: first ComputeChecksums, and checksums again after it.
NBGRADER_STEPS = (LockCells, TaskStubs, ClearOutput, CheckCellMetadata, ComputeChecksums,
                  ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata)


def drop_solution_directives(text: str, where: str) -> tuple[str, list[str]]:
    r"""Remove every ``{solution}`` block from Markdown; return (text, the answer lines removed).

    The parsing is :func:`virtbook.booktools.teaching.split_solution_directives`, which the nbgrader
    preparation uses too.

    >>> drop_solution_directives("Q?\n:::{solution} ex-1\nA.\n:::\nMore.", "t")
    ('Q?\nMore.', ['A.'])
    """
    from virtbook.booktools.teaching import split_directive_blocks, split_solution_directives

    try:
        text, removed = split_solution_directives(text)
        text, _ = split_directive_blocks(text, "glue:figure")
        return drop_imageless_figures(text), removed
    except ValueError as err:
        raise MarkerError(f"{where}: a {{solution}} or figure block is opened but its fence never "
                          f"closes ({err})") from None


#: ``:::{figure}`` (or a backtick fence) with nothing after it: a glued figure placed by name.
IMAGELESS_FIGURE = re.compile(r"^\s*(:{3,}|`{3,})\{figure\}[ \t]*$")


def drop_imageless_figures(text: str) -> str:
    r"""Remove every ``{figure}`` block without an image argument (a glued figure by ``:name:``).

    >>> drop_imageless_figures("A.\n:::{figure}\n:alt: 75 percent.\n:name: fig-a\n\nCap.\n:::\nB.")
    'A.\nB.'
    >>> drop_imageless_figures("```{figure} map.png\n:alt: A map.\n```")
    '```{figure} map.png\n:alt: A map.\n```'
    """
    kept, _ = teaching.split_fenced_blocks(text, IMAGELESS_FIGURE, "figure")
    return "\n".join(kept) + ("\n" if text.endswith("\n") and kept else "")


def assignment_id(name: str) -> str:
    """The nbgrader assignment id of a lab file: ``01-meet-libvirt.ipynb`` -> ``l1``."""
    match = re.match(r"^(\d+)-", Path(name).name)
    return f"l{int(match.group(1))}" if match else re.sub(r"[^A-Za-z0-9_-]", "-", Path(name).stem)[:40]


def book_specific(nb: dict, name: str) -> tuple[dict, list[str]]:
    """``nb`` without what only the book knows to hide: cells tagged ``solution``, glued figure
    directives, stored inline-expression values and widget state. Returns (copy, removed text)."""
    out = copy.deepcopy(nb)
    removed, cells = [], []
    for index, cell in enumerate(out["cells"]):
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if "solution" in cell.get("metadata", {}).get("tags", []):
            removed.append(text)
            continue
        if cell["cell_type"] == "markdown":
            text, answers = drop_solution_directives(text, f"{name} cell {index}")
            removed.extend(answers)
            if answers and not text.strip():
                continue  # the cell held only worked answers: an empty cell would be left
        check_markers(text, f"{name} cell {index}")
        removed.extend(region_lines(text))
        cell["source"] = text
        cell.get("metadata", {}).pop("user_expressions", None)
        cell.get("metadata", {}).pop("execution", None)
        cells.append(cell)
    out["cells"] = cells
    out.get("metadata", {}).pop("widgets", None)
    return out, removed


def student_notebook(nb: nbformat.NotebookNode, name: str,
                     assignment: str | None = None) -> tuple[nbformat.NotebookNode, int]:
    """Return (student notebook, number of stubs) for one full-edition notebook."""
    plain = json.loads(nbformat.writes(nb))
    cleaned, removed_text = book_specific(plain, name)
    try:
        prepared = teaching.nbgrader_source(cleaned, assignment or assignment_id(name))
    except ValueError as err:
        raise MarkerError(f"{name}: {err}") from None
    student = nbformat.from_dict(prepared)
    resources: dict = {}
    for step in NBGRADER_STEPS:
        student, resources = step().preprocess(student, resources)
    handout = "\n".join(c.source for c in student.cells)
    stubs = handout.count(STUB_CODE) + handout.count(STUB_MARKDOWN)
    # Everything a student receives: sources, and any text left in metadata or attachments.
    everything = "\n".join(_strings(student))
    for block in removed_text:
        for line in block.splitlines():
            line = line.strip()
            # A line that the handout also shows outside any solution region gives nothing away.
            if len(line) >= MIN_LEAK_CHARS and line in everything and line not in handout:
                raise MarkerError(f"{name}: solution text survives in the student edition: {line!r}")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        if re.search(r"#{3}\s*" + marker, handout):
            raise MarkerError(f"{name}: a '### {marker}' marker survives in the student edition")
    return student, stubs


def _strings(node) -> list[str]:
    """Every string anywhere inside a notebook node (sources, metadata, outputs)."""
    if isinstance(node, str):
        return node.splitlines()
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def collect(args: list[str]) -> list[Path]:
    paths: list[Path] = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            paths += sorted(q for q in p.glob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.suffix == ".ipynb" and p.is_file():
            paths.append(p)
        else:
            raise SystemExit(f"make_student: '{arg}' is neither a folder nor a notebook")
    return paths


def build(sources: list[Path], out: Path) -> dict[str, int]:
    """Write the student edition of ``sources`` into ``out`` (replaced) and ``out``.zip."""
    editions = {}
    for path in sources:
        nb = nbformat.read(path, as_version=4)
        editions[path] = student_notebook(nb, str(path))  # raises before anything is written
    if out.exists():
        shutil.rmtree(out)
    counts = {}
    for path, (student, stubs) in editions.items():
        target = out / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, target)
        counts[str(path)] = stubs
        for extra in path.parent.iterdir():  # fixtures and the folder's own index page
            if extra.suffix in (".xml", ".md", ".csv", ".json") and extra.is_file():
                shutil.copy2(extra, target.parent / extra.name)
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(out.rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(out.parent))
    return counts


#: The course's nbgrader_config.py: generate_assignment's own pipeline, with TaskStubs in the
#: place of ClearSolutions, so the released notebooks say which task a stub belongs to.
COURSE_CONFIG = """\
# Written by the book's tools/make_student.py --nbgrader-course. nbgrader's generate_assignment
# runs its usual preprocessors, except that ClearSolutions is the book's TaskStubs: each stub says
# which task to complete and where. Everything else is nbgrader's default.
import sys

sys.path.insert(0, {tools!r})
from make_student import TaskStubs  # noqa: E402
from nbgrader.converters import GenerateAssignment  # noqa: E402

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file
c.CourseDirectory.course_id = {course_id!r}
c.GenerateAssignment.preprocessors = [
    TaskStubs if step.__name__ == "ClearSolutions" else step
    for step in GenerateAssignment.class_traits()["preprocessors"].default()]
"""


def course_notebook(nb: nbformat.NotebookNode, name: str, assignment: str) -> dict:
    """The source version of a lab for an nbgrader course: solutions and hidden tests kept,
    nbgrader's metadata added, the book-specific answers (worked solutions, figure directives,
    stored values) removed."""
    cleaned, _ = book_specific(json.loads(nbformat.writes(nb)), name)
    return teaching.nbgrader_source(cleaned, assignment)


def nbgrader_course(sources: list[Path], course: Path, course_id: str = "virtbook") -> dict[str, Path]:
    """Write ``course/source/<l1...>/`` (each lab made ready for nbgrader, with the labs' fixture
    files) and ``course/nbgrader_config.py``; return {assignment id: source folder}."""
    folders = {}
    prepared = {path: course_notebook(nbformat.read(path, as_version=4), str(path),
                                      assignment_id(path.name)) for path in sources}
    for path, nb in prepared.items():
        assignment = assignment_id(path.name)
        folder = course / "source" / assignment
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
        for extra in path.parent.glob("*.xml"):
            shutil.copy2(extra, folder / extra.name)
        folders[assignment] = folder
    (course / "nbgrader_config.py").write_text(
        COURSE_CONFIG.format(tools=str(Path(__file__).resolve().parent), course_id=course_id),
        encoding="utf-8")
    return folders


#: Pages the student edition of the book leaves out: the labs themselves (students get them as
#: notebooks with stubs; the HTML pages show the reference solutions and their outputs) and the
#: instructor guide (rubrics and common mistakes).
INSTRUCTOR_ONLY = re.compile(r"^(labs/0\d-|instructor$)")


def student_book_config(config: Path, out: Path, toc: Path | None = None,
                        toc_out: Path | None = None) -> None:
    """Write the configuration (and table of contents) of the student edition of the book.

    The config is ``config`` with sphinx-exercise's ``hide_solutions`` on. When ``toc`` and
    ``toc_out`` are given, ``toc_out`` is ``toc`` without the pages in :data:`INSTRUCTOR_ONLY`;
    links to those pages then render as plain text (Sphinx's ``ref.doc`` and ``ref.ref``
    warnings are suppressed for this edition only, so the build stays warning-free).
    """
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    sphinx_config = data.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["hide_solutions"] = True
    data["title"] = f"{data.get('title', 'Book')} (student edition)"
    if toc is not None and toc_out is not None:
        sphinx_config["suppress_warnings"] = sorted(
            set(sphinx_config.get("suppress_warnings") or []) | {"ref.doc", "ref.ref", "ref.numref"})
        tree = yaml.safe_load(toc.read_text(encoding="utf-8"))
        for part in tree.get("parts", []):
            part["chapters"] = [c for c in part.get("chapters", [])
                                if not INSTRUCTOR_ONLY.match(str(c.get("file", "")))]
        tree["parts"] = [p for p in tree.get("parts", []) if p["chapters"]]
        toc_out.write_text(yaml.safe_dump(tree, sort_keys=False), encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["labs"])
    parser.add_argument("--out", default="_build/student")
    parser.add_argument("--book-config", type=Path, default=None,
                        help="write a config for the student edition of the book here, and stop")
    parser.add_argument("--book-toc", type=Path, default=None,
                        help="with --book-config: also write its table of contents here")
    parser.add_argument("--nbgrader-course", type=Path, default=None, metavar="COURSE",
                        help="write an nbgrader course's source/ folder and nbgrader_config.py")
    args = parser.parse_args(argv)
    if args.nbgrader_course is not None:
        try:
            folders = nbgrader_course(collect(args.paths), args.nbgrader_course)
        except MarkerError as err:
            print(f"make_student: {err}", file=sys.stderr)
            return 1
        for assignment, folder in folders.items():
            print(f"{assignment}: {folder}")
        print(f"nbgrader course in {args.nbgrader_course}: cd there and run "
              "`nbgrader generate_assignment l1` (and so on)")
        return 0
    if args.book_config is not None:
        student_book_config(Path("_config.yml"), args.book_config, Path("_toc.yml"), args.book_toc)
        print(f"student-edition book config in {args.book_config}")
        return 0
    try:
        counts = build(collect(args.paths), Path(args.out))
    except MarkerError as err:
        print(f"make_student: {err}", file=sys.stderr)
        return 1
    for name, stubs in counts.items():
        print(f"{name}: {stubs} solution region(s) replaced")
    print(f"student edition in {args.out}/ and {args.out}.zip")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
