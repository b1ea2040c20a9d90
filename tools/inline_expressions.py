"""MyST inline expressions (``{eval}`expr```) in notebook Markdown: find, evaluate, store, compare.

A number that a code cell computes and the prose quotes is written in Markdown as an inline
expression, for example ``{eval}`f"{speedup:.2f}"```. Its value is kept where jupyterlab-myst keeps
it, in the Markdown cell's metadata::

    "user_expressions": [{"expression": "f\\"{speedup:.2f}\\"",
                          "result": {"status": "ok", "data": {"text/plain": "'1.25'"},
                                     "metadata": {}}}]

so the same stored value serves three readers:

- JupyterLab with jupyterlab-myst shows it as soon as the notebook opens, and evaluates the
  expression again in the kernel when the student runs the cell;
- the HTML book renders it from the metadata without running anything (``_ext/inline_eval.py``);
- the tests re-evaluate every expression at its place in the notebook under nbval and fail when a
  stored value is stale (``conftest.py`` at the repository's root).

``tools/run_notebooks.py`` stores the values when it executes a notebook. This module holds what
the three share: how expressions are found in Markdown, how a kernel evaluates them, and how a
result becomes the text a reader sees.
"""
from __future__ import annotations

import re
from typing import Any

#: A role's name in braces, right before the backticks that hold its content.
_ROLE_NAME = re.compile(r"\{([A-Za-z][\w:+-]*)\}$")
#: Fenced code that is not a directive (```python ... ```): roles inside it are literal text.
_CODE_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(?!\{)[^\n]*\n.*?^\1\2[`~]*[ \t]*$", re.M | re.S)
#: jupyterlab-myst shows a text/plain string without its surrounding quotes; so do we.
_QUOTED = re.compile(r"""^(["'])(.*)\1$""", re.S)

METADATA_KEY = "user_expressions"


def roles(markdown: str) -> list[tuple[str, str, int, int]]:
    """Every role in Markdown as (name, content, start, end), skipping code spans and fences.

    A run of backticks opens inline code or, right after ``{name}``, a role's content; either ends
    at the next run of the same length (CommonMark's rule, which MyST follows).

    >>> roles("{term}`VM`, code `{eval}` and {eval}``a`b``")
    [('term', 'VM', 0, 10), ('eval', 'a`b', 30, 43)]
    """
    text = _CODE_FENCE.sub(lambda m: " " * len(m.group(0)), markdown)
    found, i = [], 0
    while i < len(text):
        if text[i] != "`":
            i += 1
            continue
        run = len(text) - len(text[i:].lstrip("`"))
        ticks = text[i:run]
        close = i + len(ticks)
        while True:
            close = text.find(ticks, close)
            if close < 0 or text[close + len(ticks):close + len(ticks) + 1] != "`":
                break
            close += len(text[close:]) - len(text[close:].lstrip("`"))
        if close < 0:          # an unmatched run is literal backticks
            i = run
            continue
        name = _ROLE_NAME.search(text[:i])
        if name:
            found.append((name.group(1), text[run:close], name.start(), close + len(ticks)))
        i = close + len(ticks)
    return found


def expressions(markdown: str) -> list[str]:
    """Every inline expression of a Markdown cell, in reading order, one per occurrence.

    >>> expressions('It took {eval}`f"{t:.1f}"` s, {eval}`n` runs; `{eval}` is the role.')
    ['f"{t:.1f}"', 'n']
    >>> expressions("```python\\nprint('{eval}`x`')\\n```\\nand {eval}``a`b`` here")
    ['a`b']
    """
    return [content for name, content, _, _ in roles(markdown) if name == "eval"]


def result_text(result: dict[str, Any]) -> str:
    """The text a reader sees for one stored result: text/plain without surrounding quotes.

    >>> result_text({"status": "ok", "data": {"text/plain": "'1.25'"}, "metadata": {}})
    '1.25'
    >>> result_text({"status": "ok", "data": {"text/plain": "42"}, "metadata": {}})
    '42'
    """
    if result.get("status") != "ok":
        raise ValueError(f"result: the expression failed ({result.get('ename', '?')}: "
                         f"{result.get('evalue', '')}); only results with status 'ok' have text")
    text = result.get("data", {}).get("text/plain")
    if text is None:
        raise ValueError("result: no text/plain representation; an inline expression must "
                         "evaluate to a number or a string")
    return _QUOTED.sub(r"\2", text)


def stored(cell: dict) -> list[dict]:
    """The ``user_expressions`` entries stored on a Markdown cell (empty if none)."""
    return list(cell.get("metadata", {}).get(METADATA_KEY, []) or [])


def store(cell: dict, results: list[dict]) -> None:
    """Store ``results`` on a Markdown cell as jupyterlab-myst does, or drop the key if none."""
    metadata = cell.setdefault("metadata", {})
    if results:
        metadata[METADATA_KEY] = results
    else:
        metadata.pop(METADATA_KEY, None)


def request(exprs: list[str]) -> dict[str, Any]:
    """The execute request that evaluates ``exprs`` the way jupyterlab-myst does.

    It runs no code and is silent: it neither counts as an execution nor prints anything, so a
    notebook's execution counts and outputs stay as they are.

    >>> request(["n", "f'{x:.1f}'"])["user_expressions"]
    {'0': 'n', '1': "f'{x:.1f}'"}
    """
    return {"code": "", "silent": True, "store_history": False, "allow_stdin": False,
            "user_expressions": {str(i): expr for i, expr in enumerate(exprs)}}


def entries(exprs: list[str], reply: dict[str, Any]) -> list[dict]:
    """Metadata entries (as jupyterlab-myst stores them) from an execute reply's content."""
    if reply.get("status") != "ok":
        raise RuntimeError(f"the kernel did not evaluate the inline expressions: {reply}")
    values = reply.get("user_expressions", {})
    return [{"expression": expr, "result": values[str(i)]} for i, expr in enumerate(exprs)]


def evaluate(kc, exprs: list[str], timeout: float = 60) -> list[dict]:
    """Evaluate ``exprs`` with a blocking kernel client ``kc`` and return metadata entries."""
    if not exprs:
        return []
    msg_id = kc.execute(**request(exprs))
    while True:
        msg = kc.get_shell_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            return entries(exprs, msg["content"])


def failures(results: list[dict]) -> list[str]:
    """One line per result that is not a text value: what the reader would see instead."""
    bad = []
    for entry in results:
        result = entry["result"]
        if result.get("status") != "ok":
            bad.append(f"{{eval}}`{entry['expression']}` raised {result.get('ename')}: "
                       f"{result.get('evalue')}")
        elif "text/plain" not in result.get("data", {}):
            bad.append(f"{{eval}}`{entry['expression']}` has no text/plain value")
    return bad
