"""The student edition: made with nbgrader's preprocessors, solutions replaced by stubs that name
their task, nothing leaked, nbgrader's metadata carried (for Validate), and each lab stops at its
first stub, with that stub's sentence, when a student runs it."""
from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from booklib import ROOT, load_tool

make_student = load_tool("make_student")

LABS = sorted((ROOT / "labs").glob("*.ipynb")) if (ROOT / "labs").is_dir() else []


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells = list(cells)
    return nb


def code(src, tags=(), outputs=()):
    cell = nbformat.v4.new_code_cell(src, execution_count=1)
    cell.outputs = list(outputs)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def task(src="### BEGIN SOLUTION\nx = 1\n### END SOLUTION"):
    """A minimal lab task: a code cell with a solution region."""
    return code(src)


def test_solution_becomes_a_stub_naming_the_task_at_the_markers_indentation():
    nb = notebook(nbformat.v4.new_markdown_cell("## Task 1: the area of a circle"),
                  code("def area(r):\n    ### BEGIN SOLUTION\n    return 3.14159 * r * r\n"
                       "    ### END SOLUTION\n",
                       outputs=[nbformat.v4.new_output("stream", name="stdout", text="x\n")]))
    student, stubs = make_student.student_notebook(nb, "t")
    assert stubs == 1
    src = student.cells[1].source
    assert src.startswith("def area(r):\n    # YOUR CODE HERE\n    raise NotImplementedError(")
    joined = re.sub(r'"\s*\n\s*"', "", src)   # the sentence's string pieces, joined
    assert ('"Task 1 (the area of a circle) is not done yet: in the Task 1 cell, write the body of '
            'area() in place of this raise statement, then run that cell again."') in joined
    assert "3.14159" not in src
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None
    assert "widgets" not in student.metadata
    compile(src, "stub", "exec")


def test_the_edition_carries_nbgraders_metadata_for_validate():
    """Task cells are autograded answers, checks locked tests worth the lab's points, with
    checksums: what nbgrader's Validate needs to report the failing tasks."""
    nb = notebook(task(), code("assert x == 1"))
    nb.cells[0].metadata["virtbook"] = {"points": 4, "autograded": 3}
    student, _ = make_student.student_notebook(nb, "01-t.ipynb")
    answer, test = (c.metadata["nbgrader"] for c in student.cells)
    assert (answer["solution"], answer["grade"], answer["grade_id"]) == (True, False, "l1-task-1")
    assert (test["grade"], test["locked"], test["points"], test["grade_id"]) == (True, True, 3, "l1-check-1")
    assert len(test["checksum"]) == 32 and student.cells[1].metadata["editable"] is False


def test_markdown_answers_hidden_tests_and_solution_cells():
    nb = notebook(nbformat.v4.new_markdown_cell("Why?\n### BEGIN SOLUTION\nBecause of caching.\n"
                                                "### END SOLUTION"),
                  task(),
                  code("assert x == 1\n### BEGIN HIDDEN TESTS\nassert x * 3 == 3\n"
                       "### END HIDDEN TESTS"),
                  code("print('the worked answer in full')", tags=["solution"]))
    student, stubs = make_student.student_notebook(nb, "t")
    assert [c.source for c in student.cells][0::2] == ["Why?\nYOUR ANSWER HERE", "assert x == 1"]
    assert len(student.cells) == 3 and stubs == 2
    assert student.cells[0].metadata["nbgrader"]["grade"]  # a manually graded answer


def test_worked_answers_in_solution_directives_are_dropped():
    nb = notebook(nbformat.v4.new_markdown_cell(
        "Task 1.\n\n:::{exercise}\n:label: ex-1\nFind w.\n:::\n\n"
        ":::{solution} ex-1\n:class: dropdown\nA weight of 768 gives three quarters.\n:::\n\nNext."),
        nbformat.v4.new_markdown_cell("```{solution} ex-2\nSecret answer text here.\n```"), task())
    student, _ = make_student.student_notebook(nb, "t")
    text = "\n".join(c.source for c in student.cells)
    assert "768" not in text and "Secret answer" not in text
    assert "Find w." in text and "Next." in text and "{exercise}" in text


def test_figure_directives_with_answers_in_their_alt_text_are_dropped():
    nb = notebook(nbformat.v4.new_markdown_cell(
        "Your results:\n\n:::{glue:figure} fig-l5-weights\n:alt: The VM gets 75 percent at weight 768.\n"
        ":name: fig-l5-weights\n\nShare against weight.\n:::\n\nNext task."), task())
    student, _ = make_student.student_notebook(nb, "t")
    text = student.cells[0].source
    assert "768" not in text and "glue:figure" not in text
    assert "Your results:" in text and "Next task." in text


def test_imageless_figures_are_dropped_like_glue_figures_and_picture_figures_stay():
    nb = notebook(nbformat.v4.new_markdown_cell(
        "Your results:\n\n:::{figure}\n:alt: The VM gets 75 percent at weight 768.\n"
        ":name: fig-l5-weights\n\nShare against weight.\n:::\n\n"
        "```{figure} ../_static/topology.png\n:alt: Two hosts and a switch.\n```\n\nNext task."), task())
    student, _ = make_student.student_notebook(nb, "t")
    text = student.cells[0].source
    assert "768" not in text and "fig-l5-weights" not in text and "Share against" not in text
    assert "Your results:" in text and "Next task." in text and "topology.png" in text


