"""Chapter 5's solutions quote only numbers their own code produces.

Each solution shows its Python code as a block in the Markdown; a hidden cell of the chapter runs
that same code and glues every number the solution quotes. This test ties the two: every code
block of a solution must appear, unchanged, in the hidden cell (nbval runs the cell and compares
its output), and every number a solution's prose states next to a simulator result is a glue
reference, not typed.
"""
from __future__ import annotations

import re

from booklib import load_notebook, source
from solutions import solutions

PAGE = "chapters/05-sharing-the-cpu.ipynb"


def _solutions(root):
    return load_notebook(root / PAGE), [body for _, body in solutions(root / PAGE)]


def _hidden_cell(nb):
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"
             and "remove-cell" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "one hidden cell runs the solutions' code"
    return cells[0]


def _glued(cell) -> set[str]:
    return {o["metadata"]["scrapbook"]["name"] for o in cell.get("outputs", [])
            if "scrapbook" in o.get("metadata", {})}


def test_each_solutions_code_runs_in_the_hidden_cell(root):
    nb, solutions = _solutions(root)
    hidden = source(_hidden_cell(nb))
    text = "\n".join(solutions)
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    for block in blocks:
        assert block.strip() in hidden, f"solution code not run by the hidden cell:\n{block}"


def test_solutions_glue_the_simulators_numbers(root):
    nb, solutions = _solutions(root)
    glued = _glued(_hidden_cell(nb))
    text = "\n".join(solutions)
    keys = set(re.findall(r"\{glue:text\}`([\w-]+)", text))
    assert len(keys) >= 20
    missing = sorted(k for k in keys if k.startswith("ch05-ex") and k not in glued)
    assert not missing, f"not glued by the hidden cell (run the notebook): {missing}"
    # Prose outside code: a decimal number next to a simulator quantity must be a glue reference.
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    prose = re.sub(r"\{glue:text\}`[^`]+`", "", prose)
    typed = re.findall(r"\b(?:measures|gets|falls to|settles at|rises to|from|to) "
                       r"(?:about )?\d+\.\d+ (?:pCPU|ms|of a pCPU)", prose)
    assert not typed, typed
