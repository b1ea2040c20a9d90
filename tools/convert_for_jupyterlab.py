#!/usr/bin/env python3
"""Rewrite notebooks so that JupyterLab (with jupyterlab-myst) shows the text the HTML book shows.

    python tools/convert_for_jupyterlab.py NOTEBOOK_OR_FOLDER ...   rewrite, run, compare
    python tools/convert_for_jupyterlab.py --no-run NOTEBOOK ...     rewrite only
    python tools/convert_for_jupyterlab.py --markers-only NOTEBOOK ... only the nbval markers
    python tools/convert_for_jupyterlab.py --check NOTEBOOK ...      change nothing; list what
                                                                     JupyterLab cannot render

jupyterlab-myst renders MyST's directives and roles, but not MyST-NB's glue (jupyterlab-myst
issue 40), and it cannot resolve references into other pages. The rewrite is mechanical and
keeps the HTML book the same:

1. ``glue("ch01-speedup", expr, display=False)`` in a code cell becomes ``speedup = expr`` (the
   key without its chapter prefix, ``-`` as ``_``; the whole key when that name is taken or a
   builtin). In a loop, ``glue(f"ch05-share-{name}", v, display=False)`` becomes
   ``share[name] = v`` with ``share = {}`` before the loop. ``from myst_nb import glue`` goes
   when nothing uses it any more. Figures keep ``virtbook.figures.style.glue_figure``.
2. ``{glue:text}`ch01-speedup:.2f``` in Markdown becomes ``{eval}`f"{speedup:.2f}"``` (and a key
   without format becomes ``{eval}`speedup```): MyST's inline expression, which jupyterlab-myst
   evaluates in the kernel and the book renders from the stored value (_ext/inline_eval.py).
3. ``:::{glue:figure} NAME`` becomes ``:::{figure}`` with ``:name: NAME`` (options and caption
   kept): jupyterlab-myst shows the numbered caption under the figure the code cell displays,
   the book places the glued figure exactly as before.
4. ``{ref}`label``` and ``{doc}`page``` without text get the target's title as text, the text
   Sphinx shows anyway: jupyterlab-myst cannot look into other pages and would show the label.
5. A test-harness comment ``# nbval-ignore-output: <reason>`` in a code cell tagged
   ``nbval-ignore-output`` moves out of the code students read: the reason goes to the cell's
   metadata (``nbval-reason``). A comment whose tag is missing never acted (nbval reads tags, and
   comments only in its own exact ``# NBVAL_...`` form): it is removed and reported. A Markdown cell that quotes a value computed in such a cell
   gets the same tag and a reason: its numbers vary from run to run too.

Then the notebook is executed (tools/run_notebooks.py, which stores each inline expression's
value), and every rewritten number is compared with the text ``{glue:text}`` produced from the
outputs stored before the rewrite: the tool fails, naming the cell and the key, when one
differs, or when a Markdown cell uses a value before the code that computes it (JupyterLab's
Run All evaluates cells in order, so the reader would see an error there).

Running it again on a converted notebook changes nothing. What it cannot rewrite (a glue key
with two placeholders, a glue call inside a function, ``{glue:md}``...) it lists and leaves.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import copy
import json
import keyword
import re
import sys
from ast import literal_eval
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inline_expressions  # tools/ is not a package: found through sys.path above

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent

GLUE_MIME = "application/papermill.record/text/plain"
REASON_KEY = "nbval-reason"
NBVAL_TAGS = ("nbval-ignore-output", "nbval-skip", "nbval-raises-exception",
              "nbval-check-output")
#: A harness comment: "# nbval-ignore-output: why" or nbval's own "# NBVAL_IGNORE_OUTPUT - why".
MARKER_COMMENT = re.compile(r"^[ \t]*#[ \t]*(nbval-[a-z-]+|NBVAL_[A-Z_]+)[ \t]*(?:[:\-][ \t]*(.*?))?[ \t]*$")
#: The chapter or lab prefix of a glue key: ch05-, l3-, lab2-.
KEY_PREFIX = re.compile(r"^(?:ch|l|lab)\d+-")
#: A glue text role's content: optional "other.ipynb::", the key, optional ":format".
GLUE_ROLE = re.compile(r"\{glue(?::(text|any))?\}`([^`]+)`")
GLUE_FIGURE = re.compile(r"^(?P<fence>[ \t]*(?::{3,}|`{3,}))\{glue:figure\}[ \t]*(?P<key>\S+)[ \t]*\n"
                         r"(?P<opts>(?:[ \t]*:[\w-]+:.*\n)*)", re.M)
BARE_XREF = re.compile(r"\{(ref|doc)\}`([^`<>]+)`")
LABEL_HEADING = re.compile(r"^\(([^()\s]+)\)=[ \t]*\n+#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
TITLE = re.compile(r"^#[ \t]+(.+?)[ \t]*$", re.M)
#: A title that can be written as a role's text and reads the same as Sphinx's rendering of it.
PLAIN_TITLE = re.compile(r"^[^`*_{}\[\]<>$\\|]+$")
LIVE_REASON = "quotes numbers computed in a cell whose output varies between runs ({})"


@dataclass
class Report:
    path: Path
    changes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: (cell object id, expression, the text {glue:text} gave) for every rewritten number.
    expected: list[tuple[int, str, str]] = field(default_factory=list)
    live: set[int] = field(default_factory=set)
    #: glue key (or loop prefix) -> index of the nbval-ignore-output cell that computes it
    live_keys: dict[str, int] = field(default_factory=dict)


# --- cells --------------------------------------------------------------------------------------

def text_of(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def set_text(cell: dict, text: str) -> None:
    """Store ``text`` in the format the cell already uses (one string, or a list of lines)."""
    if isinstance(cell.get("source"), list):
        cell["source"] = text.splitlines(keepends=True)
    else:
        cell["source"] = text


def tags_of(cell: dict) -> list[str]:
    return cell.setdefault("metadata", {}).setdefault("tags", [])


# --- 5. nbval markers ---------------------------------------------------------------------------

def move_markers(nb: dict, report: Report) -> None:
    """Move harness comments out of code cells into tags and ``nbval-reason`` metadata."""
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        lines = text_of(cell).splitlines(keepends=True)
        kept, found = [], []
        for line in lines:
            match = MARKER_COMMENT.match(line)
            if match:
                found.append((match.group(1).lower().replace("_", "-"), match.group(2) or ""))
            else:
                kept.append(line)
        if not found:
            continue
        while kept and not kept[0].strip():
            kept.pop(0)
        set_text(cell, "".join(kept))
        tags = cell.setdefault("metadata", {}).get("tags", [])
        for tag, reason in found:
            if tag not in NBVAL_TAGS:
                report.problems.append(f"cell {index}: unknown nbval marker {tag!r} left out")
                continue
            if tag not in tags:
                # nbval reads only exact "# NBVAL_..." comments, so this one never acted: keep
                # the tests as they were, and say so.
                report.problems.append(
                    f"cell {index}: the comment {tag!r} had no cell tag, so nbval never honoured "
                    "it; removed. If the output does vary, add the tag and metadata "
                    f"{REASON_KEY!r} by hand")
                continue
            if reason:
                cell["metadata"][REASON_KEY] = reason
            elif not cell["metadata"].get(REASON_KEY):
                report.problems.append(f"cell {index}: marker {tag!r} has no reason; add one "
                                       f"to the cell's metadata as {REASON_KEY!r}")
        report.changes.append(f"cell {index}: nbval marker {', '.join(t for t, _ in found)} "
                              "moved to tags and metadata")


# --- 1. glue calls in code ----------------------------------------------------------------------

@dataclass
class Glue:
    cell: int
    stmt: ast.Expr
    key: str | None          # a static key
    prefix: str | None       # a loop key f"{prefix}{var}"
    var_src: str | None
    value_src: str
    value_col: int
    live: bool


def _is_glue(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "glue")


def _names_in(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def python_name(key: str, taken: set[str]) -> str:
    """The variable a glue key becomes: the key without its chapter prefix, else the whole key.

    >>> python_name("ch01-slow-clock-ms", set())
    'slow_clock_ms'
    >>> python_name("ch02-max", set())      # a builtin keeps its prefix
    'ch02_max'
    >>> python_name("l3-pool", {"pool"})
    'l3_pool'
    """
    for candidate in (KEY_PREFIX.sub("", key), key):
        name = re.sub(r"\W", "_", candidate)
        if (name.isidentifier() and not keyword.iskeyword(name) and name not in taken
                and not hasattr(builtins, name)):
            return name
    raise ValueError(f"key: no free Python name for glue key {key!r}")


def find_glue(nb: dict, report: Report) -> tuple[list[Glue], dict[int, ast.Module]]:
    calls, trees = [], {}
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or "glue" not in text_of(cell):
            continue
        source = text_of(cell)
        try:
            tree = ast.parse(source)
        except SyntaxError as err:
            report.problems.append(f"cell {index}: not Python ({err.msg}); left as it is")
            continue
        trees[index] = tree
        live = "nbval-ignore-output" in cell.get("metadata", {}).get("tags", [])
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not _is_glue(node):
                continue
            stmt = parents.get(node)
            where = f"cell {index} line {node.lineno}"
            if not isinstance(stmt, ast.Expr):
                report.problems.append(f"{where}: glue(...) used as a value; left as it is")
                continue
            scope = parents.get(stmt)
            while scope is not None and not isinstance(scope, ast.Module):
                if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                      ast.ClassDef)):
                    break
                scope = parents.get(scope)
            if not isinstance(scope, ast.Module):
                report.problems.append(f"{where}: glue(...) inside a function or class; "
                                       "left as it is")
                continue
            kwargs = {k.arg: k.value for k in node.keywords}
            display = kwargs.get("display")
            if len(node.args) != 2 or set(kwargs) - {"display"} or not (
                    isinstance(display, ast.Constant) and display.value is False):
                report.problems.append(f"{where}: only glue(key, value, display=False) is "
                                       "rewritten; left as it is")
                continue
            key_node, value = node.args
            value_src = ast.get_source_segment(source, value)
            if isinstance(key_node, ast.Constant) and isinstance(key_node.value, str):
                calls.append(Glue(index, stmt, key_node.value, None, None, value_src,
                                  value.col_offset, live))
            elif (isinstance(key_node, ast.JoinedStr) and len(key_node.values) == 2
                  and isinstance(key_node.values[0], ast.Constant)
                  and isinstance(key_node.values[1], ast.FormattedValue)
                  and key_node.values[1].format_spec is None
                  and key_node.values[1].conversion == -1):
                var_src = ast.get_source_segment(source, key_node.values[1].value)
                calls.append(Glue(index, stmt, None, key_node.values[0].value, var_src,
                                  value_src, value.col_offset, live))
            else:
                report.problems.append(f"{where}: a glue key that is not a string or "
                                       "f\"prefix-{var}\"; left as it is")
    return calls, trees


def _replace_spans(source: str, edits: list[tuple[int, int, int, int, str]]) -> str:
    """Apply (line, col, end_line, end_col, text) edits (1-based lines) from the end."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def pos(line: int, col: int) -> int:
        return offsets[line - 1] + len(lines[line - 1].encode()[:col].decode(errors="ignore"))

    for line, col, end_line, end_col, text in sorted(edits, reverse=True):
        start, end = pos(line, col), pos(end_line, end_col)
        source = source[:start] + text + source[end:]
    return source


