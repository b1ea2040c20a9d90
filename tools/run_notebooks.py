#!/usr/bin/env python3
"""Execute notebooks in place, top to bottom in a fresh kernel, and store their outputs.

    python tools/run_notebooks.py chapters labs          # every notebook under these folders
    python tools/run_notebooks.py chapters/01-computers.ipynb

The book shows the stored outputs and `make test` re-executes every notebook under nbval and
compares, so run this after changing a notebook. Cell timing metadata is not recorded, to keep
diffs small. Widget state is not stored: a live widget needs a kernel, so the HTML book shows a
static figure and a kernel-free view instead, and a cell that displays a widget is tagged
``remove-output`` (tests/test_notebook_standard.py checks this).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run(path: Path, timeout: int = 300) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
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
