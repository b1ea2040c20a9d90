"""What an instructor needs to know about the book, read from the book itself.

The instructor guide (``instructor.ipynb``) does not restate the chapters and labs by hand: it
calls these functions, which read ``_toc.yml`` and every notebook it lists, so that a chapter that
changes its learning objectives, or a lab that gains a task, changes the guide the next time the
guide runs. Nothing here executes a notebook, opens a network connection or writes a file.

What is read, and from where:

* the page order and parts from ``_toc.yml`` (Jupyter Book's ``jb-book`` format, read with its own
  parser: :mod:`virtbook.booktools.toc`);
* from each chapter or lab notebook: its title (the first ``#`` heading), the *Learning
  objectives* and *Prerequisites* admonitions (the chapter shape in CONTRIBUTING.md), the
  time estimate ("About N minutes", which every lab states), the ``{exercise}`` and ``{solution}``
  directives (sphinx-exercise) with their labels, the lab *tasks* (code cells holding a
  ``### BEGIN SOLUTION`` region, nbgrader's marker) and *checks* (the code cell after each task,
  made of ``assert`` statements), whether the page needs libvirt (``from virtbook import labs``)
  and whether some of its output is measured on the reader's machine (a cell that nbval is told
  to ignore, ``nbval-ignore-output``, other than a live widget).

Reading time of a chapter uses Brysbaert's meta-analysis of 190 studies: adults read English
non-fiction silently at 238 words per minute on average, most between 175 and 300 (M. Brysbaert,
"How many words do we read per minute? A review and meta-analysis of reading rate", Journal of
Memory and Language 109, 2019, doi:10.1016/j.jml.2019.104047, abstract and section 4).

Links for students: :func:`nbgitpuller_link` follows nbgitpuller's documented URL options
(``repo``, ``branch``, ``urlpath``; the older ``app`` and ``subpath`` are deprecated) and its link
generator, which opens ``lab/tree/<repository directory>/<path>`` in JupyterLab (nbgitpuller
documentation, "Options in an nbgitpuller URL",
https://nbgitpuller.readthedocs.io/en/latest/topic/url-options.html, and
``docs/_static/link_gen/link.js`` in github.com/jupyterhub/nbgitpuller).
:func:`binder_link` uses Binder's ``/v2/gh/<owner>/<repo>/<ref>?urlpath=lab/tree/<path>`` form.

nbgrader: :func:`nbgrader_source` adds the cell metadata nbgrader's ``generate_assignment``
requires (schema version 3: ``solution``, ``grade``, ``locked``, ``grade_id``, ``points``; see
nbgrader's "JSON Metadata Format",
https://nbgrader.readthedocs.io/en/stable/contributor_guide/metadata.html) and removes the worked
answers that nbgrader would otherwise pass on to students.

    >>> reading_minutes(4760)
    20
    >>> objective_items("After this lab you can\\n- open a **connection**;\\n- list\\n  VMs.")
    ('open a connection;', 'list VMs.')
"""
from __future__ import annotations

import ast
import copy
import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import yaml

from virtbook.booktools.toc import TocEntry, toc  # the TOC as Jupyter Book reads it

#: Brysbaert (2019): mean silent reading rate of English non-fiction, and the range most adults
#: fall in, in words per minute.
WORDS_PER_MINUTE = 238
WORDS_PER_MINUTE_RANGE = (175, 300)

#: nbgrader's solution markers (also what tools/make_student.py replaces).
BEGIN_SOLUTION = re.compile(r"^\s*#{3}\s*BEGIN SOLUTION\s*$", re.M)
#: A cell that imports the libvirt lab helpers needs libvirt-python.
NEEDS_LIBVIRT = re.compile(r"^\s*(from\s+virtbook\s+import\s+[^\n]*\blabs\b|from\s+virtbook\.labs\b"
                           r"|import\s+virtbook\.labs\b)", re.M)
ABOUT_MINUTES = re.compile(r"\bAbout (\d+) minutes\b")
CHAPTER_FILE = re.compile(r"^chapters/(\d\d)-[\w-]+$")
LAB_FILE = re.compile(r"^labs/(\d\d)-[\w-]+$")

#: Where a page can run, and how its output behaves there (see :func:`runs_where`).
SAME = "same output"
LIVE = "varies by machine"
TEST_DRIVER = "test driver"
REAL_VMS = "real VMs"
PLACES = ("Binder", "laptop", "libvirt host")


# ---------------------------------------------------------------------------------------------
# Reading the book
# ---------------------------------------------------------------------------------------------

def book_root(start: Path | None = None) -> Path:
    """The book's checkout: the nearest folder holding ``_toc.yml``, from ``start`` upward.

    ``start`` defaults to the working directory, which is the notebook's own folder when the
    instructor guide runs (in JupyterLab, under nbval, or by tools/run_notebooks.py); where the
    package is installed does not matter.
    """
    here = Path(Path.cwd() if start is None else start).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    raise ValueError(f"start must be inside the book's checkout (a folder holding _toc.yml "
                     f"above it), got {str(here)!r}")