def _shift_continuation(value: str, shift: int) -> str:
    """Move a multi-line value's continuation lines by ``shift`` columns (they were aligned
    under the glue call's arguments and now sit after ``name = ``).

    >>> _shift_continuation("f(a,\\n        b)", -4)
    'f(a,\\n    b)'
    """
    first, *rest = value.split("\n")
    moved = []
    for line in rest:
        if shift >= 0:
            moved.append(" " * shift + line)
        else:
            cut = min(-shift, len(line) - len(line.lstrip(" ")))
            moved.append(line[cut:])
    return "\n".join([first] + moved)


def rewrite_glue(nb: dict, report: Report) -> dict[str, str]:
    """Rewrite glue calls; return {glue key or prefix: Python expression that holds it}."""
    calls, trees = find_glue(nb, report)
    if not calls:
        drop_glue_import(nb, report)   # e.g. the last glue call was rewritten by hand
        return {}
    taken = set()
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            try:
                taken |= _names_in(ast.parse(text_of(cell)))
            except SyntaxError:
                pass
    names: dict[str, str] = {}
    live_keys: dict[str, int] = {}
    for call in calls:
        label = call.key if call.key is not None else call.prefix
        if label not in names:
            base = label.rstrip("-") if call.prefix else label
            names[label] = python_name(base, taken)
            taken.add(names[label])
        if call.live:
            live_keys[label] = call.cell
    edits: dict[int, list] = {}
    loops_done: set[tuple[int, str]] = set()
    for call in calls:
        label = call.key if call.key is not None else call.prefix
        name = names[label]
        stmt = call.stmt
        target = name if call.key is not None else f"{name}[{call.var_src}]"
        value = call.value_src
        if "\n" in value:
            wrap = not (value[0] in "([{" and value[-1] in ")]}")
            value = _shift_continuation(value, stmt.col_offset + len(target) + 3 + wrap
                                        - call.value_col)
            if wrap:
                value = f"({value})"
        edits.setdefault(call.cell, []).append(
            (stmt.lineno, stmt.col_offset, stmt.end_lineno, stmt.end_col_offset,
             f"{target} = {value}"))
        if call.prefix is not None and (call.cell, name) not in loops_done:
            loops_done.add((call.cell, name))
            top = next(s for s in trees[call.cell].body
                       if s.lineno <= stmt.lineno <= s.end_lineno)
            indent = " " * top.col_offset
            edits[call.cell].append((top.lineno, top.col_offset, top.lineno, top.col_offset,
                                     f"{name} = {{}}\n{indent}"))
    for index, cell_edits in edits.items():
        cell = nb["cells"][index]
        new = _replace_spans(text_of(cell), cell_edits)
        try:
            ast.parse(new)
        except SyntaxError as err:  # pragma: no cover - a bug here, not in the notebook
            raise RuntimeError(f"cell {index}: the rewrite is not valid Python: {err}") from err
        set_text(cell, new)
        report.changes.append(f"cell {index}: {len(cell_edits)} glue call(s) rewritten")
    report.live = {id(nb["cells"][i]) for i in live_keys.values()}
    report.live_keys = live_keys
    drop_glue_import(nb, report)
    return names


