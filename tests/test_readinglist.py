"""Chapter 14's reading list, checked against the book's own bibliography."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from virtbook.readinglist import (READING_LIST, latex_to_text, load_bibliography, parse_bibtex,
                                  reading_markdown, reading_rows, short_authors)

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "14-limitations.ipynb"


SAMPLE = r"""
@article{a1, author = {Popek, Gerald J. and Goldberg, Robert P.}, title = {Formal {R}equirements},
  journal = {Communications of the ACM}, year = {1974}}
@misc{m1, author = {{The libvirt project}}, title = "Domain XML", year = 2026}
@book{b1, author = {Barroso, Luiz Andr{\'e} and Clidaras, Jimmy and H{\"o}lzle, Urs},
  title = {The Datacenter as a Computer}, publisher = {Morgan \& Claypool}, year = {2013}}
"""


def test_the_parser_reads_braces_quotes_bare_values_and_accents():
    e = parse_bibtex(SAMPLE)
    assert set(e) == {"a1", "m1", "b1"}
    assert e["a1"].text("title") == "Formal Requirements"
    assert e["m1"].fields["year"] == "2026" and e["m1"].text("title") == "Domain XML"
    assert short_authors(e["a1"]) == "Popek and Goldberg"
    assert short_authors(e["m1"]) == "The libvirt project"
    assert short_authors(e["b1"]) == "Barroso et al."
    assert latex_to_text(e["b1"].fields["author"]).endswith("Hölzle, Urs")
    assert e["b1"].text("publisher") == "Morgan & Claypool"


def test_the_parser_refuses_a_key_defined_twice():
    with pytest.raises(ValueError, match="each key once"):
        parse_bibtex("@misc{k, title={a}}\n@misc{k, title={b}}")


def test_a_reading_list_with_a_missing_work_does_not_render():
    entries = parse_bibtex(SAMPLE)
    with pytest.raises(ValueError, match=r"missing: \['nosuchkey2099'\]"):
        reading_rows(entries, (("Part", ("a1", "nosuchkey2099")),))
    rows = reading_rows(entries, (("Part A", ("a1", "b1")), ("Part B", ("m1",))))
    table = reading_markdown(rows).splitlines()
    assert len(table) == 2 + 3
    assert table[2].startswith("| Part A |") and table[3].startswith("|  |")
    assert "Morgan & Claypool" in table[3]


def test_every_recommended_work_is_in_the_books_bibliography():
    rows = reading_rows(load_bibliography())
    assert 15 <= len(rows) <= 25
    parts = [part for part, _ in READING_LIST]
    assert len(parts) == 4 and all(keys for _, keys in READING_LIST)
    assert all(r.title and r.year and r.authors for r in rows)


def _chapter_markdown() -> str:
    nb = json.loads(CHAPTER.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


@pytest.mark.skipif(not CHAPTER.exists(), reason="chapter 14 is not in this checkout")
def test_the_chapter_annotates_every_work_on_the_reading_list():
    cited = set()
    for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", _chapter_markdown()):
        cited.update(k.strip() for k in group.split(","))
    missing = [k for _, keys in READING_LIST for k in keys if k not in cited]
    assert not missing, f"reading-list works the chapter never cites: {missing}"
