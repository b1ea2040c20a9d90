"""Architecture diagrams drawn by code: the container stack (chapter 7) and Kubernetes (chapter 8).

A diagram is data first: :class:`Box` objects (a component, with a label, a position and a kind)
and :class:`Arrow` objects (who talks to whom, and how), collected in a :class:`Diagram` that
checks itself. :func:`draw` turns it into a matplotlib figure; :func:`describe` turns the same
data into a plain-text description, from which a figure's alt text is written and against which
the tests check it. Because the figure and its description come from one object, the picture,
the alt text and the tests cannot disagree about what is shown.

Accessibility: every kind of component has its own colour *and* its own hatch pattern, named in a
legend, and every box carries its name as text, so nothing depends on colour alone.

What the diagrams show, and the sources (cited in the chapters):

* :func:`container_stack`: the Docker client talks to the daemon ``dockerd`` over a REST API
  (Docker documentation, *Docker overview*); Docker Engine hands the container lifecycle to
  containerd, which by default starts containers with runc through a shim (*Alternative container
  runtimes*); runc creates the namespaces and the cgroup and starts the first process
  (Kubernetes blog, *Runc and CVE-2019-5736*); the root filesystem is the union of read-only
  image layers and a writable layer, mounted with OverlayFS by the ``overlay2`` driver (*Storage
  drivers*); all of it rests on one shared kernel.
* :func:`kubernetes_cluster`: control-plane components (kube-apiserver, etcd, kube-scheduler,
  kube-controller-manager) and node components (kubelet, kube-proxy, a container runtime), as in
  the Kubernetes documentation, *Kubernetes Components*; the cluster state lives in a store that
  only the API server touches, and every other component watches and changes it through the API
  (Burns et al., "Borg, Omega, and Kubernetes", 2016).

>>> d = container_stack()
>>> d.box("runc").kind
'runtime'
>>> sorted({b.kind for b in kubernetes_cluster().boxes})
['control', 'node', 'region', 'store', 'user', 'workload']
"""
from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

from virtbook._validate import check_choice, check_name, check_real
from virtbook.figures import style

__all__ = ["Box", "Arrow", "Diagram", "KINDS", "container_stack", "kubernetes_cluster", "draw",
           "describe"]

#: The kinds of box, each with a legend entry. ``region`` is a labelled frame that groups other
#: boxes, drawn unfilled.
KINDS: dict[str, str] = {
    "user": "client (outside the system)",
    "runtime": "container engine and runtime (user space)",
    "kernel": "Linux kernel feature",
    "hardware": "hardware",
    "workload": "container or pod (your code)",
    "image": "image data (files)",
    "control": "control-plane component",
    "store": "cluster state store",
    "node": "node component",
    "region": "",
}
#: The colour and hatch (index into :mod:`virtbook.figures.style`' palette and hatches) of each kind.
#: Kinds that share a style never appear in the same diagram (:class:`Diagram` checks this).
_STYLE_INDEX = {"user": 0, "runtime": 1, "node": 1, "kernel": 2, "image": 3, "workload": 4,
                "control": 5, "store": 6, "hardware": 7, "region": -1}

#: The drawing area, in data units: every box must lie inside it.
WIDTH, HEIGHT = 100.0, 60.0


