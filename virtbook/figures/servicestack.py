"""Chapter 11's service stacks and chapter 13's responsibility matrix, with their alt text.

The data, who runs each layer under each service model (:mod:`virtbook.servicestack`) and who
secures each area (:mod:`virtbook.cloudsec`), lives in the cores; this module draws it. Each cell
carries a word or letter and a hatch pattern besides its colour, and
:func:`describe_service_stack` and :func:`describe_responsibility_matrix` give the alt text,
computed from the same data as the figures.
"""
from __future__ import annotations

from typing import Sequence

from matplotlib.patches import FancyBboxPatch, Rectangle

from virtbook._validate import check_choice
from virtbook.cloudsec import (DIAGRAM_ROW, MICROSOFT_MODELS, RESPONSIBILITY,
                               RESPONSIBILITY_AREAS, SERVICE_MODELS)
from virtbook.figures import style
from virtbook.servicestack import MANAGED_BY, STACK_LAYERS, customer_layers, diagram_disagrees

__all__ = ["draw_service_stack", "describe_service_stack", "draw_responsibility_matrix",
           "describe_responsibility_matrix"]


def _styles():
    # face colour, hatch, text colour: colour is never the only signal
    return {"customer": (style.color(0), "", "white"),
            "shared": (style.color(4), "//", "black"),
            "provider": ("#F2F2F2", "..", "black")}


def _words(n: int) -> str:
    return ("none", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten")[n] if 0 <= n <= 10 else str(n)


def draw_service_stack(ax=None, models: Sequence[str] = SERVICE_MODELS):
    """Draw one stack of layers per service model, each layer marked with who runs it.

    Customer layers are solid and say "customer"; provider layers are light, dotted and say
    "provider"; a thick dashed line marks where the provider takes over. Returns the Figure.
    Patches and lines carry gids (``layer:<layer>:<model>``, ``handover:<model>``) so tests can
    read what was drawn.
    """
    models = tuple(check_choice("models", m, SERVICE_MODELS) for m in models)
    if not models:
        raise ValueError("models must name at least one of " + ", ".join(SERVICE_MODELS))
    if ax is None:
        _, ax = style.figure(style.COLUMN_WIDTH, 3.9)
    fig = ax.figure
    styles = _styles()
    n = len(STACK_LAYERS)
    ax.set_xlim(-0.05, len(models))
    ax.set_ylim(n + 0.15, -0.55)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for j, model in enumerate(models):
        for i, layer in enumerate(STACK_LAYERS):
            who = MANAGED_BY[layer][model]
            face, hatch, ink = styles[who]
            box = FancyBboxPatch((j + 0.06, i + 0.08), 0.88, 0.78,
                                 boxstyle="round,pad=0,rounding_size=0.08", facecolor=face,
                                 hatch=hatch, edgecolor="#666666", linewidth=0.6)
            box.set_gid(f"layer:{layer}:{model}")
            ax.add_patch(box)
            ax.text(j + 0.5, i + 0.47, who, ha="center", va="center", color=ink, fontsize=8,
                    fontweight="bold" if who == "customer" else "normal",
                    bbox=None if who == "customer" else dict(
                        boxstyle="round,pad=0.15", facecolor="white", alpha=0.85,
                        edgecolor="none"))
        k = customer_layers(model)
        if 0 < k < n:
            (line,) = ax.plot([j + 0.02, j + 0.98], [k + 0.04, k + 0.04], color="black",
                              linewidth=2.4, linestyle="--")
            line.set_gid(f"handover:{model}")
        ax.text(j + 0.5, -0.22, model, ha="center", va="center", fontsize=9, fontweight="bold")
    ax.set_xticks([])
    ax.set_yticks([i + 0.47 for i in range(n)], STACK_LAYERS)
    ax.tick_params(length=0)
    ax.plot([], [], color="black", linewidth=2.4, linestyle="--",
            label="provider runs everything below the line")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.0), ncol=1, fontsize=8)
    return fig


