"""The notebook check really compares outputs: a stored output that no longer matches fails.

This runs pytest with the project's own configuration on a two-cell notebook, once as stored and
once with an output edited by hand, so a change to the nbval options that stopped comparing
would be caught here.
"""
import subprocess
import sys

import nbformat


def _run_nbval(root, path):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-c", str(root / "pyproject.toml"), str(path)], cwd=root,
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