def _check_root(root: Path) -> Path:
    root = Path(root)
    if not (root / "_toc.yml").is_file():
        raise ValueError(f"root must be a folder holding _toc.yml, got {str(root)!r}")
    return root


def _page_file(root: Path, entry: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        path = root / f"{entry}{suffix}"
        if path.is_file():
            return path
    return None


def _cells(path: Path) -> list[dict]:
    """The cells of a notebook as plain dicts with ``source`` joined into one string."""
    if path.suffix != ".ipynb":
        return [{"cell_type": "markdown", "source": path.read_text(encoding="utf-8"),
                 "metadata": {}}]
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        cells.append({**cell, "source": "".join(src) if isinstance(src, list) else src})
    return cells


def admonition(markdown: str, title: str) -> str | None:
    """The body of the first ``{admonition}`` whose title is ``title`` (options dropped).

    Both fence styles work (``:::`` and backticks); the body ends at the first closing fence of
    the same character and at least the same length.

    >>> admonition(":::{admonition} Prerequisites\\n:class: seealso\\nChapter 2.\\n:::", "Prerequisites")
    'Chapter 2.'
    >>> admonition("no boxes here", "Prerequisites") is None
    True
    """
    lines = markdown.splitlines()
    opening = re.compile(r"^\s*(?P<fence>:{3,}|`{3,})\{admonition\}\s*" + re.escape(title) + r"\s*$")
    for i, line in enumerate(lines):
        match = opening.match(line)
        if not match:
            continue
        fence = match.group("fence")
        closing = re.compile(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        body = []
        for later in lines[i + 1:]:
            if closing.match(later):
                break
            if not body and re.match(r"^\s*:[\w-]+:", later):
                continue  # a directive option such as :class: note
            body.append(later)
        return "\n".join(body).strip()
    return None


_ROLE = re.compile(r"\{([\w:.-]+)\}`([^`]*)`")


def plain_text(markdown: str) -> str:
    """One line of Markdown as plain text for a table: roles resolved, emphasis dropped.

    ``{term}`VMs <virtual machine>``` becomes ``VMs``; citations are dropped; code spans stay.

    >>> plain_text("**Define** {term}`VM exits <VM exit>` and {term}`libvirt` {cite:p}`x2020y`.")
    'Define VM exits and libvirt.'
    """
    def role(match: re.Match) -> str:
        name, content = match.group(1), match.group(2)
        if name.startswith("cite"):
            return ""
        shown = re.match(r"^(.*?)\s*<[^<>]+>$", content, re.S)
        return shown.group(1) if shown else content

    text = _ROLE.sub(role, markdown)
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([.,;:)])", r"\1", text)


_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")


def objective_items(body: str) -> tuple[str, ...]:
    """The list items of a Learning objectives box, as plain text (continuation lines joined).

    Lines before the first item (such as "After this chapter you can:") are not items.
    """
    items: list[str] = []
    for line in body.splitlines():
        match = _ITEM.match(line)
        if match:
            items.append(match.group(1))
        elif items and line.strip():
            items[-1] += " " + line.strip()
    return tuple(plain_text(item) for item in items)


def first_sentence(text: str) -> str:
    """The first sentence of a paragraph (up to a full stop followed by a capital letter).

    >>> first_sentence("Lab L1 (domains). Helpful: Chapter 2.")
    'Lab L1 (domains).'
    """
    text = re.sub(r"\s+", " ", text).strip()
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text, maxsplit=1)
    return parts[0] if parts else ""


_CHAPTER_REFS = re.compile(r"\b[Cc]hapters?\s+(\d+(?:(?:\s*,\s*|\s+and\s+|\s+to\s+)\d+)*)")
_LAB_REFS = re.compile(r"\bLabs?\s+(L\d+(?:(?:\s*,\s*|\s+and\s+)L\d+)*)")


def prerequisite_refs(text: str) -> tuple[str, ...]:
    """Chapters (``"2"``) and labs (``"L1"``) named in the first sentence of a prerequisites box.

    Only the first sentence counts: the boxes name what is required first and add what merely
    helps ("Helpful: ...") or is not needed afterwards.

    >>> prerequisite_refs("Labs L1 and L3 (domain XML) and Chapters 5 and 6. Helpful: Chapter 2.")
    ('5', '6', 'L1', 'L3')
    >>> prerequisite_refs("Chapter 6. {doc}`Chapter 2 <02-virtual-machines>` helps.")
    ('6',)
    """
    # Roles first, then the sentence: a sentence that starts with a role (``{doc}`...```) must
    # not be glued onto the one before it.
    sentence = first_sentence(plain_text(text))
    chapters = {int(n) for group in _CHAPTER_REFS.findall(sentence) for n in re.findall(r"\d+", group)}
    labs = {int(n) for group in _LAB_REFS.findall(sentence) for n in re.findall(r"\d+", group)}
    return tuple([str(n) for n in sorted(chapters)] + [f"L{n}" for n in sorted(labs)])


