"""The labs' figures, drawn from plain data that the lab cells computed with libvirt.

Each function takes lists and dicts (never a libvirt object), returns a matplotlib Figure in the
book's style (:mod:`virtbook.figures.style`: colour-blind-safe palette plus a second channel,
hatch, marker or line style, so colour is never the only signal), and draws nothing else. The
labs import this module as ``from virtbook.figures import labs as figures``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from virtbook.figures import style

_STATE_ORDER = ("running", "paused", "shut off")


def fleet_figure(rows: Sequence[tuple[str, str, int, int]]) -> Figure:
    """Bar chart of a host's VMs: memory (MiB) and vCPUs side by side, hatched by state.

    ``rows`` holds (name, state, vcpus, memory_mib), e.g. from :func:`host_summary_rows`.
    """
    if not rows:
        raise ValueError("rows must hold at least one (name, state, vcpus, memory_mib) tuple")
    fig, (ax_mem, ax_cpu) = style.figure(height=0.5 * len(rows) + 1.6, ncols=2, sharey=True)
    names = [r[0] for r in rows]
    states = [r[1] for r in rows]
    order = list(dict.fromkeys([s for s in _STATE_ORDER if s in states]
                               + [s for s in states if s not in _STATE_ORDER]))
    for i, (name, state, vcpus, mem) in enumerate(rows):
        k = order.index(state)
        bar_style = dict(color=style.color(k), hatch=style.hatch(k), edgecolor="#333333")
        ax_mem.barh(i, mem, **bar_style)
        ax_cpu.barh(i, vcpus, **bar_style)
        ax_mem.annotate(f"{mem:,} MiB", (mem, i), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=8)
        ax_cpu.annotate(str(vcpus), (vcpus, i), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=8)
    ax_mem.set_yticks(range(len(names)), names)
    ax_mem.invert_yaxis()
    ax_mem.set_xlabel("memory (MiB)")
    ax_cpu.set_xlabel("virtual CPUs")
    ax_mem.set_xlim(0, max(r[3] for r in rows) * 1.35)
    ax_cpu.set_xlim(0, max(r[2] for r in rows) * 1.35)
    handles = [FancyBboxPatch((0, 0), 1, 1, facecolor=style.color(k), hatch=style.hatch(k),
                              edgecolor="#333333", label=s) for k, s in enumerate(order)]
    ax_cpu.legend(handles=handles, loc="lower right", title="state")
    return fig


def _tree_layout(edges: Sequence[tuple[str | None, str]]) -> dict[str, tuple[float, float]]:
    """x = depth, y = leaf order (parents centred over their children)."""
    children: dict[str | None, list[str]] = {}
    for parent, child in edges:
        children.setdefault(parent, []).append(child)
    for kids in children.values():
        kids.sort()
    pos: dict[str, tuple[float, float]] = {}
    next_leaf = [0.0]

    def place(node: str, depth: int) -> float:
        kids = children.get(node, [])
        if not kids:
            y = next_leaf[0]
            next_leaf[0] += 1
        else:
            ys = [place(k, depth + 1) for k in kids]
            y = sum(ys) / len(ys)
        pos[node] = (float(depth), y)
        return y

    for root in children.get(None, []):
        place(root, 0)
    return pos


def snapshot_tree_figure(edges: Sequence[tuple[str | None, str]], current: str | None = None,
                         title: str = "") -> Figure:
    """Draw a snapshot tree: one box per snapshot, an arrow from each parent to its children.

    ``edges`` holds (parent, child) pairs, with parent None for a root. The ``current`` snapshot
    gets a thick border, a different fill and the label "(current)".
    """
    names = {c for _, c in edges}
    if not names:
        raise ValueError("edges must hold at least one (parent, child) pair")
    missing = {p for p, _ in edges if p is not None} - names
    if missing:
        raise ValueError(f"edges name parents that are not snapshots themselves: {sorted(missing)}")
    pos = _tree_layout(edges)
    depth = max(x for x, _ in pos.values()) + 1
    leaves = max(y for _, y in pos.values()) + 1
    fig, ax = style.figure(height=0.75 * leaves + 1.0)
    for parent, child in edges:
        if parent is None:
            continue
        (x0, y0), (x1, y1) = pos[parent], pos[child]
        ax.annotate("", xy=(x1 - 0.36, y1), xytext=(x0 + 0.36, y0),
                    arrowprops=dict(arrowstyle="->", color="#333333", lw=1.2))
    for name, (x, y) in pos.items():
        is_current = name == current
        k = 1 if is_current else 0
        box = FancyBboxPatch((x - 0.36, y - 0.25), 0.72, 0.5, boxstyle="round,pad=0.02",
                             facecolor=style.color(k), alpha=0.35 if not is_current else 0.6,
                             hatch=style.hatch(k), edgecolor="#000000",
                             linewidth=2.6 if is_current else 1.0)
        ax.add_patch(box)
        label = name + ("\n(current)" if is_current else "")
        ax.text(x, y, label, ha="center", va="center", fontsize=8.5,
                fontweight="bold" if is_current else "normal")
    ax.set_xlim(-0.5, depth - 0.5)
    ax.set_ylim(leaves - 0.5, -0.5)
    ax.set_xticks(range(int(depth)), [f"depth {d}" for d in range(int(depth))])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return fig


def clone_figure(source: Mapping[str, str], clone: Mapping[str, str], title: str = "",
                 hidden: Sequence[str] = ()) -> Figure:
    """Side-by-side table of a source VM and its clone; rows that differ are hatched and marked.

    ``source`` and ``clone`` map the same field names (e.g. "name", "UUID", "MAC", "disk") to
    the values shown. Fields in ``hidden`` are compared but drawn as "(random)", so that a value
    libvirt generates afresh on every run (a UUID) does not change the figure.
    """
    fields = list(source)
    if not fields or set(fields) != set(clone):
        raise ValueError("source and clone must map the same, non-empty set of fields")
    unknown = set(hidden) - set(fields)
    if unknown:
        raise ValueError(f"hidden must name fields of source, got unknown {sorted(unknown)}")
    fig, ax = style.figure(height=0.55 * len(fields) + 1.1)
    ax.set_xlim(0, 10)
    ax.set_ylim(len(fields) + 0.2, -0.9)
    ax.axis("off")
    ax.text(2.4, -0.5, "source", ha="center", fontweight="bold")
    ax.text(7.2, -0.5, "clone", ha="center", fontweight="bold")
    for i, key in enumerate(fields):
        differs = source[key] != clone[key]
        k = 1 if differs else 0
        shown = (("(random)", "(random)") if key in hidden else (source[key], clone[key]))
        for x0, value in ((0.9, shown[0]), (5.7, shown[1])):
            ax.add_patch(FancyBboxPatch((x0, i - 0.32), 3.0, 0.64, boxstyle="round,pad=0.02",
                                        facecolor=style.color(k), alpha=0.3,
                                        hatch=style.hatch(k), edgecolor="#333333"))
            text = value if len(value) <= 34 else "…" + value[-33:]
            ax.text(x0 + 1.5, i, text, ha="center", va="center", fontsize=7.5, family="monospace")
        ax.text(0.8, i, key, ha="right", va="center", fontsize=9)
        ax.text(4.8, i, "≠" if differs else "=", ha="center", va="center", fontsize=14,
                fontweight="bold")
    if title:
        ax.set_title(title)
    return fig


def balloon_figure(targets_mib: Sequence[float], actual_mib: Sequence[float], max_mib: float,
                   title: str = "") -> Figure:
    """Balloon requests against what the VM reports: one step per ``setMemory`` call.

    ``targets_mib[i]`` is the size asked for at step i; ``actual_mib[i]`` is the balloon's
    ``actual`` value read back with ``memoryStats()``; ``max_mib`` is the VM's <memory>.
    """
    if len(targets_mib) != len(actual_mib) or not targets_mib:
        raise ValueError("targets_mib and actual_mib must be non-empty and of equal length")
    steps = list(range(len(targets_mib)))
    fig, ax = style.figure()
    ax.axhline(max_mib, color=style.color(7), linestyle=style.linestyle(3), linewidth=1.2,
               label=f"<memory> maximum ({max_mib:g} MiB)")
    ax.step(steps, targets_mib, where="mid", color=style.color(0), linestyle=style.linestyle(0),
            marker=style.marker(0), label="target asked with setMemory")
    ax.plot(steps, actual_mib, color=style.color(1), linestyle=style.linestyle(1),
            marker=style.marker(1), markersize=7, label="actual reported by memoryStats")
    ax.set_xticks(steps)
    ax.set_xlabel("step")
    ax.set_ylabel("guest memory (MiB)")
    ax.set_ylim(0, max_mib * 1.2)
    ax.legend(loc="lower left")
    if title:
        ax.set_title(title)
    return fig


def cpu_share_figure(names: Sequence[str], contended_share: Sequence[float],
                     cap: Sequence[float | None], title: str = "") -> Figure:
    """Each VM's share of one contended pCPU (from <shares>) beside its cap (from period/quota).

    Values are fractions of one physical CPU; a cap of None means no quota.
    """
    if not names or not len(names) == len(contended_share) == len(cap):
        raise ValueError("names, contended_share and cap must be non-empty and of equal length")
    fig, ax = style.figure()
    xs = range(len(names))
    width = 0.38
    ax.bar([x - width / 2 for x in xs], [100 * s for s in contended_share], width,
           color=style.color(0), hatch=style.hatch(0), edgecolor="#333333",
           label="share when all compete (shares)")
    capped = [100 * c if c is not None else 0 for c in cap]
    ax.bar([x + width / 2 for x in xs], capped, width, color=style.color(2),
           hatch=style.hatch(2), edgecolor="#333333", label="cap per vCPU (quota / period)")
    for x, c in zip(xs, cap):
        if c is None:
            ax.text(x + width / 2, 2, "no cap", ha="center", va="bottom", fontsize=8, rotation=90)
    for x, s in zip(xs, contended_share):
        ax.text(x - width / 2, 100 * s + 1, f"{100 * s:.0f}%", ha="center", fontsize=8)
    ax.set_xticks(list(xs), list(names))
    ax.set_ylabel("% of one physical CPU")
    ax.set_ylim(0, 115)
    ax.legend(loc="upper right")
    if title:
        ax.set_title(title)
    return fig


def cpu_model_check_figure(predicted: Mapping[str, Mapping[str, float]],
                           measured: Mapping[str, Mapping[str, float]] | None,
                           labels: Mapping[str, str], cap: float | None = None,
                           title: str = "") -> Figure:
    """Where one contended host CPU's time went, by the CFS model and as measured, per setting.

    ``predicted[config][vm]`` and ``measured[config][vm]`` are shares of the one CPU (1.0 is all
    of it) for each configuration (``labels[config]`` names it above its pair of bars) and each
    VM; the first VM is drawn at the bottom of each stack. A measured stack is topped up to 1.0 by
    the part of the CPU that went to neither VM (the host's other work). ``measured`` None (or
    empty) draws an outlined placeholder where the measured stack would be. ``cap``, a share of
    the CPU, draws a dotted line over the last configuration's bars (the quota of the bottom VM).
    """
    configs = list(predicted)
    if not configs or set(labels) != set(configs):
        raise ValueError("predicted must hold at least one configuration and labels must name "
                         "exactly its configurations")
    names = list(predicted[configs[0]])
    if not names or any(list(predicted[c]) != names for c in configs):
        raise ValueError("predicted must give a share for the same VMs in every configuration")
    if measured and (list(measured) != configs or any(list(measured[c]) != names for c in configs)):
        raise ValueError("measured must hold the same configurations and VMs as predicted")
    if cap is not None and not 0 < cap <= 1:
        raise ValueError(f"cap must be a share of one CPU in (0, 1], got {cap!r}")
    fig, ax = style.figure(height=3.8)
    ax.set_axisbelow(True)
    width, ticks, ticklabels = 0.8, [], []
    other = len(names)                     # the style index of "other work on the CPU"
    for c, config in enumerate(configs):
        stacks = (("CFS model", predicted[config]),
                  ("measured", measured[config] if measured else None))
        for k, (what, shares) in enumerate(stacks):
            x = 2.4 * c + k
            ticks.append(x)
            ticklabels.append(what)
            if shares is None:
                ax.bar(x, 1.0, width, fill=False, edgecolor="#777777", linestyle="--")
                ax.text(x, 0.5, "real host\nonly", ha="center", va="center", fontsize=8,
                        color="#555555")
                continue
            bottom = 0.0
            parts = [(i, shares[name]) for i, name in enumerate(names)]
            if what == "measured":
                parts.append((other, max(0.0, 1.0 - sum(shares.values()))))
            for i, share in parts:
                ax.bar(x, share, width, bottom=bottom, color=style.color(7 if i == other else i),
                       alpha=0.25 if i == other else 0.85, hatch=style.hatch(i),
                       edgecolor="#333333", linewidth=0.6)
                if share >= 0.06:
                    ax.text(x, bottom + share / 2, f"{100 * share:.0f}%", ha="center",
                            va="center", fontsize=8.5, fontweight="bold",
                            color="#000000" if i == other else "#FFFFFF")
                bottom += share
        ax.text(2.4 * c + 0.5, 1.07, labels[config], ha="center", va="bottom", fontsize=9)
    if cap is not None:
        x0 = 2.4 * (len(configs) - 1) - width / 2 - 0.1
        ax.plot([x0, x0 + 1 + width + 0.2], [cap, cap], color="#000000",
                linestyle=style.linestyle(3), linewidth=1.4)
        ax.annotate(f"cap {100 * cap:.0f}%", (x0 + 1 + width + 0.2, cap), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8)
    handles = [FancyBboxPatch((0, 0), 1, 1, facecolor=style.color(i), hatch=style.hatch(i),
                              edgecolor="#333333", label=name) for i, name in enumerate(names)]
    handles.append(FancyBboxPatch((0, 0), 1, 1, facecolor=style.color(7), alpha=0.25,
                                  hatch=style.hatch(other), edgecolor="#333333",
                                  label="other work on this CPU"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xticks(ticks, ticklabels)
    ax.set_ylabel("share of the one host CPU")
    ax.set_ylim(0, 1.18)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "25%", "50%", "75%", "100%"])
    ax.grid(axis="x", visible=False)
    if title:
        ax.set_title(title)
    return fig


def ksm_model_check_figure(model_t: Sequence[float], model: Mapping[str, Sequence[float]],
                           measured_t: Sequence[float] | None = None,
                           measured: Sequence[float] | None = None,
                           scans_done_at: Sequence[float] = (), marked_scans: int = 3,
                           title: str = "") -> Figure:
    """KSM's ``pages_sharing`` over time: the memory model's curves beside the measured one.

    ``model`` maps a label to a curve sampled at ``model_t`` (seconds since KSM was switched
    on); with two curves the band between them is shaded. ``measured`` (at ``measured_t``) is the
    counter read on the host, or None where nothing was measured; the first ``marked_scans`` of
    ``scans_done_at``, the moments the kernel's ``full_scans`` counter was seen to go up, are
    marked with dotted lines.
    """
    if not len(model_t) or not model or any(len(c) != len(model_t) for c in model.values()):
        raise ValueError("model must map at least one label to a curve as long as model_t")
    if (measured is None) != (measured_t is None) or (
            measured is not None and (len(measured) != len(measured_t) or not len(measured))):
        raise ValueError("measured and measured_t must both be None, or non-empty and of equal "
                         "length")
    fig, ax = style.figure(height=3.6)
    curves = list(model.items())
    for i, (label, curve) in enumerate(curves):
        ax.plot(model_t, curve, color=style.color(i), linestyle=style.linestyle(i + 1),
                label=f"model: {label}")
    if len(curves) == 2:
        ax.fill_between(model_t, curves[0][1], curves[1][1], color=style.color(4), alpha=0.15,
                        hatch=style.hatch(2), edgecolor=style.color(4), linewidth=0)
    top = max(max(curve) for _, curve in curves)
    if measured is not None:
        ax.plot(measured_t, measured, color=style.color(5), linestyle=style.linestyle(0),
                marker=style.marker(1), markersize=4, label="measured on this host")
        top = max(top, max(measured))
        for n, t in enumerate(list(scans_done_at)[:marked_scans], start=1):
            ax.axvline(t, color="#777777", linestyle=style.linestyle(3), linewidth=1)
            ax.text(t, 1.02 * top, f"full scan {n} done", rotation=90, ha="right", va="top",
                    fontsize=7.5, color="#555555")
    else:
        ax.text(0.98, 0.5, "measured: on a real host\nwith VIRTBOOK_LAB_KSM=1",
                transform=ax.transAxes, ha="right", va="center", fontsize=8.5, color="#555555",
                bbox=dict(boxstyle="round", facecolor="white", edgecolor="#777777",
                          linestyle="--"))
    ax.set_xlabel("seconds since KSM was switched on")
    ax.set_ylabel("pages_sharing (4 KiB pages)")
    ax.set_ylim(0, 1.1 * top)
    ax.set_xlim(0, max(model_t[-1], measured_t[-1] if measured is not None else 0))
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title)
    return fig
