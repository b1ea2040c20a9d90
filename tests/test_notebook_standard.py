"""Every notebook is stored the way nbval and the book need it: executed top to bottom in one
clean run, with no errors or stderr, and every nbval marker explained."""
import re

import pytest

from booklib import code_cells, load_notebook, notebooks, source

NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip", "nbval-raises-exception", "nbval-check-output"}
NBVAL_COMMENT = re.compile(r"^#\s*NBVAL_[A-Z_]+", re.M)
REASON = re.compile(r"^#\s*(nbval-[a-z-]+|NBVAL_[A-Z_]+)\s*[:-]\s*\S.{4,}", re.M)

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
def test_every_nbval_marker_has_a_reason(path):
    for i, cell in enumerate(code_cells(load_notebook(path))):
        tags = set(cell.get("metadata", {}).get("tags", []))
        marked = tags & NBVAL_TAGS or NBVAL_COMMENT.search(source(cell))
        if marked:
            assert REASON.search(source(cell)), (
                f"{path.name} code cell {i} carries an nbval marker {sorted(tags & NBVAL_TAGS)} "
                "without a one-line reason: start the cell with '# nbval-ignore-output: <why>'")


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_live_widgets_stay_out_of_the_html(path):
    """A widget needs a kernel: the HTML book shows the static figure instead, so a cell that
    displays a widget is tagged remove-output, and no widget state (which would make the page
    load widget scripts from a CDN) is stored."""
    nb = load_notebook(path)
    assert "widgets" not in nb["metadata"], f"{path.name} stores widget state; run `make outputs`"
    for i, cell in enumerate(code_cells(nb)):
        shows_widget = any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))
        if shows_widget:
            assert "remove-output" in cell.get("metadata", {}).get("tags", []), (
                f"{path.name} code cell {i} displays a widget but is not tagged remove-output")


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
