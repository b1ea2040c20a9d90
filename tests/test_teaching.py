"""The instructor guide's reader of the book (virtbook.booktools.teaching) and the guide itself.

The reader is tested on small made-up books, so each rule (what counts as a task, a check, an
objective, a prerequisite) is pinned down, and on the real book, so the guide's claims about it
hold: every lab states its time, has a check after each task and agrees with the labs' index.
The guide is tested for what it promises: a rubric row for every task of every lab, points that add
up, its place in the table of contents, and stored outputs that nbval reproduces.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from booklib import ROOT, labs_index_minutes, load_notebook, source
from virtbook.booktools import teaching

GUIDE = ROOT / "instructor.ipynb"


# ---------------------------------------------------------------------------------------------
# A made-up book
# ---------------------------------------------------------------------------------------------

def md(text):
    return nbformat.v4.new_markdown_cell(text)


def code(text, tags=()):
    cell = nbformat.v4.new_code_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def write_nb(path: Path, cells) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = list(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def chapter_cells(n: int, prereq: str = "Chapter 1 (the basics). Helpful: Chapter 3."):
    return [
        md(f"# {n}. Chapter {n}\n\nWhy.\n\n:::{{admonition}} Learning objectives\n:class: note\n"
           "After this chapter you can:\n\n1. **Explain** the {term}`host <host>`;\n"
           "2. compute the\n   share.\n:::\n\n:::{admonition} Prerequisites\n:class: seealso\n"
           f"{prereq}\n:::"),
        code("print('hello')"),
        md("```{exercise}\n:label: ex-x-1\nQ?\n```\n\n```{solution} ex-x-1\n:class: dropdown\nA.\n```"),
    ]


def lab_cells(minutes: int = 45, libvirt: bool = True):
    setup = "from virtbook import labs\n" if libvirt else "import numpy as np\n"
    return [
        md("# Lab L1: Try it\n\n:::{admonition} Learning objectives\n:class: note\n- do a;\n- do b.\n"
           ":::\n\n:::{admonition} Prerequisites\n:class: seealso\nLabs L2 and L3, and Chapter 2.\n:::\n\n"
           f":::{{admonition}} Time and place\n:class: tip\nAbout {minutes} minutes. Anywhere.\n:::"),
        code(setup),
        md(":::{exercise}\n:label: ex-l1-1\nDo a.\n:::"),
        code("x = 0\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\nprint(x)"),
        code("# Check your work (asserts only).\nassert x == 1\nassert x > 0"),
        md(":::{solution} ex-l1-1\n:class: dropdown\nSet x to one, the secret answer text.\n:::"),
        md(":::{exercise}\n:label: ex-l1-2\nDo b.\n:::"),
        code("def f():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION\n"),
        code("print('not a check')"),
    ]


def make_book(root: Path, chapters=(1, 2), with_lab: bool = True) -> Path:
    parts = [{"caption": "Part I", "chapters": [{"file": f"chapters/{n:02d}-c{n}"} for n in chapters]}]
    for n in chapters:
        write_nb(root / "chapters" / f"{n:02d}-c{n}.ipynb", chapter_cells(n))
    if with_lab:
        parts.append({"caption": "Labs", "chapters": [{"file": "labs/index"}, {"file": "labs/01-try"}]})
        write_nb(root / "labs" / "01-try.ipynb", lab_cells())
        (root / "labs" / "index.md").write_text(
            "# Labs\n\n| Lab | You will | Time |\n|---|---|---|\n| {doc}`01-try` | try | 45 min |\n")
    parts.append({"caption": "Back matter", "chapters": [{"file": "glossary"}]})
    (root / "glossary.md").write_text("# Glossary\n")
    (root / "intro.md").write_text("# Intro\n")
    (root / "_toc.yml").write_text(yaml.safe_dump({"format": "jb-book", "root": "intro",
                                                   "parts": parts}))
    (root / "_config.yml").write_text(yaml.safe_dump({
        "repository": {"url": "https://github.com/someone/course", "branch": "trunk"},
        "launch_buttons": {"jupyterhub_url": "https://hub.uni.example"}}))
    return root


def test_outline_reads_titles_objectives_prerequisites_and_counts(tmp_path):
    pages = teaching.book_outline(make_book(tmp_path))
    assert [p.label for p in pages] == ["Chapter 1", "Chapter 2", "Lab L1"]
    ch = pages[0]
    assert (ch.kind, ch.number, ch.title, ch.part) == ("chapter", "1", "Chapter 1", "Part I")
    assert ch.objectives == ("Explain the host;", "compute the share.")
    assert ch.prerequisite_refs == ("1",)          # "Helpful: Chapter 3" is not a prerequisite
    assert (ch.exercises, ch.solutions, ch.tasks, ch.minutes) == (1, 1, (), None)
    lab = pages[2]
    assert (lab.kind, lab.number, lab.title, lab.minutes) == ("lab", "L1", "Try it", 45)
    assert lab.objectives == ("do a;", "do b.")
    assert lab.prerequisite_refs == ("2", "L2", "L3")
    assert lab.exercise_labels == ("ex-l1-1", "ex-l1-2")
    assert lab.needs_libvirt and not ch.needs_libvirt


def test_a_task_is_a_solution_cell_and_its_check_the_next_assert_cell(tmp_path):
    lab = teaching.book_outline(make_book(tmp_path))[2]
    assert [t.number for t in lab.tasks] == [1, 2]
    first, second = lab.tasks
    assert first.check_cell == first.cell + 1 and first.asserts == 2
    assert second.check_cell is None and second.asserts == 0   # followed by a print, not asserts
    assert (lab.checks, lab.asserts) == (1, 2)


def test_a_new_chapter_appears_without_code_changes(tmp_path):
    root = make_book(tmp_path, chapters=(1, 2))
    before = teaching.book_outline(root)
    make_book(root, chapters=(1, 2, 14))
    after = teaching.book_outline(root)
    assert len(after) == len(before) + 1
    assert [p.number for p in after if p.kind == "chapter"] == ["1", "2", "14"]
    assert "| 14. Chapter 14 |" in teaching.chapter_table(after)


def test_missing_pages_and_non_notebook_pages_are_left_out(tmp_path):
    root = make_book(tmp_path)
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    toc["parts"][0]["chapters"].append({"file": "chapters/15-not-written"})
    (root / "_toc.yml").write_text(yaml.safe_dump(toc))
    labels = [p.label for p in teaching.book_outline(root)]
    assert "Chapter 15" not in labels and "Labs" not in labels


def test_the_book_is_found_from_any_folder_inside_it(tmp_path, monkeypatch):
    root = make_book(tmp_path)
    (root / "chapters" / "data").mkdir(parents=True, exist_ok=True)
    assert teaching.book_root(root / "chapters" / "data") == root.resolve()
    monkeypatch.chdir(root / "chapters")
    assert teaching.book_root() == root.resolve()
    with pytest.raises(ValueError, match="start must be inside the book's checkout"):
        teaching.book_root(tmp_path.parent)


def test_labs_index_times_are_read(tmp_path):
    assert labs_index_minutes(make_book(tmp_path)) == {"labs/01-try": 45}


def test_live_output_means_an_ignored_visible_cell(tmp_path):
    root = make_book(tmp_path)
    path = root / "chapters" / "01-c1.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(code("# nbval-ignore-output: widget ids\nw", tags=["nbval-ignore-output", "remove-output"]))
    nbformat.write(nb, path)
    assert not teaching.book_outline(root)[0].live_output
    nb.cells.append(code("# nbval-ignore-output: timings\nt", tags=["nbval-ignore-output"]))
    nbformat.write(nb, path)
    assert teaching.book_outline(root)[0].live_output


@pytest.mark.parametrize("bad", ["nonexistent-folder", ""])
def test_a_folder_without_toc_is_refused(bad, tmp_path):
    with pytest.raises(ValueError, match="root must be a folder holding _toc.yml"):
        teaching.book_outline(tmp_path / bad if bad else tmp_path)


# ---------------------------------------------------------------------------------------------
# Parsing rules
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fence", [":::", "```", "::::"])
def test_admonition_body_in_either_fence(fence):
    text = f"Intro.\n{fence}{{admonition}} Prerequisites\n:class: seealso\nChapter 2.\nMore.\n{fence}\nAfter."
    assert teaching.admonition(text, "Prerequisites") == "Chapter 2.\nMore."
    assert teaching.admonition(text, "Learning objectives") is None


def test_plain_text_resolves_roles_and_drops_citations():
    assert teaching.plain_text("See {doc}`Lab L1 <labs/01>` and {cite:t}`a2020b`, *not* **bold**.") \
        == "See Lab L1 and, not bold."
    assert teaching.plain_text("keep `code` spans") == "keep `code` spans"


@given(st.lists(st.integers(1, 30), min_size=1, max_size=5, unique=True),
       st.lists(st.integers(1, 9), max_size=3, unique=True))
def test_prerequisite_refs_finds_every_chapter_and_lab_of_the_first_sentence(chapters, labs):
    def listed(items):
        items = [str(i) for i in items]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    text = ("Chapter " if len(chapters) == 1 else "Chapters ") + listed(chapters)
    if labs:
        text += (" and Lab " if len(labs) == 1 else " and Labs ") + listed(f"L{n}" for n in labs)
    text += " (the basics). Helpful: Chapter 99 and Lab L99."
    assert teaching.prerequisite_refs(text) == tuple(
        [str(n) for n in sorted(chapters)] + [f"L{n}" for n in sorted(labs)])


@given(st.integers(0, 10**6), st.integers(1, 2000))
def test_reading_minutes_is_the_next_multiple_of_five(words, wpm):
    minutes = teaching.reading_minutes(words, wpm)
    assert minutes % 5 == 0
    assert minutes >= words / wpm > minutes - 5


@pytest.mark.parametrize("words, wpm, match", [(-1, 238, "words"), (1.5, 238, "words"),
                                               (True, 238, "words"), (10, 0, "words_per_minute"),
                                               (10, 2001, "words_per_minute")])
def test_reading_minutes_refuses_bad_input(words, wpm, match):
    with pytest.raises(ValueError, match=match):
        teaching.reading_minutes(words, wpm)


def test_markdown_table_escapes_pipes_and_checks_row_width():
    table = teaching.markdown_table(["a", "b"], [["x|y", 2]])
    assert table.splitlines()[2] == "| x\\|y | 2 |"
    with pytest.raises(ValueError, match="rows must have 2 cells"):
        teaching.markdown_table(["a", "b"], [[1]])
    with pytest.raises(ValueError, match="header"):
        teaching.markdown_table([], [])


def test_glance_table_totals_the_labs(tmp_path):
    pages = teaching.book_outline(make_book(tmp_path))
    lines = teaching.glance_table(pages).splitlines()
    assert lines[2] == "| Lab L1: Try it | 45 min | 2 | 1 |"
    assert lines[-1] == "| **All labs** | **45 min** | **2** | **1** |"


def test_runs_where_distinguishes_libvirt_live_and_plain_pages(tmp_path):
    pages = teaching.book_outline(make_book(tmp_path))
    lab, chapter = pages[2], pages[0]
    assert teaching.runs_where(lab) == (teaching.TEST_DRIVER, teaching.TEST_DRIVER, teaching.REAL_VMS)
    assert teaching.runs_where(chapter) == (teaching.SAME,) * 3
    fig = teaching.runs_where_figure(pages)
    ax = fig.axes[0]
    assert len(ax.patches) == 3 * len(pages)
    assert sorted(t.get_text() for t in ax.texts).count(teaching.REAL_VMS) == 1
    with pytest.raises(ValueError, match="pages"):
        teaching.runs_where_figure([])


# ---------------------------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------------------------

SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)
BRANCH = st.from_regex(r"[a-z0-9][a-z0-9_./-]{0,15}", fullmatch=True).filter(lambda b: ".." not in b)


@given(SEGMENT, st.lists(SEGMENT, min_size=1, max_size=4), BRANCH, SEGMENT,
       st.sampled_from(["lab", "classic"]))
def test_nbgitpuller_link_round_trips(name, folders, branch, prefix, interface):
    repo = f"https://github.com/owner/{name}"
    path = "/".join(folders) + ".ipynb"
    link = teaching.nbgitpuller_link(f"https://hub.example.org/{prefix}/", repo, branch, path, interface)
    parts = urlsplit(link)
    assert parts.path == f"/{prefix}/hub/user-redirect/git-pull"
    query = parse_qs(parts.query)
    assert query["repo"] == [repo] and query["branch"] == [branch]
    start = "lab/tree/" if interface == "lab" else "tree/"
    assert query["urlpath"] == [f"{start}{name}/{path}"]      # the clone's folder comes first


def test_nbgitpuller_link_uses_the_folder_name_without_git_suffix():
    link = teaching.nbgitpuller_link("https://hub.example.org", "https://gitlab.com/a/b.git", "main", "x.ipynb")
    assert parse_qs(urlsplit(link).query)["urlpath"] == ["lab/tree/b/x.ipynb"]


@pytest.mark.parametrize("hub, repo, branch, path, interface, match", [
    ("ftp://hub.example.org", "https://github.com/a/b", "main", "x.ipynb", "lab", "hub must be an http"),
    ("hub.example.org", "https://github.com/a/b", "main", "x.ipynb", "lab", "hub must be an http"),
    ("https://hub.example.org?x=1", "https://github.com/a/b", "main", "x.ipynb", "lab", "hub must"),
    ("https://hub.example.org", "git@github.com:a/b.git", "main", "x.ipynb", "lab", "repo must"),
    ("https://hub.example.org", "https://github.com/", "main", "x.ipynb", "lab", "repo must name"),
    ("https://hub.example.org", "https://github.com/a/b", "", "x.ipynb", "lab", "branch must"),
    ("https://hub.example.org", "https://github.com/a/b", "a b", "x.ipynb", "lab", "branch must"),
    ("https://hub.example.org", "https://github.com/a/b", "main", "", "lab", "path must"),
    ("https://hub.example.org", "https://github.com/a/b", "main", "/etc/x", "lab", "path must"),
    ("https://hub.example.org", "https://github.com/a/b", "main", "../x.ipynb", "lab", "path must"),
    ("https://hub.example.org", "https://github.com/a/b", "main", "x.ipynb", "rstudio", "interface must"),
])
def test_nbgitpuller_link_refuses_bad_input(hub, repo, branch, path, interface, match):
    with pytest.raises(ValueError, match=match):
        teaching.nbgitpuller_link(hub, repo, branch, path, interface)


def test_binder_link_opens_the_path_from_the_repository_root():
    link = teaching.binder_link("https://github.com/owner/repo", "dev", "labs/x.ipynb")
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("mybinder.org", "/v2/gh/owner/repo/dev")
    assert parse_qs(parts.query)["urlpath"] == ["lab/tree/labs/x.ipynb"]
    with pytest.raises(ValueError, match="GitHub repository"):
        teaching.binder_link("https://gitlab.com/owner/repo", "dev", "x.ipynb")
    with pytest.raises(ValueError, match="binderhub"):
        teaching.binder_link("https://github.com/owner/repo", "dev", "x.ipynb", binderhub="mybinder.org")


def test_repository_comes_from_the_config(tmp_path):
    repo = teaching.repository(make_book(tmp_path))
    assert repo == teaching.Repository("https://github.com/someone/course", "trunk", "https://hub.uni.example")


# ---------------------------------------------------------------------------------------------
# nbgrader source
# ---------------------------------------------------------------------------------------------

def test_nbgrader_source_marks_tasks_and_checks_and_drops_worked_answers(tmp_path):
    path = make_book(tmp_path) / "labs" / "01-try.ipynb"
    original = json.loads(path.read_text())
    prepared = teaching.nbgrader_source(original, "try1", points=3)
    metas = [c["metadata"].get("nbgrader") for c in prepared["cells"]]
    graded = [m for m in metas if m]
    assert [m["grade_id"] for m in graded] == ["try1-task-1", "try1-check-1", "try1-task-2"]
    assert [(m["solution"], m["grade"], m["locked"]) for m in graded] == [
        (True, False, False), (False, True, True), (True, False, False)]
    assert graded[1]["points"] == 3 and all(m["schema_version"] == 3 for m in graded)
    text = "\n".join(c["source"] for c in prepared["cells"])
    assert "secret answer text" not in text and "{solution}" not in text
    assert "{exercise}" in text and "### BEGIN SOLUTION" in text     # nbgrader replaces these
    assert json.loads(path.read_text()) == original                  # the book is not changed
    assert "nbgrader" not in json.dumps(original)


@pytest.mark.parametrize("assignment, points, match", [("l 1", 2, "assignment"), ("", 2, "assignment"),
                                                      ("l1", -1, "points"), ("l1", 1.5, "points")])
def test_nbgrader_source_refuses_bad_arguments(assignment, points, match, tmp_path):
    nb = json.loads((make_book(tmp_path) / "labs" / "01-try.ipynb").read_text())
    with pytest.raises(ValueError, match=match):
        teaching.nbgrader_source(nb, assignment, points)


def test_nbgrader_source_needs_a_task_and_closed_solution_blocks(tmp_path):
    chapter = json.loads((make_book(tmp_path) / "chapters" / "01-c1.ipynb").read_text())
    with pytest.raises(ValueError, match="at least one task"):
        teaching.nbgrader_source(chapter, "c1")
    with pytest.raises(ValueError, match="never closes"):
        teaching.drop_solution_directives("Q\n:::{solution} ex\nA.\n")


# ---------------------------------------------------------------------------------------------
# The real book
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def outline():
    return teaching.book_outline(ROOT)


def test_every_lab_states_its_time_and_has_a_check_after_each_task(outline):
    labs = [p for p in outline if p.kind == "lab"]
    assert labs, "the book has labs"
    for lab in labs:
        assert lab.minutes, f"{lab.label} states no 'About N minutes'"
        assert lab.tasks and lab.checks == len(lab.tasks), f"{lab.label}: a task without a check"
        assert len(lab.tasks) == lab.exercises == lab.solutions, f"{lab.label}: tasks and exercises differ"


def test_the_labs_index_agrees_with_each_lab(outline):
    index = labs_index_minutes(ROOT)
    labs = {p.entry: p.minutes for p in outline if p.kind == "lab"}
    assert index == labs


def test_every_chapter_and_lab_has_objectives(outline):
    missing = [p.label for p in outline if not p.objectives]
    assert not missing, f"pages without a Learning objectives list: {missing}"


# ---------------------------------------------------------------------------------------------
# The guide
# ---------------------------------------------------------------------------------------------

def guide_markdown() -> str:
    return "\n".join(source(c) for c in load_notebook(GUIDE)["cells"] if c["cell_type"] == "markdown")


def test_the_guide_is_listed_after_glossary_and_bibliography():
    back = [p for p in teaching.toc(ROOT) if p.part == "Back matter"]
    files = [p.file for p in back]
    assert files[-1] == "instructor" and files.index("glossary") < files.index("bibliography") < files.index("instructor")


def lab_sections(text: str) -> dict[str, str]:
    """The guide's '### Lab Lk' sections, up to the next heading of level 2 or 3."""
    parts = re.split(r"^(#{2,3} .*)$", text, flags=re.M)
    sections = {}
    for heading, body in zip(parts[1::2], parts[2::2]):
        match = re.match(r"^### Lab (L\d+)\b", heading)
        if match:
            sections[match.group(1)] = body
    return sections


