"""tools/convert_for_jupyterlab.py: glue becomes inline expressions, mechanically and once."""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import convert_for_jupyterlab as conv
import inline_expressions

ROOT = Path(__file__).resolve().parent.parent

TITLES = ({"ch09-demo": "Demo: a tiny emulator", "ch09-fancy": "The `x` flag"},
          {"chapters/09-emulation": "9. Emulation", "labs/index": "How the labs work"})


def code(source, tags=(), outputs=()):
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.outputs = list(outputs)
    return cell


def md(source, **metadata):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata.update(metadata)
    return cell


def glued(key, plain):
    """A stored output of glue(key, value, display=False), as MyST-NB writes it."""
    return nbformat.v4.new_output("display_data", {conv.GLUE_MIME: plain},
                                  metadata={"scrapbook": {"name": key,
                                                          "mime_prefix": conv.GLUE_MIME[:-10]}})


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = list(cells)
    return json.loads(nbformat.writes(nb))  # plain dicts, as the tool reads a file


def text(nb, i):
    return conv.text_of(nb["cells"][i])


def test_static_glue_becomes_a_variable_and_the_role_an_inline_expression():
    nb = notebook(
        code("from myst_nb import glue\n\nspeed = 3.0\nglue(\"ch09-speedup\", speed * 2, "
             "display=False)\nglue(\"ch09-runs\", 12, display=False)",
             outputs=[glued("ch09-speedup", "6.0"), glued("ch09-runs", "12")]),
        md("It is {glue:text}`ch09-speedup:.2f` times faster over {glue:text}`ch09-runs` runs "
           "and {glue}`ch09-runs:,` in all."))
    report = conv.convert(nb, "chapters/09-emulation", TITLES)
    assert text(nb, 0) == "speed = 3.0\nspeedup = speed * 2\nruns = 12"
    assert text(nb, 1) == ('It is {eval}`f"{speedup:.2f}"` times faster over {eval}`runs` runs '
                           'and {eval}`f"{runs:,}"` in all.')
    assert [e[1:] for e in report.expected] == [('f"{speedup:.2f}"', "6.00"), ("runs", "12"),
                                                ('f"{runs:,}"', "12")]
    assert not report.problems


def test_running_it_again_changes_nothing():
    nb = notebook(code("from myst_nb import glue\nglue(\"ch09-x\", 1, display=False)",
                       outputs=[glued("ch09-x", "1")]),
                  md(":::{glue:figure} fig-09-a\n:alt: A bar.\n\nCaption {ref}`ch09-demo`.\n:::\n"
                     "x is {glue:text}`ch09-x`."))
    conv.convert(nb, "chapters/09-emulation", TITLES)
    once = copy.deepcopy(nb)
    report = conv.convert(nb, "chapters/09-emulation", TITLES)
    assert nb == once and not report.changes


def test_a_loop_key_becomes_a_dict_filled_in_the_loop():
    nb = notebook(
        code("from myst_nb import glue\nfor name in ('db', 'web'):\n"
             "    glue(f\"ch05-share-{name}\", len(name) / 4, display=False)",
             outputs=[glued("ch05-share-db", "0.5"), glued("ch05-share-web", "0.75")]),
        md("db gets {glue:text}`ch05-share-db:.2f` and web {glue:text}`ch05-share-web:.0%`."))
    conv.convert(nb, "chapters/05-x", TITLES)
    assert text(nb, 0) == ("share = {}\nfor name in ('db', 'web'):\n"
                           "    share[name] = len(name) / 4")
    assert text(nb, 1) == ("db gets {eval}`f\"{share['db']:.2f}\"` and web "
                           "{eval}`f\"{share['web']:.0%}\"`.")


def test_an_unused_glue_import_goes_when_the_last_call_was_rewritten_by_hand():
    nb = notebook(code("from myst_nb import glue\n\nn = {m: len(m) for m in ('db', 'web')}"),
                  md("{eval}`n['db']`"))
    report = conv.convert(nb, "chapters/11-x", TITLES)
    assert text(nb, 0) == "n = {m: len(m) for m in ('db', 'web')}"
    assert report.changes == ["import of myst_nb.glue removed"] and not report.problems


