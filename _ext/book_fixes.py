"""Small fixes to the HTML that Jupyter Book 1 produces, so the published pages load cleanly.

1. sphinx-thebe registers its inline configuration script each time Sphinx reads sources, and a
   Jupyter Book build reads them more than once, so every page declared ``const THEBE_JS_URL``
   twice and the browser raised "Identifier 'THEBE_JS_URL' has already been declared". The fix
   drops repeated identical script entries from each page's context.
2. pydata-sphinx-theme 0.17 under sphinx-book-theme 1.3 renders ``data-mode=""`` because no
   default mode reaches its template, and logs "Got invalid theme mode" on every page. The fix
   gives the template a default mode ("auto": follow the reader's system setting).
3. docutils marks the bibliography's container ``role="list"`` but puts anchors, not list items,
   directly inside it, which assistive technology cannot read as a list (axe-core rule
   aria-required-children, "critical"). The fix drops that role: the entries stay a sequence of
   citations.
"""
from __future__ import annotations


def _script_key(script) -> tuple:
    # The same inline script may be registered once with filename None and once with "".
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def default_mode(app, pagename, templatename, context, doctree) -> None:
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


def citation_list_role(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body")
    if body and 'role="list" class="citation-list"' in body:
        context["body"] = body.replace('<div role="list" class="citation-list">',
                                       '<div class="citation-list">')


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("html-page-context", default_mode, priority=900)
    app.connect("html-page-context", citation_list_role, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