def drop_glue_import(nb: dict, report: Report) -> None:
    """Remove ``glue`` from ``from myst_nb import ...`` when no code cell calls it any more."""
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    still_used = any(_is_glue(n) for c in code for n in ast.walk(_parse_or_empty(text_of(c))))
    if still_used:
        return
    for cell in code:
        source = text_of(cell)
        tree = _parse_or_empty(source)
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "myst_nb" and any(
                    a.name == "glue" and a.asname is None for a in node.names):
                rest = [a for a in node.names if not (a.name == "glue" and a.asname is None)]
                text = ("" if not rest else "from myst_nb import " + ", ".join(
                    a.name + (f" as {a.asname}" if a.asname else "") for a in rest))
                lines = source.splitlines(keepends=True)
                before = "".join(lines[:node.lineno - 1])
                after = "".join(lines[node.end_lineno:])
                if not text:
                    # drop the line, and a blank line left at the top or doubled
                    if not before.strip():
                        after = after.lstrip("\n")
                    elif before.endswith("\n\n") and after.startswith("\n"):
                        after = after[1:]
                    new = before + after
                else:
                    new = before + text + "\n" + after
                set_text(cell, new)
                report.changes.append("import of myst_nb.glue removed")
                return


def _parse_or_empty(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


# --- 2. glue roles in Markdown ------------------------------------------------------------------

def glued_values(nb: dict) -> dict[str, str]:
    """The text/plain of every value glued in the stored outputs, by key."""
    values = {}
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and GLUE_MIME in out.get("data", {}):
                values[name] = out["data"][GLUE_MIME]
    return values


def glue_text(plain: str, fmt: str) -> str:
    """What ``{glue:text}`key:fmt``` showed for a stored value (MyST-NB's format_plain_text)."""
    try:
        value = literal_eval(plain)
    except (SyntaxError, ValueError):
        value = plain
    if fmt == "":
        return str(value)
    kind = fmt[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, fmt)


def loop_subscript(suffix: str) -> str:
    """How an inline expression indexes the dict a glue loop became, by the key's suffix.

    A loop over numbers (``for m in (90, 64): glue(f"ch08-hpa-{m}", ...)``) fills the dict with
    int keys, so a suffix written as a decimal integer is an int subscript; anything else is a
    string. A loop over strings of digits would be read wrongly: the run after the rewrite then
    fails with a KeyError that names the expression.

    >>> loop_subscript("90"), loop_subscript("db"), loop_subscript("007")
    ('90', "'db'", "'007'")
    """
    if re.fullmatch(r"-?(?:0|[1-9]\d*)", suffix):
        return suffix
    return repr(suffix)


def expression_for(key: str, fmt: str, exprs: dict[str, str], plain: str | None) -> str | None:
    """The inline expression that shows ``key`` formatted with ``fmt``, or None if unknown."""
    if key in exprs:
        target = exprs[key]
    else:
        prefixes = [p for p in exprs if p.endswith("-") and key.startswith(p)]
        if not prefixes:
            return None
        prefix = max(prefixes, key=len)
        target = f"{exprs[prefix]}[{loop_subscript(key[len(prefix):])}]"
    if fmt:
        return f'f"{{{target}:{fmt}}}"'
    try:
        simple = isinstance(literal_eval(plain), (int, str)) if plain is not None else False
    except (SyntaxError, ValueError):
        simple = False
    return target if simple and re.fullmatch(r"\w+", target) else f'f"{{{target}}}"'


def rewrite_markdown_glue(nb: dict, exprs: dict[str, str], values: dict[str, str],
                          report: Report) -> None:
    live_keys = report.live_keys
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = text_of(cell)
        count = 0
        quoted_live = []

        def replace(match: re.Match) -> str:
            nonlocal count
            content = match.group(2)
            if "::" in content:
                report.problems.append(f"cell {index}: {match.group(0)} pastes from another "
                                       "notebook; left as it is")
                return match.group(0)
            key, _, fmt = content.partition(":")
            expr = expression_for(key, fmt, exprs, values.get(key))
            if expr is None:
                report.problems.append(f"cell {index}: {match.group(0)}: no rewritten glue call "
                                       "computes this key; left as it is")
                return match.group(0)
            if key in values:
                report.expected.append((id(cell), expr, glue_text(values[key], fmt)))
            else:
                report.problems.append(f"cell {index}: {match.group(0)}: no stored value to "
                                       "compare with (run the notebook before converting)")
            label = key if key in live_keys else next(
                (p for p in live_keys if p.endswith("-") and key.startswith(p)), None)
            if label is not None:
                quoted_live.append(label)
            count += 1
            return "{eval}`" + expr + "`"

        new = GLUE_ROLE.sub(replace, source)
        if "{glue:md}" in new or "{glue:math}" in new:
            report.problems.append(f"cell {index}: {{glue:md}}/{{glue:math}} has no "
                                   "jupyterlab-myst equivalent; left as it is")
        if count:
            set_text(cell, new)
            report.changes.append(f"cell {index}: {count} glued number(s) now inline expressions")
        if quoted_live:
            tags = tags_of(cell)
            if "nbval-ignore-output" not in tags:
                tags.append("nbval-ignore-output")
            cells = sorted({live_keys[k] for k in quoted_live})
            cell["metadata"][REASON_KEY] = LIVE_REASON.format(
                ", ".join(f"cell {c}" for c in cells))
            report.live.add(id(cell))


# --- 3. glued figures ---------------------------------------------------------------------------

def rewrite_figures(nb: dict, report: Report) -> None:
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown" or "{glue:figure}" not in text_of(cell):
            continue

        def replace(match: re.Match) -> str:
            key, opts = match.group("key"), match.group("opts")
            names = re.findall(r"^[ \t]*:name:[ \t]*(\S+)", opts, re.M)
            if names and names[0] != key:
                report.problems.append(f"cell {index}: glue:figure {key} is named {names[0]}; "
                                       "give it :name: {key} and convert again")
                return match.group(0)
            if not names:
                indent = re.match(r"[ \t]*", match.group("fence")).group(0)
                opts += f"{indent}:name: {key}\n"
            return f"{match.group('fence')}{{figure}}\n{opts}"

        source = text_of(cell)
        new, n = GLUE_FIGURE.subn(replace, source)
        if new != source:
            set_text(cell, new)
            report.changes.append(f"cell {index}: {n} glued figure(s) now {{figure}} by name")


# --- 4. references into other pages -------------------------------------------------------------

def book_titles(root: Path = ROOT) -> tuple[dict[str, str], dict[str, str]]:
    """({label: section title}, {page path without suffix: page title}) of every page."""
    labels, pages = {}, {}
    for path in sorted(list(root.glob("*.md")) + list(root.glob("*.ipynb"))
                       + list(root.glob("chapters/*")) + list(root.glob("labs/*"))):
        if path.suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf-8"))
            text = "\n\n".join(text_of(c) for c in nb["cells"] if c["cell_type"] == "markdown")
        elif path.suffix == ".md":
            text = re.sub(r"^---\n.*?\n---\n", "", path.read_text(encoding="utf-8"), flags=re.S)
        else:
            continue
        text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
        for label, title in LABEL_HEADING.findall(text):
            labels[label] = title
        first = TITLE.search(text)
        if first:
            pages[path.relative_to(root).with_suffix("").as_posix()] = first.group(1)
    return labels, pages


def fill_titles(nb: dict, page: str, titles: tuple[dict, dict], report: Report) -> None:
    labels, pages = titles
    folder = Path(page).parent

    def replace(match: re.Match) -> str:
        role, target = match.group(1), match.group(2).strip()
        if role == "ref":
            title = labels.get(target)
        else:
            ref = target.lstrip("/") if target.startswith("/") else (folder / target).as_posix()
            title = pages.get(str(Path(ref)))
        if not title or not PLAIN_TITLE.match(title):
            return match.group(0)
        return f"{{{role}}}`{title} <{target}>`"

    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = text_of(cell)
        new, n = BARE_XREF.subn(replace, source)
        if new != source:
            set_text(cell, new)
            report.changes.append(f"cell {index}: references given their titles")


# --- what is left for JupyterLab ----------------------------------------------------------------

def forward_references(nb: dict) -> list[str]:
    """Markdown cells that use a name no code cell above them defines (Run All shows an error)."""
    defined: set[str] = set(dir(builtins))
    problems = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            tree = _parse_or_empty(text_of(cell))
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    defined.add(node.id)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    defined.add(node.name)
                elif isinstance(node, ast.alias):
                    defined.add((node.asname or node.name).split(".")[0])
            continue
        if cell["cell_type"] != "markdown":
            continue
        for expr in inline_expressions.expressions(text_of(cell)):
            try:
                tree = ast.parse(expr, mode="eval")
            except SyntaxError:
                problems.append(f"cell {index}: {{eval}}`{expr}` is not a Python expression")
                continue
            missing = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                              and isinstance(n.ctx, ast.Load)} - defined)
            if missing:
                problems.append(f"cell {index}: {{eval}}`{expr}` uses {', '.join(missing)} "
                                "before any code cell above defines it; compute it earlier")
    return problems


