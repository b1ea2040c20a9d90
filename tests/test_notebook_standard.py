"""Every notebook is stored the way nbval and the book need it: executed top to bottom in one
clean run, with no errors or stderr, and every nbval marker explained."""
import re
import sys
from pathlib import Path

import pytest

from booklib import ROOT, code_cells, load_notebook, notebooks, source

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import inline_expressions

NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip", "nbval-raises-exception", "nbval-check-output"}
#: A harness comment in code students read: nbval's own "# NBVAL_..." or our old "# nbval-...".
NBVAL_COMMENT = re.compile(r"^[ \t]*#[ \t]*(NBVAL_[A-Z_]+|nbval-[a-z-]+)", re.M)
#: Where a marker's reason lives: the cell's metadata, out of the code students read.
REASON_KEY = "nbval-reason"

NOTEBOOKS = notebooks()


def ids(paths):
    return [p.name for p in paths]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_kernel_is_plain_python3(path):
    nb = load_notebook(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3", path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_executed_once_top_to_bottom(path):
    counts = [c.get("execution_count") for c in code_cells(load_notebook(path))]
    assert counts, f"{path.name} has no code cells"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts}; re-run it with `make outputs`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_errors_or_stderr_stored(path):
    for i, cell in enumerate(code_cells(load_notebook(path))):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name} code cell {i}: {out.get('ename')}"
            assert not (out["output_type"] == "stream" and out.get("name") == "stderr"), (
                f"{path.name} code cell {i} wrote to stderr: {''.join(out.get('text', ''))[:200]}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_every_nbval_marker_is_a_tag_with_a_reason_in_metadata(path):
    """nbval markers are cell tags; the one-line reason for each sits in the cell's metadata
    (``nbval-reason``), never as a comment in code that students read.
    ``python tools/convert_for_jupyterlab.py --markers-only NOTEBOOK`` moves old comments."""
    for i, cell in enumerate(load_notebook(path)["cells"]):
        metadata = cell.get("metadata", {})
        tags = set(metadata.get("tags", [])) & NBVAL_TAGS
        reason = metadata.get(REASON_KEY)
        where = f"{path.name} cell {i}"
        if cell["cell_type"] == "code":
            comment = NBVAL_COMMENT.search(source(cell))
            assert not comment, (
                f"{where} has the harness comment {comment.group(0).strip()!r} in its code: make it "
                f"a cell tag with the reason in metadata['{REASON_KEY}']")
        if tags:
            assert isinstance(reason, str) and len(reason.strip()) >= 5 and "\n" not in reason, (
                f"{where} carries {sorted(tags)} without a one-line reason in "
                f"metadata['{REASON_KEY}']")
        else:
            assert reason is None, (
                f"{where} has metadata['{REASON_KEY}'] but no nbval tag: remove the stale reason")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_every_inline_expression_has_a_stored_value(path):
    """Each {eval} in the prose has its value stored next to it (as jupyterlab-myst stores it), so
    the HTML book and a student who opens the notebook see the number; run_notebooks.py stores
    them. That the values are current is checked under nbval (conftest.py)."""
    for i, cell in enumerate(load_notebook(path)["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        exprs = inline_expressions.expressions(source(cell))
        stored = inline_expressions.stored(cell)
        assert [e["expression"] for e in stored] == exprs, (
            f"{path.name} cell {i}: stored values do not match its inline expressions; "
            "run `python tools/run_notebooks.py` on it")
        bad = inline_expressions.failures(stored)
        assert not bad, f"{path.name} cell {i}: {bad}"


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_live_widgets_stay_out_of_the_html(path):
    """A widget needs a kernel: the HTML book shows a static figure instead, so a cell that
    displays a widget is tagged remove-output, or its output carries a kernel-free HTML view as
    well (virtbook.widgets.common.LiveView), which the book shows instead of the widget; and no
    widget state (which would make the page load widget scripts from a CDN) is stored."""
    nb = load_notebook(path)
    assert "widgets" not in nb["metadata"], f"{path.name} stores widget state; run `make outputs`"
    for i, cell in enumerate(code_cells(nb)):
        views = [out["data"] for out in cell.get("outputs", []) if WIDGET_VIEW in out.get("data", {})]
        if views:
            assert ("remove-output" in cell.get("metadata", {}).get("tags", [])
                    or all("text/html" in data for data in views)), (
                f"{path.name} code cell {i} displays a widget without a kernel-free view and is "
                "not tagged remove-output")


def test_the_book_ranks_a_demos_html_view_above_its_widget():
    """myst-nb would pick a widget view over HTML, and without widget state show nothing."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    overrides = config["sphinx"]["config"].get("nb_mime_priority_overrides", [])
    rank = {mime: priority for builder, mime, priority in overrides if builder == "html"}
    assert rank.get(WIDGET_VIEW, 10) > rank.get("text/html", 30), overrides


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_glued_figures_show_once_in_the_html(path):
    """plots.glue_figure displays the figure for notebook readers; in the HTML the {glue:figure}
    directive places it, so the cell's own output must be removed there (tag remove-output)."""
    for i, cell in enumerate(code_cells(load_notebook(path))):
        glued = any("scrapbook" in out.get("metadata", {}) and "image/png" in out.get("data", {})
                    for out in cell.get("outputs", []))
        if glued:
            assert "remove-output" in cell.get("metadata", {}).get("tags", []), (
                f"{path.name} code cell {i} displays a glued figure but is not tagged remove-output")