def test_a_loop_over_numbers_is_read_with_int_subscripts():
    nb = notebook(
        code("from myst_nb import glue\nfor m in (90, 64):\n"
             "    glue(f\"ch08-hpa-{m}\", m // 10, display=False)",
             outputs=[glued("ch08-hpa-90", "9"), glued("ch08-hpa-64", "6")]),
        md("At 90 % it is {glue:text}`ch08-hpa-90`, at 64 % {glue:text}`ch08-hpa-64:.1f`."))
    conv.convert(nb, "chapters/08-x", TITLES)
    assert text(nb, 1) == ("At 90 % it is {eval}`f\"{hpa[90]}\"`, at 64 % "
                           "{eval}`f\"{hpa[64]:.1f}\"`.")
    namespace = {}
    exec(text(nb, 0), namespace)  # the rewritten cell of the test notebook
    assert [eval(e, namespace) for e in inline_expressions.expressions(text(nb, 1))] == [
        "9", "6.0"]


def test_a_taken_or_builtin_name_keeps_the_prefix_and_continuation_lines_follow():
    nb = notebook(code("from myst_nb import glue, glue as g2\nmax_mib = 1\n"
                       "glue(\"ch02-max-mib\", max_mib +\n                     1, display=False)\n"
                       "glue(\"ch02-max\", 2, display=False)"),
                  md("{glue:text}`ch02-max-mib` and {glue:text}`ch02-max`"))
    conv.convert(nb, "chapters/02-x", TITLES)
    assert text(nb, 0) == ("from myst_nb import glue as g2\nmax_mib = 1\n"
                           "ch02_max_mib = (max_mib +\n                1)\nch02_max = 2")


def test_what_cannot_be_rewritten_is_left_and_reported():
    nb = notebook(code("from myst_nb import glue\ndef f():\n    glue('ch01-a', 1, display=False)\n"
                       "glue('ch01-b', 2)\nfor i, j in [(1, 2)]:\n"
                       "    glue(f'ch01-{i}-{j}', 3, display=False)"),
                  md("{glue:text}`ch01-a` {glue:text}`other.ipynb::ch01-b`\n\n:::{glue:md} k\n:::"))
    before = copy.deepcopy(nb)
    report = conv.convert(nb, "chapters/01-x", TITLES)
    assert nb["cells"][0] == before["cells"][0]
    joined = "\n".join(report.problems)
    for expected in ("inside a function", "only glue(key, value, display=False)",
                     "not a string or f\"prefix-{var}\"", "pastes from another notebook",
                     "no rewritten glue call computes this key", "{glue:md}"):
        assert expected in joined, (expected, joined)


def test_glued_figures_become_imageless_figures_named_by_their_key():
    nb = notebook(md("::::{glue:figure} fig-1\n:alt: Bars.\n\nCaption.\n::::\n\n"
                     ":::{glue:figure} fig-2\n:alt: Dots.\n:name: fig-2\n\nC2.\n:::\n\n"
                     ":::{glue:figure} fig-3\n:name: other\n:::"))
    report = conv.convert(nb, "chapters/01-x", TITLES)
    assert text(nb, 0) == ("::::{figure}\n:alt: Bars.\n:name: fig-1\n\nCaption.\n::::\n\n"
                           ":::{figure}\n:alt: Dots.\n:name: fig-2\n\nC2.\n:::\n\n"
                           ":::{glue:figure} fig-3\n:name: other\n:::")
    assert any("fig-3 is named other" in p for p in report.problems)


def test_references_without_text_get_the_title_sphinx_shows():
    nb = notebook(md("See {ref}`ch09-demo`, {ref}`ch09-fancy`, {doc}`09-emulation`, "
                     "{doc}`/labs/index`, {doc}`the labs <../labs/index>` and {ref}`nowhere`."))
    conv.convert(nb, "chapters/01-x", TITLES)
    assert text(nb, 0) == ("See {ref}`Demo: a tiny emulator <ch09-demo>`, {ref}`ch09-fancy`, "
                           "{doc}`9. Emulation <09-emulation>`, "
                           "{doc}`How the labs work </labs/index>`, "
                           "{doc}`the labs <../labs/index>` and {ref}`nowhere`.")


