"""The published book as a reader sees it: every page opened in headless Chromium.

The book is built (with warnings as errors), served on 127.0.0.1 and every page is opened in
Debian's Chromium through Playwright: no console errors, no failed requests to the local server and
no requests to the internet at all, every image loads and has alt text, every figure is visible,
in-page and cross-page links resolve, launch buttons open the page's own notebook, axe-core finds no
serious or critical accessibility violation, print hides navigation and keeps figures, figures stay
readable in dark mode, and no page is heavy. Page weights are printed at the end of the run.
"""
from __future__ import annotations

import statistics
from pathlib import Path

import pytest

import browser_checks as bc
from booklib import resolve_page, toc_entries
from conftest import in_ci

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the pinned requirements install it
    sync_playwright = None

CHROMIUM = bc.chromium_path()
if sync_playwright is None or CHROMIUM is None:
    reason = ("Playwright is not installed" if sync_playwright is None
              else "no Chromium on PATH (Debian: apt-get install chromium)")
    if in_ci():
        raise RuntimeError(f"browser tests must run under CI: {reason}")
    pytest.skip(reason, allow_module_level=True)

try:
    import axe_playwright_python
    AXE_JS = Path(axe_playwright_python.__file__).with_name("axe.min.js")
except ImportError:  # pragma: no cover
    AXE_JS = None

#: Largest page and median page, in bytes of the page's own HTML, images and data (the theme's
#: shared files under _static/ are cached once for the whole site and reported apart).
MAX_PAGE_BYTES = 2_000_000
MEDIAN_PAGE_BYTES = 500_000

#: Accessibility findings we accept, each with the reason. Keys are axe rule ids.
AXE_EXCEPTIONS: dict[str, str] = {}


@pytest.fixture(scope="module")
def site(built):
    with bc.Server(built) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=bc.CHROMIUM_ARGS)
        yield b
        b.close()


#: Pages loaded at the same time. A page spends much of its visit waiting (for the network to stay
#: idle for half a second, for axe-core in its own renderer process), so a few at once keep the
#: run short; each page has its own browser context, so they share nothing.
PAGES_AT_ONCE = 4


@pytest.fixture(scope="module")
def visits(site, browser, built, root, request):
    """Open every page once; keep what was seen for the tests below (on a notebook page, also its
    launch buttons and how it prints)."""
    notebooks = dict(notebook_pages(root))
    pending = bc.site_pages(built)
    results = {}
    while pending:
        batch, pending = pending[:PAGES_AT_ONCE], pending[PAGES_AT_ONCE:]
        loading = [bc.start_visit(browser.new_page(viewport={"width": 1280, "height": 900}),
                                  site.base + rel, site.base) for rel in batch]
        for v in loading:
            bc.finish_visit(v)
            if AXE_JS:
                bc.start_axe(v.page, AXE_JS)
        for rel, v in zip(batch, loading):
            page = v.page
            v.axe = bc.axe_result(page) if AXE_JS else None
            v.images = bc.image_problems(page)
            v.anchors = bc.anchor_problems(page)
            if rel in notebooks:
                v.launch = bc.launch_problems(page, notebooks[rel])
                v.print = bc.print_problems(page)
            page.close()
            v.page = None
            results[rel] = v
    request.config._virtbook_weights = {rel: (v.own_bytes, v.shared_bytes)
                                        for rel, v in results.items()}
    return results


def test_every_page_loads_without_errors(visits):
    bad = {rel: v.errors + v.failed_local for rel, v in visits.items() if v.errors or v.failed_local}
    assert not bad, f"pages with console errors or failed local requests: {bad}"


def test_no_page_fetches_anything_from_the_internet(visits):
    bad = {rel: sorted(set(v.external)) for rel, v in visits.items() if v.external}
    assert not bad, f"pages that request other hosts (the content must not need them): {bad}"


def test_every_image_loads_has_alt_text_and_every_figure_is_visible(visits):
    bad = {rel: v.images for rel, v in visits.items() if v.images}
    assert not bad, bad


def test_in_page_links_resolve(visits):
    bad = {rel: v.anchors for rel, v in visits.items() if v.anchors}
    assert not bad, bad