def _as_read(line: str) -> str:
    """A line of Markdown as a reader sees it: a computed number (``{eval}``, ``{glue}``) is one
    number, a citation is a label rather than words, a link or term shows its text."""
    def role(match: re.Match) -> str:
        name, content = match.group(1), match.group(2)
        if name.startswith(("eval", "glue")):
            return "0"
        if name.startswith("cite"):
            return ""
        shown = re.match(r"^(.*?)\s*<[^<>]+>$", content, re.S)
        return shown.group(1) if shown else content

    return _ROLE.sub(role, line)


def prose_words(markdown: str) -> int:
    """Words of prose as read: fenced code, directive fences and option lines are not counted,
    and roles count as what they show (so reading times do not depend on how numbers are quoted).

    >>> prose_words("It took {eval}`f'{t:.1f}'` s {cite:p}`k2020x`, see {term}`VM exits <VM exit>`.")
    5
    """
    words, in_code = 0, False
    for line in markdown.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("```") and "{" not in stripped:
            in_code = not in_code
            continue
        if in_code or re.match(r"^[`:]{3,}", stripped) or stripped.startswith(":"):
            continue
        words += len(re.findall(r"[A-Za-z][A-Za-z'-]+", _as_read(line)))
    return words


def reading_minutes(words: int, words_per_minute: int = WORDS_PER_MINUTE) -> int:
    """Minutes to read ``words`` of prose once, rounded up to a multiple of 5.

    The default rate is Brysbaert's (2019) mean for English non-fiction; a first reading of a
    technical chapter with figures, code and exercises takes longer, so this is a lower bound.

    >>> reading_minutes(0), reading_minutes(1), reading_minutes(2380)
    (0, 5, 10)
    """
    if isinstance(words, bool) or not isinstance(words, int) or words < 0:
        raise ValueError(f"words must be an integer of 0 or more, got {words!r}")
    if isinstance(words_per_minute, bool) or not isinstance(words_per_minute, int) \
            or not 1 <= words_per_minute <= 2000:
        raise ValueError(f"words_per_minute must be an integer in 1..2000, got {words_per_minute!r}")
    return 5 * math.ceil(words / words_per_minute / 5)


_DIRECTIVE = r"^\s*(?:`{3,}|:{3,})\{%s\}"


def directive_count(markdown: str, name: str) -> int:
    """How many ``{name}`` directives (either fence style) a page's Markdown holds."""
    return len(re.findall(_DIRECTIVE % re.escape(name), markdown, re.M))


def exercise_labels(markdown: str) -> tuple[str, ...]:
    """The ``:label:`` of every ``{exercise}`` directive, in page order."""
    found = re.findall(r"^\s*(?:`{3,}|:{3,})\{exercise\}[^\n]*\n(?:\s*:[\w-]+:[^\n]*\n)*?"
                       r"\s*:label:\s*(\S+)", markdown, re.M)
    return tuple(found)


#: CPython 3.11's ast.parse can fail in concurrent threads (python/cpython#106905).
_AST_LOCK = threading.Lock()


def _assert_count(source: str) -> int | None:
    """Number of assert statements in a code cell, or None if it does not parse as Python."""
    try:
        with _AST_LOCK:
            tree = ast.parse(source)
    except SyntaxError:
        return None
    return sum(isinstance(node, ast.Assert) for node in ast.walk(tree))


#: A task's heading in a lab: "## Task 3: read a VM's definition".
_TASK_HEADING = re.compile(r"^#{2,4}\s+Task\s+(\d+)\s*:\s*(.+?)\s*#*\s*$", re.M)
#: The key under which a lab keeps its grading metadata, in a task cell's and in the notebook's
#: metadata: ``{"points": 4, "autograded": 2}`` on a task cell (the rubric's points for the task,
#: and the part of them a passing check earns automatically), ``{"clean_run_points": 2}`` on the
#: notebook (the rubric's points for a clean Restart and Run All, which a grader judges).
LAB_METADATA = "virtbook"


@dataclass(frozen=True)
class Task:
    """One lab task: the code cell with the solution region and the check cell after it.

    ``title`` is the text of the ``## Task N: title`` heading above the task cell; ``points``
    and ``autograded`` come from the task cell's metadata (:data:`LAB_METADATA`), or are None
    where the lab does not give them.
    """

    number: int
    cell: int
    check_cell: int | None
    asserts: int
    title: str = ""
    points: int | None = None
    autograded: int | None = None


def _points(meta: dict, key: str, where: str) -> int | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError(f"{where}: metadata '{LAB_METADATA}.{key}' must be an integer in "
                         f"0..100, got {value!r}")
    return value


def lab_tasks(cells: list[dict]) -> tuple[Task, ...]:
    """The tasks of a notebook: each code cell with a solution region, and its check cell.

    The check is the next code cell, provided it contains at least one ``assert`` and no
    solution region of its own. A task's title is the last ``Task N: ...`` heading above it.
    """
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    tasks = []
    for k, i in enumerate(code):
        if not BEGIN_SOLUTION.search(cells[i]["source"]):
            continue
        check, asserts = None, 0
        if k + 1 < len(code):
            j = code[k + 1]
            count = _assert_count(cells[j]["source"])
            if count and not BEGIN_SOLUTION.search(cells[j]["source"]):
                check, asserts = j, count
        title = ""
        for cell in cells[:i]:
            if cell["cell_type"] == "markdown":
                for match in _TASK_HEADING.finditer(cell["source"]):
                    title = plain_text(match.group(2))
        meta = cells[i].get("metadata", {}).get(LAB_METADATA, {})
        where = f"task cell {i}"
        tasks.append(Task(len(tasks) + 1, i, check, asserts, title, _points(meta, "points", where),
                          _points(meta, "autograded", where)))
    return tuple(tasks)


