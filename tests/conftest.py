"""Shared fixtures: the project's root and its table of contents."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Property tests explore the same examples on every run and every machine: a failure that CI sees
# is one a contributor can reproduce, and a green run stays green. (A test's own @settings keep
# their max_examples and deadline; this profile adds the fixed seed and keeps no example database.)
# `VIRTBOOK_HYPOTHESIS=explore pytest ...` searches fresh random examples instead, to hunt for bugs.
settings.register_profile("virtbook", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, database=None, print_blob=True)
settings.load_profile("explore" if os.environ.get("VIRTBOOK_HYPOTHESIS") == "explore" else "virtbook")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def in_ci() -> bool:
    """True under CI (GitHub Actions and .ci/run set CI=true): optional tests must then run."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


JB = Path(sys.executable).with_name("jupyter-book")


@pytest.fixture(scope="session")
def built(root):
    """Build the book from scratch (`--all`) with every warning an error; return the HTML dir.

    The old HTML is removed first, so no page left over from an earlier build is tested.
    """
    import shutil

    shutil.rmtree(root / "_build" / "html", ignore_errors=True)
    cmd = [str(JB) if JB.exists() else "jupyter-book", "build", str(root),
           "-W", "-n", "--keep-going", "--all"]
    run = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=1200)
    log = run.stdout + run.stderr
    warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert run.returncode == 0 and not warnings, (
        "the book build failed or warned:\n" + "\n".join(warnings[:40]) + "\n" + log[-3000:])
    return root / "_build" / "html"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print every page's weight when the browser tests ran (tests/test_browser.py)."""
    weights = getattr(config, "_virtbook_weights", None)
    if not weights:
        return
    import statistics

    tr = terminalreporter
    tr.section("page weight: each page's own HTML, images and data (theme files apart)")
    width = max(len(rel) for rel in weights)
    for rel, (own, shared) in sorted(weights.items()):
        tr.write_line(f"{rel:<{width}}  {own / 1024:9.1f} KiB")
    own = [o for o, _ in weights.values()]
    shared = max(s for _, s in weights.values())
    tr.write_line(f"{len(own)} pages; median {statistics.median(own) / 1024:.1f} KiB, "
                  f"largest {max(own) / 1024:.1f} KiB; shared theme files (_static/, loaded "
                  f"once per site) {shared / 1024:.1f} KiB")
