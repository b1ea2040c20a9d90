#!/usr/bin/env python3
"""Compare the prose of built pages between two builds of the book, word by word.

    python tools/compare_html_text.py OLD_HTML_DIR NEW_HTML_DIR chapters/01-computers.html ...

The text is each page's ``<main>`` without code cells (their input and output), with every image
written as ``[img:<start of its alt text>]``: what a reader reads. Use it after converting a
notebook (tools/convert_for_jupyterlab.py) to show that the HTML book says exactly what it said
before. Exits 1 when a page differs, printing each difference; numbers from a live measurement
(chapter 1's) differ from run to run and show up here as expected differences.
"""
from __future__ import annotations

import difflib
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

_VOID = {"br", "img", "hr", "meta", "link", "input", "source", "wbr"}


class _Prose(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []
        self.skip = 0
        self.in_main = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main = True
        if tag in _VOID:
            if tag == "img" and self.in_main and not self.skip:
                self.out.append(f" [img:{(attrs.get('alt') or '')[:40]}] ")
            return
        hidden = tag in ("script", "style") or (
            tag == "div" and re.search(r"\bcell\b", attrs.get("class") or "") is not None)
        self.stack.append((tag, hidden))
        self.skip += hidden

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False
        while self.stack:
            name, hidden = self.stack.pop()
            self.skip -= hidden
            if name == tag:
                break

    def handle_data(self, data):
        if self.in_main and not self.skip:
            self.out.append(data)


def prose(html: str) -> list[str]:
    """The words a reader reads on a built page (code cells left out).

    >>> prose('<main><p>It took <span>1.5</span> s.</p><div class="cell"><pre>x</pre></div></main>')
    ['It', 'took', '1.5', 's.']
    """
    parser = _Prose()
    parser.feed(html)
    return " ".join(parser.out).split()


def differences(old: list[str], new: list[str]) -> list[tuple[str, str, str]]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [(op, " ".join(old[i1:i2]), " ".join(new[j1:j2]))
            for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"]


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__)
        return 2
    old_dir, new_dir, pages = Path(argv[0]), Path(argv[1]), argv[2:]
    status = 0
    for page in pages:
        old = prose((old_dir / page).read_text(encoding="utf-8"))
        new = prose((new_dir / page).read_text(encoding="utf-8"))
        found = differences(old, new)
        print(f"{page}: {'prose identical' if not found else f'{len(found)} difference(s)'} "
              f"({len(old)} words before, {len(new)} after)")
        for op, before, after in found:
            print(f"  {op}: {before[:120]!r} -> {after[:120]!r}")
        status |= bool(found)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
