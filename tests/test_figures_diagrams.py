"""The architecture diagrams of chapters 7 and 8 (virtbook.figures.diagrams): the data holds the parts the
chapters explain, the drawing shows every part and arrow with a legend that does not rely on
colour, and the chapters' alt texts name every component the figures draw."""
from __future__ import annotations

import io
import re

import pytest
from matplotlib.patches import FancyArrowPatch

from solutions import alt_text
from virtbook.figures import diagrams
from virtbook.figures.diagrams import Arrow, Box, Diagram


def _arrows(d: Diagram) -> set[tuple[str, str]]:
    return {(d.box(a.src).name, d.box(a.dst).name) for a in d.arrows}


def test_container_stack_shows_the_engine_the_kernel_features_and_the_layers():
    d = diagrams.container_stack()
    names = set(d.names)
    assert {"docker (client)", "dockerd (daemon)", "containerd", "runc (OCI runtime)",
            "Namespaces", "Control groups", "OverlayFS", "Image layers", "Hardware"} <= names
    arrows = _arrows(d)
    assert ("runc (OCI runtime)", "Namespaces") in arrows
    assert ("runc (OCI runtime)", "Control groups") in arrows
    assert ("containerd", "runc (OCI runtime)") in arrows
    assert ("Image layers", "OverlayFS") in arrows
    kernel = d.box("kernel")
    assert all(kernel.contains(d.box(k)) for k in ("namespaces", "cgroups", "overlayfs"))
    # two containers, each with its own writable layer, over one shared set of image layers
    layers = d.box("layers")
    for c in "AB":
        proc, upper = d.box(f"proc{c}"), d.box(f"upper{c}")
        assert proc.kind == "workload" and upper.kind == "image"
        assert layers.y + layers.h <= upper.y < proc.y
        assert layers.x <= upper.x and upper.x + upper.w <= layers.x + layers.w


def test_kubernetes_diagram_routes_everything_through_the_api_server():
    d = diagrams.kubernetes_cluster()
    names = set(d.names)
    assert {"kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager", "kubelet",
            "kube-proxy", "container runtime", "pods"} <= names
    etcd_peers = {d.box(a.src).name if d.box(a.dst).name == "etcd" else d.box(a.dst).name
                  for a in d.arrows if "etcd" in (d.box(a.src).name, d.box(a.dst).name)}
    assert etcd_peers == {"kube-apiserver"}, "only the API server reads and writes etcd"
    talk = _arrows(d)
    for comp in ("kube-scheduler", "kube-controller-manager", "kubelet", "kube-proxy",
                 "kubectl or CI"):
        assert (comp, "kube-apiserver") in talk or ("kube-apiserver", comp) in talk, comp
    plane = d.box("plane")
    for key in ("apiserver", "etcd", "scheduler", "kcm"):
        assert plane.contains(d.box(key))
    for n in "12":
        node = d.box(f"node{n}")
        assert all(node.contains(d.box(f"{k}{n}")) for k in ("kubelet", "proxy", "runtime", "pods"))
        assert not plane.overlaps(node)


@pytest.mark.parametrize("make", [diagrams.container_stack, diagrams.kubernetes_cluster])
def test_the_drawing_shows_every_box_and_arrow_and_a_legend_of_distinct_styles(make):
    d = make()
    fig = diagrams.draw(d)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    for b in d.boxes:
        assert any(t.startswith(b.name) for t in texts), b.name
    for a in d.arrows:
        if a.label:
            assert a.label in texts
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(d.arrows)
    legend = fig.legends[0]
    kinds = {b.kind for b in d.boxes if b.kind != "region"}
    labels = [t.get_text() for t in legend.get_texts()]
    assert sorted(labels) == sorted(diagrams.KINDS[k] for k in kinds)
    styles = [(h.get_hatch(), h.get_edgecolor()) for h in legend.legend_handles]
    assert len(set(styles)) == len(styles), "each kind differs in hatch and colour"
    assert len({h for h, _ in styles}) == len(styles), "the hatch alone tells the kinds apart"
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("make", [diagrams.container_stack, diagrams.kubernetes_cluster])
def test_description_names_every_component_and_connection(make):
    d = make()
    text = diagrams.describe(d)
    for b in d.boxes:
        assert b.name in text
    assert text.count("->") == len(d.arrows)


@pytest.mark.parametrize("notebook, name, make", [
    ("07-containers.ipynb", "fig-07-stack", diagrams.container_stack),
    ("08-orchestration-security.ipynb", "fig-08-k8s", diagrams.kubernetes_cluster)])
def test_the_chapters_alt_text_names_every_component_drawn(notebook, name, make):
    alt = alt_text(notebook, name).lower()
    for b in make().boxes:
        core = re.sub(r" \(.*\)$", "", b.name).lower()
        core = core.split("'s ", 1)[-1]          # "A's writable layer": "writable layer"
        if b.kind == "region" and b.key.startswith("node"):
            core = "worker node"
        assert core in alt, f"{name}'s alt text does not mention {b.name!r}"


def test_bad_diagrams_are_refused_with_the_reason():
    a = Box("a", "A", "", 0, 0, 10, 10, "user")
    with pytest.raises(ValueError, match="kind"):
        Box("x", "X", "", 0, 0, 10, 10, "cloud")
    with pytest.raises(ValueError, match="w must be"):
        Box("x", "X", "", 95, 0, 10, 10, "user")
    with pytest.raises(ValueError, match="name of box 'x' must be one non-empty line"):
        Box("x", "two\nlines", "", 0, 0, 10, 10, "user")
    with pytest.raises(ValueError, match="align"):
        Box("x", "X", "", 0, 0, 10, 10, "region", align="middle")
    with pytest.raises(ValueError, match="unique keys"):
        Diagram("t", (a, Box("a", "B", "", 20, 0, 5, 5, "user")), ())
    with pytest.raises(ValueError, match="unknown box 'b'"):
        Diagram("t", (a,), (Arrow("a", "b"),))
    with pytest.raises(ValueError, match="to itself"):
        Diagram("t", (a,), (Arrow("a", "a"),))
    with pytest.raises(ValueError, match="overlap"):
        Diagram("t", (a, Box("b", "B", "", 5, 5, 10, 10, "runtime")), ())
    with pytest.raises(ValueError, match="share a style"):
        Diagram("t", (a, Box("b", "B", "", 20, 0, 5, 5, "runtime"),
                      Box("c", "C", "", 30, 0, 5, 5, "node")), ())
    region = Box("r", "R", "", 0, 0, 50, 50, "region")
    inner = Box("i", "I", "", 5, 5, 10, 10, "user")
    assert Diagram("t", (region, inner), ()).box("i") is inner
    with pytest.raises(ValueError, match="no box 'z'"):
        Diagram("t", (region, inner), ()).box("z")