@dataclass(frozen=True)
class Box:
    """A component: its ``name`` (one line) and ``detail`` (what it does, may span lines), lower-left
    corner ``x``, ``y`` and size ``w``, ``h`` in drawing units (0..100 by 0..60), and a kind
    from :data:`KINDS`. ``align`` places a region's name along its top edge, so that it can be
    kept clear of the arrows that cross the edge."""

    key: str
    name: str
    detail: str
    x: float
    y: float
    w: float
    h: float
    kind: str
    align: str = "left"

    def __post_init__(self) -> None:
        check_name("key", self.key, spaces=False)
        check_choice("align", self.align, ("left", "center", "right"))
        if not self.name.strip() or "\n" in self.name:
            raise ValueError(f"name of box {self.key!r} must be one non-empty line, "
                             f"got {self.name!r}")
        check_choice("kind", self.kind, KINDS)
        check_real("x", self.x, 0.0, WIDTH)
        check_real("y", self.y, 0.0, HEIGHT)
        check_real("w", self.w, 0.0, WIDTH - self.x, lo_open=True)
        check_real("h", self.h, 0.0, HEIGHT - self.y, lo_open=True)

    @property
    def label(self) -> str:
        """The text drawn in the box: the name, then the detail lines."""
        return self.name + ("\n" + self.detail if self.detail else "")

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def contains(self, other: "Box") -> bool:
        """Whether ``other`` lies entirely inside this box."""
        return (self.x <= other.x and other.x + other.w <= self.x + self.w
                and self.y <= other.y and other.y + other.h <= self.y + self.h)

    def overlaps(self, other: "Box") -> bool:
        """Whether the two boxes share any area."""
        return (self.x < other.x + other.w and other.x < self.x + self.w
                and self.y < other.y + other.h and other.y < self.y + self.h)


@dataclass(frozen=True)
class Arrow:
    """``src`` talks to (or acts on) ``dst``; ``label`` says how. ``both`` draws two heads, for
    a component that both watches and changes the other's state."""

    src: str
    dst: str
    label: str = ""
    both: bool = False


@dataclass(frozen=True)
class Diagram:
    """Boxes and arrows with a title. Checks on construction: keys are unique, every arrow joins
    two different existing boxes, and two boxes overlap only if one is a region that contains the
    other (so no label is drawn over another)."""

    title: str
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]

    def __post_init__(self) -> None:
        keys = [b.key for b in self.boxes]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"boxes must have unique keys; repeated: {dupes}")
        for a in self.arrows:
            for end in (a.src, a.dst):
                if end not in keys:
                    raise ValueError(f"arrow {a.src!r} -> {a.dst!r} names an unknown box "
                                     f"{end!r}; known boxes: {keys}")
            if a.src == a.dst:
                raise ValueError(f"arrow from {a.src!r} to itself is not allowed")
        styles: dict[int, str] = {}
        for b in self.boxes:
            other = styles.setdefault(_STYLE_INDEX[b.kind], b.kind)
            if other != b.kind:
                raise ValueError(f"kinds {other!r} and {b.kind!r} share a style and cannot "
                                 "appear in the same diagram")
        for i, b in enumerate(self.boxes):
            for c in self.boxes[i + 1:]:
                if b.overlaps(c) and not ((b.kind == "region" and b.contains(c))
                                          or (c.kind == "region" and c.contains(b))):
                    raise ValueError(f"boxes {b.key!r} and {c.key!r} overlap; only a region may "
                                     "contain other boxes")

    def box(self, key: str) -> Box:
        for b in self.boxes:
            if b.key == key:
                return b
        raise ValueError(f"no box {key!r}; known boxes: {[b.key for b in self.boxes]}")

    @property
    def names(self) -> list[str]:
        """The names of all components (regions included), in drawing order."""
        return [b.name for b in self.boxes]


