"""Reading an exercise solution or a figure's alt text out of a chapter notebook, and running a
solution's code, so that tests can check every model number a solution or an alt text quotes
against what the code really computes (a number in an alt text or a dropdown cannot be glued)."""
from __future__ import annotations

import contextlib
import io
import re

from booklib import ROOT, load_notebook, source


def markdown(notebook: str) -> str:
    """All Markdown cells of ``chapters/<notebook>``, joined."""
    nb = load_notebook(ROOT / "chapters" / notebook)
    return "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")


def solution(notebook: str, label: str) -> str:
    """The body of the ``{solution} label`` directive (fenced with ::: or ```)."""
    m = re.search(r"^(:{3,}|`{3,})\{solution\} " + re.escape(label) + r"\s*\n(.*?)^\1\s*$",
                  markdown(notebook), re.S | re.M)
    if m is None:
        raise AssertionError(f"{notebook} has no solution {label}")
    return m.group(2)


def solution_code(notebook: str, label: str) -> str:
    """The ```python block of a solution."""
    m = re.search(r"```python\n(.*?)```", solution(notebook, label), re.S)
    if m is None:
        raise AssertionError(f"solution {label} of {notebook} has no python block")
    return m.group(1)


def run_solution(notebook: str, label: str) -> tuple[dict, str]:
    """Execute a solution's code; return its namespace and what it printed."""
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(solution_code(notebook, label), f"{notebook}:{label}", "exec"), namespace)
    return namespace, out.getvalue()


def alt_text(notebook: str, name: str) -> str:
    """The ``:alt:`` of the ``{glue:figure} name`` directive."""
    m = re.search(r"\{glue:figure\} " + re.escape(name) + r"\n:alt: (.+)\n", markdown(notebook))
    if m is None:
        raise AssertionError(f"no glue:figure {name} in {notebook}")
    return m.group(1)