def task_stub(task: Task, function: str | None = None) -> str:
    """The code that stands in a task's solution region in the student edition.

    It raises NotImplementedError with a sentence that names the task and says where to write
    the answer, so a student who runs the cell (or Run All) learns what to do:

    >>> print(task_stub(Task(3, 11, 12, 5, "read a VM's definition"), "virtual_hardware"))
    # YOUR CODE HERE
    raise NotImplementedError("Task 3 (read a VM's definition) is not done yet: in the Task 3 "
                              "cell, write the body of virtual_hardware() in place of this "
                              "raise statement, then run that cell again.")
    """
    name = f"Task {task.number}" + (f" ({task.title})" if task.title else "")
    what = (f"write the body of {function}() in place of this raise statement" if function
            else "replace this raise statement with your code")
    sentence = (f"{name} is not done yet: in the Task {task.number} cell, {what}, then run that "
                "cell again.")
    lines, line = [], ""
    for word in sentence.split(" "):
        if line and len(line) + len(word) > 64:
            lines.append(line)
            line = ""
        line += word + " "
    lines.append(line.rstrip())
    quoted = [json.dumps(part) for part in lines]
    indent = " " * len("raise NotImplementedError(")
    return ("# YOUR CODE HERE\nraise NotImplementedError(" + ("\n" + indent).join(quoted) + ")")


def _live_output(cells: list[dict]) -> bool:
    """True when a visible cell's output is measured on the reader's machine (not a widget)."""
    for cell in cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if "nbval-ignore-output" in tags and "remove-output" not in tags:
            return True
    return False


@dataclass(frozen=True)
class Page:
    """What the instructor guide knows about one chapter or lab, all read from its notebook."""

    entry: str
    part: str
    kind: str                # "chapter", "lab" or "other"
    number: str              # "5", "L2" or ""
    title: str
    objectives: tuple[str, ...]
    prerequisites: str
    prerequisite_refs: tuple[str, ...]
    minutes: int | None      # the page's own "About N minutes", if it states one
    words: int
    exercises: int
    solutions: int
    exercise_labels: tuple[str, ...]
    tasks: tuple[Task, ...]
    needs_libvirt: bool
    live_output: bool

    @property
    def label(self) -> str:
        """How the guide names the page: "Chapter 5", "Lab L2", or the title."""
        if self.kind == "chapter":
            return f"Chapter {self.number}"
        if self.kind == "lab":
            return f"Lab {self.number}"
        return self.title

    @property
    def checks(self) -> int:
        return sum(t.check_cell is not None for t in self.tasks)

    @property
    def asserts(self) -> int:
        return sum(t.asserts for t in self.tasks)

    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.words)


def _title(markdown: str, entry: str) -> tuple[str, str]:
    """(number, title) from the first ``#`` heading: "# 5. Sharing the CPU" -> ("5", ...)."""
    match = re.search(r"^#\s+(.+?)\s*$", markdown, re.M)
    heading = plain_text(match.group(1)) if match else entry
    numbered = re.match(r"^(\d+)\.\s+(.*)$", heading)
    if numbered:
        return numbered.group(1), numbered.group(2)
    lab = re.match(r"^Lab\s+(L\d+)\s*:\s*(.*)$", heading)
    if lab:
        return lab.group(1), lab.group(2)
    return "", heading


def read_page(root: Path, entry: TocEntry) -> Page | None:
    """Everything the guide needs about one TOC entry, or None if its file does not exist."""
    root = _check_root(root)
    path = _page_file(root, entry.file)
    if path is None:
        return None
    cells = _cells(path)
    markdown = "\n\n".join(c["source"] for c in cells if c["cell_type"] == "markdown")
    code = "\n\n".join(c["source"] for c in cells if c["cell_type"] == "code")
    number, title = _title(markdown, entry.file)
    kind = "chapter" if CHAPTER_FILE.match(entry.file) else "lab" if LAB_FILE.match(entry.file) \
        else "other"
    if kind == "chapter" and not number:
        number = str(int(CHAPTER_FILE.match(entry.file).group(1)))
    if kind == "lab" and not number:
        number = f"L{int(LAB_FILE.match(entry.file).group(1))}"
    objectives = admonition(markdown, "Learning objectives")
    prerequisites = admonition(markdown, "Prerequisites") or ""
    minutes = ABOUT_MINUTES.search(markdown)
    return Page(
        entry=entry.file, part=entry.part, kind=kind, number=number, title=title,
        objectives=objective_items(objectives) if objectives else (),
        prerequisites=plain_text(prerequisites),
        prerequisite_refs=prerequisite_refs(prerequisites),
        minutes=int(minutes.group(1)) if minutes else None,
        words=prose_words(markdown),
        exercises=directive_count(markdown, "exercise"),
        solutions=directive_count(markdown, "solution"),
        exercise_labels=exercise_labels(markdown),
        tasks=lab_tasks(cells),
        needs_libvirt=bool(NEEDS_LIBVIRT.search(code)),
        live_output=_live_output(cells),
    )


