"""The book's reading list, checked against its own bibliography.

:data:`READING_LIST` names, by part of the book, the works chapter 14 recommends.
:func:`reading_rows` looks every one of them up in the book's ``references.bib`` and refuses to
produce a list if a work is missing, so the list cannot recommend a work the book cannot cite. A
small BibTeX reader (:func:`parse_bibtex`) is enough for the book's own file: entries of
``field = {value}``, ``"value"`` or bare numbers, with braces and a few LaTeX accents.

    >>> e = parse_bibtex("@book{k, author = {Smith, Jane and Doe, John}, title = {A {T}itle}, year = 2001}")
    >>> short_authors(e["k"]), latex_to_text(e["k"].fields["title"]), kind(e["k"])
    ('Smith and Doe', 'A Title', 'book')
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: The works chapter 14 recommends, by part of the book (BibTeX keys of references.bib).
READING_LIST: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Part I: Foundations", ("arpacidusseau2018operating", "hennessy2017computer",
                             "popek1974formal", "goldberg1974survey", "smith2005virtual")),
    ("Part II: Inside the hypervisor", ("bugnion2012bringing", "adams2006comparison",
                                        "barham2003xen", "kivity2007kvm", "waldspurger2002memory",
                                        "clark2005live", "benyehuda2010turtles",
                                        "bugnion2017hardware")),
    ("Part III: Containers and emulation", ("soltesz2007container", "felter2015updated",
                                            "burns2016borg", "bellard2005qemu")),
    ("Part IV: The cloud", ("mell2011nist", "armbrust2010view", "barroso2013datacenter",
                            "jonas2019cloud", "agache2020firecracker",
                            "oparamartins2016critical")),
)

#: How the reading table names each BibTeX entry type.
KINDS = {"article": "journal paper", "inproceedings": "conference paper", "book": "book",
         "techreport": "report", "phdthesis": "thesis", "manual": "manual",
         "misc": "documentation"}

_ENTRY = re.compile(r"@(\w+)\s*\{\s*([^,\s]+)\s*,")
_FIELD = re.compile(r"\s*(\}|([A-Za-z][\w-]*)\s*=\s*)")
_COMMA = re.compile(r"\s*,?")
_ACCENTS = {"\\'": {"e": "é", "a": "á", "o": "ó", "i": "í", "u": "ú", "E": "É"},
            '\\"': {"o": "ö", "u": "ü", "a": "ä", "O": "Ö", "U": "Ü", "A": "Ä"},
            "\\`": {"e": "è", "a": "à"}, "\\c": {"c": "ç"}, "\\~": {"n": "ñ"}}


@dataclass(frozen=True)
class BibEntry:
    """One BibTeX entry: its type, key and fields (names lower-case, values as written)."""

    kind: str
    key: str
    fields: dict[str, str]

    def text(self, name: str) -> str:
        """A field as plain text: LaTeX braces, accents and escapes resolved."""
        return latex_to_text(self.fields.get(name, ""))


def latex_to_text(value: str) -> str:
    """Turn the little LaTeX that BibTeX fields use into plain text.

    >>> latex_to_text(r"Barroso, Luiz Andr{\\'e} and H{\\\"o}lzle, Urs")
    'Barroso, Luiz André and Hölzle, Urs'
    """
    def accent(m: re.Match) -> str:
        return _ACCENTS.get(m.group(1), {}).get(m.group(2), m.group(2))

    out = re.sub(r"(\\['\"`~]|\\c)\s*\{?([A-Za-z])\}?", accent, value)
    out = out.replace("\\&", "&").replace("\\S", "§").replace("--", "–").replace("~", " ")
    out = out.replace("{", "").replace("}", "")
    return " ".join(out.split())


def _read_value(text: str, i: int) -> tuple[str, int]:
    """Read one field value starting at ``text[i]``: {braced}, "quoted" or bare."""
    if text[i] == "{":
        depth, j = 0, i
        while j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                return text[i + 1:j], j + 1
            j += 1
        raise ValueError(f"bibtex must close every brace; unclosed value at offset {i}")
    if text[i] == '"':
        j = text.index('"', i + 1)
        return text[i + 1:j], j + 1
    m = re.match(r"[^,}\s]+", text[i:])
    if not m:
        raise ValueError(f"bibtex must give a value after '=' at offset {i}")
    return m.group(0), i + m.end()


def parse_bibtex(text: str) -> dict[str, BibEntry]:
    """Parse BibTeX source into entries by key (enough of BibTeX for the book's file).

    >>> e = parse_bibtex('@book{k, title = {A {B} C}, year = 2005}')["k"]
    >>> e.kind, e.text("title"), e.fields["year"]
    ('book', 'A B C', '2005')
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be BibTeX source as a str, got {type(text).__name__}")
    entries: dict[str, BibEntry] = {}
    for m in _ENTRY.finditer(text):
        kind, key = m.group(1).lower(), m.group(2)
        fields: dict[str, str] = {}
        i = m.end()
        while True:
            fm = _FIELD.match(text, i)
            if fm is None or fm.group(1) == "}":
                break
            value, i = _read_value(text, fm.end())
            fields[fm.group(2).lower()] = value
            i = _COMMA.match(text, i).end()
        if key in entries:
            raise ValueError(f"bibtex must define each key once; {key!r} appears twice")
        entries[key] = BibEntry(kind=kind, key=key, fields=fields)
    return entries


def book_bibliography() -> Path:
    """Where the book keeps its references.bib (next to the virtbook package)."""
    return Path(__file__).resolve().parents[1] / "references.bib"


def load_bibliography(path: str | Path | None = None) -> dict[str, BibEntry]:
    """Read and parse a BibTeX file; by default the book's own references.bib."""
    path = book_bibliography() if path is None else Path(path)
    if not path.is_file():
        raise ValueError(f"path must name an existing BibTeX file, got {str(path)!r}")
    return parse_bibtex(path.read_text(encoding="utf-8"))


def short_authors(entry: BibEntry) -> str:
    """'Barham et al.', 'Popek and Goldberg', or a corporate author as written."""
    raw = entry.fields.get("author") or entry.fields.get("editor") or ""
    if raw.strip().startswith("{") and raw.strip().endswith("}") and " and " not in raw:
        return latex_to_text(raw)
    names = [n.strip() for n in re.split(r"\s+and\s+", raw) if n.strip()]
    lasts = [latex_to_text(n.split(",")[0] if "," in n else n.split()[-1]) for n in names]
    if not lasts:
        return "anonymous"
    if len(lasts) == 1:
        return lasts[0]
    if len(lasts) == 2:
        return f"{lasts[0]} and {lasts[1]}"
    return f"{lasts[0]} et al."


def venue(entry: BibEntry) -> str:
    """Where a work appeared: journal, proceedings, institution or publisher."""
    for name in ("journal", "booktitle", "institution", "school", "publisher", "howpublished"):
        if entry.fields.get(name):
            return entry.text(name)
    return ""


def kind(entry: BibEntry) -> str:
    """What sort of work an entry is; a report's own ``type`` (Special Publication) wins."""
    if entry.kind == "techreport" and entry.fields.get("type"):
        return entry.text("type").lower()
    return KINDS.get(entry.kind, entry.kind)


@dataclass(frozen=True)
class Reading:
    """One row of the reading table."""

    part: str
    key: str
    authors: str
    year: str
    title: str
    venue: str
    kind: str


def reading_rows(entries: dict[str, BibEntry],
                 reading_list: tuple[tuple[str, tuple[str, ...]], ...] = READING_LIST
                 ) -> list[Reading]:
    """The reading list as table rows, every work looked up in ``entries``.

    Raises ValueError naming every key that ``entries`` lacks, so that a list which recommends a
    work the bibliography does not hold never renders.
    """
    keys = [k for _, ks in reading_list for k in ks]
    missing = [k for k in keys if k not in entries]
    if missing:
        raise ValueError(f"reading_list keys must exist in the bibliography; missing: {missing}")
    if len(set(keys)) != len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"reading_list must name each work once; repeated: {twice}")
    rows = []
    for part, ks in reading_list:
        for k in ks:
            e = entries[k]
            rows.append(Reading(part=part, key=k, authors=short_authors(e),
                                year=latex_to_text(e.fields.get("year", "")),
                                title=e.text("title"), venue=venue(e), kind=kind(e)))
    return rows


def reading_markdown(rows: list[Reading]) -> str:
    """A Markdown table of the rows, grouped by part (the part is named on its first row)."""
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| Part | Work | Authors | Year | Venue | Kind |", "|---|---|---|---|---|---|"]
    last = None
    for r in rows:
        part = r.part if r.part != last else ""
        last = r.part
        lines.append(f"| {cell(part)} | *{cell(r.title)}* | {cell(r.authors)} | {r.year} | "
                     f"{cell(r.venue)} | {r.kind} |")
    return "\n".join(lines)
