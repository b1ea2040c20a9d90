"""Who runs and who secures each layer of the stack under each cloud service model, drawn.

Chapter 11 asks who *runs* each layer of a computing stack under IaaS, PaaS, FaaS and SaaS;
chapter 13 asks who *secures* each area. This module holds the first answer and draws both, so
that the two figures come from data that a test can hold against each other.

* :data:`MANAGED_BY` - for each layer of :data:`STACK_LAYERS` and each model of
  :data:`~virtbook.cloudsec.SERVICE_MODELS`, whether the customer or the provider runs it. The
  columns follow NIST SP 800-145's wording of what the consumer controls: IaaS, "operating
  systems, storage, and deployed applications"; PaaS, "the deployed applications and possibly
  configuration settings for the application-hosting environment"; SaaS, nothing "with the
  possible exception of limited user-specific application configuration settings". The FaaS
  column is the book's reading of AWS's Lambda documents: the customer supplies the function
  code; Lambda runs the managed runtime, the operating system and the execution environments.
  Where a layer is only *configured* by the customer (user settings in SaaS, the hosting
  environment in PaaS), it counts as run by the provider.
* :data:`MATRIX_ROWS` - which rows of chapter 13's matrix
  (:data:`~virtbook.cloudsec.RESPONSIBILITY`) speak about each layer. :func:`inconsistencies`
  checks that the figures agree: a layer the customer runs is never the provider's alone to
  secure, and a layer the provider runs is never the customer's alone.
* :func:`draw_service_stack` and :func:`draw_responsibility_matrix` draw the two figures; each
  cell carries a word or letter and a hatch pattern besides its colour, and
  :func:`describe_service_stack` and :func:`describe_responsibility_matrix` give the alt text,
  computed from the same data.

    >>> customer_layers("IaaS"), customer_layers("SaaS")
    (4, 1)
    >>> inconsistencies()
    []
"""
from __future__ import annotations

from typing import Mapping, Sequence

from virtbook._validate import check_choice
from virtbook.cloudsec import (DIAGRAM_ROW, MICROSOFT_DIAGRAM, MICROSOFT_MODELS,
                               MICROSOFT_TABLE, RESPONSIBILITY, RESPONSIBILITY_AREAS,
                               SERVICE_MODELS)

__all__ = [
    "STACK_LAYERS",
    "MANAGED_BY",
    "MATRIX_ROWS",
    "managed_by",
    "customer_layers",
    "inconsistencies",
    "diagram_disagrees",
    "draw_service_stack",
    "describe_service_stack",
    "draw_responsibility_matrix",
    "describe_responsibility_matrix",
]

#: The layers of a computing stack, from the top (the customer's data) to the bottom (the building).
STACK_LAYERS: tuple[str, ...] = (
    "Data, users and access",
    "Application",
    "Runtime, middleware, database",
    "Operating system",
    "Virtualization",
    "Servers, storage, network",
    "Building, power, cooling",
)

_C, _P = "customer", "provider"
#: Who runs each layer under each model (see the module docstring for the sources).
MANAGED_BY: dict[str, dict[str, str]] = {
    layer: dict(zip(SERVICE_MODELS, cells)) for layer, cells in zip(STACK_LAYERS, (
        (_C, _C, _C, _C, _C),     # data, users and access
        (_C, _C, _C, _C, _P),     # application (FaaS: the function code)
        (_C, _C, _P, _P, _P),     # runtime, middleware, database
        (_C, _C, _P, _P, _P),     # operating system
        (_C, _P, _P, _P, _P),     # virtualization
        (_C, _P, _P, _P, _P),     # servers, storage, network
        (_C, _P, _P, _P, _P),     # building, power, cooling
    ))
}

#: The rows of chapter 13's matrix that speak about each layer (empty: the matrix has no row
#: for it; Microsoft's text names the hypervisor among its own duties in IaaS and PaaS).
MATRIX_ROWS: dict[str, tuple[str, ...]] = {
    "Data, users and access": ("Customer data", "Identities and users"),
    "Application": ("Applications",),
    "Runtime, middleware, database": (),
    "Operating system": ("Operating system",),
    "Virtualization": (),
    "Servers, storage, network": ("Physical hosts", "Physical network"),
    "Building, power, cooling": ("Physical datacenter",),
}


def managed_by(layer: str, model: str) -> str:
    """``'customer'`` or ``'provider'``: who runs ``layer`` under ``model``.

    >>> managed_by("Operating system", "PaaS")
    'provider'
    """
    check_choice("layer", layer, STACK_LAYERS)
    check_choice("model", model, SERVICE_MODELS)
    return MANAGED_BY[layer][model]


def customer_layers(model: str) -> int:
    """How many layers, counted from the top, the customer runs under ``model``.

    The customer's layers are always a run from the top: the provider takes over from some layer
    down, which is where :func:`draw_service_stack` draws the hand-over line.
    """
    check_choice("model", model, SERVICE_MODELS)
    column = [MANAGED_BY[layer][model] for layer in STACK_LAYERS]
    n = column.index(_P) if _P in column else len(column)
    if any(cell == _C for cell in column[n:]):
        raise ValueError(f"model {model!r}: the customer's layers must be a run from the top")
    return n


def inconsistencies(managed: Mapping[str, Mapping[str, str]] | None = None,
                    matrix: Mapping[str, Mapping[str, str]] | None = None
                    ) -> list[tuple[str, str, str, str]]:
    """Cells where who runs a layer contradicts who secures it, as ``(layer, row, model, why)``.

    A layer the customer runs must not be the provider's alone to secure, and a layer the
    provider runs must not be the customer's alone. ``shared`` agrees with either.
    """
    managed = MANAGED_BY if managed is None else managed
    matrix = RESPONSIBILITY if matrix is None else matrix
    out = []
    for layer, rows in MATRIX_ROWS.items():
        for row in rows:
            for model in SERVICE_MODELS:
                runs, secures = managed[layer][model], matrix[row][model]
                if runs == _C and secures == "provider":
                    out.append((layer, row, model, "customer runs it, provider secures it alone"))
                if runs == _P and secures == "customer":
                    out.append((layer, row, model, "provider runs it, customer secures it alone"))
    return out


def diagram_disagrees(area: str, model: str) -> bool:
    """True where Microsoft's diagram says something else than its table (and the book).

    Rows the diagram lacks count as disagreeing in every Microsoft column; FaaS, which neither
    of Microsoft's versions has, never does.
    """
    check_choice("area", area, RESPONSIBILITY_AREAS)
    check_choice("model", model, SERVICE_MODELS)
    if model not in MICROSOFT_MODELS:
        return False
    twin = DIAGRAM_ROW[area]
    return twin is None or MICROSOFT_DIAGRAM[twin][model] != MICROSOFT_TABLE[area][model]


# --- drawing ---------------------------------------------------------------------------------

def _styles():
    from virtbook import plots
    # face colour, hatch, text colour: colour is never the only signal
    return {"customer": (plots.color(0), "", "white"),
            "shared": (plots.color(4), "//", "black"),
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
    from matplotlib.patches import FancyBboxPatch

    from virtbook import plots

    models = tuple(check_choice("models", m, SERVICE_MODELS) for m in models)
    if not models:
        raise ValueError("models must name at least one of " + ", ".join(SERVICE_MODELS))
    if ax is None:
        _, ax = plots.figure(plots.COLUMN_WIDTH, 3.9)
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
    from matplotlib.patches import Rectangle

    from virtbook import plots

    if ax is None:
        _, ax = plots.figure(plots.COLUMN_WIDTH, 4.4)
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
