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
