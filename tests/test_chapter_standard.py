"""Every chapter and lab meets the chapter standard of CONTRIBUTING.md (tests/chapter_standard.py
holds the checks), and each check fails on a page that breaks its rule."""
from __future__ import annotations

import pytest

import chapter_standard as cs
from booklib import ROOT, resolve_page, toc_entries

PAGES = [p for p in (resolve_page(e, ROOT) for e in toc_entries(ROOT)) if p is not None]
CHAPTERS = [p for p in PAGES if cs.is_chapter(p)]
LABS = [p for p in PAGES if cs.is_lab(p)]

def ids(paths):
    return [p.name for p in paths]


def test_the_book_has_the_pages_it_is_checked_on():
    assert len(CHAPTERS) == 14 and len(LABS) == 6


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_chapter_meets_the_standard(path):
    md, _ = cs.page_markdown(path)
    problems = cs.chapter_problems(md)
    assert problems == [], f"{path.name}: {problems}"


@pytest.mark.parametrize("path", LABS, ids=ids(LABS))
def test_lab_meets_the_standard(path):
    md, _ = cs.page_markdown(path)
    assert cs.lab_problems(md) == [], path.name


@pytest.mark.parametrize("path", PAGES, ids=ids(PAGES))
def test_every_page_has_alt_text_ordered_headings_and_no_stubs(path):
    md, _ = cs.page_markdown(path)
    problems = cs.check_alt_text(md) + cs.check_heading_order(md) + cs.check_no_stub_words(md)
    assert problems == [], f"{path.name}: {problems}"


def test_no_file_names_a_path_of_a_build_machine():
    assert cs.machine_paths() == []


# --- each check fails where it should -------------------------------------------------------

def chapter(words: int = 3000, *, objectives: bool = True, prerequisites: bool = True,
            exercises: int = 3, end=cs.CHAPTER_END, figure_alt: str = "A bar chart.",
            extra: str = "") -> str:
    """A small chapter in the book's shape, with ``words`` words of prose (roughly)."""
    parts = ["# 1. A chapter", ""]
    if objectives:
        parts += [":::{admonition} Learning objectives", ":class: note", "- explain it;", ":::", ""]
    if prerequisites:
        parts += [":::{admonition} Prerequisites", ":class: seealso", "Chapter 0.", ":::", ""]
    parts += ["## The idea", "", " ".join(["word"] * max(words - 30, 0)), "",
              ":::{figure}", f":alt: {figure_alt}", ":name: fig-1", "", "Caption.", ":::", "",
              "```python", "not prose at all, however many words are written here", "```", ""]
    parts += [extra]
    for section in end:
        parts += [f"## {section}", ""]
        if section == "Exercises":
            for k in range(1, exercises + 1):
                parts += [":::{exercise}", f":label: ex-{k}", "Do it.", ":::", "",
                          f":::{{solution}} ex-{k}", ":class: dropdown", "Done.", ":::", ""]
        else:
            parts += ["Text.", ""]
    return "\n".join(parts)


def test_a_chapter_in_the_shape_passes():
    assert cs.chapter_problems(chapter()) == []


@pytest.mark.parametrize("words, ok", [(2_400, False), (2_600, True), (5_900, True), (6_100, False)])
def test_length_outside_the_range_fails(words, ok):
    assert (cs.check_length(chapter(words)) == []) is ok


def test_code_and_options_are_not_prose():
    assert cs.prose_words("```python\nx = one two three\n```\n:::{figure}\n:alt: many words here\n"
                          ":::\nJust four words here.") == 4


@pytest.mark.parametrize("kwargs, problem", [
    (dict(objectives=False), "no 'Learning objectives' admonition"),
    (dict(prerequisites=False), "no 'Prerequisites' admonition"),
    (dict(exercises=2), "2 exercises, fewer than 3"),
    (dict(end=("Summary", "Further reading", "Exercises")), "the last sections are"),
    (dict(end=("Exercises", "Further reading")), "the last sections are"),
    (dict(figure_alt=""), "without alt text"),
    (dict(extra="#### Too deep\n"), "follows a level-2 heading"),
    (dict(extra="# A second title\n"), "more than one level-1 heading"),
    (dict(extra="This part is coming soon.\n"), "stub words"),
    (dict(extra="![](figure.png)\n"), "a Markdown image with empty alt text"),
])
def test_each_break_of_the_standard_is_found(kwargs, problem):
    problems = cs.chapter_problems(chapter(**kwargs))
    assert any(problem in p for p in problems), problems


def test_objectives_must_be_a_list():
    text = chapter().replace("- explain it;", "You will learn things.")
    assert cs.check_front_matter(text) == [
        "the Learning objectives admonition holds no list of objectives"]


def test_a_title_must_come_first():
    assert "the page does not start with a level-1 title" in cs.check_front_matter(
        "## Section\n\n# Title\n")


def test_each_exercise_is_followed_by_its_own_dropdown_solution():
    two = ":::{exercise}\n:label: ex-a\nA.\n:::\n\n:::{exercise}\n:label: ex-b\nB.\n:::\n\n" \
          ":::{solution} ex-b\n:class: dropdown\nB.\n:::\n"
    assert cs.check_exercises(two, minimum=1) == ["exercise ex-a is not followed by its solution"]
    wrong = ":::{exercise}\n:label: ex-a\nA.\n:::\n\n:::{solution} ex-z\n:class: dropdown\nZ.\n:::\n"
    assert cs.check_exercises(wrong, minimum=1) == ["exercise ex-a is not followed by its solution"]
    open_ = ":::{exercise}\n:label: ex-a\nA.\n:::\n\n:::{solution} ex-a\nA.\n:::\n"
    assert cs.check_exercises(open_, minimum=1) == ["the solution of ex-a is not a dropdown"]
    unlabelled = ":::{exercise}\nA.\n:::\n"
    assert "an exercise without a :label:, which its solution cannot name" in cs.check_exercises(
        unlabelled, minimum=1)


def test_a_chapter_without_a_figure_fails():
    text = chapter().replace(":::{figure}", ":::{note}")
    assert "no figure" in cs.chapter_problems(text)


def test_a_glued_figure_needs_alt_text_too():
    assert cs.check_alt_text("```{glue:figure} fig-x\n:name: fig-x\n\nCaption.\n```\n") == [
        "a {glue:figure} fig-x without alt text"]
    assert cs.check_alt_text("```{glue:figure} fig-x\n:alt: Bars.\n\nCaption.\n```\n") == []


def test_the_machine_path_pattern():
    assert cs.MACHINE_PATH.search("see " + "/" + "work/elsewhere/notes.md")  # split: this file is checked too
    assert not cs.MACHINE_PATH.search("https://example.org/work/ and ./work/x")
