"""The table of contents and the files on disk agree, both ways."""
from booklib import content_pages, resolve_page, toc_entries


def test_every_toc_entry_exists(root):
    missing = [e for e in toc_entries(root) if resolve_page(e, root) is None]
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"


def test_every_page_is_in_the_toc(root):
    listed = {resolve_page(e, root).resolve() for e in toc_entries(root) if resolve_page(e, root)}
    orphans = [str(p.relative_to(root)) for p in content_pages(root) if p.resolve() not in listed]
    assert not orphans, f"pages under chapters/ or labs/ missing from _toc.yml: {orphans}"


def test_no_page_is_listed_twice(root):
    entries = toc_entries(root)
    dupes = sorted({e for e in entries if entries.count(e) > 1})
    assert not dupes, f"_toc.yml lists these pages more than once: {dupes}"


def test_the_toc_is_read_with_jupyter_books_parser(tmp_path):
    """virtbook.booktools.toc reads _toc.yml as Jupyter Book does: sections after their chapter,
    in their chapter's part, and a TOC Jupyter Book would refuse is refused."""
    import pytest

    from virtbook.booktools import toc

    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n  - caption: One\n    chapters:\n"
        "      - file: a\n        sections:\n          - file: a1\n          - file: a2\n"
        "      - file: b\n  - caption: Two\n    chapters:\n      - file: c\n", encoding="utf-8")
    assert [(e.part, e.file) for e in toc.toc(tmp_path)] == [
        ("", "intro"), ("One", "a"), ("One", "a1"), ("One", "a2"), ("One", "b"), ("Two", "c")]
    (tmp_path / "_toc.yml").write_text("format: jb-book\nparts:\n  - chapters: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a table of contents Jupyter Book can read"):
        toc.toc(tmp_path)
    with pytest.raises(ValueError, match="root must be a folder holding _toc.yml"):
        toc.toc(tmp_path / "nowhere")