def test_the_rubric_grades_every_task_of_every_lab_out_of_20(outline):
    sections = lab_sections(guide_markdown())
    labs = [p for p in outline if p.kind == "lab"]
    assert sorted(sections) == sorted(p.number for p in labs), "one rubric section per lab"
    for lab in labs:
        body = sections[lab.number]
        graded = re.findall(r"^\|\s*\{ref\}`[^`<]*<([\w-]+)>`\s*\|", body, re.M)
        assert graded == list(lab.exercise_labels), f"{lab.label}: rubric rows {graded}"
        rubric = body.split("#### Common mistakes")[0]
        points = [int(p) for p in re.findall(r"^\|[^|]+\|\s*(\d+)\s*\|", rubric, re.M)]
        total = re.search(r"^\|\s*\*\*Total\*\*\s*\|\s*\*\*(\d+)\*\*", rubric, re.M)
        assert total and sum(points) == int(total.group(1)) == 20, f"{lab.label}: points {points}"
        assert "#### Common mistakes" in body


# ---------------------------------------------------------------------------------------------
# Where the book departs from the slides
# ---------------------------------------------------------------------------------------------

def test_a_closer_look_box_becomes_a_correction_under_its_slide(tmp_path):
    root = make_book(tmp_path, with_lab=False)
    write_nb(root / "chapters" / "02-c2.ipynb", chapter_cells(2) + [
        md(":::{margin} Slides 13 and 14\n\"Snapshots replace backups\"\n:::\n\nProse.\n\n"
           ":::{admonition} A closer look: \"Snapshots replace backups\"\n:class: tip\n"
           "The slide says snapshots replace backups. They do not, because a snapshot lives in the "
           "very file it protects {cite:p}`k`. More.\n:::"),
        md("The web server averages {glue:text}`web-mean:.0%`.\n\n::::{admonition} A closer look\n"
           "No slide quoted here, and the answer is short. A second sentence with "
           "{glue:text}`n` in it.\n::::"),
    ])
    found = teaching.slide_corrections(root)
    assert [(c.chapter, c.slides, c.claim) for c in found] == [
        ("2", "13 and 14", '"Snapshots replace backups"'), ("2", "13 and 14", "A closer look")]
    assert found[0].answer == ("They do not, because a snapshot lives in the very file it "
                               "protects.")
    assert found[1].answer == "No slide quoted here, and the answer is short."   # glue left out
    table = teaching.corrections_table(found)
    assert table.splitlines()[0] == "| Chapter | Slide | The slide's claim | What the chapter shows |"
    assert len(table.splitlines()) == 4


