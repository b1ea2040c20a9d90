"""Figures as pictures for the page: deterministic PNG bytes, and a parameter sweep as HTML.

The HTML book has no Python kernel, so a demo that a reader would drive with a slider is shown
there as precomputed frames: :func:`png_bytes` renders a figure to the same bytes on every run
(no timestamp, no software tag), and :func:`sweep_html` puts the frames behind a slider that runs
in the reader's browser.
"""
from __future__ import annotations

import base64
import html as _html
import io
import json
import re

from matplotlib.figure import Figure
from PIL import Image

from virtbook._validate import check_int


def png_bytes(fig: Figure, dpi: int = 72, colors: int | None = None, *,
              settle: bool = True) -> bytes:
    """The figure as PNG bytes, without the timestamp and software tags that change per run.

    The figure is rendered twice and the second rendering kept: constrained layout settles during
    the first rendering at a given resolution, so the first PNG of a figure differs slightly from
    every later one. A widget that shows a new figure on every change passes ``settle=False``:
    one rendering, half the time, and a picture a reader cannot tell from the settled one.

    ``colors`` (2 to 256) stores the image with a palette of at most that many colours, without
    dithering: a chart's flat colours, hatches and text look the same, and the file is about a
    third of the size (80 kB against 29 kB for chapter 5's demo figure), which matters where a
    page embeds several frames (:func:`sweep_html`).
    """
    if settle:
        fig.savefig(io.BytesIO(), format="png", dpi=dpi)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    if colors is None:
        return buf.getvalue()
    n = check_int("colors", colors, 2, 256)
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    small = image.quantize(colors=n, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="png", optimize=True)
    return out.getvalue()


def sweep_html(frames: "list[bytes]", labels: "list[str]", alts: "list[str]", *, name: str,
               parameter: str, start: int = 0, note: str | None = None) -> str:
    """A kernel-free view of a parameter sweep: a slider over precomputed figure frames.

    The HTML book has no Python kernel, so a live widget cannot run there. This shows the same
    figure for several values of one parameter, with a slider (a labelled range input, usable
    from the keyboard) that swaps in the frame and its alt text in the reader's browser. Frames are
    PNG bytes (see :func:`png_bytes`); everything is inline, so the page loads nothing else.

    ``note`` is a line for readers whose view does not run the script: JupyterLab shows a stored
    HTML output it did not produce itself without its scripts (and with its inputs disabled), so
    a notebook opened but not yet run shows the first frame, this note (for example "run the
    cell for the live demo") and no slider. Where the script runs, as in the HTML book, it
    removes the note and shows the slider.

    >>> html = sweep_html([b"a", b"b"], ["1 pCPU", "2 pCPUs"], ["one", "two"], name="demo",
    ...                   parameter="pCPUs")
    >>> 'type="range"' in html and 'alt="one"' in html and "2 pCPUs" in html
    True
    """
    n = len(frames)
    if n == 0 or len(labels) != n or len(alts) != n:
        raise ValueError(f"frames, labels and alts must be non-empty and equally long, got "
                         f"{n}, {len(labels)} and {len(alts)}")
    if not re.fullmatch(r"[a-z0-9-]{1,40}", name):
        raise ValueError(f"name must be 1..40 characters of a-z, 0-9 and '-', got {name!r}")
    if not 0 <= start < n:
        raise ValueError(f"start must be an integer in 0..{n - 1}, got {start!r}")
    if note is not None and (not isinstance(note, str) or not note.strip()):
        raise ValueError(f"note must be None or a non-empty string, got {note!r}")
    uris = ["data:image/png;base64," + base64.b64encode(f).decode("ascii") for f in frames]
    # The first frame shown is in the <img> already; the script takes it from there rather than
    # carrying a second copy.
    others = [u if i != start else "" for i, u in enumerate(uris)]
    ident = f"vb-sweep-{name}"
    esc = _html.escape
    # With a note, the slider stays hidden until the script (which removes the note) shows it.
    hidden = "display:none;" if note is not None else ""
    note_html = f'<p class="vb-sweep-note"><em>{esc(note)}</em></p>\n' if note is not None else ""
    show = ("  var note = fig.querySelector('.vb-sweep-note'); if (note) note.remove();\n"
            "  range.style.display = '';\n") if note is not None else ""
    return (
        f'<figure class="vb-sweep" id="{ident}">\n'
        f'{note_html}'
        f'<img src="{uris[start]}" alt="{esc(alts[start])}" style="max-width:100%;height:auto">\n'
        f'<figcaption><label for="{ident}-range">{esc(parameter)}: '
        f'<output id="{ident}-value">{esc(labels[start])}</output></label><br>\n'
        f'<input type="range" id="{ident}-range" min="0" max="{n - 1}" step="1" value="{start}" '
        f'aria-valuetext="{esc(labels[start])}" style="{hidden}width:100%;max-width:28em">\n'
        f'</figcaption></figure>\n'
        f"<script>(function () {{\n"
        f"  var src = {json.dumps(others)}, alt = {json.dumps(alts)}, lab = {json.dumps(labels)};\n"
        f"  var fig = document.getElementById({json.dumps(ident)});\n"
        f"  var img = fig.querySelector('img'), out = fig.querySelector('output'),"
        f" range = fig.querySelector('input');\n"
        f"{show}"
        f"  src[{start}] = img.getAttribute('src');\n"
        f"  range.addEventListener('input', function () {{\n"
        f"    var i = Number(range.value);\n"
        f"    img.src = src[i]; img.alt = alt[i]; out.textContent = lab[i];\n"
        f"    range.setAttribute('aria-valuetext', lab[i]);\n"
        f"  }});\n"
        f"}})();</script>\n"
    )
