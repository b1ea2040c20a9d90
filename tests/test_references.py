"""The book's reference apparatus: every citation resolves and every bibliography entry is cited;
every {term} link has a glossary entry and every glossary entry is linked from the text."""
from __future__ import annotations

import re

from booklib import load_notebook, resolve_page, source, toc_entries

CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
TERM = re.compile(r"\{term\}`([^`]+)`")
BIBKEY = re.compile(r"^@\w+\{\s*([^,\s]+)\s*,", re.M)


def page_text(path) -> str:
    if path.suffix == ".ipynb":
        return "\n".join(source(c) for c in load_notebook(path)["cells"] if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def all_pages(root):
    return {e: resolve_page(e, root) for e in toc_entries(root) if resolve_page(e, root)}


def cited_keys(root) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for entry, path in all_pages(root).items():
        for group in CITE.findall(page_text(path)):
            for key in group.split(","):
                found.setdefault(key.strip(), set()).add(entry)
    return found


def term_target(text: str) -> str:
    """`{term}`virtual machines <virtual machine>`` links the term in angle brackets."""
    match = re.search(r"<([^>]+)>\s*$", text)
    return " ".join((match.group(1) if match else text).split()).lower()


def glossary_terms(root) -> list[str]:
    text = (root / "glossary.md").read_text(encoding="utf-8")
    block = re.search(r":::\{glossary\}(.*?)^:::", text, re.S | re.M).group(1)
    return [line.strip().lower() for line in block.splitlines()
            if line and not line[0].isspace() and not line.startswith(":")]


def test_every_citation_resolves(root):
    keys = set(BIBKEY.findall((root / "references.bib").read_text(encoding="utf-8")))
    missing = {k: sorted(v) for k, v in cited_keys(root).items() if k not in keys}
    assert not missing, f"cited but not in references.bib: {missing}"


def test_every_bibliography_entry_is_cited(root):
    keys = BIBKEY.findall((root / "references.bib").read_text(encoding="utf-8"))
    assert len(keys) == len(set(keys)), "references.bib defines a key twice"
    uncited = sorted(set(keys) - set(cited_keys(root)))
    assert not uncited, f"in references.bib but cited nowhere: {uncited}"


def test_every_term_link_has_a_glossary_entry(root):
    terms = set(glossary_terms(root))
    dangling = {}
    for entry, path in all_pages(root).items():
        for ref in TERM.findall(page_text(path)):
            if term_target(ref) not in terms:
                dangling.setdefault(entry, []).append(ref)
    assert not dangling, f"{{term}} links with no glossary entry: {dangling}"


def test_every_glossary_entry_is_linked_from_the_text(root):
    terms = glossary_terms(root)
    assert len(terms) == len(set(terms)), "glossary.md defines a term twice"
    linked = {term_target(ref) for entry, path in all_pages(root).items() if entry != "glossary"
              for ref in TERM.findall(page_text(path))}
    unlinked = sorted(set(terms) - linked)
    assert not unlinked, f"glossary terms no page links with {{term}}: {unlinked}"


def test_each_source_has_one_entry(root):
    """Two entries with one key break the bibliography; two keys for one page split its citations."""
    text = (root / "references.bib").read_text(encoding="utf-8")
    keys = BIBKEY.findall(text)
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    assert not repeated, f"references.bib defines these keys more than once: {repeated}"
    by_url: dict[str, list[str]] = {}
    for entry in re.split(r"\n(?=@)", text):
        key = BIBKEY.search(entry)
        url = re.search(r"^\s*url\s*=\s*\{([^}]*)\}", entry, re.M)
        if key and url:
            by_url.setdefault(url.group(1).rstrip("/"), []).append(key.group(1))
    shared = {u: k for u, k in by_url.items() if len(k) > 1}
    assert not shared, f"one page, several entries (cite one key): {shared}"
