"""What a reader's browser sees: the checks that tests/test_browser.py runs on every built page.

The functions here take a Playwright page (or the built site on disk) and return a list of
problems in plain words, so the same checks can be run on the real book and on a deliberately
broken page, which proves they can fail.
"""
from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from bs4 import BeautifulSoup

#: Chromium's flags for a closed network (CONTRIBUTING.md, "Measuring, and no network").
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the stdlib's name
        pass


class Server:
    """Serve a folder on 127.0.0.1 on a free port, in a background thread."""

    def __init__(self, folder: Path):
        handler = functools.partial(QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def site_pages(html_root: Path) -> list[str]:
    """Every HTML page of the built site, as paths relative to its root (theme files excluded)."""
    return sorted(str(p.relative_to(html_root)) for p in html_root.rglob("*.html")
                  if not {"_static", "_sources", "_images"} & set(p.relative_to(html_root).parts))


@dataclass
class PageVisit:
    """What happened while a page loaded: console errors, failed local requests, bytes received."""
    url: str
    errors: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    own_bytes: int = 0
    shared_bytes: int = 0
    #: The page while it loads, and the listeners that record it (see start_visit).
    page: object = field(default=None, repr=False)
    listeners: dict = field(default_factory=dict, repr=False)


def visit(page, url: str, base: str) -> PageVisit:
    """Load ``url`` and record what the browser reports, until the network is idle."""
    return finish_visit(start_visit(page, url, base))


def start_visit(page, url: str, base: str) -> PageVisit:
    """Start loading ``url`` in ``page`` and record what the browser reports; return at once.

    Several pages can load at the same time (each in its own browser context, so nothing is
    shared between them, not even the cache): start each, then :func:`finish_visit` each.
    """
    v = PageVisit(url)

    def on_console(msg):
        if msg.type == "error":
            v.errors.append(f"console error: {msg.text}")

    def on_response(response):
        local = response.url.startswith(base)
        if local and response.status >= 400:
            v.failed_local.append(f"{response.status} {response.url}")
        if local and response.status < 400:
            try:
                size = len(response.body())
            except Exception:  # a redirect or a body the browser did not keep
                size = 0
            if "/_static/" in response.url:
                v.shared_bytes += size
            else:
                v.own_bytes += size

    def on_failed(request):
        (v.failed_local if request.url.startswith(base) else v.external).append(request.url)

    def on_request(request):
        if not request.url.startswith(base) and not request.url.startswith("data:"):
            v.external.append(request.url)

    def on_pageerror(err):
        v.errors.append(f"page error: {err}")

    v.page = page
    v.listeners = {"console": on_console, "pageerror": on_pageerror, "response": on_response,
                   "requestfailed": on_failed, "request": on_request}
    for event, handler in v.listeners.items():
        page.on(event, handler)
    page.goto(url, wait_until="commit")
    return v


def finish_visit(v: PageVisit) -> PageVisit:
    """Wait until the page of :func:`start_visit` has loaded and its network is idle."""
    page = v.page
    page.wait_for_load_state("networkidle")
    # Stop listening once the page has loaded: what the checks do afterwards (axe-core fetches
    # stylesheets itself, resolving @import against the page, not the sheet) is not the reader's.
    for event, handler in v.listeners.items():
        page.remove_listener(event, handler)
    v.listeners = {}
    return v


IMAGES_JS = """() => Array.from(document.images).map(img => ({
    src: img.getAttribute('src'), alt: img.getAttribute('alt'),
    loaded: img.complete && img.naturalWidth > 0,
    visible: !!(img.offsetWidth || img.offsetHeight || img.getClientRects().length),
    inFigure: !!img.closest('figure'),
    inCollapsed: !!img.closest('details:not([open]), .dropdown, .toggle-hidden')
}))"""


def image_problems(page) -> list[str]:
    """Every image loads and has alt text; every figure outside a folded block is visible."""
    problems = []
    for img in page.evaluate(IMAGES_JS):
        if not img["loaded"]:
            problems.append(f"image does not load: {img['src']}")
        if not (img["alt"] or "").strip():
            problems.append(f"image without alt text: {img['src']}")
        if img["inFigure"] and not img["inCollapsed"] and not img["visible"]:
            problems.append(f"figure is not visible: {img['src']}")
    return problems


def anchor_problems(page) -> list[str]:
    """Every in-page link (#id) points at an element that exists."""
    missing = page.evaluate("""() => Array.from(document.querySelectorAll('a[href^="#"]'))
        .map(a => a.getAttribute('href').slice(1)).filter(id => id &&
        !document.getElementById(decodeURIComponent(id)))""")
    return [f"in-page link to a missing id: #{m}" for m in sorted(set(missing))]


def internal_link_problems(html_root: Path) -> list[str]:
    """Links between pages of the built site resolve, fragment included (no network needed)."""
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
            ids[path] = {tag["id"] for tag in soup.find_all(id=True)}
        return ids[path]

    problems = []
    for rel in site_pages(html_root):
        page = html_root / rel
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for a in soup.find_all("a", href=True):
            href = a["href"]
            parsed = urlparse(href)
            if parsed.scheme or href.startswith(("#", "mailto:", "javascript:")) or not parsed.path:
                continue
            target = (page.parent / unquote(parsed.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{rel}: link to a missing file {href}")
            elif parsed.fragment and target.suffix == ".html" \
                    and unquote(parsed.fragment) not in ids_of(target):
                problems.append(f"{rel}: link to a missing anchor {href}")
    return problems


def external_links(html_root: Path) -> list[str]:
    """Every external link of the site (checked by a scheduled workflow, not in CI)."""
    found = set()
    for rel in site_pages(html_root):
        soup = BeautifulSoup((html_root / rel).read_text(encoding="utf-8"), "html.parser")
        for a in soup.find_all("a", href=True):
            if re.match(r"https?://", a["href"]):
                found.add(a["href"])
    return sorted(found)


def launch_problems(page, notebook: str, branch: str = "main") -> list[str]:
    """The Binder and JupyterHub buttons of a notebook page open that notebook on ``branch``."""
    hrefs = page.evaluate("""() => Array.from(document.querySelectorAll('a'))
        .map(a => a.href).filter(h => /binder|git-pull/.test(h))""")
    binder = [h for h in hrefs if "/v2/gh/" in h]
    hub = [h for h in hrefs if "git-pull" in h]
    problems = []
    if not binder or not all(f"/{branch}?" in h and h.endswith(f"urlpath=lab/tree/{notebook}")
                             for h in binder):
        problems.append(f"Binder button does not open {notebook} on {branch}: {binder}")
    if not hub or not all(unquote(h).find(f"/{notebook}") > 0 and f"branch={branch}" in h
                          for h in hub):
        problems.append(f"JupyterHub button does not open {notebook} on {branch}: {hub}")
    return problems


def print_problems(page) -> list[str]:
    """In print, navigation is hidden and the figures are kept."""
    page.emulate_media(media="print")
    try:
        state = page.evaluate("""() => {
            const shown = el => !!el && getComputedStyle(el).display !== 'none' &&
                                getComputedStyle(el).visibility !== 'hidden';
            return {
                nav: Array.from(document.querySelectorAll(
                    '.bd-sidebar-primary, .bd-header, .header-article, .bd-sidebar-secondary, .prev-next-area'))
                    .filter(shown).map(el => el.className),
                figures: Array.from(document.querySelectorAll('figure img')).filter(img =>
                    !img.closest('details:not([open]), .dropdown')).map(shown),
            };
        }""")
    finally:
        page.emulate_media(media="screen")
    problems = [f"navigation still shown in print: {cls}" for cls in state["nav"]]
    problems += ["a figure is hidden in print" for ok in state["figures"] if not ok]
    return problems


AXE_RUN_JS = """() => { window.__virtbookAxe = axe.run(document, {resultTypes: ['violations']})
    .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))); }"""


def start_axe(page, axe_js: Path) -> None:
    """Start axe-core in the page and return at once (it runs in the page's renderer process, so
    several pages can be checked at the same time); :func:`axe_result` waits for its findings."""
    page.add_script_tag(path=str(axe_js))
    page.evaluate(AXE_RUN_JS)


def axe_result(page) -> list[dict]:
    """The serious and critical violations that :func:`start_axe` found."""
    result = page.evaluate("() => window.__virtbookAxe")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def axe_violations(page, axe_js: Path) -> list[dict]:
    """Run axe-core in the page; return its serious and critical violations."""
    start_axe(page, axe_js)
    return axe_result(page)
