"""Who runs and who secures each layer of the stack under each cloud service model.

Chapter 11 asks who *runs* each layer of a computing stack under IaaS, PaaS, FaaS and SaaS;
chapter 13 asks who *secures* each area. This module holds the first answer;
:mod:`virtbook.figures.servicestack` draws both, so that the two figures come from data that a
test can hold against each other.

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

    >>> customer_layers("IaaS"), customer_layers("SaaS")
    (4, 1)
    >>> inconsistencies()
    []
"""
from __future__ import annotations

from typing import Mapping

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
