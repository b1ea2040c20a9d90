"""Reading an exercise's solution out of a chapter notebook, so a test can run its code and hold
the numbers its prose quotes against what the code prints."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from booklib import ROOT, load_notebook, source


def solution(chapter: str, label: str) -> str:
    """The Markdown body of ``:::{solution} <label>`` in ``chapters/<chapter>``."""
    nb = load_notebook(Path(ROOT) / "chapters" / chapter)
    head = f":::{{solution}} {label}\n"
    for cell in nb["cells"]:
        text = source(cell)
        start = text.find(head)
        if start >= 0:
            body = text[start:]
            end = body.find("\n:::", len(head))     # code inside uses ``` fences, never :::
            return body if end < 0 else body[:end]
    raise AssertionError(f"no solution {label} in {chapter}")


def run_code(body: str) -> str:
    """Run the ```python blocks of ``body`` in one fresh namespace; return what they printed."""
    blocks = re.findall(r"```python\n(.*?)```", body, re.S)
    assert blocks, "the solution has no python code"
    out = io.StringIO()
    namespace: dict = {}
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, "<solution>", "exec"), namespace)
    return out.getvalue()
