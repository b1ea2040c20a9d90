"""Chapter 7's demo code: reading a process's namespaces and cgroup limits (virtbook.containers)
and the image-layer / copy-on-write model (virtbook.layers)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import alt_text, run_solution, solution
from virtbook import containers as ct
from virtbook import layers as ly


# ------------------------------------------------------------------------------------------
# containers: parsers
# ------------------------------------------------------------------------------------------

@given(st.sampled_from(ct.NAMESPACE_TYPES), st.integers(min_value=1, max_value=2**32 - 1))
def test_ns_link_round_trips(kind, inode):
    assert ct.parse_ns_link(f"{kind}:[{inode}]") == (kind, inode)


@pytest.mark.parametrize("bad", ["net", "net:4026531833", "net:[abc]", "", ":[1]", 42])
def test_ns_link_rejects_malformed_targets(bad):
    with pytest.raises(ValueError, match="target"):
        ct.parse_ns_link(bad)


@given(st.one_of(st.none(), st.integers(1, 10**9)), st.integers(1, 10**7))
def test_cpu_max_round_trips(quota, period):
    text = f"{'max' if quota is None else quota} {period}\n"
    assert ct.parse_cpu_max(text) == (quota, period)


@pytest.mark.parametrize("bad", ["", "max", "100000", "x 100000", "max 0", "1 2 3", "-1 100000"])
def test_cpu_max_rejects_malformed(bad):
    with pytest.raises(ValueError, match="text|period"):
        ct.parse_cpu_max(bad)


def test_v1_cpu_quota_minus_one_means_unlimited():
    assert ct.parse_v1_cpu("-1\n", "100000\n") == (None, 100000)
    assert ct.parse_v1_cpu("50000", "100000") == (50000, 100000)
    with pytest.raises(ValueError, match="quota_text"):
        ct.parse_v1_cpu("0", "100000")
    with pytest.raises(ValueError, match="period_text"):
        ct.parse_v1_cpu("10", "0")


def test_count_or_max_handles_v2_max_and_v1_sentinel():
    assert ct.parse_count_or_max("max\n") is None
    assert ct.parse_count_or_max("9223372036854771712\n") is None  # v1 "no limit"
    assert ct.parse_count_or_max("536870912") == 536870912
    with pytest.raises(ValueError, match="pids.max"):
        ct.parse_count_or_max("-5", "pids.max")


def test_proc_cgroup_parses_v1_and_v2_lines():
    entries = ct.parse_proc_cgroup("4:memory:/a/b\n2:cpu,cpuacct:/\n0::/user.slice\n")
    assert [e.hierarchy_id for e in entries] == [4, 2, 0]
    assert entries[1].controllers == ("cpu", "cpuacct")
    assert entries[2].is_v2 and not entries[0].is_v2
    with pytest.raises(ValueError, match="line 1"):
        ct.parse_proc_cgroup("garbage\n")


# ------------------------------------------------------------------------------------------
# containers: inspect_self on a fake /proc tree, and on this machine (structure only)
# ------------------------------------------------------------------------------------------

def _fake_proc(tmp_path: Path, ns_inodes: dict[str, int], cgroup: str, mountinfo: str) -> Path:
    proc = tmp_path / "proc"
    nsdir = proc / "self" / "ns"
    nsdir.mkdir(parents=True)
    for kind, inode in ns_inodes.items():
        os.symlink(f"{kind}:[{inode}]", nsdir / kind)
    (proc / "self" / "cgroup").write_text(cgroup)
    (proc / "self" / "mountinfo").write_text(mountinfo)
    return proc


def _v2_tree(tmp_path: Path, limits: dict[str, str], parent_limits: dict[str, str]) -> Path:
    root = tmp_path / "cg2"
    leaf = root / "docker" / "abc"
    leaf.mkdir(parents=True)
    for name, value in limits.items():
        (leaf / name).write_text(value + "\n")
    for name, value in parent_limits.items():
        (root / "docker" / name).write_text(value + "\n")
    return root


def test_inspect_self_reads_a_cgroup_v2_container(tmp_path):
    root = _v2_tree(tmp_path, {"cpu.max": "150000 100000", "memory.max": "max", "pids.max": "100"},
                    {"memory.max": str(512 * 2**20), "pids.max": "max", "cpu.max": "max 100000"})
    inodes = dict(ct.INITIAL_NS_INODES)
    inodes["pid"] = 4026532200  # a fresh PID namespace, as `docker run` creates
    inodes["net"] = 4026532300
    proc = _fake_proc(tmp_path, inodes, "0::/docker/abc\n",
                      f"30 20 0:26 / {root} rw,nosuid - cgroup2 cgroup2 rw\n")
    view = ct.inspect_self(proc_root=proc)
    assert view.cgroup_version == "v2"
    assert view.namespace("pid").initial is False
    assert view.namespace("uts").initial is True
    assert view.namespace("net").initial is None  # net/mnt: cannot tell on older kernels
    assert view.non_initial_namespaces == ("pid",)
    assert view.limit("cpu.max").value == pytest.approx(1.5)
    # memory: the leaf says max, the parent 512 MiB; the effective limit is the tighter one
    assert view.limit("memory.max").value == 512 * 2**20
    assert view.limit("memory.max").source.endswith("docker/memory.max")
    assert view.limit("pids.max").value == 100
    assert all(isinstance(line, str) for line in view.report_lines())


def test_inspect_self_reads_cgroup_v1_limits(tmp_path):
    cpu, mem = tmp_path / "cg" / "cpu", tmp_path / "cg" / "memory"
    (cpu / "job").mkdir(parents=True)
    (mem / "job").mkdir(parents=True)
    (cpu / "job" / "cpu.cfs_quota_us").write_text("50000\n")
    (cpu / "job" / "cpu.cfs_period_us").write_text("100000\n")
    (mem / "job" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    mountinfo = (f"32 31 0:29 / {cpu} rw - cgroup cgroup rw,cpu,cpuacct\n"
                 f"35 31 0:31 / {mem} rw - cgroup cgroup rw,memory\n")
    proc = _fake_proc(tmp_path, {}, "3:cpu,cpuacct:/job\n2:memory:/job\n", mountinfo)
    view = ct.inspect_self(proc_root=proc)
    assert view.cgroup_version == "v1"
    assert view.limit("cpu.max").value == pytest.approx(0.5)
    assert view.limit("memory.max").unlimited and view.limit("memory.max").value is None
    assert view.limit("pids.max").source is None
    assert all(ns.error == "absent" for ns in view.namespaces)


def test_inspect_self_degrades_without_proc(tmp_path):
    view = ct.inspect_self(proc_root=tmp_path / "nothing-here")
    assert view.cgroup_version == "unavailable"
    assert all(ns.inode is None for ns in view.namespaces)
    assert all(lim.source is None for lim in view.limits)
    assert view.notes


def test_inspect_self_handles_permission_errors(tmp_path, monkeypatch):
    proc = _fake_proc(tmp_path, dict(ct.INITIAL_NS_INODES), "0::/\n", "")

    def deny(path):
        raise PermissionError(path)

    monkeypatch.setattr(ct.os, "readlink", deny)
    view = ct.inspect_self(proc_root=proc)
    assert {ns.error for ns in view.namespaces} == {"permission denied"}


def test_inspect_self_rejects_bad_pid():
    with pytest.raises(ValueError, match="pid"):
        ct.inspect_self(pid="../1")


def test_inspect_self_on_this_machine_has_the_documented_structure():
    view = ct.inspect_self()
    assert view.pid == os.getpid()
    assert tuple(ns.name for ns in view.namespaces) == ct.NAMESPACE_TYPES
    assert view.cgroup_version in {"v1", "v2", "hybrid", "unavailable"}
    assert tuple(lim.name for lim in view.limits) == ct.LIMIT_NAMES
    for ns in view.namespaces:
        assert (ns.inode is None) == (ns.error is not None)
    for lim in view.limits:
        assert lim.value is None or lim.value > 0
    with pytest.raises(ValueError, match="name"):
        view.limit("io.max")


# ------------------------------------------------------------------------------------------
# layers: union view, whiteouts, digests
# ------------------------------------------------------------------------------------------

def test_upper_layer_wins_and_whiteouts_delete():
    base = ly.Layer.of({"etc/a": 10, "etc/b": 20, "bin/sh": 100})
    mid = ly.Layer.of({"etc/a": 11}, whiteouts=["etc/b"], salt="v2")
    top = ly.Layer.of({"etc/b": 22}, salt="v3")  # recreated above the whiteout
    tree = ly.Image("t:1", (base, mid)).rootfs()
    assert tree["etc/a"].size == 11 and "etc/b" not in tree and "bin/sh" in tree
    assert ly.Image("t:2", (base, mid, top)).rootfs()["etc/b"].size == 22


def test_whiteout_of_a_directory_hides_its_children():
    base = ly.Layer.of({"a/b/c/bar": 5, "a/x": 1})
    tree = ly.Image("t:1", (base, ly.Layer.of({}, whiteouts=["a/b"]))).rootfs()
    assert sorted(tree) == ["a/x"]


def test_opaque_whiteout_hides_lower_children_but_keeps_its_own_layer():
    # the example of OCI layer.md: a/b deleted and recreated with a/b/c/foo
    base = ly.Layer.of({"a/b/c/bar": 5, "bin/tool": 3})
    upper = ly.Layer.of({"a/b/c/foo": 7}, opaque_dirs=["a"])
    assert sorted(ly.Image("t:1", (base, upper)).rootfs()) == ["a/b/c/foo", "bin/tool"]


def test_deleted_files_still_cost_in_the_lower_layer():
    base = ly.Layer.of({"cache/big": 1000, "app": 10})
    img = ly.Image("t:1", (base, ly.Layer.of({}, whiteouts=["cache"])))
    assert img.size == 1010 and img.flattened_size == 10


@given(st.dictionaries(st.from_regex(r"[a-z]{1,5}(/[a-z]{1,5}){0,2}", fullmatch=True),
                       st.integers(0, 10**6), min_size=1, max_size=8))
def test_digest_depends_on_content_only(sizes):
    a = ly.Layer.of(sizes, created_by="RUN one")
    b = ly.Layer.of(dict(reversed(list(sizes.items()))), created_by="RUN two")
    assert a.digest == b.digest and a.digest.startswith("sha256:")
    path = next(iter(sizes))
    changed = dict(sizes, **{path: sizes[path] + 1})
    assert ly.Layer.of(changed).digest != a.digest


@pytest.mark.parametrize("path", ["/etc/hosts", "etc/", "a/../b", "a//b", "etc/.wh.hosts", ""])
def test_bad_paths_are_rejected(path):
    with pytest.raises(ValueError, match="path|whiteout"):
        ly.Layer.of({path: 1})


def test_bad_layer_and_image_input_is_rejected():
    with pytest.raises(ValueError, match="size"):
        ly.Layer.of({"a": -1})
    with pytest.raises(ValueError, match="distinct"):
        ly.Layer((ly.File("a", 1, "x"), ly.File("a", 2, "y")))
    with pytest.raises(ValueError, match="whiteouts"):
        ly.Layer.of({"a": 1}, whiteouts=["a"])
    with pytest.raises(ValueError, match="architecture"):
        ly.Image("t:1", (ly.Layer.of({"a": 1}),), architecture="x86")
    with pytest.raises(ValueError, match="layers"):
        ly.Image("t:1", ())
    with pytest.raises(ValueError, match="name"):
        ly.Image(" ", (ly.Layer.of({"a": 1}),))


# ------------------------------------------------------------------------------------------
# layers: the content-addressed store
# ------------------------------------------------------------------------------------------

def test_store_keeps_shared_layers_once_and_pulls_only_new_ones():
    fam = ly.make_family(seed=3, n_apps=3)
    store = ly.LayerStore()
    first = store.pull(fam.images[0])
    assert len(first.fetched) == 3 and first.bytes_downloaded == fam.images[0].size
    second = store.pull(fam.images[1])
    assert second.reused == (fam.base.digest, fam.runtime.digest)
    assert second.bytes_downloaded == fam.images[1].layers[2].size
    assert len(store) == 4 and store.refcount(fam.base.digest) == 2
    assert store.stored_bytes == fam.base.size + fam.runtime.size + sum(
        img.layers[2].size for img in fam.images[:2])
    freed = store.remove(fam.images[0].name)
    assert freed == fam.images[0].layers[2].size  # the base stays: image 1 still uses it
    assert fam.base.digest in store
    with pytest.raises(ValueError, match="already"):
        store.pull(fam.images[1])
    with pytest.raises(ValueError, match="name"):
        store.remove("nope:1")


# ------------------------------------------------------------------------------------------
# layers: copy-on-write in a running container
# ------------------------------------------------------------------------------------------

def _small_image() -> ly.Image:
    return ly.Image("web:1", (ly.Layer.of({"etc/conf": 4096, "bin/srv": 50_000}),
                              ly.Layer.of({"app/index.html": 300}, salt="app")))


def test_start_copies_nothing_and_first_write_copies_up_once():
    c = ly.Container(_small_image())
    assert c.upper_bytes == 0 and c.copied_up_bytes == 0
    c.write("etc/conf", 5000)
    c.write("etc/conf", 6000)  # already in the writable layer: no second copy-up
    assert c.copy_ups == 1 and c.copied_up_bytes == 4096
    assert c.read("etc/conf").size == 6000 and c.upper_bytes == 6000
    assert c.image.rootfs()["etc/conf"].size == 4096  # the image is untouched


def test_new_files_and_chmod_and_delete():
    c = ly.Container(_small_image())
    c.write("tmp/log", 10)
    assert c.copy_ups == 0 and c.upper_bytes == 10
    c.chmod("bin/srv")  # metadata only, yet the whole file is copied up
    assert c.copy_ups == 1 and c.copied_up_bytes == 50_000
    c.delete("app/index.html")
    assert not c.exists("app/index.html") and "app/index.html" in c.image.rootfs()
    with pytest.raises(FileNotFoundError):
        c.read("app/index.html")
    assert any("copy_up bin/srv" in line for line in c.trace)


def test_two_containers_share_the_image_but_not_their_writes():
    img = _small_image()
    a, b = ly.Container(img, "a"), ly.Container(img, "b")
    a.write("etc/conf", 1)
    assert b.read("etc/conf").size == 4096 and a.read("etc/conf").size == 1


# ------------------------------------------------------------------------------------------
# layers: the seeded family and storage for N instances
# ------------------------------------------------------------------------------------------

def test_family_is_deterministic_per_seed():
    a, b, c = ly.make_family(seed=11), ly.make_family(seed=11), ly.make_family(seed=12)
    assert [i.digests for i in a.images] == [i.digests for i in b.images]
    assert [i.digests for i in a.images] != [i.digests for i in c.images]
    assert all(img.layers[0] is a.base for img in a.images)


@pytest.mark.parametrize("kwargs", [{"seed": -1}, {"n_apps": 0}, {"base_mb": 0},
                                    {"app_mb": (5.0, 1.0)}])
def test_family_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        ly.make_family(**kwargs)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), delta=st.integers(0, 10**7), extra=st.integers(0, 10**8))
def test_fleet_cost_orders_containers_linked_full(n, delta, extra):
    fam = ly.make_family(seed=5, n_apps=3, base_mb=2, runtime_mb=1)
    cost = ly.fleet_cost(fam.images, n, delta, extra)
    assert cost.containers <= cost.vm_linked <= cost.vm_full
    assert cost.start_copy_container == 0 == cost.start_copy_vm_linked
    assert cost.start_copy_vm_full == fam.images[0].flattened_size + extra
    more = ly.fleet_cost(fam.images, n + 1, delta, extra)
    # one more container costs at most its own writes plus a layer not yet stored;
    # one more full VM always costs a whole disk
    assert more.vm_full - cost.vm_full >= fam.images[0].flattened_size - 1
    assert more.containers - cost.containers <= delta + max(i.layers[2].size for i in fam.images)


def test_storage_curve_shapes_and_validation():
    fam = ly.make_family(seed=1, n_apps=2, base_mb=1, runtime_mb=1)
    curve = ly.storage_curve(fam.images, 10, delta_bytes=100)
    assert list(curve["n"]) == list(range(1, 11))
    assert (curve["containers"] <= curve["vm_full"]).all()
    with pytest.raises(ValueError, match="n_max"):
        ly.storage_curve(fam.images, 0)
    with pytest.raises(ValueError, match="delta_bytes"):
        ly.fleet_cost(fam.images, 3, delta_bytes=-1)


# ------------------------------------------------------------------------------------------
# every model number that chapter 7's solutions and alt texts quote
# ------------------------------------------------------------------------------------------

NB07 = "07-containers.ipynb"


def test_ex_07_2_solution_computes_half_a_cpu():
    ns, out = run_solution(NB07, "ex-07-2")
    assert ns["quota"] / ns["period"] == 0.5 and out.split() == ["0.5"]
    assert "6.25 ms" in solution(NB07, "ex-07-2") and 25 / 4 == 6.25


def test_ex_07_3_solution_numbers_come_from_the_model():
    ns, out = run_solution(NB07, "ex-07-3")
    family, cost = ns["family"], ns["cost"]
    text = " ".join(solution(NB07, "ex-07-3").split())
    sizes = [im.size / ly.MB for im in family.images]
    assert all(abs(s - 128) < 3 for s in sizes), "each about 128 MB"
    shared = set(family.images[0].layers)
    for im in family.images[1:]:
        shared &= set(im.layers)
    assert round(sum(layer.size for layer in shared) / ly.MB) == 125
    distinct = {layer for im in family.images for layer in im.layers}
    assert round(sum(layer.size for layer in distinct) / 1e9, 2) == 0.14
    assert round(cost.containers / 1e9, 2) == 0.64 and round(cost.vm_linked / 1e9, 2) == 1.01
    assert round(cost.vm_full / 1e9, 1) == 13.3 and round(cost.vm_full / cost.containers) == 21
    per_vm = (cost.vm_full - ly.fleet_cost(family.images, 99, delta_bytes=5 * ly.MB).vm_full)
    assert 128 <= per_vm / ly.MB <= 138 and round(133 / 5) == 27
    for quoted in ("about 0.64 GB", "about 0.14 GB", "about 1.01 GB", "about 13.3 GB",
                   "roughly 21 times", "about 133 MB", "133/5 ≈ 27"):
        assert quoted in text, quoted
    assert out.split()[0].startswith("0.636")
    # linked clones grow by the same 5 MB per instance, so their ratio to containers falls to 1
    ratios = [ly.fleet_cost(family.images, n, delta_bytes=5 * ly.MB) for n in (100, 10_000)]
    assert 1 < ratios[1].vm_linked / ratios[1].containers < ratios[0].vm_linked / ratios[0].containers
    assert ratios[1].vm_linked / ratios[1].containers == pytest.approx(1, abs=0.05)


def test_ex_07_4_solution_numbers_come_from_the_model():
    _, out = run_solution(NB07, "ex-07-4")
    rows = [line.split() for line in out.strip().splitlines()]
    base, writes, kernel = ([float(x) for x in r] for r in rows)
    assert base[5] == pytest.approx(16, abs=0.5)                     # "about 16"
    assert (writes[2], writes[4], writes[5]) == (8.14, 13.11, 1.6)   # "8.1", "13.1", "1.6"
    assert kernel[3] - base[3] == pytest.approx(4 * 0.3, abs=0.01)   # linked: 4 x 300 MB
    assert kernel[4] - base[4] == pytest.approx(40 * 0.3, abs=0.01)  # full: 40 x 300 MB
    assert kernel[2] == base[2]
    assert 40 * 200 / 1000 == 8                                      # 40 x 200 MB = 8 GB
    text = " ".join(solution(NB07, "ex-07-4").split())
    for quoted in ("about 8.1 GB", "about 13.1 GB", "about 1.6", "about 16"):
        assert quoted in text, quoted


def test_ex_07_5_solution_prints_what_its_comment_says():
    ns, out = run_solution(NB07, "ex-07-5")
    assert out.split() == ["420.0", "120.0"]


def test_storage_figure_alt_text_quotes_the_model():
    family = ly.make_family(seed=7, n_apps=4)
    cost = ly.fleet_cost(family.images, 40, delta_bytes=5 * ly.MB)
    alt = alt_text(NB07, "fig-07-storage")
    assert f"about {cost.vm_full / 1e9:.1f} GB" in alt
    assert f"rise only to about {cost.vm_linked / 1e9:.1f} GB" in alt
    assert f"to about {cost.containers / 1e9:.2f} GB" in alt
    start = ly.fleet_cost(family.images, 1, delta_bytes=5 * ly.MB)
    assert start.vm_linked < cost.vm_linked and start.containers < cost.containers  # "rise"
    assert f"{cost.start_copy_vm_full / ly.MB:.0f} MB for a full clone" in alt
    assert "from 1 to 40" in alt
