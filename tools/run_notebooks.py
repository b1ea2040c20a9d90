#!/usr/bin/env python3
"""Execute notebooks in place, top to bottom in a fresh kernel, and store their outputs.

    python tools/run_notebooks.py chapters labs          # every notebook under these folders
    python tools/run_notebooks.py chapters/01-computers.ipynb

The book shows the stored outputs and `make test` re-executes every notebook under nbval and
compares, so run this after changing a notebook. Cell timing metadata is not recorded, to keep
diffs small. Widget state is not stored: a live widget needs a kernel, so the HTML book shows a
static figure and a kernel-free view instead, and a cell that displays a widget is tagged
``remove-output`` (tests/test_notebook_standard.py checks this).

Each Markdown cell's inline expressions (``{eval}`...```) are evaluated in the same kernel at
that cell's place, after the code above it, and their values stored in the cell's metadata
(``user_expressions``, as jupyterlab-myst stores them): the HTML book and a student who opens the
notebook see them, and the notebook tests fail when one is stale (tools/inline_expressions.py).
An expression that fails stops the run, like a failing cell.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inline_expressions  # tools/ is not a package: found through sys.path above


class ExpressionClient(NotebookClient):
    """Runs code cells as nbclient does, and evaluates Markdown cells' inline expressions."""

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        if cell.cell_type != "markdown":
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        exprs = inline_expressions.expressions(cell.source)
        results = []
        if exprs:
            msg_id = self.kc.execute(**inline_expressions.request(exprs))
            reply = await self.async_wait_for_reply(msg_id)
            results = inline_expressions.entries(exprs, reply["content"])
            bad = inline_expressions.failures(results)
            if bad:
                raise RuntimeError(f"cell {cell_index}: " + "; ".join(bad))
        inline_expressions.store(cell, results)
        return cell


def run(path: Path, timeout: int = 300) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = ExpressionClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                              store_widget_state=True,  # (nbclient needs it for Output widgets; dropped below)
                              resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    paths: list[Path] = []
    for arg in argv:
        p = Path(arg)
        if p.is_dir():
            paths += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.suffix == ".ipynb" and p.is_file():
            paths.append(p)
        else:
            print(f"run_notebooks: '{arg}' is neither a folder nor a notebook", file=sys.stderr)
            return 2
    for p in paths:
        print(f"{p}: {run(p):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
