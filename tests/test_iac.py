"""The plan/apply tool of chapter 11: plans, idempotence, drift, and never touching what it does
not own; on the in-memory provider always and on libvirt's test driver when libvirt-python is
installed (required under CI)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import in_ci
from virtbook.iac import (METADATA_NS, NAME_PREFIX, InMemoryProvider, LibvirtProvider, ObservedVM,
                          UnmanagedVMError, VMSpec, apply, converge, domain_xml, fleet_from_mapping,
                          fleet_from_yaml, libvirt_available, plan)

HAVE_LIBVIRT = libvirt_available()
needs_libvirt = pytest.mark.skipif(not HAVE_LIBVIRT and not in_ci(),
                                   reason="libvirt-python is not installed")

FLEET = {
    "iac-web": {"vcpus": 2, "memory_mib": 1024},
    "iac-db": {"vcpus": 2, "memory_mib": 2048, "running": True},
    "iac-batch": {"vcpus": 4, "memory_mib": 4096, "running": False},
}


def managed(provider) -> list[ObservedVM]:
    return [vm for vm in provider.list_vms() if vm.managed]


def as_specs(vms) -> tuple[VMSpec, ...]:
    return tuple(sorted(VMSpec(v.name, v.vcpus, v.memory_mib, v.running) for v in vms))


@pytest.fixture
def memory():
    return InMemoryProvider()


@pytest.fixture
def virt():
    """A libvirt test-driver connection; its state is discarded when the last connection closes."""
    provider = LibvirtProvider.open("test:///default")
    yield provider
    for vm in managed(provider):
        provider.destroy(vm.name)
    provider.close()


@pytest.fixture(params=["memory", pytest.param("libvirt", marks=needs_libvirt)])
def provider(request):
    return request.getfixturevalue("memory" if request.param == "memory" else "virt")


# ------------------------------------------------------------------------------ declarations


def test_a_declaration_reads_into_sorted_specs():
    specs = fleet_from_mapping(FLEET)
    assert [s.name for s in specs] == ["iac-batch", "iac-db", "iac-web"]
    assert specs[2] == VMSpec("iac-web", 2, 1024, True)     # running defaults to True
    assert fleet_from_yaml("iac-web:\n  vcpus: 2\n  memory_mib: 1024\n") == (specs[2],)
    assert fleet_from_yaml("") == ()


@pytest.mark.parametrize("desired, message", [
    ({"web": {"vcpus": 1, "memory_mib": 512}}, "name must start with 'iac-'"),
    ({"iac-Web": {"vcpus": 1, "memory_mib": 512}}, "name must start with 'iac-'"),
    ({"iac-web": {"vcpus": 0, "memory_mib": 512}}, r"vcpus must be an integer in 1\.\.256, got 0"),
    ({"iac-web": {"vcpus": 1, "memory_mib": 8}}, r"memory_mib must be an integer in 16\.\."),
    ({"iac-web": {"vcpus": 1, "memory_mb": 512}}, "unknown keys \\['memory_mb'\\]"),
    ({"iac-web": {"vcpus": 1}}, "lack \\['memory_mib'\\]"),
    ({"iac-web": {"vcpus": 1, "memory_mib": 512, "running": "yes"}}, "running must be True or False"),
    ({"iac-web": 3}, "settings of 'iac-web' must be a mapping"),
])
def test_bad_declarations_name_the_problem(desired, message):
    with pytest.raises(ValueError, match=message):
        fleet_from_mapping(desired)


def test_bad_yaml_is_a_value_error():
    with pytest.raises(ValueError, match="text is not valid YAML"):
        fleet_from_yaml("iac-web: [unclosed")
    with pytest.raises(ValueError, match="desired must be a mapping"):
        fleet_from_yaml("- a list\n")


def test_a_name_declared_twice_is_refused():
    spec = VMSpec("iac-web", 1, 512, True)
    with pytest.raises(ValueError, match="more than once"):
        plan([spec, spec], [])


def test_new_domains_have_no_uuid_and_carry_the_ownership_metadata():
    xml = domain_xml(VMSpec("iac-web", 2, 1024, True))
    assert "<uuid>" not in xml
    assert METADATA_NS in xml and "<name>iac-web</name>" in xml


# --------------------------------------------------------------------------------------- plans


def test_an_empty_fleet_plans_creates_and_starts_only_for_running_vms():
    p = plan(fleet_from_mapping(FLEET), [])
    ops = [(a.op, a.name) for a in p.actions]
    assert ops == [("create", "iac-batch"), ("create", "iac-db"), ("start", "iac-db"),
                   ("create", "iac-web"), ("start", "iac-web")]
    assert p.counts() == (3, 0, 0)
    text = p.render()
    assert text.startswith("Plan: 3 to add, 0 to change, 0 to destroy.")
    assert "+ iac-batch  create (vcpus=4, memory_mib=4096)" in text


def test_resizing_a_running_vm_stops_and_restarts_it():
    have = [ObservedVM("iac-web", 1, 512, True, True)]
    p = plan([VMSpec("iac-web", 2, 1024, True)], have)
    assert [a.op for a in p.actions] == ["stop", "update_vcpus", "update_memory", "start"]
    assert p.counts() == (0, 1, 0)
    assert "~ iac-web  vcpus 1 -> 2" in p.render()


def test_a_managed_vm_no_longer_declared_is_destroyed_first():
    have = [ObservedVM("iac-old", 1, 512, True, True), ObservedVM("iac-web", 1, 512, False, True)]
    p = plan([VMSpec("iac-web", 1, 512, True)], have)
    assert [(a.op, a.name) for a in p.actions] == [("destroy", "iac-old"), ("start", "iac-web")]
    assert "- iac-old  destroy" in p.render()


def test_unmanaged_vms_are_never_planned_even_with_the_prefix():
    have = [ObservedVM("test", 2, 8192, True, False), ObservedVM("iac-legacy", 1, 512, True, False)]
    p = plan([], have)
    assert p.is_empty and p.ignored == ("iac-legacy", "test")
    assert p.render() == "No changes. The fleet matches the declaration."


def test_declaring_a_name_an_unmanaged_vm_holds_is_refused():
    have = [ObservedVM("iac-legacy", 1, 512, True, False)]
    with pytest.raises(UnmanagedVMError, match="not managed by this tool"):
        plan([VMSpec("iac-legacy", 1, 512, True)], have)


# ------------------------------------------------------------------- behaviour on a provider


def test_apply_twice_changes_nothing(provider):
    desired = fleet_from_mapping(FLEET)
    first, log = converge(desired, provider)
    assert len(log) == len(first.actions) == 5
    assert as_specs(managed(provider)) == desired
    second, log2 = converge(desired, provider)
    assert second.is_empty and log2 == []


def test_drift_is_planned_and_repaired(provider):
    desired = fleet_from_mapping(FLEET)
    converge(desired, provider)
    provider.stop("iac-web")             # behind the tool's back: resize and leave it off
    provider.set_vcpus("iac-web", 4)
    drift = plan(desired, provider.list_vms())
    assert [(a.op, a.before, a.after) for a in drift.actions] == [
        ("update_vcpus", 4, 2), ("start", None, None)]
    apply(drift, provider)
    assert plan(desired, provider.list_vms()).is_empty


def test_memory_drift_on_a_running_vm(provider):
    desired = fleet_from_mapping(FLEET)
    converge(desired, provider)
    provider.stop("iac-db")
    provider.set_memory("iac-db", 4096)
    provider.start("iac-db")
    drift = plan(desired, provider.list_vms())
    assert [a.op for a in drift.actions] == ["stop", "update_memory", "start"]
    apply(drift, provider)
    assert as_specs(managed(provider)) == desired


def test_shrinking_the_declaration_destroys_only_managed_vms(provider):
    converge(fleet_from_mapping(FLEET), provider)
    before_unmanaged = [vm for vm in provider.list_vms() if not vm.managed]
    converge((), provider)
    assert managed(provider) == []
    assert [vm for vm in provider.list_vms() if not vm.managed] == before_unmanaged


def test_providers_refuse_to_touch_unmanaged_vms(memory):
    memory.add_unmanaged("iac-legacy")
    for call in (lambda: memory.stop("iac-legacy"), lambda: memory.destroy("iac-legacy"),
                 lambda: memory.set_vcpus("iac-legacy", 2)):
        with pytest.raises(UnmanagedVMError, match="refusing to change 'iac-legacy'"):
            call()
    with pytest.raises(ValueError, match="is not a VM that exists"):
        memory.start("iac-nothing")


def test_resizing_a_running_vm_directly_is_refused(provider):
    converge(fleet_from_mapping(FLEET), provider)
    with pytest.raises(ValueError, match="must be powered off"):
        provider.set_vcpus("iac-web", 3)


@needs_libvirt
def test_libvirt_ownership_needs_prefix_and_metadata(virt):
    # The test driver's own domain, and a hand-made domain that has the prefix but no metadata.
    virt.conn.defineXML("<domain type='test'><name>iac-legacy</name><memory unit='MiB'>256</memory>"
                        "<vcpu>1</vcpu><os><type>hvm</type></os></domain>")
    try:
        seen = {vm.name: vm.managed for vm in virt.list_vms()}
        assert seen["test"] is False and seen["iac-legacy"] is False
        converge(fleet_from_mapping(FLEET), virt)
        converge((), virt)
        names = {vm.name for vm in virt.list_vms()}
        assert {"test", "iac-legacy"} <= names and not any(
            n.startswith(NAME_PREFIX) and n != "iac-legacy" for n in names)
        with pytest.raises(UnmanagedVMError):
            virt.destroy("iac-legacy")
        with pytest.raises(UnmanagedVMError):
            virt.stop("test")
    finally:
        virt.conn.lookupByName("iac-legacy").undefine()


@needs_libvirt
def test_both_providers_produce_the_same_plans():
    desired = fleet_from_mapping(FLEET)
    memory = InMemoryProvider()
    memory.add_unmanaged("test", vcpus=2, memory_mib=8192, running=True)
    with LibvirtProvider.open() as virt:
        try:
            assert virt.list_vms() == memory.list_vms()
            for step in (desired, desired, desired[1:], ()):
                a, b = plan(step, memory.list_vms()), plan(step, virt.list_vms())
                assert a.render() == b.render()
                apply(a, memory)
                apply(b, virt)
                assert virt.list_vms() == memory.list_vms()
        finally:
            for vm in managed(virt):
                virt.destroy(vm.name)


# ------------------------------------------------------------------------------ properties

vm_names = st.sampled_from([f"iac-{n}" for n in ("a", "b", "c", "d", "e")])
specs = st.builds(VMSpec, name=vm_names, vcpus=st.integers(1, 8),
                  memory_mib=st.sampled_from([256, 512, 1024, 2048]), running=st.booleans())
fleets = st.lists(specs, max_size=5, unique_by=lambda s: s.name)


@settings(max_examples=150, deadline=None)
@given(start=fleets, goal=fleets)
def test_any_fleet_converges_in_one_apply_and_stays_put(start, goal):
    cloud = InMemoryProvider()
    cloud.add_unmanaged("test", running=True)
    cloud.add_unmanaged("iac-legacy", running=False)
    converge(start, cloud)
    unmanaged = [vm for vm in cloud.list_vms() if not vm.managed]
    the_plan, _ = converge(goal, cloud)
    assert as_specs(managed(cloud)) == tuple(sorted(goal))
    assert [vm for vm in cloud.list_vms() if not vm.managed] == unmanaged
    assert plan(goal, cloud.list_vms()).is_empty
    # Every action in the plan was needed: a VM already as declared gets no action.
    untouched = set(as_specs(managed_after(start))) & set(goal)
    assert not {a.name for a in the_plan.actions} & {s.name for s in untouched}


def managed_after(fleet):
    cloud = InMemoryProvider()
    converge(fleet, cloud)
    return managed(cloud)


@needs_libvirt
@settings(max_examples=15, deadline=None)
@given(start=fleets, goal=fleets)
def test_libvirt_converges_like_the_in_memory_provider(start, goal):
    with LibvirtProvider.open() as virt:
        try:
            converge(start, virt)
            converge(goal, virt)
            assert as_specs(managed(virt)) == tuple(sorted(goal))
            assert plan(goal, virt.list_vms()).is_empty
            assert any(vm.name == "test" and not vm.managed for vm in virt.list_vms())
        finally:
            for vm in managed(virt):
                virt.destroy(vm.name)


@needs_libvirt
def test_libvirt_failures_become_one_sentence(virt, monkeypatch):
    import libvirt

    converge(fleet_from_mapping({"iac-web": {"vcpus": 1, "memory_mib": 256, "running": False}}), virt)

    def refuse(*args):
        raise libvirt.libvirtError("simulated failure")

    monkeypatch.setattr(libvirt.virDomain, "create", refuse)
    with pytest.raises(RuntimeError, match="libvirt could not start VM 'iac-web'"):
        virt.start("iac-web")


# ---------------------------------------------------- numbers the chapter and its solutions quote

def _chapter_cells() -> list[str]:
    from booklib import ROOT, load_notebook, source
    nb = load_notebook(ROOT / "chapters" / "11-everything-as-a-service.ipynb")
    return [source(c) for c in nb["cells"]]


def test_solution_11_2_prints_the_plan_it_describes():
    from solutions import run_code, solution
    body = solution("11-everything-as-a-service.ipynb", "ex-11-2")
    out = run_code(body)[1].splitlines()
    assert out[0] in body                                  # the summary line, quoted
    assert out[0] == "Plan: 1 to add, 2 to change, 1 to destroy."
    ops = [" ".join(line.split()[:3]) for line in out[1:]]
    assert ops == ["- iac-c destroy", "~ iac-a stop", "~ iac-a vcpus", "~ iac-a start",
                   "~ iac-b start", "+ iac-d create"]
    assert "followed by the six actions above" in body and len(ops) == 6


def test_solution_11_3_prints_the_two_plans_it_describes():
    from solutions import run_code, solution
    body = solution("11-everything-as-a-service.ipynb", "ex-11-3")
    out = [line.split() for line in run_code(body)[1].splitlines()]
    first, second = out[1:2], out[3:]
    assert out[0][0] == out[2][0] == "Plan:"
    assert "the plan has one action, `~ iac-db stop`" in body and [" ".join(a) for a in first] \
        == ["~ iac-db stop"]
    assert [" ".join(a) for a in second] == ["~ iac-db stop", "~ iac-db memory_mib 2048 -> 4096",
                                             "~ iac-db start"]


def test_plans_figure_alt_text_counts_the_demos_actions():
    import re
    from collections import Counter
    cells = _chapter_cells()
    decl = re.search(r'declaration = """(.*?)"""', "".join(cells), re.S).group(1)
    decl_v2 = re.search(r'desired_v2 = fleet_from_yaml\("""(.*?)"""', "".join(cells), re.S).group(1)
    cloud = InMemoryProvider()
    cloud.add_unmanaged("test", vcpus=2, memory_mib=8192, running=True)
    cloud.add_unmanaged("iac-legacy", vcpus=1, memory_mib=512, running=False)
    desired = fleet_from_yaml(decl)
    first = plan(desired, cloud.list_vms())
    apply(first, cloud)
    second, _ = converge(desired, cloud)
    cloud.stop("iac-web")
    cloud.set_vcpus("iac-web", 4)
    drift = plan(desired, cloud.list_vms())
    apply(drift, cloud)
    third = plan(fleet_from_yaml(decl_v2), cloud.list_vms())
    from solutions import alt_text
    alt = alt_text("11-everything-as-a-service.ipynb", "fig-11-plans")
    words = {1: "one", 2: "two", 3: "three"}
    for label, p in (("The first apply has", first), ("After drift there are", drift),
                     ("The new declaration has", third)):
        assert f"{label} {len(p.actions)} actions" in alt
    kinds = Counter(a.op for a in first.actions)
    assert f"({kinds['create']} creates, {kinds['start']} starts)" in alt
    assert "Applying the same declaration again has 0 actions" in alt and not second.actions
    kinds = Counter(a.op for a in drift.actions)
    assert f"({words[kinds['update_vcpus']]} vCPU update and {words[kinds['start']]} start)" in alt
    kinds = Counter(a.op for a in third.actions)
    assert (f"({words[kinds['destroy']]} destroy, {words[kinds['stop']]} stop, "
            f"{words[kinds['update_vcpus']]} vCPU update, {words[kinds['update_memory']]} memory "
            f"update and {words[kinds['start']]} start)") in alt
