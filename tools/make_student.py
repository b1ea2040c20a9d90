#!/usr/bin/env python3
"""Write the student edition of the labs: solutions out, stubs in, outputs cleared.

    python tools/make_student.py [--out _build/student] [NOTEBOOK_OR_FOLDER ...]   (default: labs)
    python tools/make_student.py --book-config _config.student.yml --book-toc _toc.student.yml

The second form (with ``--book-toc``) writes a copy of _config.yml and _toc.yml that build the
student edition of the HTML book: the chapters with every exercise's solution hidden
(sphinx-exercise's ``hide_solutions``; the book uses only the non-gated ``{solution}`` directive,
which that option supports), without the lab pages and the instructor guide.

For every lab notebook (the full edition, with solutions) it writes a student notebook in which

- each region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in a code cell becomes
  ``raise NotImplementedError()`` at the marker's indentation, and in a Markdown cell becomes
  ``YOUR ANSWER HERE`` (nbgrader's conventions, so an nbgrader course can import the labs);
- each region between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` is removed;
- each cell tagged ``solution`` is removed, and so is every ``{solution}`` directive (the worked
  answer the book shows in a dropdown under each exercise);
- every glued figure's directive is removed, ``{glue:figure} NAME`` and the image-less
  ``{figure}`` (with ``:name: NAME``) that replaces it in notebooks converted for JupyterLab: the
  figure itself is displayed under the code cell that makes it, and the directive's alt text and
  caption describe the figure drawn from the reference solution, so they would give answers away.
  A ``{figure}`` with an image file is a static picture and stays;
- every output, execution count and stored widget state is cleared, and so are the values stored
  for inline expressions (``{eval}``, in a Markdown cell's ``user_expressions`` metadata), which
  were computed by the reference solution: JupyterLab shows each expression until the student's
  own run evaluates it.

The other files a lab needs (fixture XML, labs/index.md) are copied beside them, and the edition is
zipped into ``<out>.zip``. It fails, writing nothing, if a marker is unbalanced or nested, or if
any solution text would survive into the student edition.
"""
from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN_SOLUTION = re.compile(r"^(\s*)#{3}\s*BEGIN SOLUTION\s*$")
END_SOLUTION = re.compile(r"^\s*#{3}\s*END SOLUTION\s*$")
BEGIN_HIDDEN = re.compile(r"^\s*#{3}\s*BEGIN HIDDEN TESTS\s*$")
END_HIDDEN = re.compile(r"^\s*#{3}\s*END HIDDEN TESTS\s*$")
STUB_CODE = "raise NotImplementedError()"
STUB_MARKDOWN = "YOUR ANSWER HERE"
#: Solution lines shorter than this (``pass``, ``)``, ``conn.close()``) may well appear in the
#: handout too, so the leak check looks only at substantial lines.
MIN_LEAK_CHARS = 16


class MarkerError(ValueError):
    """A notebook's solution or hidden-test markers are unbalanced, nested or leaked."""


@dataclass
class CellResult:
    source: str
    solution_lines: list[str]
    stubs: int


def strip_cell(text: str, markdown: bool, where: str) -> CellResult:
    """Replace solution regions and drop hidden tests in one cell's source.

    >>> r = strip_cell("x = 1\\n    ### BEGIN SOLUTION\\n    y = 2\\n    ### END SOLUTION\\n", False, "t")
    >>> r.source
    'x = 1\\n    raise NotImplementedError()\\n'
    >>> r.solution_lines, r.stubs
    (['    y = 2'], 1)
    """
    out: list[str] = []
    hidden: list[str] = []
    state = "plain"  # plain | solution | hidden
    stubs = 0
    for number, line in enumerate(text.splitlines(), start=1):
        begin = BEGIN_SOLUTION.match(line)
        if begin or BEGIN_HIDDEN.match(line):
            if state != "plain":
                raise MarkerError(f"{where}, line {number}: a BEGIN marker inside an open "
                                  f"{state} region (markers must not nest)")
            state = "solution" if begin else "hidden"
            if begin:
                stubs += 1
                out.append(begin.group(1) + (STUB_MARKDOWN if markdown else STUB_CODE))
            continue
        if END_SOLUTION.match(line) or END_HIDDEN.match(line):
            expected = "solution" if END_SOLUTION.match(line) else "hidden"
            if state != expected:
                raise MarkerError(f"{where}, line {number}: an END marker for a {expected} region "
                                  f"that was not opened")
            state = "plain"
            continue
        if state == "plain":
            out.append(line)
        else:
            hidden.append(line)
    if state != "plain":
        raise MarkerError(f"{where}: a {state} region is opened but never closed")
    new = "\n".join(out) + ("\n" if text.endswith("\n") else "")
    return CellResult(new, hidden, stubs)


def drop_solution_directives(text: str, where: str) -> tuple[str, list[str]]:
    r"""Remove every ``{solution}`` block from Markdown; return (text, the answer lines removed).

    The parsing is :func:`virtbook.teaching.split_solution_directives`, which the nbgrader
    preparation uses too.

    >>> drop_solution_directives("Q?\n:::{solution} ex-1\nA.\n:::\nMore.", "t")
    ('Q?\nMore.', ['A.'])
    """
    from virtbook.teaching import split_directive_blocks, split_solution_directives

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
    lines = text.splitlines()
    kept, i = [], 0
    while i < len(lines):
        match = IMAGELESS_FIGURE.match(lines[i])
        if not match:
            kept.append(lines[i])
            i += 1
            continue
        fence = match.group(1)
        closing = re.compile(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        if j == len(lines):
            raise ValueError(f"the {{figure}} block opened on line {i + 1} never closes")
        i = j + 1
    return "\n".join(kept) + ("\n" if text.endswith("\n") and kept else "")


def student_notebook(nb: nbformat.NotebookNode, name: str) -> tuple[nbformat.NotebookNode, int]:
    """Return (student notebook, number of stubs) for one full-edition notebook."""
    student = copy.deepcopy(nb)
    cells, removed_text, kept_text, stubs = [], [], [], 0
    for index, cell in enumerate(nb.cells):
        if "solution" in cell.get("metadata", {}).get("tags", []):
            removed_text.append(cell.source)
            continue
        text = cell.source
        if cell.cell_type == "markdown":
            text, answers = drop_solution_directives(text, f"{name} cell {index}")
            removed_text.extend(answers)
        result = strip_cell(text, cell.cell_type == "markdown", f"{name} cell {index}")
        removed_text.extend(result.solution_lines)
        stubs += result.stubs
        new = copy.deepcopy(cell)
        new.source = result.source
        if new.cell_type == "code":
            new.outputs = []
            new.execution_count = None
        new.metadata.pop("execution", None)
        new.metadata.pop("user_expressions", None)
        kept_text.append(new.source)
        cells.append(new)
    student.cells = cells
    student.metadata.pop("widgets", None)
    handout = "\n".join(kept_text)
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
    args = parser.parse_args(argv)
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
