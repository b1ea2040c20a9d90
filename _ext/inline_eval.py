"""Render MyST inline expressions and output figures from what the notebook stores, without a kernel.

The notebooks are written so that JupyterLab (with jupyterlab-myst) and this HTML book read the
same Markdown:

1. ``{eval}`expr``` -- a number the prose quotes from the code. jupyterlab-myst evaluates it in the
   kernel and keeps the result in the Markdown cell's metadata (``user_expressions``);
   ``tools/run_notebooks.py`` stores the same results when it executes a notebook. MyST-NB renders
   ``{eval}`` only while it executes the notebook itself (``nb_execution_mode: inline``), which
   would run every notebook again in every book build; this role renders the stored result
   instead, as the same inline text that ``{glue:text}`` produced (class ``pasted-text``). A
   missing or failed result is a build warning, so ``-W`` fails the build. That the stored values
   are current is checked by the notebook tests (``conftest.py``), as nbval checks outputs.
2. ``:::{figure}`` with no image argument, whose ``:name:`` is the name of a figure a code cell
   glued (``virtbook.figures.style.glue_figure``) -- MyST's figure with the caption and label only.
   jupyterlab-myst draws it as a numbered caption under the code cell that shows the figure; here
   it becomes exactly the figure that ``{glue:figure}`` placed (jupyterlab-myst cannot render
   ``{glue:figure}``). A figure with an image argument is Sphinx's own figure, unchanged.
"""
from __future__ import annotations

import re

from docutils import nodes
from docutils.parsers.rst import Directive

#: jupyterlab-myst shows a text/plain string without its surrounding quotes; so do we.
_QUOTED = re.compile(r"""^(["'])(.*)\1$""", re.S)
#: MyST-NB numbers the lines of notebook cell N from (N + 1) * 10000 (myst_nb.core.nb_to_tokens).
_CELL_LINES = 10000


def _notebook(document):
    renderer = document.get("nb_renderer")
    if renderer is None:
        return None
    return renderer.renderer.nb_client.notebook


def _results(notebook, expression: str, line: int | None) -> list[dict]:
    """The stored results for ``expression``: from the cell the role is in when that cell has
    them, else from every Markdown cell of the notebook."""
    cells = notebook.cells
    if line:
        index = line // _CELL_LINES - 1
        if 0 <= index < len(cells) and cells[index].cell_type == "markdown":
            here = [e["result"] for e in cells[index].metadata.get("user_expressions", [])
                    if e.get("expression") == expression]
            if here:
                return here
    return [e["result"] for c in cells if c.cell_type == "markdown"
            for e in c.metadata.get("user_expressions", []) if e.get("expression") == expression]


def eval_role(name, rawtext, text, lineno, inliner, options=None, content=()):
    from docutils.utils import unescape

    document = inliner.document
    expression = unescape(text)
    source, line = inliner.reporter.get_source_and_line(lineno)

    def warn(message):
        msg = inliner.reporter.warning(f"{{eval}}`{expression}`: {message}", line=lineno)
        return [nodes.problematic(rawtext, rawtext)], [msg]

    notebook = _notebook(document)
    if notebook is None:
        return warn("inline expressions are only rendered in notebooks")
    results = _results(notebook, expression, line)
    if not results:
        return warn("no stored value; run `python tools/run_notebooks.py` on this notebook")
    distinct = {repr(r) for r in results}
    if len(distinct) > 1:
        return warn("the same expression has different stored values in different cells; "
                    "give each its own expression")
    result = results[0]
    if result.get("status") != "ok":
        return warn(f"it raised {result.get('ename')}: {result.get('evalue')}")
    data = result.get("data", {})
    if set(data) == {"text/plain"}:
        value = _QUOTED.sub(r"\2", data["text/plain"])
        node = nodes.inline(value, value, classes=["pasted-text"])
        node.source, node.line = source, line
        return [node], []
    # Anything richer is rendered as MyST-NB renders an evaluated variable.
    from myst_nb.core.variables import VariableOutput, render_variable_outputs

    output = VariableOutput(data=data, metadata={"strip_text_quotes": True},
                            nb_renderer=document["nb_renderer"], vtype="eval")
    return render_variable_outputs([output], document, line, source, inline=True), []


class FigureDirective(Directive):
    """``{figure}``: with an image argument Sphinx's figure; without one, the glued figure named
    by ``:name:`` (MyST-NB's ``{glue:figure}``, with the same options and caption)."""

    required_arguments = 0
    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: dict = {}

    def run(self):
        from myst_nb.ext.glue.directives import PasteFigureDirective
        from sphinx.directives.patches import Figure

        if self.arguments:
            cls, arguments = Figure, self.arguments
        else:
            name = self.options.get("name")
            if not name:
                error = self.state.document.reporter.warning(
                    "a {figure} without an image needs :name:, the name its code cell glued "
                    "the figure under", line=self.lineno)
                return [error]
            cls, arguments = PasteFigureDirective, [name]
        unknown = set(self.options) - set(cls.option_spec)
        if unknown:
            error = self.state.document.reporter.warning(
                f"{{figure}}: option(s) {sorted(unknown)} are not allowed here", line=self.lineno)
            return [error]
        try:  # the options were read as given; convert them as the chosen directive does
            options = {key: cls.option_spec[key](value) for key, value in self.options.items()}
        except (ValueError, TypeError) as err:
            return [self.state.document.reporter.warning(f"{{figure}}: {err}", line=self.lineno)]
        directive = cls(self.name, arguments, options, self.content, self.lineno,
                        self.content_offset, self.block_text, self.state, self.state_machine)
        return directive.run()


def _as_given(value):
    return value


def setup(app):
    from myst_nb.ext.glue.directives import PasteFigureDirective
    from sphinx.directives.patches import Figure

    FigureDirective.option_spec = {key: _as_given for key in
                                   {*Figure.option_spec, *PasteFigureDirective.option_spec}}
    app.add_role("eval", eval_role, override=True)
    app.add_directive("figure", FigureDirective, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
