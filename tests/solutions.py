"""Exercise solutions and figure alt texts read out of the book's notebooks, for tests.

A solution may quote numbers that a model computes; a number in a dropdown or an alt text that is
not glued can drift from the code. The tests of each model read the solution from its notebook,
run its code blocks exactly as a student would copy them, and hold the numbers its prose quotes
against what the code prints. ``tests/test_solution_numbers.py`` checks that every number a
solution's prose types has such a source.

A page is named by its path from the book's root (``"chapters/07-containers.ipynb"``), by a
bare chapter file name (``"07-containers.ipynb"``, looked up in ``chapters/``) or by a ``Path``.

A solution may state what a ``print`` line prints as a trailing comment:
``print(e.exits)  # 15000``; :func:`check_printed` runs the code and returns both. A print that
runs more than once (in a loop) lists its lines separated by `` | ``. A ``print`` line without a
comment prints one line that is not checked.
"""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Iterator

from booklib import ROOT, load_notebook, source

FENCE = re.compile(r"```python\n(.*?)```", re.S)
CODE = re.compile(r"^(`{3,}|~{3,})(?!\{).*?^\1\s*$", re.S | re.M)   # a fenced code block
_OPEN = r"^(:{3,}|`{3,})\{%s\}[ \t]*(%s)[ \t]*\n(.*?)^\1[ \t]*$"
NUMBER = re.compile(r"-?\d[\d,]*\.?\d*")


def page_path(page: str | Path) -> Path:
    """The notebook behind ``page`` (see the module's docstring for the accepted names)."""
    if isinstance(page, Path):
        return page
    return ROOT / page if "/" in page else ROOT / "chapters" / page


def markdown(page: str | Path) -> str:
    """All Markdown cells of ``page``, joined by blank lines."""
    nb = load_notebook(page_path(page))
    return "\n\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")


def _directive(page: str | Path, name: str, label: str) -> re.Match:
    m = re.search(_OPEN % (name, re.escape(label)), markdown(page), re.S | re.M)
    if m is None:
        raise AssertionError(f"{page} has no {{{name}}} {label}")
    return m


def _options_off(body: str) -> str:
    """A directive's body without its leading option lines (``:class: dropdown``)."""
    return re.sub(r"\A(?:[ \t]*:[\w-]+:.*\n)+", "", body)


def solution(page: str | Path, label: str) -> str:
    """The body of the ``{solution} label`` directive (fenced with ``:::`` or backticks), without
    its option lines."""
    return _options_off(_directive(page, "solution", label).group(3))


def solutions(page: str | Path) -> Iterator[tuple[str, str]]:
    """Every ``(label, body)`` of the solutions of ``page``, in order."""
    for m in re.finditer(_OPEN % ("solution", r"[\w-]+"), markdown(page), re.S | re.M):
        yield m.group(2), _options_off(m.group(3))


def exercise(page: str | Path, label: str) -> str:
    """The body of the ``{exercise}`` whose ``:label:`` is ``label``, option lines included."""
    text = markdown(page)
    for m in re.finditer(_OPEN % ("exercise", r"[^\n]*"), text, re.S | re.M):
        if re.search(r"^:label:\s*" + re.escape(label) + r"\s*$", m.group(3), re.M):
            return m.group(3)
    raise AssertionError(f"{page} has no {{exercise}} labelled {label}")


def code_blocks(text: str) -> list[str]:
    """The ```python blocks of a solution's text."""
    return FENCE.findall(text)


def solution_code(page: str | Path, label: str) -> list[str]:
    """The ```python blocks of one solution."""
    return code_blocks(solution(page, label))


def prose(text: str) -> str:
    """``text`` without its fenced code blocks: what a reader reads as sentences."""
    return CODE.sub("", text)


def run_code(text: str) -> tuple[dict, str]:
    """Run every ```python block of ``text`` in order in one fresh namespace, as a student who
    copies them would; return the namespace and what the code printed."""
    blocks = code_blocks(text)
    if not blocks:
        raise AssertionError("the solution shows no Python code")
    namespace: dict = {"__name__": "__solution__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, "<solution>", "exec"), namespace)  # our own text
    return namespace, out.getvalue()


def run_solution(page: str | Path, label: str) -> tuple[dict, str]:
    """Run one solution's code (:func:`run_code`); return its namespace and printed output."""
    return run_code(solution(page, label))


def printed(page: str | Path, label: str) -> str:
    """What one solution's code prints."""
    return run_solution(page, label)[1]


def check_printed(code: str) -> tuple[list[str], list[str]]:
    """Run ``code`` in a fresh namespace; return (the printed lines a comment claims, the
    claims), in order. See the module's docstring for the comment convention."""
    expected: list[str | None] = []
    for line in code.splitlines():
        if "print(" not in line:
            continue
        comment = re.search(r"\)\s*#\s*(.+)$", line)
        expected.extend(comment.group(1).split(" | ") if comment else [None])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<solution>", "exec"), {"__name__": "__solution__"})
    lines = out.getvalue().splitlines()
    assert len(lines) == len(expected), (lines, expected)
    pairs = [(p, e) for p, e in zip(lines, expected) if e is not None]
    return [p for p, _ in pairs], [e.strip() for _, e in pairs]


def numbers(text: str) -> list[float]:
    """Every decimal number in ``text`` (thousands separators removed), in order."""
    return [float(m.replace(",", "")) for m in NUMBER.findall(text)]


def unglued_prose(text: str) -> str:
    """A solution's prose without its code blocks, computed numbers (``{eval}`` inline
    expressions, whose content may hold backticks inside a longer run, and ``{glue:text}``),
    roles and exercise labels: what is left is what the author typed by hand."""
    text = prose(text)
    text = re.sub(r"\{eval\}(`+)(.+?)\1(?!`)", "", text, flags=re.S)
    text = re.sub(r"\{glue(?::\w+)?\}`[^`]*`", "", text)
    return re.sub(r"\{[a-z:-]+\}`[^`]*`|ex-\d\d-\d|L[012]|:::\{solution\}", "", text)


#: A figure directive's opening line and its option lines: ``{glue:figure} NAME``, or ``{figure}``
#: without an image, which shows the figure glued under its ``:name:``.
_FIGURE = re.compile(r"^[ \t]*(?::{3,}|`{3,})\{(glue:figure|figure)\}[ \t]*(\S*)[ \t]*\n"
                     r"((?:[ \t]*:[\w-]+:.*\n)*)", re.M)


def alt_text(page: str | Path, name: str) -> str:
    """The ``:alt:`` of the glued figure ``name``: a ``{glue:figure} name`` directive, or an
    image-less ``{figure}`` whose ``:name:`` is ``name``."""
    for m in _FIGURE.finditer(markdown(page)):
        kind, argument, block = m.groups()
        options = dict(re.findall(r"^[ \t]*:([\w-]+):[ \t]*(.*?)[ \t]*$", block, re.M))
        named = argument if kind == "glue:figure" else (None if argument else options.get("name"))
        if named == name and "alt" in options:
            return options["alt"]
    raise AssertionError(f"no glued figure {name} with an :alt: in {page}")
