"""The chapters follow the lecture: each quotes its own slides, in order, and points back to the
slides it deepens instead of quoting them again.

The lecture has one slide a line; slide N is line N of its text. Its outline (which chapter covers
which slides) is in CONTRIBUTING.md and below. A margin note ``Slide N`` (or ``Slides N and M``,
``Slide N, last point``) quotes slide N beside the passage that follows it; a note ``Deepens slide N``
marks a passage that goes further into a slide another chapter quotes, and gives its gist in the
book's own words rather than a quotation.
"""
from __future__ import annotations

import re

import pytest

from booklib import load_notebook, source

#: The slides each chapter covers (the lecture's order); chapters 5 and 6 deepen slides 11 and 15.
OWN_SLIDES: dict[str, tuple[int, ...]] = {
    "chapters/01-computers.ipynb": tuple(range(2, 9)),
    "chapters/02-virtual-machines.ipynb": tuple(range(9, 12)),
    "chapters/03-why-virtualize.ipynb": tuple(range(12, 17)),
    "chapters/04-types-of-virtualization.ipynb": tuple(range(17, 22)),
    "chapters/05-sharing-the-cpu.ipynb": (),
    "chapters/06-sharing-memory.ipynb": (),
    "chapters/07-containers.ipynb": tuple(range(22, 25)),
    "chapters/08-orchestration-security.ipynb": tuple(range(25, 27)),
    "chapters/09-emulation.ipynb": (27,),
    "chapters/interlude.md": (28,),
    "chapters/10-cloud-computing.ipynb": tuple(range(29, 31)),
    "chapters/11-everything-as-a-service.ipynb": tuple(range(31, 37)),
    "chapters/12-serverless.ipynb": tuple(range(37, 39)),
    "chapters/13-cloud-security.ipynb": tuple(range(39, 44)),
    "chapters/14-limitations.ipynb": tuple(range(44, 47)),
}
LAST_SLIDE = 46

MARGIN = re.compile(r"^(?::{3,}|`{3,})\{margin\}[ \t]*([^\n]*)\n(.*?)^(?::{3,}|`{3,})[ \t]*$", re.M | re.S)
QUOTES = re.compile(r"^(?P<deepens>Deepens\s+)?[Ss]lides?\s+(?P<nums>\d+(?:(?:,\s*|\s+and\s+)\d+)*)")


def markdown_of(path) -> str:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    return "\n\n".join(source(c) for c in load_notebook(path)["cells"] if c["cell_type"] == "markdown")


def slide_notes(text: str) -> list[tuple[bool, tuple[int, ...], str]]:
    """(deepens?, slide numbers, body) for every margin note that names a slide, in page order."""
    notes = []
    for match in MARGIN.finditer(text):
        head = QUOTES.match(match.group(1).strip())
        if head:
            nums = tuple(int(n) for n in re.findall(r"\d+", head.group("nums")))
            notes.append((bool(head.group("deepens")), nums, match.group(2).strip()))
    return notes


def test_the_outline_covers_every_slide_once():
    covered = [n for slides in OWN_SLIDES.values() for n in slides]
    assert sorted(covered) == list(range(2, LAST_SLIDE + 1))


def test_notes_are_read_from_both_forms():
    text = (':::{margin} Slide 3\n"Quoted."\n:::\n\nx\n\n:::{margin} Deepens slides 11 and 15\n'
            'Gist.\n:::\n')
    assert slide_notes(text) == [(False, (3,), '"Quoted."'), (True, (11, 15), "Gist.")]


@pytest.mark.parametrize("page", sorted(OWN_SLIDES), ids=lambda p: p.split("/")[-1])
def test_chapter_quotes_only_its_own_slides_in_order(root, page):
    notes = slide_notes(markdown_of(root / page))
    quoted = [n for deepens, nums, _ in notes if not deepens for n in nums]
    foreign = sorted({n for n in quoted if n not in OWN_SLIDES[page]})
    assert not foreign, (f"{page} quotes slides {foreign}, which other chapters cover; say "
                         f"'Deepens slide N' with the gist instead")
    assert quoted == sorted(quoted), f"{page} quotes its slides out of order: {quoted}"
    missing = sorted(set(OWN_SLIDES[page]) - set(quoted))
    assert not missing, f"{page} never quotes its slides {missing}"


@pytest.mark.parametrize("page", sorted(OWN_SLIDES), ids=lambda p: p.split("/")[-1])
def test_deepened_slides_are_not_quoted_again(root, page):
    for deepens, nums, body in slide_notes(markdown_of(root / page)):
        if deepens:
            assert all(1 < n <= LAST_SLIDE for n in nums), f"{page}: no slide {nums}"
            assert not body.lstrip().startswith(('"', "\u201c")), (
                f"{page}: the note 'Deepens slide {nums}' quotes the slide; give its gist instead")
