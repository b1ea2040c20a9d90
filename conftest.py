"""nbval checks code cells; this adds a check of the numbers the Markdown quotes.

A notebook's prose quotes computed numbers as MyST inline expressions (``{eval}`...```), whose
values are stored in the Markdown cell's metadata (tools/inline_expressions.py). For every Markdown
cell with inline expressions, an extra test item runs in nbval's kernel right after the code
cells above that cell: it evaluates the expressions there, as JupyterLab's Run All does, and
fails when one raises (for example, a number quoted before the code that computes it) or when its
stored value is stale, just as nbval fails when a stored output is. A Markdown cell tagged
``nbval-ignore-output`` (its numbers come from a live measurement) is evaluated, not compared.
nbval's sanitize patterns apply, as they do to outputs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
import inline_expressions


class InlineExpressions(pytest.Item):
    def __init__(self, *, cell_index: int, cell: dict, exprs: list[str], **kwargs):
        super().__init__(**kwargs)
        self.cell_index, self.cell, self.exprs = cell_index, cell, exprs
        self.ignore = "nbval-ignore-output" in cell.get("metadata", {}).get("tags", [])

    def runtest(self):
        kernel = self.parent.kernel
        if not kernel.is_alive():
            raise RuntimeError("the notebook's kernel is not running")
        fresh = inline_expressions.evaluate(kernel.kc, self.exprs,
                                            timeout=self.config.option.nbval_cell_timeout)
        problems = inline_expressions.failures(fresh)
        if not self.ignore:
            stored = inline_expressions.stored(self.cell)
            if [e["expression"] for e in stored] != self.exprs:
                problems.append("the stored values do not match the cell's expressions")
            else:
                for old, new in zip(stored, fresh):
                    if new["result"].get("status") != "ok":
                        continue
                    before = self._text(old["result"])
                    after = self._text(new["result"])
                    if before != after:
                        problems.append(f"{{eval}}`{old['expression']}` is stored as {before!r} "
                                        f"but evaluates to {after!r}")
        if problems:
            raise InlineExpressionError(problems)

    def _text(self, result: dict) -> str:
        try:
            text = inline_expressions.result_text(result)
        except ValueError as err:
            return f"<{err}>"
        for regex, replace in getattr(self.parent, "sanitize_patterns", {}).items():
            import re

            text = re.sub(regex, replace, text)
        return text

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, InlineExpressionError):
            return (f"Markdown cell {self.cell_index}: " + "\n".join(excinfo.value.args[0])
                    + "\nRe-run the notebook (python tools/run_notebooks.py NOTEBOOK) to store "
                    "current values, or compute a number before the text that quotes it.")
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::Markdown cell {self.cell_index} (inline)"


class InlineExpressionError(Exception):
    pass


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Put an inline-expression item after the code cell items that precede each Markdown cell."""
    try:
        from nbval.plugin import IPyNbCell, IPyNbFile
    except ImportError:  # pragma: no cover - nbval is pinned
        return
    out = []
    by_file: dict = {}
    for item in items:
        by_file.setdefault(item.parent if isinstance(item, IPyNbCell) else None, []).append(item)
    done = set()
    for item in items:
        parent = item.parent if isinstance(item, IPyNbCell) else None
        if parent is None or not isinstance(parent, IPyNbFile):
            out.append(item)
            continue
        if parent in done:
            continue
        done.add(parent)
        cells = iter(by_file[parent])
        for index, cell in enumerate(parent.nb.cells):
            if cell.cell_type == "code":
                item_for_cell = next(cells, None)
                if item_for_cell is not None:
                    out.append(item_for_cell)
            elif cell.cell_type == "markdown":
                exprs = inline_expressions.expressions(cell.source)
                if exprs:
                    out.append(InlineExpressions.from_parent(
                        parent, name=f"Markdown cell {index} (inline)", cell_index=index,
                        cell=cell, exprs=exprs))
        out.extend(cells)
    items[:] = out
