"""What the two demo dashboards share: a figure built once, redrawn in place, and blitted.

Chapter 5's :class:`virtbook.figures.cpu.SchedulerDashboard` and chapter 6's
:class:`virtbook.figures.memory.Dashboard` keep their figure, axes, legends and artists between
control changes and replace only the data. Rendering such a figure is mostly drawing its text
(ticks, labels, legends), which does not change from one control change to the next, so with
``blit=True`` :class:`BlittingDashboard` renders everything but the data artists once into a
*background*, keeps it in a :class:`BackgroundCache` under a key that says what the background
depends on (the host size, the axis limits, the VM names, ...), and on the next change restores
it and draws only the data over it. The figure's layout (constrained layout) is solved when a
background is drawn for a new *layout key* and frozen otherwise, so the data always lands where
the background's axes are. :meth:`BlittingDashboard.png` encodes the rendered canvas as PNG: the
one PNG encoding of both widgets.

A subclass builds its figure, marks its data artists animated when blitting, and says what a
background depends on (:meth:`BlittingDashboard._background_key`), what the layout depends on
(:meth:`BlittingDashboard._layout_key`) and which artists to draw over the background, in order
(:meth:`BlittingDashboard._dynamic_artists`).
"""
from __future__ import annotations

import io
from typing import Hashable

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from virtbook._validate import check_bool, check_int

#: The layout key before the first draw: no layout has been solved yet.
_UNSOLVED = object()


class BackgroundCache:
    """Rendered backgrounds of a blitting dashboard, by key; the least recently used goes first.

    A widget's figure keeps its axes, ticks and legends in a background image and draws only the
    data over it. Each key (host size, axis limits, VM names, ...) has its own background; this
    keeps the last ``size`` of them.

    >>> cache = BackgroundCache(2)
    >>> cache.put("a", 1); cache.put("b", 2); cache.get("a"); cache.put("c", 3)
    1
    >>> "b" in cache, "a" in cache, len(cache)
    (False, True, 2)
    """

    def __init__(self, size: int) -> None:
        self.size = check_int("size", size, 1)
        self._items: dict = {}

    def get(self, key):
        """The background for ``key`` (now the most recently used), or None."""
        item = self._items.pop(key, None)
        if item is not None:
            self._items[key] = item
        return item

    def put(self, key, item) -> None:
        """Keep ``item`` for ``key``, dropping the least recently used beyond ``size``."""
        self._items.pop(key, None)
        self._items[key] = item
        while len(self._items) > self.size:
            self._items.pop(next(iter(self._items)))

    def __contains__(self, key) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


class BlittingDashboard:
    """A figure that is drawn in full once per background and blitted for every other frame.

    ``fig`` is the subclass's figure (made with constrained layout); ``blit`` False makes it an
    ordinary figure that every :meth:`draw` renders in full (for a book page or a test);
    ``backgrounds`` is how many rendered backgrounds to keep (a few MB each at a widget's size).

    ``full_draws`` counts the frames that rendered a background (all frames without blitting),
    ``blit_draws`` the frames that reused one.
    """

    def __init__(self, fig: Figure, *, blit: bool, backgrounds: int) -> None:
        if not isinstance(fig, Figure):
            raise ValueError(f"fig must be a matplotlib Figure, got {fig!r}")
        self.fig = fig
        self.blit = check_bool("blit", blit)
        self._backgrounds = BackgroundCache(backgrounds)
        self._canvas: FigureCanvasAgg | None = None
        self._layout = _UNSOLVED
        self.full_draws = 0
        """Frames that rendered the whole figure (a new background, or no blitting)."""
        self.blit_draws = 0
        """Frames that restored a cached background and drew only the data over it."""

    # -- what a subclass says -------------------------------------------------------------------
    def _background_key(self) -> Hashable:
        """What the background of the current frame depends on (axis limits, labels, ...)."""
        raise NotImplementedError

    def _layout_key(self, key: Hashable) -> Hashable:
        """What the layout of background ``key`` depends on; by default nothing, so the layout
        of the first draw is kept for good."""
        return None

    def _dynamic_artists(self) -> list:
        """The artists drawn over the background, in drawing order (all animated when blitting)."""
        raise NotImplementedError

    # -- rendering ------------------------------------------------------------------------------
    def _agg(self) -> FigureCanvasAgg:
        """The figure's Agg canvas (made anew if something, e.g. a notebook, replaced it)."""
        if self._canvas is None or self.fig.canvas is not self._canvas:
            canvas = self.fig.canvas
            if not isinstance(canvas, FigureCanvasAgg):
                canvas = FigureCanvasAgg(self.fig)
            self._canvas = canvas
        return self._canvas

    def _render_background(self, key: Hashable) -> tuple:
        """Draw everything but the animated artists for ``key``; return the cache entry.

        The layout is solved again (constrained layout) only when its layout key differs from
        the one in force; otherwise the axes stay where they are.
        """
        canvas = self._agg()
        layout = self._layout_key(key)
        if layout != self._layout:
            self.fig.set_layout_engine("constrained")
            canvas.draw()
            self.fig.set_layout_engine("none")  # keep these positions while the labels fit
            self._layout = layout
        else:
            canvas.draw()
        positions = [ax.get_position(original=False) for ax in self.fig.axes]
        return canvas.copy_from_bbox(self.fig.bbox), positions, layout

    @property
    def size_px(self) -> tuple[int, int]:
        """The width and height of a frame in pixels (what :meth:`png` encodes)."""
        return self._agg().get_width_height(physical=True)

    def has_background(self, key: Hashable) -> bool:
        """True when the background for ``key`` is rendered and cached."""
        return key in self._backgrounds

    def cache_background(self, key: Hashable) -> None:
        """Render and keep the background for ``key`` (the figure's state must match ``key``)."""
        self._backgrounds.put(key, self._render_background(key))

    def draw(self) -> None:
        """Render the current frame on the Agg canvas: in full, or a cached background and data."""
        canvas = self._agg()
        if not self.blit:
            canvas.draw()
            self.full_draws += 1
            return
        key = self._background_key()
        entry = self._backgrounds.get(key)
        if entry is None:
            entry = self._render_background(key)
            self.full_draws += 1
        else:
            background, positions, layout = entry
            for ax, pos in zip(self.fig.axes, positions):
                ax.set_position(pos)
            self._layout = layout
            canvas.restore_region(background)
            self.blit_draws += 1
        self._backgrounds.put(key, entry)
        renderer = canvas.get_renderer()
        for artist in self._dynamic_artists():
            artist.draw(renderer)

    def png(self, compress_level: int = 1) -> bytes:
        """Draw (:meth:`draw`) and return the frame as PNG bytes (RGB, no display needed).

        ``compress_level`` is zlib's 0..9; 1 encodes several times faster than 6 for a few per
        cent more bytes, which is the right trade for a widget that redraws often.
        """
        level = check_int("compress_level", compress_level, 0, 9)
        self.draw()
        canvas = self._agg()
        w, h = canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="png", compress_level=level)
        return buf.getvalue()
