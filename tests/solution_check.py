"""Run the Python code of a chapter's exercise solutions and compare what it prints with what the
solution says it prints.

A solution states its expected output as a trailing comment on the ``print`` line:
``print(e.exits)  # 15000``. A print that runs more than once (in a loop) lists its lines
separated by `` | ``. A ``print`` line without a comment prints one line that is not checked.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

FENCE = re.compile(r"```python\n(.*?)```", re.S)


def solution_text(notebook: Path, label: str) -> str:
    """The Markdown of the ``{solution} label`` directive in ``notebook``."""
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        start = text.find(":::{solution} " + label + "\n")
        if cell["cell_type"] == "markdown" and start >= 0:
            body = text[start:]
            end = re.search(r"^:::\s*$", body, re.M)
            return body[: end.start()] if end else body
    raise ValueError(f"label {label!r} has no solution in {notebook}")


def check_printed(code: str) -> tuple[list[str], list[str]]:
    """Run ``code``; return (printed lines that a comment claims, the claims), in order."""
    expected: list[str | None] = []
    for line in code.splitlines():
        if "print(" not in line:
            continue
        comment = re.search(r"\)\s*#\s*(.+)$", line)
        expected.extend(comment.group(1).split(" | ") if comment else [None])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<solution>", "exec"), {})
    printed = out.getvalue().splitlines()
    assert len(printed) == len(expected), (printed, expected)
    pairs = [(p, e) for p, e in zip(printed, expected) if e is not None]
    return [p for p, _ in pairs], [e.strip() for _, e in pairs]


def solution_code(notebook: Path, label: str) -> list[str]:
    """The ```python blocks of one solution."""
    return FENCE.findall(solution_text(notebook, label))


def unglued_prose(text: str) -> str:
    """A solution's prose without its code blocks, glued numbers, roles and labels: what is left
    is what the author typed by hand."""
    text = re.sub(r"```python\n.*?```", "", text, flags=re.S)
    text = re.sub(r"\{glue:text\}`[^`]*`", "", text)
    return re.sub(r"\{[a-z:]+\}`[^`]*`|ex-\d\d-\d|L[012]|:::\{solution\}", "", text)
