"""The chapter standard of CONTRIBUTING.md, as checks a test can run (tests/test_chapter_standard.py).

Each check takes a page's Markdown (a notebook's Markdown cells joined, or a .md file) and returns
a list of problems, one sentence each; an empty list means the page meets that part of the
standard. Run as a script from the repository's root to print one row a page of the table of
contents (prose words, exercises, solutions, citations, glossary links, figures, code cells):

    .venv/bin/python tests/chapter_standard.py

It reads files and changes nothing.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from booklib import ROOT, load_notebook, resolve_page, source, toc_entries

#: A chapter's prose, in words (code, directive options and fences not counted).
MIN_WORDS, MAX_WORDS = 2_500, 6_000
#: Exercises a chapter has at least, each followed by its solution.
MIN_EXERCISES = 3
#: The sections a chapter ends with, in this order (a lab has no Exercises section: its tasks are
#: the exercises).
CHAPTER_END = ("Summary", "Exercises", "Further reading")
LAB_END = ("Summary", "Further reading")

STUB = re.compile(r"\b(coming soon|TODO|TBD|lorem ipsum|placeholder)\b", re.I)
#: A path of a build machine (a checkout's location is no part of the book).
MACHINE_PATH = re.compile(r"(?<![\w.])/(work|farm|tmp/bars)/")
FENCE = re.compile(r"^\s*([`:]{3,})(.*)$")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
DIRECTIVE = re.compile(r"^\s*([`:]{3,})\s*\{([\w:-]+)\}[ \t]*(.*)$")
OPTION = re.compile(r"^\s*:([\w-]+):[ \t]*(.*)$")
ADMONITION_TITLE = re.compile(r"^\s*[`:]{3,}\s*\{admonition\}\s*(.+?)\s*$", re.M)
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
TERM = re.compile(r"\{term\}`([^`]+)`")
MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(")
FIGURE_KINDS = ("figure", "image", "glue:figure")


def page_markdown(path: Path) -> tuple[str, int]:
    """A page's Markdown (a notebook's Markdown cells, joined) and its number of code cells."""
    if path.suffix == ".ipynb":
        cells = load_notebook(path)["cells"]
        md = "\n\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
        return md, sum(c["cell_type"] == "code" for c in cells)
    text = path.read_text(encoding="utf-8")
    return text, len(re.findall(r"^[`:]{3,}\s*\{code-cell\}", text, re.M))


def prose_lines(markdown: str) -> list[str]:
    """The lines a reader reads as prose: not inside a code block, not a fence, not an option."""
    lines, code_fence = [], None
    for line in markdown.splitlines():
        fence = FENCE.match(line)
        if code_fence is not None:
            if fence and fence.group(1).startswith(code_fence) and not fence.group(2).strip():
                code_fence = None
            continue
        if fence:
            # ```python (or ``` alone) opens code; ```{directive} and ::: open or close prose.
            if fence.group(1).startswith("`") and "{" not in fence.group(2):
                code_fence = fence.group(1)
            continue
        if OPTION.match(line):
            continue
        lines.append(line)
    return lines


def prose_words(markdown: str) -> int:
    """Words of prose: runs of letters (with ' and -) of two or more, outside code and options.

    >>> prose_words("Two words.\\n\\n```python\\nx = 1  # not counted\\n```\\n:::{note}\\n:class: x\\nIn it.\\n:::")
    4
    """
    return sum(len(re.findall(r"[A-Za-z][A-Za-z'-]+", line)) for line in prose_lines(markdown))


def headings(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of every Markdown heading outside code blocks, in order."""
    found = []
    for line in prose_lines(markdown):
        match = HEADING.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2)))
    return found


def directives(markdown: str) -> list[tuple[str, str, dict[str, str], str]]:
    """(name, argument, options, body) of every MyST directive, nested ones included.

    A directive's body runs to the next line holding only its own fence (the same characters, as
    many or more), which is how MyST closes ``:::`` and backtick fences.
    """
    lines = markdown.splitlines()
    found = []
    for i, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if not match:
            continue
        fence, name, argument = match.groups()
        options: dict[str, str] = {}
        j = i + 1
        while j < len(lines) and OPTION.match(lines[j]):
            key, value = OPTION.match(lines[j]).groups()
            options[key] = value
            j += 1
        body = []
        while j < len(lines) and lines[j].strip() not in (fence, fence[0] * (len(fence) + 1)):
            body.append(lines[j])
            j += 1
        found.append((name, argument.strip(), options, "\n".join(body)))
    return found


def check_length(markdown: str) -> list[str]:
    words = prose_words(markdown)
    if not MIN_WORDS <= words <= MAX_WORDS:
        return [f"{words:,} words of prose, outside {MIN_WORDS:,}-{MAX_WORDS:,}"]
    return []


def check_front_matter(markdown: str) -> list[str]:
    """One title (the first heading, level 1), then the Learning objectives and Prerequisites
    admonitions before the first section."""
    problems = []
    found = headings(markdown)
    if not found or found[0][0] != 1:
        problems.append("the page does not start with a level-1 title")
    if sum(level == 1 for level, _ in found) > 1:
        problems.append("more than one level-1 heading")
    first_section = re.search(r"^##\s", markdown, re.M)
    front = markdown[:first_section.start()] if first_section else markdown
    titles = ADMONITION_TITLE.findall(front)
    for wanted in ("Learning objectives", "Prerequisites"):
        if wanted not in titles:
            problems.append(f"no '{wanted}' admonition before the first section")
    objectives = [body for name, arg, _, body in directives(front)
                  if name == "admonition" and arg == "Learning objectives"]
    if objectives and not re.search(r"^\s*(?:[-*]|\d+\.)\s+\S", objectives[0], re.M):
        problems.append("the Learning objectives admonition holds no list of objectives")
    return problems


