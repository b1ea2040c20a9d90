"""The whole book builds with warnings as errors, and the HTML has what a reader needs.

The chapter standard of the pages' sources is checked apart, without a build
(tests/test_chapter_standard.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from booklib import load_notebook, resolve_page, source, toc_entries

pytestmark = pytest.mark.book


def html_name(entry: str) -> str:
    return entry + ".html"


def test_every_toc_page_is_built(built, root):
    for entry in toc_entries(root):
        assert (built / html_name(entry)).is_file(), f"no HTML for {entry}"


def test_front_page_links_every_chapter(built, root):
    index = (built / "index.html").read_text(encoding="utf-8")
    target = re.search(r'url=([^"]+)"', index)
    front = (built / target.group(1)).read_text(encoding="utf-8") if target else index
    for entry in toc_entries(root)[1:]:
        assert f'href="{html_name(entry)}' in front or f'href="{entry}' in front, (
            f"the front page does not link {entry}")


def glued_figures(path: Path) -> list[tuple[str, str]]:
    """(name, alt) of every glued figure a notebook page shows: ``{glue:figure} NAME``, or
    ``{figure}`` without an image, which shows the figure glued under its ``:name:``."""
    text = "\n".join(source(c) for c in load_notebook(path)["cells"] if c["cell_type"] == "markdown")
    found = re.findall(r"\{glue:figure\}\s*(\S+)\s*\n(?:\s*:[a-z]+:.*\n)*?\s*:alt:\s*(.+)", text)
    for block in re.findall(r"\{figure\}[ \t]*\n((?:[ \t]*:[a-z]+:.*\n)+)", text):
        options = dict(re.findall(r":([a-z]+):[ \t]*(.*)", block))
        found.append((options.get("name", "?"), options.get("alt", "")))
    return found


def test_every_figure_is_in_the_html_with_its_alt_text(built, root):
    checked = 0
    for entry in toc_entries(root):
        page = resolve_page(entry, root)
        if page is None or page.suffix != ".ipynb":
            continue
        html = (built / html_name(entry)).read_text(encoding="utf-8")
        for name, alt in glued_figures(page):
            alt = alt.strip().replace('"', "&quot;")
            img = re.search(r'<img alt="' + re.escape(alt[:60]) + r'[^"]*" src="([^"]+)"', html)
            assert img, f"{entry}: figure {name} is missing or has lost its alt text"
            assert (built / html_name(entry)).parent.joinpath(img.group(1)).is_file(), (
                f"{entry}: figure {name} points at a missing image {img.group(1)}")
            checked += 1
    for img in re.findall(r"<img\b[^>]*>", "".join(
            p.read_text(encoding="utf-8") for p in built.rglob("*.html") if "_static" not in p.parts)):
        assert re.search(r'alt="[^"]+"', img), f"an image without alt text: {img[:200]}"
    assert checked or not any(resolve_page(e, root).suffix == ".ipynb" for e in toc_entries(root)
                              if resolve_page(e, root))


def test_the_index_lists_every_glossary_term(built, root):
    """Sphinx puts each glossary term in the general index; the TOC's Index page must be that index
    (not an empty page that shadows it), and each entry must lead to the term's definition."""
    from html import unescape

    from test_references import glossary_terms

    assert "genindex" in toc_entries(root), "the back matter has no Index page"
    html = (built / "genindex.html").read_text(encoding="utf-8")
    entries = {unescape(re.sub(r"<[^>]+>", "", m.group(2))).strip().lower(): m.group(1)
               for m in re.finditer(r'<a href="([^"]+)">(.*?)</a>', html)}
    missing = [t for t in glossary_terms(root) if t not in entries]
    assert not missing, f"glossary terms absent from the index: {missing[:10]} ({len(missing)} in all)"
    targets = {href.split("#")[0] for term, href in entries.items() if term in glossary_terms(root)}
    assert targets == {"glossary.html"}, f"index entries for glossary terms point at {targets}"


def test_the_index_leads_to_the_chapters_on_key_systems(built):
    """Besides the glossary, the index names the systems a reader looks up, at the chapter that
    explains each one."""
    html = (built / "genindex.html").read_text(encoding="utf-8")
    expected = {"Xen": "chapters/04-types-of-virtualization.html",
                "KVM": "chapters/04-types-of-virtualization.html",
                "Docker": "chapters/07-containers.html",
                "Kubernetes": "chapters/08-orchestration-security.html",
                "QEMU": "chapters/09-emulation.html",
                "AWS Lambda": "chapters/12-serverless.html"}
    for name, page in expected.items():
        link = re.search(r'<a href="([^"#]+)#[^"]*">' + re.escape(name) + r"</a>", html)
        assert link, f"the index has no entry for {name}"
        assert link.group(1) == page, f"the index entry {name} leads to {link.group(1)}, not {page}"
