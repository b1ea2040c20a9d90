"""The notebook check really compares outputs: a stored output that no longer matches fails.

This runs pytest with the project's own configuration on a two-cell notebook, once as stored and
once with an output edited by hand, so a change to the nbval options that stopped comparing
would be caught here.
"""
import subprocess
import sys
from pathlib import Path

import nbformat


def _run_nbval(root, path, *options):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-c", str(root / "pyproject.toml"), *options, str(path)],
                          cwd=root,
                          capture_output=True, text=True, timeout=180)


def _notebook(answer: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("6 * 7", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": answer}, execution_count=1)]
    addr = nbformat.v4.new_code_cell("object()", execution_count=2)
    addr.outputs = [nbformat.v4.new_output("execute_result",
                                           {"text/plain": "<object at 0x7f00deadbeef>"},
                                           execution_count=2)]
    nb.cells = [cell, addr]
    return nb


def test_matching_outputs_pass_and_addresses_are_sanitized(root, tmp_path):
    path = tmp_path / "good.ipynb"
    nbformat.write(_notebook("42"), path)
    run = _run_nbval(root, path)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "2 passed" in run.stdout


def test_a_changed_output_fails(root, tmp_path):
    path = tmp_path / "broken.ipynb"
    nbformat.write(_notebook("41"), path)
    run = _run_nbval(root, path)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "1 failed, 1 passed" in run.stdout


def _quoting_notebook(stored: str, tags=()):
    """A code cell that computes x = 42 and a Markdown cell quoting {eval}`x`, stored as ``stored``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    code = nbformat.v4.new_code_cell("x = 6 * 7", execution_count=1)
    prose = nbformat.v4.new_markdown_cell("The answer is {eval}`x`.")
    prose.metadata["user_expressions"] = [
        {"expression": "x", "result": {"data": {"text/plain": stored}, "metadata": {}, "status": "ok"}}]
    if tags:
        prose.metadata["tags"] = list(tags)
    nb.cells = [code, prose]
    return nb


def test_a_stale_inline_number_fails_and_lax_mode_compares_only_checked_cells(root):
    # The strict run (make test) compares the stored number; --nbval-lax (the labs on a real host,
    # tests/test_realhost.py) evaluates it and compares it only in a cell tagged nbval-check-output.
    # The notebooks sit inside the checkout, so that the root conftest.py (the inline check) applies.
    import shutil
    import tempfile

    (root / "_build").mkdir(exist_ok=True)
    tmp_path = Path(tempfile.mkdtemp(prefix="nbval-inline-", dir=root / "_build"))
    try:
        _check_inline(root, tmp_path)
    finally:
        shutil.rmtree(tmp_path)


def _check_inline(root, tmp_path):
    nbformat.write(_quoting_notebook("42"), tmp_path / "fresh.ipynb")
    nbformat.write(_quoting_notebook("41"), tmp_path / "stale.ipynb")
    nbformat.write(_quoting_notebook("41", tags=["nbval-check-output"]), tmp_path / "checked.ipynb")
    assert _run_nbval(root, tmp_path / "fresh.ipynb").returncode == 0
    strict = _run_nbval(root, tmp_path / "stale.ipynb")
    assert strict.returncode == 1 and "is stored as '41' but evaluates to '42'" in strict.stdout, \
        strict.stdout[-2000:]
    lax = _run_nbval(root, tmp_path / "stale.ipynb", "--nbval-lax")
    assert lax.returncode == 0, lax.stdout[-2000:]
    checked = _run_nbval(root, tmp_path / "checked.ipynb", "--nbval-lax")
    assert checked.returncode == 1 and "is stored as '41'" in checked.stdout, checked.stdout[-2000:]
