"""ruff, pinned in requirements.txt, finds nothing in the repository's Python code with the rule set
in pyproject.toml ([tool.ruff]); `make test` runs it here, so a lint error fails the build."""
from __future__ import annotations

import re
import subprocess
import sys

from booklib import ROOT


def ruff(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_ruff_finds_nothing():
    run = ruff("check", "--no-cache", "--output-format", "concise", ".")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_runs_the_projects_rules(tmp_path):
    """The same command fails on code that breaks a rule of the set (an unused import, F401), so
    the test above cannot pass because ruff read no configuration or no file."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n", encoding="utf-8")
    run = ruff("check", "--no-cache", "--output-format", "concise", "--config",
               str(ROOT / "pyproject.toml"), str(bad), cwd=tmp_path)
    assert run.returncode == 1 and "F401" in run.stdout, run.stdout + run.stderr


def test_the_ruff_that_runs_is_the_pinned_one():
    pin = re.search(r"^ruff==(\S+)$", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M)
    assert pin, "requirements.txt does not pin ruff"
    assert ruff("--version").stdout.split() == ["ruff", pin.group(1)]