def test_links_between_pages_resolve(built):
    assert bc.internal_link_problems(built) == []


def test_external_links_are_listed_for_the_scheduled_check(built):
    links = bc.external_links(built)
    out = built.parent / "external-links.txt"
    out.write_text("\n".join(links) + "\n", encoding="utf-8")
    assert links, "the book cites its sources: there must be external links"
    assert all(link.startswith(("http://", "https://")) for link in links)


@pytest.mark.skipif(AXE_JS is None, reason="axe-playwright-python (bundles axe-core) is missing")
def test_no_serious_accessibility_violations(visits):
    bad = {}
    for rel, v in visits.items():
        found = [x for x in v.axe if x["id"] not in AXE_EXCEPTIONS]
        if found:
            bad[rel] = found
    assert not bad, bad


def test_page_weight(visits):
    own = {rel: v.own_bytes for rel, v in visits.items()}
    assert all(b > 0 for b in own.values()), "a page loaded no bytes of its own"
    heaviest = max(own, key=own.get)
    assert own[heaviest] <= MAX_PAGE_BYTES, f"{heaviest} weighs {own[heaviest]:,} bytes"
    assert statistics.median(own.values()) <= MEDIAN_PAGE_BYTES


def notebook_pages(root: Path) -> list[tuple[str, str]]:
    found = []
    for entry in toc_entries(root):
        path = resolve_page(entry, root)
        if path is not None and path.suffix == ".ipynb":
            found.append((entry + ".html", str(path.relative_to(root))))
    return found


def test_launch_buttons_open_the_pages_own_notebook(visits, root):
    pages = notebook_pages(root)
    assert pages, "the book has notebook pages"
    problems = []
    for html, notebook in pages:
        assert html in visits, f"{html} was not opened"
        problems += visits[html].launch
    assert not problems, problems


def test_print_hides_navigation_and_keeps_figures(visits, root):
    problems = []
    for html, _ in notebook_pages(root):
        assert html in visits, f"{html} was not opened"
        problems += [f"{html}: {p}" for p in visits[html].print]
    assert not problems, problems


def test_figures_are_opaque_so_dark_mode_keeps_them_readable(built, site, browser, root):
    """Figures have an opaque white background: on the dark theme a transparent PNG would put
    dark text on a dark page. Also check the theme really switches to dark."""
    from PIL import Image

    transparent = []
    for png in sorted((built / "_images").glob("*.png")):
        with Image.open(png) as img:
            if img.mode in ("RGBA", "LA") and img.getchannel("A").getextrema()[0] < 255:
                transparent.append(png.name)
            elif img.mode == "P" and "transparency" in img.info:
                transparent.append(png.name)
    assert not transparent, f"figures with transparent pixels: {transparent}"
    page = browser.new_page()
    page.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');")
    html, _ = notebook_pages(root)[0]
    page.goto(site.base + html, wait_until="networkidle")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert bc.image_problems(page) == []
    page.close()


def test_the_checks_catch_a_broken_page(tmp_path, browser):
    """The same checks, on a page broken on purpose, report every fault."""
    (tmp_path / "index.html").write_text(
        "<html><body><figure><img src='missing.png' alt='A figure'></figure>"
        "<img src='ok.svg' alt=''><a href='#nowhere'>x</a><a href='other.html#gone'>y</a>"
        "<script>console.error('boom')</script></body></html>")
    (tmp_path / "other.html").write_text("<html><body><p id='here'>z</p></body></html>")
    (tmp_path / "ok.svg").write_bytes((Path(bc.__file__).parents[1] / "_static" / "favicon.svg")
                                      .read_bytes())
    with bc.Server(tmp_path) as server:
        page = browser.new_page()
        v = bc.visit(page, server.base + "index.html", server.base)
        images, anchors = bc.image_problems(page), bc.anchor_problems(page)
        page.close()
    assert any("boom" in e for e in v.errors)
    assert any("missing.png" in f for f in v.failed_local)
    assert any("does not load: missing.png" in p for p in images)
    assert any("without alt text: ok.svg" in p for p in images)
    assert anchors == ["in-page link to a missing id: #nowhere"]
    assert bc.internal_link_problems(tmp_path) == ["index.html: link to a missing anchor other.html#gone"]