def book_outline(root: Path) -> list[Page]:
    """Every chapter and lab of the book in TOC order (other pages, such as indexes, left out)."""
    pages = [read_page(root, entry) for entry in toc(root)]
    return [p for p in pages if p is not None and p.kind in ("chapter", "lab")]


@dataclass(frozen=True)
class Correction:
    """One "A closer look" box of a chapter: where the book answers a claim of the lecture."""

    chapter: str    # "4"
    slides: str     # the slide the box sits under, from the nearest margin note: "17", "13 and 14"
    claim: str      # the box's title: the slide's words, or what it is about
    answer: str     # the box's answer, in its first sentence that does not restate the slide


#: A margin note naming the slide a passage follows: ":::{margin} Slide 21", "Slides 13 and 14".
_SLIDE_NOTE = re.compile(r"^\s*(?::{3,}|`{3,})\{margin\}\s*(?:Deepens\s+)?[Ss]lides?\s+(.+?)\s*$")
_CLOSER_LOOK = re.compile(r"^\s*(?::{3,}|`{3,})\{admonition\}\s*(A closer look(?::\s*(.*?))?)\s*$")
#: Sentences that only restate the slide ("The slide says ...") before the box answers it.
_RESTATES = re.compile(r"^(?:The|This) (?:slide|lecture)(?:'s)?\b|^The lecture's\b|\bare told\b")
#: A number computed by a code cell ({glue:text} or an {eval} inline expression): the table
#: cannot show it, so its sentence is left out.
_GLUED = re.compile(r"\{(?:glue(?::\w+)?|eval)\}`[^`]*`")


def box_answer(body: str, max_words: int = 60) -> str:
    """The first sentence of a box's body that answers rather than restates the slide.

    A sentence of fewer than eight words ("More portable than what?") gets the next one with it;
    an answer longer than ``max_words`` is cut at a word and ends with an ellipsis.

    >>> box_answer("The slide says X is Y. It is not, since X has been Z from 2007 {cite:p}`k`. More.")
    'It is not, since X has been Z from 2007.'
    >>> box_answer("True by default, false by design. Without limits a container takes all.")
    'True by default, false by design. Without limits a container takes all.'
    """
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 8:
        raise ValueError(f"max_words must be an integer of at least 8, got {max_words!r}")
    text = plain_text(_GLUED.sub("\x00", body))
    sentences = [x for x in re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", text) if x]
    answers = [x for x in sentences if not _RESTATES.search(x) and "\x00" not in x] or \
        [x for x in sentences if "\x00" not in x]
    if not answers:
        return ""
    chosen = answers[0]
    if len(chosen.split()) < 8 and len(answers) > 1 and sentences.index(answers[1]) == \
            sentences.index(chosen) + 1:
        chosen += " " + answers[1]
    words = chosen.split()
    if len(words) > max_words:
        chosen = " ".join(words[:max_words]).rstrip(",;:") + "\u2026"
    return chosen


def slide_corrections(root: Path) -> list[Correction]:
    """Every "A closer look" box of the chapters, in book order, with the slide it answers."""
    root = _check_root(root)
    found: list[Correction] = []
    for entry in toc(root):
        match = CHAPTER_FILE.match(entry.file)
        path = _page_file(root, entry.file) if match else None
        if path is None:
            continue
        markdown = "\n\n".join(c["source"] for c in _cells(path) if c["cell_type"] == "markdown")
        slides = ""
        lines = markdown.splitlines()
        for i, line in enumerate(lines):
            note = _SLIDE_NOTE.match(line)
            if note:
                slides = note.group(1)
                continue
            box = _CLOSER_LOOK.match(line)
            if box:
                body = admonition("\n".join(lines[i:]), box.group(1)) or ""
                found.append(Correction(chapter=str(int(match.group(1))), slides=slides,
                                        claim=plain_text(box.group(2) or box.group(1)),
                                        answer=box_answer(body)))
    return found


def corrections_table(corrections: list[Correction]) -> str:
    """The guide's table of where the book departs from the lecture's slides."""
    rows = [[c.chapter, c.slides or "\u2013", c.claim, c.answer] for c in corrections]
    return markdown_table(["Chapter", "Slide", "The slide's claim", "What the chapter shows"], rows)


# ---------------------------------------------------------------------------------------------
# Tables for the guide (GitHub-flavoured Markdown, which the book renders in cell outputs)
# ---------------------------------------------------------------------------------------------

def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """A GitHub-flavoured Markdown table; ``|`` inside a cell is escaped.

    >>> print(markdown_table(["a", "b"], [[1, "x|y"]]))
    | a | b |
    |---|---|
    | 1 | x\\|y |
    """
    if not header:
        raise ValueError("header must name at least one column, got []")
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"rows must have {len(header)} cells each, got {len(row)}: {row!r}")

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _refs(page: Page) -> str:
    return ", ".join(page.prerequisite_refs) or "none"