def leftovers(nb: dict) -> list[str]:
    """What jupyterlab-myst would still show as raw text or an unknown directive."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = text_of(cell)
        for name, content, _, _ in inline_expressions.roles(source):
            if name.startswith("glue"):
                found.append(f"cell {index}: {{{name}}}`{content}`")
        for match in re.finditer(r"^[ \t]*(?::{3,}|`{3,})\{(glue[\w:]*)\}.*$", source, re.M):
            found.append(f"cell {index}: directive {{{match.group(1)}}}")
    return found


# --- driver -------------------------------------------------------------------------------------

def convert(nb: dict, page: str, titles=None, markers_only: bool = False) -> Report:
    """Rewrite ``nb`` in place; return what changed and what could not be changed."""
    report = Report(Path(page))
    move_markers(nb, report)
    if markers_only:
        return report
    values = glued_values(nb)
    exprs = rewrite_glue(nb, report)
    rewrite_markdown_glue(nb, exprs, values, report)
    rewrite_figures(nb, report)
    fill_titles(nb, page, titles if titles is not None else book_titles(), report)
    report.problems += forward_references(nb)
    report.problems += [f"{x}: jupyterlab-myst cannot render it" for x in leftovers(nb)]
    return report


def compare(old: dict, new: dict, page: str, titles=None) -> tuple[int, int, list[str]]:
    """Compare every number ``old`` shows through ``{glue:text}`` with what ``new`` (its
    converted, executed version) stores for the same inline expression.

    Cells may have been split or moved in between, so a number is looked up by its expression
    anywhere in ``new``. Returns (numbers compared, numbers that vary between runs and were
    left out, one line per number that reads differently).
    """
    report = convert(copy.deepcopy(old), page, titles)
    stored = {}
    for cell in new["cells"]:
        for entry in inline_expressions.stored(cell):
            if entry["result"].get("status") == "ok":
                try:
                    stored.setdefault(entry["expression"], set()).add(
                        inline_expressions.result_text(entry["result"]))
                except ValueError:
                    pass
    wrong, live = [], 0
    for cell_id, expr, before in report.expected:
        if cell_id in report.live:
            live += 1
            continue
        now = stored.get(expr)
        if not now:
            wrong.append(f"{{eval}}`{expr}` has no stored value; {{glue:text}} showed {before!r}")
        elif before not in now:
            wrong.append(f"{{eval}}`{expr}` shows {sorted(now)}, {{glue:text}} showed {before!r}")
    return len(report.expected) - live, live, wrong


def write(path: Path, nb: dict) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def notebooks_in(args: list[str]) -> list[Path]:
    paths = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            paths += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.suffix == ".ipynb" and p.is_file():
            paths.append(p)
        else:
            raise SystemExit(f"convert_for_jupyterlab: {arg!r} is neither a folder nor a notebook")
    return paths


def page_of(path: Path) -> str:
    path = path.resolve()
    return path.relative_to(ROOT).with_suffix("").as_posix() if path.is_relative_to(ROOT) \
        else path.stem


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--no-run", action="store_true", help="rewrite, but do not execute")
    mode.add_argument("--markers-only", action="store_true", help="only move nbval markers")
    mode.add_argument("--check", action="store_true", help="change nothing; report")
    mode.add_argument("--compare-with", metavar="OLD.ipynb", type=Path,
                      help="change nothing; compare the numbers of one converted, executed "
                           "notebook with the text {glue:text} gave in OLD, its version "
                           "before the conversion")
    args = parser.parse_args(argv)
    titles = book_titles()
    paths = notebooks_in(args.paths)
    if args.compare_with:
        if len(paths) != 1:
            parser.error("--compare-with takes exactly one converted notebook")
        old = json.loads(args.compare_with.read_text(encoding="utf-8"))
        new = json.loads(paths[0].read_text(encoding="utf-8"))
        compared, live, wrong = compare(old, new, page_of(paths[0]), titles)
        print(f"{paths[0]}: {compared - len(wrong)} of {compared} numbers read as before "
              f"({live} more vary from run to run and were not compared)")
        for line in wrong:
            print(f"  DIFFERS {line}")
        return 1 if wrong else 0
    status = 0
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        before = copy.deepcopy(nb)
        report = convert(nb, page_of(path), titles, markers_only=args.markers_only)
        changed = nb != before
        print(f"{path}: {'changed' if changed else 'unchanged'}")
        for line in report.changes:
            print(f"  {line}")
        if args.check:
            for line in report.problems:
                print(f"  TODO {line}")
            status |= bool(report.problems or changed)
            continue
        if changed:
            write(path, nb)
        for line in report.problems:
            print(f"  PROBLEM {line}")
        if report.problems:
            status = 1
            if changed:
                print("  Fix these by hand, run tools/run_notebooks.py on the notebook, then "
                      "compare its numbers with the old version's: --compare-with OLD.ipynb")
            continue
        if changed and not (args.no_run or args.markers_only):
            import run_notebooks

            print(f"  executed in {run_notebooks.run(path):.1f} s")
            fresh = json.loads(path.read_text(encoding="utf-8"))
            compared, live, wrong = compare(before, fresh, page_of(path), titles)
            print(f"  {compared - len(wrong)} of {compared} numbers read as before ({live} more "
                  "vary from run to run and were not compared)")
            for line in wrong:
                print(f"  DIFFERS {line}")
            status |= bool(wrong)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
