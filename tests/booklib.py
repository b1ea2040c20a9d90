"""Reading the book's own structure: the TOC, its pages and its notebooks.

Used by the tests and by tools/; it reads files and changes nothing.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

from virtbook.booktools import toc

ROOT = Path(__file__).resolve().parent.parent
PAGE_SUFFIXES = (".md", ".ipynb")


def toc_entries(root: Path = ROOT) -> list[str]:
    """Every page of _toc.yml, in reading order, as written (no suffix): read with the parser
    Jupyter Book uses (:mod:`virtbook.booktools.toc`)."""
    return toc.entries(root)


def labs_index_minutes(root: Path) -> dict[str, int]:
    """The time column of the labs' index page: ``{"labs/01-meet-libvirt": 45, ...}``.

    tests/test_teaching.py compares it with each lab's own estimate, so the two cannot disagree
    unnoticed.
    """
    path = Path(root) / "labs" / "index.md"
    if not path.is_file():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*\{doc\}`(?:[^`<]*<)?([\w./-]+?)>?`\s*\|.*\|\s*(\d+)\s*min\s*\|\s*$",
                         line)
        if match:
            found["labs/" + match.group(1).removeprefix("labs/")] = int(match.group(2))
    return found


def resolve_page(entry: str, root: Path = ROOT) -> Path | None:
    """The file behind a TOC entry, or None when no such page exists."""
    for suffix in PAGE_SUFFIXES:
        path = root / f"{entry}{suffix}"
        if path.is_file():
            return path
    path = root / entry
    return path if path.is_file() and path.suffix in PAGE_SUFFIXES else None


def content_pages(root: Path = ROOT) -> list[Path]:
    """Every page under chapters/ and labs/ (README files and checkpoints excluded)."""
    pages = []
    for folder in ("chapters", "labs"):
        for path in sorted((root / folder).rglob("*")):
            if (path.suffix in PAGE_SUFFIXES and ".ipynb_checkpoints" not in path.parts
                    and path.name.lower() != "readme.md"):
                pages.append(path)
    return pages


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook of the book: those under chapters/ and labs/, and any other in the TOC
    (the instructor guide)."""
    found = [p for p in content_pages(root) if p.suffix == ".ipynb"]
    for entry in toc_entries(root):
        page = resolve_page(entry, root)
        if page is not None and page.suffix == ".ipynb" and page not in found:
            found.append(page)
    return found


def load_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> Iterator[dict]:
    return (c for c in nb["cells"] if c["cell_type"] == "code")


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def load_tool(name: str):
    """Import a script from tools/ (e.g. ``load_tool("make_student")``) as a module."""
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module