def chapter_table(pages: list[Page]) -> str:
    """One row per chapter: reading time, exercises, and the chapters it builds on."""
    rows = [[f"{p.number}. {p.title}", f"{p.reading_minutes} min", p.exercises, _refs(p)]
            for p in pages if p.kind == "chapter"]
    return markdown_table(["Chapter", "Reading time", "Exercises", "Builds on"], rows)


def lab_table(pages: list[Page]) -> str:
    """One row per lab: its time, tasks, check cells, asserts, libvirt, prerequisites."""
    rows = [[f"{p.number}. {p.title}", f"{p.minutes} min" if p.minutes else "not stated",
             len(p.tasks), p.checks, p.asserts, "yes" if p.needs_libvirt else "no", _refs(p)]
            for p in pages if p.kind == "lab"]
    return markdown_table(["Lab", "Time", "Tasks", "Checks", "Asserts", "libvirt", "Builds on"],
                          rows)


def glance_table(pages: list[Page]) -> str:
    """Each lab with its time estimate and its numbers of tasks and checks, and a total row."""
    labs = [p for p in pages if p.kind == "lab"]
    rows: list[list[object]] = [[f"{p.label}: {p.title}",
                                 f"{p.minutes} min" if p.minutes else "not stated",
                                 len(p.tasks), p.checks] for p in labs]
    rows.append(["**All labs**", f"**{sum(p.minutes or 0 for p in labs)} min**",
                 f"**{sum(len(p.tasks) for p in labs)}**", f"**{sum(p.checks for p in labs)}**"])
    return markdown_table(["Lab", "Time", "Tasks", "Checks"], rows)


def outcomes_markdown(pages: list[Page]) -> str:
    """The learning outcomes of every page as Markdown: a bold heading line and a list each."""
    blocks = []
    for p in pages:
        head = f"**{p.label}: {p.title}**"
        if not p.objectives:
            blocks.append(head + "\n\n(no Learning objectives box on this page)")
            continue
        blocks.append(head + "\n\n" + "\n".join(f"- {item}" for item in p.objectives))
    return "\n\n".join(blocks)


# ---------------------------------------------------------------------------------------------
# What runs where
# ---------------------------------------------------------------------------------------------

def runs_where(page: Page) -> tuple[str, str, str]:
    """How a page runs in Binder, on a laptop, and on a Linux host with a libvirt daemon.

    A page that drives libvirt (the labs L1-L4) runs on libvirt's built-in test driver wherever
    no daemon is reachable (Binder never has one: it gives no root), and on real VMs when
    ``VIRTBOOK_URI`` names a daemon. Every other page runs the same everywhere; its output is
    identical to the book's unless some of it is measured on the reader's machine.
    """
    if page.needs_libvirt:
        return (TEST_DRIVER, TEST_DRIVER, REAL_VMS)
    status = LIVE if page.live_output else SAME
    return (status, status, status)


