"""The book's table of contents, read with the parser Jupyter Book 1 builds the book with.

Jupyter Book 1 reads ``_toc.yml`` with sphinx-external-toc (its ``jb-book`` format: a root page,
then parts with captions whose chapters may hold sections), so reading it with the same parser
gives the pages in the order, and under the captions, that the built book shows them.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "_toc.yml").write_text(
...     "format: jb-book\\nroot: intro\\nparts:\\n  - caption: Part I\\n    chapters:\\n"
...     "      - file: chapters/01\\n        sections:\\n          - file: chapters/01a\\n"
...     "  - caption: Labs\\n    chapters:\\n      - file: labs/01\\n")
>>> [(e.part, e.file) for e in toc(folder)]
[('', 'intro'), ('Part I', 'chapters/01'), ('Part I', 'chapters/01a'), ('Labs', 'labs/01')]
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sphinx_external_toc.parsing import MalformedError, parse_toc_yaml


@dataclass(frozen=True)
class TocEntry:
    """One page of the table of contents: its part's caption and its file entry (no suffix)."""

    part: str
    file: str


def toc(root: Path) -> list[TocEntry]:
    """Every page of ``root/_toc.yml`` in reading order, with the caption of its part.

    The root page gets the part ``""``; a chapter's sections belong to the chapter's part. Globs
    and URLs in the TOC name no single page and are left out.
    """
    path = Path(root) / "_toc.yml"
    if not path.is_file():
        raise ValueError(f"root must be a folder holding _toc.yml, got {str(root)!r}")
    try:
        site_map = parse_toc_yaml(path)
    except MalformedError as err:
        raise ValueError(f"{path} is not a table of contents Jupyter Book can read: {err}") from err
    entries: list[TocEntry] = []

    def walk(docname: str, part: str) -> None:
        entries.append(TocEntry(part, docname))
        for subtree in site_map[docname].subtrees:
            for item in subtree.items:
                if isinstance(item, str):
                    walk(item, part or subtree.caption or "")

    walk(site_map.root.docname, "")
    return entries


def entries(root: Path) -> list[str]:
    """The file entries of :func:`toc`, in reading order."""
    return [entry.file for entry in toc(root)]
