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


def _build_book(root: Path) -> str | None:
    """Build the book from scratch (`--all`) with every warning an error: None, or what went wrong.

    The old HTML is removed first, so no page left over from an earlier build is tested.
    """
    import shutil

    shutil.rmtree(root / "_build" / "html", ignore_errors=True)
    cmd = [str(JB) if JB.exists() else "jupyter-book", "build", str(root),
           "-W", "-n", "--keep-going", "--all"]
    run = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=1200)
    log = run.stdout + run.stderr
    warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    if run.returncode == 0 and not warnings:
        return None
    return "the book build failed or warned:\n" + "\n".join(warnings[:40]) + "\n" + log[-3000:]


@pytest.fixture(scope="session")
def built(root, tmp_path_factory):
    """The book, built once per test run; return the HTML dir.

    Under pytest-xdist each worker has its own session, and the tests that need the book are in
    several files, which may run on different workers: the first worker to get here builds the book
    while holding a lock in the run's shared temporary folder and writes down the outcome; another
    worker waits for the lock and reads the outcome instead of building (and deleting) it again.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        problem = _build_book(root)
    else:
        import fcntl
        import json

        shared = tmp_path_factory.getbasetemp().parent       # the same for every worker of a run
        outcome = shared / "book-build.json"
        with (shared / "book-build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if outcome.is_file():
                problem = json.loads(outcome.read_text(encoding="utf-8"))["problem"]
            else:
                problem = _build_book(root)
                outcome.write_text(json.dumps({"problem": problem}), encoding="utf-8")
    assert problem is None, problem
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
