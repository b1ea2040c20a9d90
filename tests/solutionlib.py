"""The exercise solutions of a chapter, and the Python they show, for tests that run that code.

A solution may quote numbers that a model computes. The tests of the model's module read the
solution from the notebook, run its code blocks exactly as a student would copy them, and check
that the quoted numbers are the ones the code prints, so the text cannot drift from the model.
"""
from __future__ import annotations

import contextlib
import io
import re

from booklib import ROOT, load_notebook, source

FENCE = re.compile(r"```python\n(.*?)```", re.S)


def solution(notebook: str, label: str) -> str:
    """The text of ``:::{solution} label`` in ``notebook`` (a path relative to the book's root)."""
    marker = f":::{{solution}} {label}\n"
    for cell in load_notebook(ROOT / notebook)["cells"]:
        text = source(cell)
        if cell["cell_type"] == "markdown" and marker in text:
            body = text.split(marker, 1)[1]
            end = re.search(r"^:::\s*$", body, re.M)
            return body[: end.start()] if end else body
    raise LookupError(f"no solution {label!r} in {notebook}")


def run_code(text: str) -> str:
    """Run every ```python block of ``text`` in one fresh namespace; return what it printed."""
    blocks = FENCE.findall(text)
    if not blocks:
        raise LookupError("the solution shows no Python code")
    out = io.StringIO()
    namespace: dict = {"__name__": "__solution__"}
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, "<solution>", "exec"), namespace)  # noqa: S102 - our own text
    return out.getvalue()


def numbers(text: str) -> list[float]:
    """Every decimal number in ``text`` (thousands separators removed), in order."""
    return [float(m.replace(",", "")) for m in re.findall(r"-?\d[\d,]*\.?\d*", text)]
