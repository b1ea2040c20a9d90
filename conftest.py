"""nbval checks code cells; this adds a check of the numbers the Markdown quotes.

A notebook's prose quotes computed numbers as MyST inline expressions (``{eval}`...```), whose
values are stored in the Markdown cell's metadata (tools/inline_expressions.py). For every Markdown
cell with inline expressions, an extra test item runs in nbval's kernel right after the code
cells above that cell: it evaluates the expressions there, as JupyterLab's Run All does, and
fails when one raises (for example, a number quoted before the code that computes it) or when its
stored value is stale, just as nbval fails when a stored output is. A Markdown cell tagged
``nbval-ignore-output`` (its numbers come from a live measurement) is evaluated, not compared;
under ``--nbval-lax`` (how tests/test_realhost.py runs the labs on a real host, where the numbers
are the host's) only a cell tagged ``nbval-check-output`` is compared, as nbval does with outputs.
nbval's sanitize patterns apply, as they do to outputs.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
import inline_expressions


class InlineExpressions(pytest.Item):
    def __init__(self, *, cell_index: int, cell: dict, exprs: list[str], **kwargs):
        super().__init__(**kwargs)
        self.cell_index, self.cell, self.exprs = cell_index, cell, exprs
        tags = cell.get("metadata", {}).get("tags", [])
        if kwargs["parent"].config.option.nbval_lax:
            self.ignore = "nbval-check-output" not in tags
        else:
            self.ignore = "nbval-ignore-output" in tags

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



# --- Running on several cores (pytest-xdist; `make test` passes -n logical) --------------------
#
# pyproject's addopts choose `--dist loadfile`: xdist sends all the tests of one file to one
# worker, in collection order. So a notebook's cells, and the inline-expression items the hook
# above puts between them, run in order in the one kernel that nbval starts for that notebook, and
# a module's module-scoped fixtures are set up once: tests/test_realhost.py drives the real libvirt
# daemon from one worker only (its module also holds a lock across checkouts). (`--dist loadgroup`
# with a hook that marks each file's tests does not work with pytest 9.2 and pytest-xdist 3.8.0:
# xdist carries a test's group as a suffix of its node id, and pytest 9.2 ignores the suffix, so
# every test becomes its own group, pytest-dev/pytest-xdist#1386.) The tests that read the built
# book (the `built` fixture, tests/conftest.py) are in three files; the first worker to need the
# book builds it while holding a lock and the other reuses it.


#: Files started first, longest first (`--durations` on the book's 2-core machine), so that none is
#: left for the end of the run while the other worker has nothing more to do. (A name that is not
#: there, such as the grading tests before they land, changes nothing.)
FIRST = ("tests/test_realhost.py", "tests/test_browser.py", "tests/test_grading.py")
#: Files started after the rest of tests/ and the doctests, just before the notebooks. The
#: JupyterLab test times its widget demos with no other test of the run going on (QuietMachine
#: below), so it waits for the other worker's current test: that wait is short when the other
#: worker runs unit tests or notebook cells, long when it runs a real-host lab (a minute or more).
BEFORE_NOTEBOOKS = ("tests/test_jupyterlab.py",)


def file_rank(path: str) -> tuple[int, int]:
    """Where a file's tests go in a worker's collection (the sort is stable: ties keep their order):
    the FIRST files, the other tests and doctests, BEFORE_NOTEBOOKS, then the notebooks (many
    small files, which balance the two workers at the end)."""
    if path in FIRST:
        return 0, FIRST.index(path)
    if path in BEFORE_NOTEBOOKS:
        return 2, 0
    return (3, 0) if path.endswith(".ipynb") else (1, 0)


class StartLongFilesFirst:
    """Reorders a worker's collection (a class: this module already has a hook of that name)."""

    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(self, session, config, items):
        yield
        if hasattr(config, "workerinput"):          # an xdist worker; the controller follows it
            items.sort(key=lambda item: file_rank(item.nodeid.split("::", 1)[0]))   # stable


class QuietMachine:
    """Lets a test time something with no other test of the run going on (a worker's tests are
    otherwise timed against whatever the other worker runs at that moment).

    Every test holds a shared lock for its whole run (set-up, call, tear-down); ``alone()`` turns
    the caller's into an exclusive one, so it waits until the other worker's current test is done,
    and the other worker waits before its next test until the caller is done. A second lock, the
    gate, taken before the shared one, keeps a stream of new shared locks from starving ``alone()``.
    """

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.gate = (folder / "quiet-gate.lock").open("w")
        self.tests = (folder / "quiet-tests.lock").open("w")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        import fcntl

        fcntl.flock(self.gate, fcntl.LOCK_EX)
        fcntl.flock(self.tests, fcntl.LOCK_SH)
        fcntl.flock(self.gate, fcntl.LOCK_UN)
        try:
            return (yield)
        finally:
            fcntl.flock(self.tests, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def alone(self):
        import fcntl

        fcntl.flock(self.gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.tests, fcntl.LOCK_EX)      # from this test's shared lock
            try:
                yield
            finally:
                fcntl.flock(self.tests, fcntl.LOCK_SH)
        finally:
            fcntl.flock(self.gate, fcntl.LOCK_UN)


@pytest.fixture
def quiet_machine(request):
    """A context manager: inside it no other test of this run runs (see QuietMachine)."""
    quiet = getattr(request.config, "_virtbook_quiet", None)
    return quiet.alone if quiet is not None else contextlib.nullcontext


def pytest_configure(config):
    config.pluginmanager.register(StartLongFilesFirst(), "virtbook-long-files-first")
    if hasattr(config, "workerinput") and config.option.basetemp:
        # The run's own temporary folder, shared by its workers (each works in a subfolder).
        config._virtbook_quiet = QuietMachine(Path(config.option.basetemp).parent / "virtbook-locks")
        config.pluginmanager.register(config._virtbook_quiet, "virtbook-quiet-machine")