def describe_service_stack(models: Sequence[str] = SERVICE_MODELS) -> str:
    """Alt text for :func:`draw_service_stack`, computed from the same data."""
    models = tuple(check_choice("models", m, SERVICE_MODELS) for m in models)
    n = len(STACK_LAYERS)
    parts = []
    for model in models:
        k = customer_layers(model)
        if k == n:
            parts.append(f"{model}, the customer runs all {_words(n)} layers")
        else:
            lowest = STACK_LAYERS[k - 1].lower()
            span = f"only the top layer ({lowest})" if k == 1 else \
                f"the top {_words(k)} layers, down to {lowest}"
            parts.append(f"{model}, the customer runs {span}, and the provider runs "
                         f"{STACK_LAYERS[k].lower()} and everything below")
    return (f"{_words(len(models)).capitalize()} columns of {_words(n)} stacked layers, from "
            f"{STACK_LAYERS[0].lower()} at the top to {STACK_LAYERS[-1].lower()} at the bottom. "
            "Each layer is labelled customer (solid dark) or provider (light, dotted), and a "
            "thick dashed line marks where the provider takes over. "
            + " ".join(f"Under {p}." for p in parts))


def draw_responsibility_matrix(ax=None, mark_diagram: bool = True):
    """Draw chapter 13's matrix: one cell per area and model, lettered C, S or P.

    With ``mark_diagram``, cells (and the row label) where Microsoft's diagram disagrees with its
    table carry an asterisk and a thick outline, and the FaaS column, the book's own, is headed
    "FaaS (book)". Cells carry gids ``cell:<area>:<model>``. Returns the Figure.
    """
    if ax is None:
        _, ax = style.figure(style.COLUMN_WIDTH, 4.4)
    fig = ax.figure
    styles = _styles()
    letters = {"customer": "C", "shared": "S", "provider": "P"}
    ax.grid(False)
    for j, model in enumerate(SERVICE_MODELS):
        for i, area in enumerate(RESPONSIBILITY_AREAS):
            who = RESPONSIBILITY[area][model]
            face, hatch, ink = styles[who]
            odd = (mark_diagram and DIAGRAM_ROW[area] is not None
                   and diagram_disagrees(area, model))
            cell = Rectangle((j, i), 0.96, 0.92, facecolor=face, hatch=hatch,
                             edgecolor="black" if odd else "#666666",
                             linewidth=2.2 if odd else 0.6)
            cell.set_gid(f"cell:{area}:{model}")
            ax.add_patch(cell)
            ax.text(j + 0.48, i + 0.46, letters[who] + ("*" if odd else ""), ha="center",
                    va="center", color=ink, fontsize=9, fontweight="bold")
    ax.set_xlim(0, len(SERVICE_MODELS))
    ax.set_ylim(len(RESPONSIBILITY_AREAS), 0)
    heads = [m + (" (book)" if mark_diagram and m not in MICROSOFT_MODELS else "")
             for m in SERVICE_MODELS]
    ax.set_xticks([j + 0.48 for j in range(len(SERVICE_MODELS))], heads)
    rows = [a + ("*" if mark_diagram and DIAGRAM_ROW[a] is None else "")
            for a in RESPONSIBILITY_AREAS]
    ax.set_yticks([i + 0.46 for i in range(len(RESPONSIBILITY_AREAS))], rows)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    handles = [Rectangle((0, 0), 1, 1, facecolor=styles[k][0], hatch=styles[k][1],
                         edgecolor="#666666", label=f"{letters[k]} = {k}") for k in styles]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=3)
    return fig


def describe_responsibility_matrix() -> str:
    """Alt text for :func:`draw_responsibility_matrix`, computed from the same data."""
    def always(who):
        return [a for a in RESPONSIBILITY_AREAS
                if all(RESPONSIBILITY[a][m] == who for m in SERVICE_MODELS[1:])]

    starred = [(a, m) for a in RESPONSIBILITY_AREAS for m in SERVICE_MODELS
               if diagram_disagrees(a, m) and DIAGRAM_ROW[a] is not None]
    return (f"Grid with {_words(len(RESPONSIBILITY_AREAS))} rows ("
            + ", ".join(a.lower() for a in RESPONSIBILITY_AREAS) + ") and "
            f"{_words(len(SERVICE_MODELS))} columns (" + ", ".join(SERVICE_MODELS) + "). "
            "Solid dark cells marked C are the customer's, hatched cells marked S are shared, "
            "dotted light cells marked P are the provider's. In every cloud column, "
            + ", ".join(a.lower() for a in always("customer")) + " are C and "
            + ", ".join(a.lower() for a in always("provider")) + " are P. "
            "An asterisk and a thick outline mark where Microsoft's own diagram says otherwise: "
            + "; ".join(f"{a.lower()} under {m}" for a, m in starred)
            + "; and the label of the "
            + ", ".join(a.lower() for a in RESPONSIBILITY_AREAS if DIAGRAM_ROW[a] is None)
            + " row, which the diagram does not have.")