def test_harness_comments_move_to_metadata():
    nb = notebook(code("# nbval-ignore-output: timings vary\nimport time\nprint(time.time())",
                       tags=["nbval-ignore-output"]),
                  code("# NBVAL_SKIP - needs a daemon\nx = 1", tags=["nbval-skip"]),
                  code("# nbval-ignore-output: never tagged\ny = 2"))
    report = conv.convert(nb, "chapters/01-x", TITLES, markers_only=True)
    cells = nb["cells"]
    assert text(nb, 0) == "import time\nprint(time.time())"
    assert cells[0]["metadata"] == {"tags": ["nbval-ignore-output"],
                                    conv.REASON_KEY: "timings vary"}
    assert cells[1]["metadata"] == {"tags": ["nbval-skip"], conv.REASON_KEY: "needs a daemon"}
    assert text(nb, 2) == "y = 2" and "tags" not in cells[2]["metadata"]
    assert any("never honoured" in p for p in report.problems)


def test_numbers_from_a_live_cell_mark_the_markdown_and_a_forward_reference_is_reported():
    nb = notebook(md("Took {glue:text}`ch01-secs:.1f` s."),
                  code("from myst_nb import glue\nglue('ch01-secs', 1.25, display=False)",
                       tags=["nbval-ignore-output"], outputs=[glued("ch01-secs", "1.25")]),
                  md("Again {glue:text}`ch01-secs:.1f` s."))
    nb["cells"][1]["metadata"][conv.REASON_KEY] = "timings vary"
    report = conv.convert(nb, "chapters/01-x", TITLES)
    assert nb["cells"][2]["metadata"]["tags"] == ["nbval-ignore-output"]
    assert "cell 1" in nb["cells"][2]["metadata"][conv.REASON_KEY]
    assert report.problems == ['cell 0: {eval}`f"{secs:.1f}"` uses secs before any code cell '
                               'above defines it; compute it earlier']


@pytest.mark.parametrize("plain, fmt", [("166.66666666666666", ".0f"), ("1000000", ","),
                                        ("0.062", ".1%"), ("'One'", ""), ("7", ".2f"),
                                        ("3.0", "d"), ("'a, b'", "s"), ("42", "")])
def test_old_text_is_what_myst_nb_showed(plain, fmt):
    from myst_nb.core.variables import format_plain_text

    assert conv.glue_text(plain, fmt) == format_plain_text(plain, fmt)


def test_instructor_tables_leave_out_sentences_with_computed_numbers():
    from virtbook.booktools import teaching

    body = ("The slide says X. It is {eval}`f\"{x:.1f}\"` times slower. "
            "Even so the design holds for every workload we tried.")
    assert teaching.box_answer(body) == "Even so the design holds for every workload we tried."


def test_convert_run_and_compare_on_a_real_kernel(tmp_path):
    """End to end: a glue notebook is executed, converted, executed again; the stored inline
    values read exactly as {glue:text} did, and --compare-with agrees."""
    import run_notebooks

    path = tmp_path / "n.ipynb"
    nb = notebook(
        code("from myst_nb import glue\nimport math\nglue('ch01-pi', math.pi, display=False)\n"
             "glue('ch01-word', 'One', display=False)\nglue('ch01-n', 10**6, display=False)"),
        md("Pi is {glue:text}`ch01-pi:.3f`, {glue:text}`ch01-word` of {glue:text}`ch01-n:,`."))
    path.write_text(json.dumps(nb), encoding="utf-8")
    run_notebooks.run(path)
    old = tmp_path / "old.ipynb"
    old.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert conv.main([str(path)]) == 0
    new = json.loads(path.read_text(encoding="utf-8"))
    stored = inline_expressions.stored(new["cells"][1])
    assert [inline_expressions.result_text(e["result"]) for e in stored] == ["3.142", "One",
                                                                             "1,000,000"]
    assert "glue" not in conv.text_of(new["cells"][0])
    assert conv.main(["--compare-with", str(old), str(path)]) == 0
    assert conv.main(["--check", str(path)]) == 0   # nothing left to rewrite