def test_box_answer_joins_a_short_sentence_and_cuts_a_long_one():
    assert teaching.box_answer("More portable than what? Than a VM image, which also carries "
                               "its kernel.") == ("More portable than what? Than a VM image, "
                                                  "which also carries its kernel.")
    long = "It is " + " ".join(["very"] * 80) + " long."
    cut = teaching.box_answer(long, max_words=20)
    assert cut.endswith("\u2026") and len(cut.split()) == 20
    with pytest.raises(ValueError, match="max_words must be an integer of at least 8"):
        teaching.box_answer("x", max_words=5)


def test_every_chapter_box_is_listed_with_its_slide_and_an_answer():
    found = teaching.slide_corrections(ROOT)
    boxes = sum(len(re.findall(r"\{admonition\}\s*A closer look", "\n".join(
        source(c) for c in load_notebook(p)["cells"] if c["cell_type"] == "markdown")))
        for p in sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb")))
    assert len(found) == boxes and boxes >= 14
    assert {c.chapter for c in found} == {str(n) for n in range(1, 15)}
    for c in found:
        assert re.match(r"^\d+", c.slides), f"chapter {c.chapter}: box {c.claim!r} is under no slide"
        assert c.answer and not c.answer.startswith("The slide"), (c.chapter, c.claim, c.answer)
        assert "{" not in c.answer and "`" not in c.answer.replace("`FROM`", ""), c.answer
