"""Chapter 5's solutions quote only numbers their own code produces.

Each solution shows its Python code as a block in the Markdown; a hidden cell of the chapter runs
that same code and computes every number the solution quotes, which the prose shows through an
inline expression (``{eval}``). This test ties the two: every code block of a solution must
appear, unchanged, in the hidden cell (nbval runs the cell and compares its output), every
expression reads names that cell computes and has a stored value (conftest.py re-evaluates it
under nbval), and every number a solution's prose states next to a simulator result is such an
expression, not typed.
"""
from __future__ import annotations

import ast
import re
import sys

from booklib import ROOT, load_notebook, source
from solutions import solutions

sys.path.insert(0, str(ROOT / "tools"))
import inline_expressions

PAGE = "chapters/05-sharing-the-cpu.ipynb"


def _solutions(root):
    return load_notebook(root / PAGE), [body for _, body in solutions(root / PAGE)]


def _hidden_cell(nb):
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"
             and "remove-cell" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "one hidden cell runs the solutions' code"
    return cells[0]


def _assigned(cell) -> set[str]:
    """The names a code cell assigns."""
    return {n.id for n in ast.walk(ast.parse(source(cell)))
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _read(expression: str) -> set[str]:
    """The names an inline expression reads (an f-string's fields included)."""
    return {n.id for n in ast.walk(ast.parse(expression, mode="eval"))
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def test_each_solutions_code_runs_in_the_hidden_cell(root):
    nb, solutions = _solutions(root)
    hidden = source(_hidden_cell(nb))
    text = "\n".join(solutions)
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    for block in blocks:
        assert block.strip() in hidden, f"solution code not run by the hidden cell:\n{block}"


def test_solutions_quote_the_simulators_numbers_from_the_hidden_cell(root):
    nb, solutions = _solutions(root)
    computed = _assigned(_hidden_cell(nb))
    text = "\n".join(solutions)
    exprs = {content for name, content, *_ in inline_expressions.roles(text) if name == "eval"}
    from_hidden = {e for e in exprs if _read(e) & computed}
    assert len(from_hidden) >= 20
    stored = {e["expression"] for c in nb["cells"] if c["cell_type"] == "markdown"
              for e in inline_expressions.stored(c)}
    missing = sorted(exprs - stored)
    assert not missing, f"no stored value (run the notebook): {missing}"
    # Prose outside code: a decimal number next to a simulator quantity must be an expression.
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    prose = re.sub(r"\{eval\}`[^`]+`", "", prose)
    typed = re.findall(r"\b(?:measures|gets|falls to|settles at|rises to|from|to) "
                       r"(?:about )?\d+\.\d+ (?:pCPU|ms|of a pCPU)", prose)
    assert not typed, typed


def test_solutions_hand_numbers_are_the_models():
    """The numbers ex-05-1, ex-05-2, ex-05-3 and ex-05-5 work out by hand, from the model and
    its published rows (registered in tests/test_solution_numbers.py)."""
    import math

    from virtbook.cpu import VM, Host, entitlement
    from virtbook.cpu.published import RESULTS
    from virtbook.cpu.policies import CREDITS_PER_MSEC

    # ex-05-1: csched_acct's cap of 10 on 7 vCPUs: ceil(10 x 300 / 100) = 30 credits per slice,
    # ceil(30 / 7) = 5 per vCPU, 35 credits = 3.5 ms per 30 ms, 35 / 300 = 0.117 instead of 0.100
    per_slice = CREDITS_PER_MSEC * 30
    assert per_slice == 300 and math.ceil(10 * per_slice / 100) == 30
    assert math.ceil(30 / 7) == 5 and 5 * 7 == 35 and 35 / CREDITS_PER_MSEC == 3.5
    assert round(35 / 300, 3) == 0.117 and 10 / 100 == 0.100
    row = next(r for r in RESULTS if r.key == "xen-cap-rounding")
    assert round(row.published, 3) == 0.117          # and test_published_results measures it
    # part 3: exact for 1, 2, 3, 5 and 6 vCPUs; 4 get 8 each (32), 7 get 35, 8 get 4 each (32)
    given = {n: n * math.ceil(30 / n) for n in range(1, 9)}
    assert [n for n in given if given[n] == 30] == [1, 2, 3, 5, 6]
    assert (math.ceil(30 / 4), given[4], given[7], math.ceil(30 / 8), given[8]) == (8, 32, 35, 4, 32)

    # ex-05-2: credit weighs per vCPU: 2 x 256 + 512 + 256 = 1,280; c's fair 2 x 256 / 1,280 = 0.4
    # is above its cap 0.3; the remaining 1.7 split 512 : 512 gives 0.85 each. CFS: 100 + 200 +
    # 100 = 400, fair 0.5, 1.0, 0.5; c capped at 0.3 frees 0.2 for a: 0.7, 1.0, 0.3.
    host = Host(pcpus=2)
    vms = [VM("a", vcpus=2, weight=256, cpu_weight=100), VM("b", weight=512, cpu_weight=200),
           VM("c", weight=256, cap=30, cpu_weight=100, quota_us=30_000, period_us=100_000)]
    assert 2 * 256 + 512 + 256 == 1280 and 2 * 256 / 1280 == 0.4 and 2 - 0.3 == 1.7
    credit = entitlement(host, vms, "credit")
    assert {n: round(s, 2) for n, s in credit.items()} == {"a": 0.85, "b": 0.85, "c": 0.3}
    assert 100 + 200 + 100 == 400 and [2 * w / 400 for w in (100, 200, 100)] == [0.5, 1.0, 0.5]
    cfs = entitlement(host, vms, "cfs")
    assert {n: round(s, 2) for n, s in cfs.items()} == {"a": 0.7, "b": 1.0, "c": 0.3}
    assert round(0.5 - 0.3, 1) == 0.2 and 0.5 + 0.2 == 0.7

    # ex-05-3: a rate limit of 10,000 us is a wait of up to 10 ms; the I/O VM's cycle is about
    # 1 + 9 = 10 ms and it needs 1 / 10 = 0.1 of the pCPU; with hogs of weight 2,048 its fair
    # share is 256 / (256 + 2 x 2,048) = 256 / 4,352, about 0.06
    assert 10_000 / 1000 == 10 and 1 + 9 == 10 and 1 / (1 + 9) == 0.1
    assert 256 + 2 * 2048 == 4352 and round(256 / 4352, 2) == 0.06

    # ex-05-5: cpu.weight's default is 100 (three times it: 300); 2 pCPUs over 4 vCPUs is 0.5
    # per vCPU, so a 50,000 us period takes a 25,000 us quota per vCPU
    assert VM("default").cpu_weight == 100
    assert 2 / 4 == 0.5 and 0.5 * 50_000 == 25_000
    assert entitlement(Host(pcpus=8), [VM("t", vcpus=4, cpu_weight=300,
                                          quota_us=25_000, period_us=50_000)],
                       "cfs")["t"] == 2.0