def container_stack() -> Diagram:
    """Two containers on one host: the engine that starts them, the kernel that isolates them,
    and the image layers they share."""
    boxes = (
        Box("hardware", "Hardware", "CPUs, memory, disks, network cards", 2, 1, 96, 4.5,
            "hardware"),
        Box("kernel", "One Linux kernel, shared by every container", "", 2, 6.5, 96, 19.5,
            "region", align="center"),
        Box("namespaces", "Namespaces", "what a process can see:\npid, net, mnt, uts, ipc,\n"
            "user, cgroup, time", 4, 7.5, 29, 12.5, "kernel"),
        Box("cgroups", "Control groups", "what it may use:\ncpu.max, memory.max,\npids.max",
            35.5, 7.5, 29, 12.5, "kernel"),
        Box("overlayfs", "OverlayFS", "union mount of the layers;\ncopy-up on first write",
            67, 7.5, 29, 12.5, "kernel"),
        Box("client", "docker (client)", "", 2, 53, 30, 5, "user"),
        Box("dockerd", "dockerd (daemon)", "images, networks, volumes", 2, 44, 30, 6.5,
            "runtime"),
        Box("containerd", "containerd", "container lifecycle", 2, 36, 30, 6, "runtime"),
        Box("runc", "runc (OCI runtime)", "sets up, starts, exits", 2, 27.5, 30, 6, "runtime"),
        Box("procA", "Container A", "its processes", 40, 50, 27, 8, "workload"),
        Box("procB", "Container B", "its processes", 71, 50, 27, 8, "workload"),
        Box("upperA", "A's writable layer", "", 40, 42, 27, 5, "image"),
        Box("upperB", "B's writable layer", "", 71, 42, 27, 5, "image"),
        Box("layers", "Image layers", "read-only, stored once,\nshared by digest", 40, 30, 58,
            8.5, "image"),
    )
    arrows = (
        Arrow("client", "dockerd", "REST API"),
        Arrow("dockerd", "containerd"),
        Arrow("containerd", "runc", "via a shim"),
        Arrow("runc", "namespaces", "creates"),
        Arrow("runc", "cgroups", "sets limits"),
        Arrow("layers", "overlayfs", "mounted as root fs"),
    )
    return Diagram("The container stack: an engine, one shared kernel, shared layers",
                   boxes, arrows)


def kubernetes_cluster() -> Diagram:
    """A control plane and two worker nodes, and the paths by which they cooperate."""
    boxes = (
        Box("kubectl", "kubectl or CI", "declares the desired state", 4, 52, 38, 6, "user"),
        Box("plane", "Control plane", "", 2, 1, 44, 48.5, "region"),
        Box("apiserver", "kube-apiserver", "REST API: the only\nway to the state", 4, 36, 40, 9,
            "control"),
        Box("scheduler", "kube-scheduler", "places new pods", 4, 20, 14.5, 9, "control"),
        Box("kcm", "kube-controller-manager", "its control loops", 23.5, 20, 20.5, 9, "control"),
        Box("etcd", "etcd", "key-value store of\nall cluster state", 4, 3, 34, 9, "store"),
        Box("node1", "Worker node 1", "", 52, 31, 46, 28, "region"),
        Box("kubelet1", "kubelet", "runs the node's pods", 54, 45, 19, 9, "node"),
        Box("runtime1", "container runtime", "", 78, 45, 18, 9, "node"),
        Box("proxy1", "kube-proxy", "Service rules", 54, 32, 19, 8, "node"),
        Box("pods1", "pods", "", 78, 32, 18, 8, "workload"),
        Box("node2", "Worker node 2", "", 52, 1, 46, 28, "region"),
        Box("kubelet2", "kubelet", "runs the node's pods", 54, 15, 19, 9, "node"),
        Box("runtime2", "container runtime", "", 78, 15, 18, 9, "node"),
        Box("proxy2", "kube-proxy", "Service rules", 54, 2, 19, 8, "node"),
        Box("pods2", "pods", "", 78, 2, 18, 8, "workload"),
    )
    arrows = (
        Arrow("kubectl", "apiserver", "apply"),
        Arrow("scheduler", "apiserver", "watch, bind", both=True),
        Arrow("kcm", "apiserver", "watch, act", both=True),
        Arrow("apiserver", "etcd", "state", both=True),
        Arrow("kubelet1", "apiserver", "pods, status", both=True),
        Arrow("kubelet2", "apiserver", "pods, status", both=True),
        Arrow("proxy1", "apiserver", "Services"),
        Arrow("proxy2", "apiserver", "Services"),
        Arrow("kubelet1", "runtime1", "CRI"),
        Arrow("kubelet2", "runtime2", "CRI"),
        Arrow("runtime1", "pods1", "runs"),
        Arrow("runtime2", "pods2", "runs"),
    )
    return Diagram("Kubernetes: a control plane around one API, and the nodes", boxes, arrows)