def short_title(title: str, limit: int = 30) -> str:
    """``title`` cut at a word boundary to at most ``limit`` characters, with an ellipsis.

    >>> short_title("Everything as a service, and infrastructure as code")
    'Everything as a service, and…'
    """
    if len(title) <= limit:
        return title
    cut = title[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def runs_where_figure(pages: list[Page]):
    """A grid: one row per page, one column per place, each cell the page's :func:`runs_where`
    status there (drawn by :func:`virtbook.figures.instructor.runs_where_figure`)."""
    from virtbook.figures import instructor  # the reading functions here need no matplotlib

    return instructor.runs_where_figure([f"{p.label}: {short_title(p.title)}" for p in pages],
                                        [runs_where(p) for p in pages], PLACES,
                                        (SAME, LIVE, TEST_DRIVER, REAL_VMS))


# ---------------------------------------------------------------------------------------------
# Links for students
# ---------------------------------------------------------------------------------------------

def _check_http_url(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an http:// or https:// URL, got {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment \
            or any(ch.isspace() for ch in value):
        raise ValueError(f"{name} must be an http:// or https:// URL without query or fragment, "
                         f"got {value!r}")
    return value.rstrip("/")


def _check_path(path: object) -> str:
    if not isinstance(path, str) or not path.strip("/") or path.startswith("/") \
            or ".." in path.split("/") or any(ch.isspace() for ch in path):
        raise ValueError("path must be a non-empty relative path inside the repository (no "
                         f"leading '/', no '..', no spaces), got {path!r}")
    return path.strip("/")


def _check_branch(branch: object) -> str:
    if not isinstance(branch, str) or not re.match(r"^[A-Za-z0-9._/-]{1,100}$", branch) \
            or ".." in branch or branch.startswith(("/", "-")):
        raise ValueError("branch must be a git branch name of 1..100 characters A-Z, a-z, 0-9, "
                         f"'.', '_', '/' or '-', got {branch!r}")
    return branch


def repository_name(repo: str) -> str:
    """The folder nbgitpuller clones ``repo`` into: the last path part, without ``.git``.

    >>> repository_name("https://github.com/virtbook/virtbook.git")
    'virtbook'
    """
    repo = _check_http_url("repo", repo)
    name = urlsplit(repo).path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    if not name:
        raise ValueError(f"repo must name a repository (https://host/owner/name), got {repo!r}")
    return name


_INTERFACES = {"lab": "lab/tree/", "classic": "tree/"}


def nbgitpuller_link(hub: str, repo: str, branch: str, path: str, interface: str = "lab") -> str:
    """A link that makes a student's JupyterHub clone (or update) ``repo`` and open ``path``.

    The hub's nbgitpuller extension serves ``<hub>/hub/user-redirect/git-pull``; it clones
    ``repo`` at ``branch`` into a folder named after the repository, merges new commits into an
    existing clone without overwriting the student's changes, then redirects to ``urlpath``,
    which must include that folder's name. Always give the branch: older nbgitpuller versions
    assume ``master`` when it is missing.

    >>> nbgitpuller_link("https://hub.example.org", "https://github.com/virtbook/virtbook",
    ...                  "main", "labs/01-meet-libvirt.ipynb")
    'https://hub.example.org/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Fvirtbook%2Fvirtbook&branch=main&urlpath=lab/tree/virtbook/labs/01-meet-libvirt.ipynb'
    """
    hub = _check_http_url("hub", hub)
    name = repository_name(repo)
    branch = _check_branch(branch)
    path = _check_path(path)
    if interface not in _INTERFACES:
        raise ValueError(f"interface must be one of 'lab', 'classic', got {interface!r}")
    urlpath = _INTERFACES[interface] + f"{name}/{path}"
    return (f"{hub}/hub/user-redirect/git-pull?repo={quote(repo.rstrip('/'), safe='')}"
            f"&branch={quote(branch, safe='')}&urlpath={quote(urlpath, safe='/')}")


def binder_link(repo: str, branch: str, path: str, binderhub: str = "https://mybinder.org",
                interface: str = "lab") -> str:
    """A link that builds (or reuses) a Binder image of a GitHub repository and opens ``path``.

    Binder starts the server in the repository's root, so ``urlpath`` has no folder prefix.

    >>> binder_link("https://github.com/virtbook/virtbook", "main", "labs/05-scheduling-experiments.ipynb")
    'https://mybinder.org/v2/gh/virtbook/virtbook/main?urlpath=lab/tree/labs/05-scheduling-experiments.ipynb'
    """
    repo = _check_http_url("repo", repo)
    parts = urlsplit(repo)
    segments = [s for s in parts.path.split("/") if s]
    if parts.netloc.lower() != "github.com" or len(segments) != 2:
        raise ValueError(f"repo must be a GitHub repository URL https://github.com/<owner>/<name>, "
                         f"got {repo!r}")
    owner, name = segments[0], segments[1].removesuffix(".git")
    hub = _check_http_url("binderhub", binderhub)
    branch = _check_branch(branch)
    path = _check_path(path)
    if interface not in _INTERFACES:
        raise ValueError(f"interface must be one of 'lab', 'classic', got {interface!r}")
    urlpath = _INTERFACES[interface] + path
    return f"{hub}/v2/gh/{owner}/{name}/{quote(branch, safe='')}?urlpath={quote(urlpath, safe='/')}"


@dataclass(frozen=True)
class Repository:
    """Where the book's source lives, as ``_config.yml`` says (repository url and branch)."""

    url: str
    branch: str
    jupyterhub_url: str | None


def repository(root: Path) -> Repository:
    """The repository URL, branch and JupyterHub URL from the book's ``_config.yml``."""
    root = _check_root(root)
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    repo = config.get("repository") or {}
    if not repo.get("url"):
        raise ValueError("root must hold a _config.yml with repository: url:, which is missing")
    hub = (config.get("launch_buttons") or {}).get("jupyterhub_url") or None
    return Repository(str(repo["url"]), str(repo.get("branch") or "main"), hub)


# ---------------------------------------------------------------------------------------------
# nbgrader
# ---------------------------------------------------------------------------------------------

def split_directive_blocks(markdown: str, directive: str) -> tuple[str, list[str]]:
    r"""Markdown without its ``{<directive>}`` blocks, and the lines those blocks held.

    Both fence styles are recognised (``:::{solution}`` and a backtick fence); option lines such
    as ``:class: dropdown`` are not counted as content.

    >>> split_directive_blocks("Q?\n:::{solution} ex-1\n:class: dropdown\nA.\n:::\nNext.", "solution")
    ('Q?\nNext.', ['A.'])
    """
    if not re.fullmatch(r"[a-z][a-z:-]*", directive):
        raise ValueError(f"directive must be a directive name such as 'solution', got {directive!r}")
    opening = re.compile(r"^\s*(:{3,}|`{3,})\{" + re.escape(directive) + r"\}")
    kept, blocks = split_fenced_blocks(markdown, opening, directive)
    removed = [line for block in blocks for line in block if not re.match(r"^\s*:class:", line)]
    return "\n".join(kept), removed


def split_fenced_blocks(markdown: str, opening: re.Pattern, name: str) -> tuple[list[str], list[list[str]]]:
    r"""The lines outside every fenced block whose first line matches ``opening``, and the inner
    lines of each such block. ``opening``'s first group is the fence (``:::`` or backticks); a
    block ends at a line of at least as many of the same fence characters. ``name`` is the
    directive the error names when a block never closes.

    >>> split_fenced_blocks("a\n:::{note}\nb\n:::\nc", re.compile(r"^(:{3,})\{note\}"), "note")
    (['a', 'c'], [['b']])
    """
    lines = markdown.splitlines()
    kept: list[str] = []
    blocks: list[list[str]] = []
    i = 0
    while i < len(lines):
        match = opening.match(lines[i])
        if not match:
            kept.append(lines[i])
            i += 1
            continue
        fence = match.group(1)
        closing = re.compile(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        if j == len(lines):
            raise ValueError(f"markdown must close every {{{name}}} block; the one opened on "
                             f"line {i + 1} never closes")
        blocks.append(lines[i + 1:j])
        i = j + 1
    return kept, blocks


def split_solution_directives(markdown: str) -> tuple[str, list[str]]:
    r"""Markdown without its ``{solution}`` blocks, and the answer lines those blocks held.

    >>> split_solution_directives("Q?\n:::{solution} ex-1\n:class: dropdown\nA.\n:::\nNext.")
    ('Q?\nNext.', ['A.'])
    """
    return split_directive_blocks(markdown, "solution")


def drop_solution_directives(markdown: str) -> str:
    r"""Markdown without its ``{solution}`` blocks (the worked answers under the exercises).

    >>> drop_solution_directives("Q?\n:::{solution} ex-1\n:class: dropdown\nA.\n:::\nNext.")
    'Q?\nNext.'
    """
    return split_solution_directives(markdown)[0]


def nbgrader_source(nb: dict, assignment: str, points: int | None = None) -> dict:
    """A copy of a lab notebook that nbgrader's ``generate_assignment`` accepts as it is.

    nbgrader refuses a solution region in a cell that is not marked as a solution cell, so each
    task cell becomes an *autograded answer* (``solution: true``) and each check cell an
    *autograder test* (``grade: true``, locked), with ids ``<assignment>-task-<n>`` and
    ``<assignment>-check-<n>``. A check is worth the task's ``autograded`` points from the lab's
    metadata (:data:`LAB_METADATA`); ``points`` overrides that for every check, and is the value
    where the lab gives none (2 if both are missing). A Markdown cell with a solution region
    becomes a *manually graded answer* worth its own ``points`` metadata (0 if none). Each task
    cell also gets ``{"task": n, "title": ...}`` under :data:`LAB_METADATA`, which the student
    edition's stubs read (tools/make_student.py). The worked answers in ``{solution}`` dropdowns,
    which nbgrader does not know about and would hand to students, are removed. The original
    notebook is not changed.
    """
    if not isinstance(assignment, str) or not re.match(r"^[A-Za-z0-9_-]{1,40}$", assignment):
        raise ValueError("assignment must be 1..40 characters A-Z, a-z, 0-9, '_' or '-', "
                         f"got {assignment!r}")
    if points is not None and (isinstance(points, bool) or not isinstance(points, int)
                               or not 0 <= points <= 100):
        raise ValueError(f"points must be an integer in 0..100, got {points!r}")
    out = copy.deepcopy(nb)
    cells = [{**c, "source": "".join(c["source"]) if isinstance(c.get("source"), list)
              else c.get("source", "")} for c in out.get("cells", [])]
    tasks = lab_tasks(cells)
    if not tasks:
        raise ValueError("nb must hold at least one task (a code cell with '### BEGIN SOLUTION'), "
                         "got none")
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            cell["source"] = drop_solution_directives(cell["source"])
            if BEGIN_SOLUTION.search(cell["source"]):
                meta = cell.setdefault("metadata", {})
                own = _points(meta.get(LAB_METADATA, {}), "points", f"cell {index}") or 0
                meta["nbgrader"] = {
                    "schema_version": 3, "solution": True, "grade": True, "locked": False,
                    "task": False, "points": own, "grade_id": f"{assignment}-answer-{index}"}
    for task in tasks:
        meta = cells[task.cell].setdefault("metadata", {})
        meta["nbgrader"] = {
            "schema_version": 3, "solution": True, "grade": False, "locked": False, "task": False,
            "grade_id": f"{assignment}-task-{task.number}"}
        meta[LAB_METADATA] = {**meta.get(LAB_METADATA, {}), "task": task.number,
                              "title": task.title}
        if task.check_cell is not None:
            worth = points if points is not None else (
                task.autograded if task.autograded is not None else 2)
            cells[task.check_cell].setdefault("metadata", {})["nbgrader"] = {
                "schema_version": 3, "solution": False, "grade": True, "locked": True,
                "task": False, "points": worth, "grade_id": f"{assignment}-check-{task.number}"}
    out["cells"] = cells
    return out