def test_values_stored_for_inline_expressions_are_cleared():
    cell = nbformat.v4.new_markdown_cell("The VM gets {eval}`f\"{share:.0%}\"`.")
    cell.metadata["user_expressions"] = [{"expression": 'f"{share:.0%}"', "result": {
        "status": "ok", "data": {"text/plain": "'75%'"}, "metadata": {}}}]
    student, _ = make_student.student_notebook(notebook(cell, task()), "t")
    assert "user_expressions" not in student.cells[0].metadata
    assert student.cells[0].source == cell.source


def test_an_unclosed_solution_directive_fails():
    with pytest.raises(make_student.MarkerError, match="never closes"):
        make_student.student_notebook(notebook(nbformat.v4.new_markdown_cell(
            ":::{solution} ex-1\nA.\n"), task()), "t")


@pytest.mark.parametrize("src, words", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "not opened"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "must not nest"),
    ("### BEGIN SOLUTION\nx = 1\n### END HIDDEN TESTS\n", "not opened"),
])
def test_unbalanced_or_nested_markers_fail(src, words):
    with pytest.raises(make_student.MarkerError, match=words):
        make_student.student_notebook(notebook(code(src)), "t")


def test_solution_text_hidden_in_metadata_is_caught():
    cell = code("### BEGIN SOLUTION\nsecret_answer = compute_the_answer()\n### END SOLUTION")
    cell.metadata["note"] = "secret_answer = compute_the_answer()"  # kept by every preprocessor
    with pytest.raises(make_student.MarkerError, match="survives"):
        make_student.student_notebook(notebook(cell), "t")


def test_a_failing_notebook_writes_nothing(tmp_path):
    good, bad = tmp_path / "src" / "a.ipynb", tmp_path / "src" / "b.ipynb"
    good.parent.mkdir()
    nbformat.write(notebook(code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")), good)
    nbformat.write(notebook(code("### BEGIN SOLUTION\nx = 1\n")), bad)
    out = tmp_path / "student"
    with pytest.raises(make_student.MarkerError):
        make_student.build([good, bad], out)
    assert not out.exists() and not out.with_suffix(".zip").exists()


def test_build_writes_the_edition_and_a_zip(tmp_path):
    src = tmp_path / "labs" / "l1.ipynb"
    src.parent.mkdir()
    nbformat.write(notebook(code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")), src)
    (src.parent / "fixture.xml").write_text("<node/>")
    counts = make_student.build([src], tmp_path / "student")
    assert counts == {str(src): 1}
    assert (tmp_path / "student" / "labs" / "l1.ipynb").is_file()
    assert (tmp_path / "student" / "labs" / "fixture.xml").is_file()
    assert (tmp_path / "student.zip").stat().st_size > 0


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("edition") / "student"
    make_student.build(LABS, out)
    return out


def first_stub_cell(nb) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and make_student.STUB_CODE in c.source)


@pytest.mark.parametrize("lab", LABS, ids=[p.name for p in LABS])
def test_student_lab_runs_up_to_its_first_stub_and_fails_there_naming_the_task(lab, student_edition):
    path = student_edition / "labs" / lab.name
    nb = nbformat.read(path, as_version=4)
    stub = first_stub_cell(nb)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with pytest.raises(CellExecutionError) as err:
        client.execute()
    title = nb.cells[stub].metadata["virtbook"]["title"]
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(err.value))   # without the terminal colours
    assert f"NotImplementedError: Task 1 ({title}) is not done yet: in the Task 1 cell" in message
    ran = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.outputs]
    failed_at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                     and any(o.output_type == "error" for o in c.outputs))
    assert failed_at == stub, f"{lab.name} failed at cell {failed_at}, its first stub is {stub}"
    assert all(i <= stub for i in ran)


@pytest.mark.book
def test_student_edition_of_the_book_hides_every_solution(root, built, tmp_path):
    """`make student` also builds the book with sphinx-exercise's hide_solutions and without the
    pages that give answers away (the labs, whose students get stub notebooks, and the instructor
    guide): the exercises stay, every worked solution is gone, links to the missing pages become
    plain text, and the build has no warning."""
    import subprocess
    import sys
    from pathlib import Path

    config, toc = root / "_config.student.yml", root / "_toc.student.yml"
    make_student.student_book_config(root / "_config.yml", config, root / "_toc.yml", toc)
    try:
        jb = Path(sys.executable).with_name("jupyter-book")
        run = subprocess.run([str(jb), "build", str(root), "--config", str(config), "--toc", str(toc),
                              "--path-output", str(tmp_path), "-W", "-n", "--keep-going"],
                             cwd=root, capture_output=True, text=True, timeout=900)
    finally:
        config.unlink(missing_ok=True)
        toc.unlink(missing_ok=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    html = tmp_path / "_build" / "html"
    page = "chapters/05-sharing-the-cpu.html"
    full = (built / page).read_text(encoding="utf-8")
    student = (html / page).read_text(encoding="utf-8")
    assert full.count('class="solution') >= 3 and full.count('class="exercise') >= 3
    assert student.count('class="solution') == 0
    assert student.count('class="exercise') == full.count('class="exercise')
    assert (html / "labs" / "index.html").is_file()
    assert not list((html / "labs").glob("0*.html")) and not (html / "instructor.html").exists()
    assert "labs/04-resource-controls.html" in full and "labs/04-resource-controls.html" not in student