def _anchors(a: Box, b: Box) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where an arrow from ``a`` to ``b`` leaves and enters. Boxes side by side (no common
    x-range) are joined from facing side edges, others from facing top and bottom edges; where
    the two edges share a range the arrow runs straight across its middle, else from centre to
    centre of the edges."""
    (_, ay), (_, by) = a.center, b.center
    if a.x >= b.x + b.w or b.x >= a.x + a.w:           # side by side
        lo, hi = max(a.y, b.y), min(a.y + a.h, b.y + b.h)
        ya, yb = ((lo + hi) / 2,) * 2 if lo < hi else (ay, by)
        if a.x > b.x:
            return (a.x, ya), (b.x + b.w, yb)
        return (a.x + a.w, ya), (b.x, yb)
    lo, hi = max(a.x, b.x), min(a.x + a.w, b.x + b.w)
    xa = xb = (lo + hi) / 2
    if ay > by:
        return (xa, a.y), (xb, b.y + b.h)
    return (xa, a.y + a.h), (xb, b.y)


def draw(diagram: Diagram, *, width: float = style.COLUMN_WIDTH, height: float = 4.6) -> Figure:
    """The diagram as a figure: filled, hatched boxes by kind, unfilled labelled regions, arrows
    with their labels, and a legend naming each kind that appears."""
    fig, ax = style.figure(width=width, height=height)
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(0, HEIGHT)
    ax.set_axis_off()
    kinds_used = []
    for b in diagram.boxes:
        i = _STYLE_INDEX[b.kind]
        if b.kind == "region":
            ax.add_patch(Rectangle((b.x, b.y), b.w, b.h, fill=False, linestyle="--",
                                   linewidth=1.0, edgecolor="#444444", zorder=1))
            tx = {"left": b.x + 1, "center": b.x + b.w / 2, "right": b.x + b.w - 1}[b.align]
            ax.text(tx, b.y + b.h - 0.6, b.name, fontsize=8, fontweight="bold",
                    va="top", ha=b.align, zorder=5)
            continue
        if b.kind not in kinds_used:
            kinds_used.append(b.kind)
        ax.add_patch(Rectangle((b.x, b.y), b.w, b.h, facecolor=style.color(i), alpha=0.22,
                               edgecolor="none", zorder=2))
        ax.add_patch(Rectangle((b.x, b.y), b.w, b.h, fill=False, hatch=style.hatch(i),
                               edgecolor=style.color(i), linewidth=1.2, zorder=3))
        cx, cy = b.center
        ax.text(cx, cy, b.label, fontsize=7, ha="center", va="center", zorder=6,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.85,
                      "edgecolor": "none"})
    for a in diagram.arrows:
        start, end = _anchors(diagram.box(a.src), diagram.box(a.dst))
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="<|-|>" if a.both else "-|>",
                                     mutation_scale=9, linewidth=1.0, color="#222222", zorder=4,
                                     shrinkA=1, shrinkB=1))
        if a.label:
            mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
            ax.text(mx, my, a.label, fontsize=6.5, ha="center", va="center", style="italic",
                    zorder=7, bbox={"boxstyle": "round,pad=0.15", "facecolor": "#f4f4f4",
                                    "edgecolor": "none"})
    handles = [Patch(facecolor=style.color(_STYLE_INDEX[k]) + "38",
                     edgecolor=style.color(_STYLE_INDEX[k]), hatch=style.hatch(_STYLE_INDEX[k]),
                     label=KINDS[k]) for k in kinds_used]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=7, frameon=False)
    ax.set_title(diagram.title, fontsize=9)
    return fig


def describe(diagram: Diagram) -> str:
    """A plain-text account of the diagram: every component with its region, then every arrow.
    The chapters' alt texts are written from it, and the tests check them against it."""
    regions = [b for b in diagram.boxes if b.kind == "region"]
    lines = [diagram.title + "."]
    for b in diagram.boxes:
        if b.kind == "region":
            continue
        inside = [r.name for r in regions if r.contains(b)]
        where = f" (in {inside[0]})" if inside else ""
        lines.append(f"{b.name}{where}: {KINDS[b.kind]}.")
    for a in diagram.arrows:
        how = f" ({a.label})" if a.label else ""
        verb = "<->" if a.both else "->"
        lines.append(f"{diagram.box(a.src).name} {verb} {diagram.box(a.dst).name}{how}.")
    return "\n".join(lines)