def check_heading_order(markdown: str) -> list[str]:
    """No heading skips a level on the way down (## then ####), as screen readers navigate."""
    problems = []
    previous = 0
    for level, text in headings(markdown):
        if previous and level > previous + 1:
            problems.append(f"heading '{text}' (level {level}) follows a level-{previous} heading")
        previous = level
    return problems


def check_closing_sections(markdown: str, end: tuple[str, ...] = CHAPTER_END) -> list[str]:
    """The page ends with the sections ``end``, in that order, as its last level-2 sections."""
    sections = [text for level, text in headings(markdown) if level == 2]
    if sections[-len(end):] != list(end):
        return [f"the last sections are {sections[-len(end):]}, not {list(end)}"]
    return []


def check_exercises(markdown: str, minimum: int = MIN_EXERCISES) -> list[str]:
    """At least ``minimum`` exercises, each with a label and followed by its own solution (before
    the next exercise), shown as a closed dropdown."""
    problems = []
    found = [(name, arg, options) for name, arg, options, _ in directives(markdown)
             if name in ("exercise", "solution", "solution-start")]
    exercises = [options.get("label", "") for name, _, options in found if name == "exercise"]
    if len(exercises) < minimum:
        problems.append(f"{len(exercises)} exercises, fewer than {minimum}")
    if "" in exercises:
        problems.append("an exercise without a :label:, which its solution cannot name")
    for k, (name, arg, options) in enumerate(found):
        if name != "exercise" or not options.get("label"):
            continue
        after = found[k + 1] if k + 1 < len(found) else None
        if after is None or after[0] == "exercise" or after[1] != options["label"]:
            problems.append(f"exercise {options['label']} is not followed by its solution")
        elif "dropdown" not in after[2].get("class", "").split():
            problems.append(f"the solution of {options['label']} is not a dropdown")
    return problems


def check_alt_text(markdown: str) -> list[str]:
    """Every figure and image carries alt text: a ``:alt:`` option or ``![alt](...)``."""
    problems = []
    for name, arg, options, _ in directives(markdown):
        if name in FIGURE_KINDS and not options.get("alt", "").strip():
            problems.append(f"a {{{name}}} {options.get('name', arg)!s} without alt text".strip())
    for alt in MD_IMAGE.findall(markdown):
        if not alt.strip():
            problems.append("a Markdown image with empty alt text")
    return problems


def check_has_figure(markdown: str) -> list[str]:
    if not any(name in FIGURE_KINDS for name, *_ in directives(markdown)) and not MD_IMAGE.search(
            markdown):
        return ["no figure"]
    return []


def check_no_stub_words(markdown: str) -> list[str]:
    match = STUB.search("\n".join(prose_lines(markdown)))
    return [f"stub words in the prose ('{match.group(0)}')"] if match else []


def chapter_problems(markdown: str) -> list[str]:
    """Everything the chapter standard asks of a chapter's text."""
    return (check_length(markdown) + check_front_matter(markdown) + check_heading_order(markdown)
            + check_closing_sections(markdown, CHAPTER_END) + check_exercises(markdown)
            + check_has_figure(markdown) + check_alt_text(markdown) + check_no_stub_words(markdown))


def lab_problems(markdown: str) -> list[str]:
    """What the standard asks of a lab: the same front matter, headings and alt text, a summary
    and further reading at the end, and its tasks' questions as exercises with solutions."""
    return (check_front_matter(markdown) + check_heading_order(markdown)
            + check_closing_sections(markdown, LAB_END) + check_exercises(markdown, minimum=1)
            + check_alt_text(markdown) + check_no_stub_words(markdown))


def is_chapter(path: Path) -> bool:
    """A numbered chapter notebook (``chapters/NN-slug.ipynb``); the interlude is not one."""
    return path.parent.name == "chapters" and path.suffix == ".ipynb" and path.name[:2].isdigit()


def is_lab(path: Path) -> bool:
    return path.parent.name == "labs" and path.suffix == ".ipynb" and path.name[:2].isdigit()


def machine_paths(root: Path = ROOT) -> list[str]:
    """Files tracked by git (or new and not ignored) that name a path of a build machine."""
    try:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=root,
                                capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return []
    found = []
    for name in listed:
        path = root / name
        if (path.suffix in (".py", ".md", ".ipynb", ".yml", ".yaml", ".txt", ".toml", ".cfg", ".sh")
                and path.is_file() and path.stat().st_size < 5_000_000
                and MACHINE_PATH.search(path.read_text(encoding="utf-8", errors="replace"))):
            found.append(name)
    return found


def report(root: Path = ROOT) -> str:
    """One row a page of the TOC: words, exercises, solutions, citations, terms, figures, code."""
    head = ("page", "words", "exercises", "solutions", "citations", "terms", "figures", "code")
    rows = []
    for entry in toc_entries(root):
        path = resolve_page(entry, root)
        if path is None:
            continue
        md, code = page_markdown(path)
        names = [name for name, *_ in directives(md)]
        rows.append((str(path.relative_to(root)), prose_words(md), names.count("exercise"),
                     names.count("solution") + names.count("solution-start"),
                     len(CITE.findall(md)), len(TERM.findall(md)),
                     sum(n in FIGURE_KINDS for n in names) + len(MD_IMAGE.findall(md)), code))
    width = max(len(r[0]) for r in rows)
    lines = [f"{head[0]:<{width}} " + " ".join(f"{h:>9}" for h in head[1:])]
    lines += [f"{r[0]:<{width}} " + " ".join(f"{v:>9}" for v in r[1:]) for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
