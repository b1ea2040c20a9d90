"""Chapter 8's models (virtbook.kubernetes, noisy_neighbour, capabilities): the reconcile loop that heals a cluster, the
scheduler's score, the HPA formula, the noisy neighbour on the CFS model, and capabilities."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import alt_text, markdown, run_solution, solution
from virtbook import capabilities as caps
from virtbook import kubernetes as k8s
from virtbook import noisy_neighbour as nn
from virtbook.kubernetes import (
    ControlPlane, Deployment, Node, NodeFailure, NodeRecovery, Scale, simulate_cluster,
)

FAST = settings(max_examples=25, deadline=None)


def small_cluster():
    nodes = [Node(f"n{i}", cpu_m=4000, memory_mib=8192) for i in range(3)]
    deps = [Deployment("web", replicas=4, cpu_m=500, memory_mib=512),
            Deployment("api", replicas=2, cpu_m=1000, memory_mib=1024)]
    return nodes, deps


# ------------------------------------------------------------------------------------------
# convergence and healing
# ------------------------------------------------------------------------------------------

def test_converges_to_desired_within_the_startup_time():
    nodes, deps = small_cluster()
    cp = ControlPlane()
    r = simulate_cluster(nodes, deps, duration_s=60, control_plane=cp, seed=3)
    t_ok = r.healed_at(0)
    assert t_ok is not None and t_ok <= cp.pod_startup_max_s
    for d in deps:
        assert r.running[d.name][-1] == d.replicas
        assert r.ready[d.name][-1] == d.replicas
        assert r.pending[d.name][-1] == 0


@FAST
@given(grace=st.integers(10, 120), toleration=st.integers(0, 400), fail_at=st.integers(20, 200),
       seed=st.integers(0, 1000))
def test_heals_after_a_node_failure_within_the_modelled_delay(grace, toleration, fail_at, seed):
    nodes, deps = small_cluster()  # two nodes can hold everything: the failure is survivable
    cp = ControlPlane(node_monitor_grace_period_s=grace, toleration_seconds=toleration)
    r = simulate_cluster(nodes, deps, [NodeFailure("n1", fail_at)], control_plane=cp,
                         duration_s=fail_at + grace + toleration + 60, seed=seed)
    lost = r.total("desired")[fail_at] - r.total("running")[fail_at]
    healed = r.healed_at(fail_at)
    assert healed is not None
    # detection needs the lease to age past the grace period (the last renewal can be up to one
    # renew interval before the failure, the check runs every monitor period), then the pods
    # must outlive their toleration, then the replacements must start
    latest = (fail_at + grace + cp.node_monitor_period_s + toleration + cp.pod_startup_max_s)
    assert healed <= latest
    if lost:
        earliest = fail_at - cp.lease_renew_interval_s + grace + toleration
        assert healed > earliest


def test_healing_moves_the_pods_off_the_failed_node():
    nodes, deps, events = k8s.default_cluster()
    r = simulate_cluster(nodes, deps, events[:1], duration_s=600, seed=0)
    late_binds = [e.message for e in r.events if e.source == "scheduler" and e.time_s > 120]
    assert late_binds and not any("node-2" in m for m in late_binds)
    # evicted pods stay bound (Terminating) until the dead node's kubelet confirms, as in
    # Kubernetes, so the failed node still carries their requests
    assert r.node_cpu_m["node-2"][-1] == r.node_cpu_m["node-2"][119]
    assert r.total("running")[-1] == r.total("desired")[-1]
    assert "taint-eviction" in r.log()


def test_a_short_outage_restarts_pods_in_place_without_replacements():
    nodes, deps = small_cluster()
    events = [NodeFailure("n0", 50), NodeRecovery("n0", 150)]  # back before 300 s toleration
    r = simulate_cluster(nodes, deps, events, duration_s=300, seed=1)
    creations = [e for e in r.events if e.source == "replicaset" and e.time_s > 0]
    assert creations == []
    assert "restarts" in r.log(source="kubelet/n0")
    assert r.healed_at(50) <= 150 + ControlPlane().pod_startup_max_s


def test_control_plane_view_lags_reality():
    nodes, deps, events = k8s.default_cluster()
    r = simulate_cluster(nodes, deps, events, duration_s=400, seed=0)
    after = slice(121, 160)  # failed, but the grace period has not expired yet
    assert np.all(r.total("running")[after] < r.total("desired")[after])
    assert np.all(r.total("ready")[after] == r.total("desired")[after])


def test_unschedulable_pods_wait_and_are_placed_when_capacity_returns():
    nodes = [Node("a", 2000, 4096), Node("b", 2000, 4096)]
    deps = [Deployment("web", replicas=4, cpu_m=1000, memory_mib=1024)]  # exactly full
    cp = ControlPlane(toleration_seconds=30)
    r = simulate_cluster(nodes, deps, [NodeFailure("b", 20), NodeRecovery("b", 300)],
                         control_plane=cp, duration_s=400, seed=0)
    assert "FailedScheduling" in r.log(source="scheduler")
    assert r.pending["web"][200] > 0                      # nowhere to go while b is down
    assert r.running["web"][-1] == 4 and r.pending["web"][-1] == 0


@FAST
@given(seed=st.integers(0, 10_000), data=st.data())
def test_never_exceeds_node_capacity_and_never_overshoots_desired(seed, data):
    n_nodes = data.draw(st.integers(1, 4))
    nodes = [Node(f"n{i}", cpu_m=data.draw(st.integers(500, 4000)),
                  memory_mib=data.draw(st.integers(512, 8192))) for i in range(n_nodes)]
    deps = [Deployment(f"d{j}", replicas=data.draw(st.integers(0, 8)),
                       cpu_m=data.draw(st.integers(100, 1500)),
                       memory_mib=data.draw(st.integers(64, 2048))) for j in range(2)]
    events = k8s.failure_schedule([n.name for n in nodes], 300,
                                  failures=data.draw(st.integers(0, n_nodes)), seed=seed)
    events.append(Scale("d0", data.draw(st.integers(0, 8)), data.draw(st.integers(0, 300))))
    cp = ControlPlane(toleration_seconds=data.draw(st.integers(0, 120)))
    r = simulate_cluster(nodes, deps, events, control_plane=cp, duration_s=300, seed=seed)
    for n in nodes:
        assert r.node_cpu_m[n.name].max() <= n.cpu_m
        assert r.node_memory_mib[n.name].max() <= n.memory_mib
        assert r.node_cpu_m[n.name].min() >= 0
    for d in deps:
        assert np.all(r.running[d.name] <= r.desired[d.name])
        assert np.all(r.ready[d.name] <= r.desired[d.name] + 0)


def test_scaling_follows_the_desired_state_and_deletes_pending_pods_first():
    nodes = [Node("a", 2000, 8192)]
    deps = [Deployment("web", replicas=2, cpu_m=500)]
    r = simulate_cluster(nodes, deps, [Scale("web", 6, 30), Scale("web", 3, 60)],
                         duration_s=100, seed=0)
    assert r.desired["web"][45] == 6
    assert r.running["web"][55] == 4 and r.pending["web"][55] == 2   # only 4 fit
    deletion = [e for e in r.events if "deletes" in e.message][0]
    pending_names = {"web-4", "web-5"}                                 # created last, unplaced
    deleted = deletion.message.split("deletes ")[1].split(", ")
    assert set(deleted[:2]) == pending_names and len(deleted) == 3
    assert r.running["web"][-1] == 3


def test_same_seed_same_run_and_seed_drives_the_choices():
    nodes, deps, events = k8s.default_cluster()
    a = simulate_cluster(nodes, deps, events, duration_s=300, seed=11)
    b = simulate_cluster(nodes, deps, events, duration_s=300, seed=11)
    assert a.log() == b.log()
    for d in a.running:
        assert np.array_equal(a.running[d], b.running[d])
    logs = {simulate_cluster(nodes, deps, events, duration_s=300, seed=s).log() for s in range(6)}
    assert len(logs) > 1


# ------------------------------------------------------------------------------------------
# scheduler score, HPA, failure schedule
# ------------------------------------------------------------------------------------------

@given(cap=st.integers(1000, 64000), used=st.integers(0, 64000), req=st.integers(1, 8000))
def test_least_allocated_score_matches_the_formula_and_prefers_emptier_nodes(cap, used, req):
    node = Node("n", cpu_m=cap, memory_mib=cap)
    pod = Deployment("p", 1, cpu_m=req, memory_mib=req)
    s = k8s.least_allocated_score(node, used, used, pod)
    expect = 0 if used + req > cap else (cap - used - req) * 100 // cap
    assert s == expect and 0 <= s <= 100
    if used > 0:
        assert k8s.least_allocated_score(node, used - 1, used - 1, pod) >= s


@given(cur=st.integers(1, 200), metric=st.floats(0, 1000), target=st.floats(1, 1000),
       lo=st.integers(1, 5), span=st.integers(0, 300))
def test_hpa_formula_tolerance_and_bounds(cur, metric, target, lo, span):
    hi = lo + span
    got = k8s.hpa_desired_replicas(cur, metric, target, min_replicas=lo, max_replicas=hi)
    assert lo <= got <= hi
    ratio = metric / target
    if abs(ratio - 1) <= 0.1:
        assert got == min(hi, max(lo, cur))
    else:
        assert got == min(hi, max(lo, math.ceil(round(cur * ratio, 9))))


def test_hpa_is_monotone_in_load():
    values = [k8s.hpa_desired_replicas(5, m, 50) for m in range(0, 500, 7)]
    assert values == sorted(values)


@pytest.mark.parametrize("cur, limit", [(1, 5), (3, 7), (4, 8), (5, 10), (10, 20), (100, 200)])
def test_hpa_default_scale_up_allows_four_pods_or_doubling_whichever_is_more(cur, limit):
    assert k8s.hpa_scale_up_limit(cur) == limit
    assert k8s.hpa_scale_up_limit(cur, pods=0, percent=50) == math.ceil(cur * 1.5)


@given(cur=st.integers(1, 300), want=st.integers(1, 3000))
def test_hpa_scale_up_path_climbs_at_the_policy_rate_and_stops_at_the_recommendation(cur, want):
    path = k8s.hpa_scale_up_path(cur, want)
    assert path[0] == cur and path[-1] == want
    for a, b in zip(path, path[1:]):
        if b > a:
            assert b <= k8s.hpa_scale_up_limit(a)
            assert b == want or b == k8s.hpa_scale_up_limit(a), "each step takes all it may"
    if want >= cur:
        assert path == sorted(path)


def test_the_chapters_hpa_example_reaches_ten_pods_in_two_periods():
    desired = k8s.hpa_desired_replicas(4, 150, 60)
    assert desired == 10
    assert k8s.hpa_scale_up_path(4, desired) == [4, 8, 10]
    assert k8s.HPA_SYNC_PERIOD_S == 15


def test_hpa_scale_up_rejects_bad_input():
    with pytest.raises(ValueError, match="current_replicas"):
        k8s.hpa_scale_up_limit(0)
    with pytest.raises(ValueError, match="percent"):
        k8s.hpa_scale_up_limit(4, percent=-1)
    with pytest.raises(ValueError, match="allow no growth"):
        k8s.hpa_scale_up_path(4, 9, pods=0, percent=0)
    with pytest.raises(ValueError, match="desired_replicas"):
        k8s.hpa_scale_up_path(4, 0)


def test_failure_schedule_is_seeded_and_recoveries_follow_failures():
    a = k8s.failure_schedule(["a", "b", "c"], 1000, failures=2, seed=5)
    assert a == k8s.failure_schedule(["a", "b", "c"], 1000, failures=2, seed=5)
    fails = {e.node: e.at_s for e in a if isinstance(e, NodeFailure)}
    assert len(fails) == 2
    for e in a:
        if isinstance(e, NodeRecovery):
            assert 60 <= e.at_s - fails[e.node] <= 600


# ------------------------------------------------------------------------------------------
# noisy neighbour (virtbook.cpu CFS)
# ------------------------------------------------------------------------------------------

def test_without_cgroups_a_many_threaded_miner_starves_the_neighbours():
    alone = nn.noisy_neighbour("alone", duration_ms=3000)
    shared = nn.noisy_neighbour("shared", duration_ms=3000)
    isolated = nn.noisy_neighbour("cgroups", duration_ms=3000)
    assert alone.cpu_share["miner"] == 0.0
    assert shared.cpu_share["api"] < 0.6 * alone.cpu_share["api"]
    assert isolated.cpu_share["api"] > 0.9 * alone.cpu_share["api"]
    assert shared.web_p99_ms > isolated.web_p99_ms
    assert shared.web_steal_pct > isolated.web_steal_pct
    for r in (shared, isolated):
        assert sum(r.cpu_share.values()) <= 2.0 + 1e-9


def test_with_cgroups_the_miner_share_does_not_grow_with_its_threads():
    few = nn.noisy_neighbour("cgroups", miner_threads=4, duration_ms=3000)
    many = nn.noisy_neighbour("cgroups", miner_threads=16, duration_ms=3000)
    assert abs(few.cpu_share["miner"] - many.cpu_share["miner"]) < 0.05
    s4 = nn.noisy_neighbour("shared", miner_threads=4, duration_ms=3000)
    s16 = nn.noisy_neighbour("shared", miner_threads=16, duration_ms=3000)
    assert s16.cpu_share["miner"] > s4.cpu_share["miner"]


def test_splitting_the_miner_into_containers_defeats_per_container_weights():
    # eight one-thread containers carry eight weights of 100 against api's one
    one = nn.noisy_neighbour("cgroups", duration_ms=3000)
    eight = nn.noisy_neighbour("cgroups", miner_containers=8, duration_ms=3000)
    assert eight.miner_containers == 8 and eight.miner_cpus is None
    assert eight.cpu_share["miner"] > one.cpu_share["miner"] + 0.2
    assert eight.cpu_share["api"] < 0.6 * one.cpu_share["api"]
    assert eight.api_steal_pct > one.api_steal_pct


@pytest.mark.parametrize("containers, cpus", [(1, 0.5), (1, 1.0), (2, 0.25), (8, 0.0625)])
def test_cpu_max_holds_the_miner_to_its_cap_among_neighbours(containers, cpus):
    r = nn.noisy_neighbour("cgroups", miner_containers=containers, miner_cpus=cpus,
                            duration_ms=3000)
    assert r.miner_cpus == cpus
    assert r.cpu_share["miner"] == pytest.approx(containers * cpus, abs=0.02)
    assert sum(r.cpu_share.values()) <= 2.0 + 1e-9


def test_a_tighter_cap_on_many_miner_containers_gives_api_more_cpu():
    free = nn.noisy_neighbour("cgroups", miner_containers=8, duration_ms=3000)
    api = [nn.noisy_neighbour("cgroups", miner_containers=8, miner_cpus=total / 8,
                               duration_ms=3000).cpu_share["api"] for total in (1.0, 0.5, 0.25)]
    assert free.cpu_share["api"] < api[0] < api[1] < api[2]
    alone = nn.noisy_neighbour("alone", duration_ms=3000)
    assert api[2] > 0.85 * alone.cpu_share["api"]


def test_with_one_miner_container_a_cap_leaves_the_neighbours_what_they_need():
    alone = nn.noisy_neighbour("alone", duration_ms=3000)
    capped = nn.noisy_neighbour("cgroups", miner_cpus=0.5, duration_ms=3000)
    for name in ("web", "api"):
        assert capped.cpu_share[name] > 0.85 * alone.cpu_share[name]
    # the cap is not work-conserving: CPU time is left idle although the miner wants it
    assert sum(capped.cpu_share.values()) < 2.0 - 0.5


@pytest.mark.parametrize("cpus", [0.25, 0.5, 1.0, 1.5])
def test_cpu_max_caps_the_miner_even_on_an_idle_host(cpus):
    assert nn.miner_alone(cpus, duration_ms=1000) == pytest.approx(cpus, abs=0.01)


def test_unlimited_miner_uses_every_cpu_it_can():
    assert nn.miner_alone(None, miner_threads=8, pcpus=2, duration_ms=500) == pytest.approx(2.0)
    assert nn.miner_alone(None, miner_threads=1, pcpus=2, duration_ms=500) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------
# capabilities
# ------------------------------------------------------------------------------------------

@given(st.sets(st.sampled_from(caps.CAPABILITIES)))
def test_capability_mask_round_trips(names):
    mask = caps.capability_mask(names)
    assert set(caps.decode_capabilities(mask)) == names
    assert caps.decode_capabilities(f"{mask:016x}") == caps.decode_capabilities(mask)


def test_docker_default_set_is_the_known_capeff_value():
    assert len(caps.DOCKER_DEFAULT_CAPS) == 14
    assert caps.capability_mask(caps.DOCKER_DEFAULT_CAPS) == 0xA80425FB
    assert "CAP_SYS_ADMIN" not in caps.DOCKER_DEFAULT_CAPS
    assert caps.decode_capabilities(1 << 45) == ["CAP_45"]


def test_own_capabilities_parses_a_status_text():
    text = "Name:\tpython\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\n"
    found = caps.own_capabilities(text)
    assert found["CapEff"] == []
    assert set(found["CapBnd"]) == caps.DOCKER_DEFAULT_CAPS
    assert caps.own_capabilities("Name:\tx\n") is None


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, match", [
    (lambda: Node("n", cpu_m=0), r"cpu_m must be an integer in 1\.\.1000000, got 0"),
    (lambda: Node("two words"), "name must be"),
    (lambda: Node("n", memory_mib=-1), "memory_mib must be"),
    (lambda: Deployment("d", replicas=-1), r"replicas must be an integer in 0\.\.10000"),
    (lambda: Deployment("d", cpu_m=1.5), "cpu_m must be"),
    (lambda: NodeFailure("n", -5), "at_s must be"),
    (lambda: Scale("d", 3, True), "at_s must be"),
    (lambda: ControlPlane(node_monitor_grace_period_s=5), r"node_monitor_grace_period_s must be"
                                                          r" an integer in 10\.\."),
    (lambda: ControlPlane(pod_startup_min_s=9, pod_startup_max_s=8), "pod_startup_max_s"),
    (lambda: ControlPlane(toleration_seconds=-1), "toleration_seconds"),
])
def test_bad_parameters_name_themselves(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("kwargs, match", [
    ({"nodes": []}, "nodes must contain at least 1"),
    ({"nodes": [Node("a"), Node("a")]}, "unique names"),
    ({"deployments": []}, "deployments must contain at least 1"),
    ({"events": [NodeFailure("zz", 5)]}, r"events\[0\]\.node must be one of"),
    ({"events": [Scale("zz", 1, 5)]}, r"events\[0\]\.deployment must be one of"),
    ({"events": ["boom"]}, r"events\[0\] must be"),
    ({"duration_s": 0}, r"duration_s must be an integer in 1\.\."),
    ({"seed": -1}, "seed must be"),
    ({"control_plane": "fast"}, "control_plane must be a ControlPlane"),
])
def test_simulate_cluster_rejects_bad_input(kwargs, match):
    args = {"nodes": [Node("a")], "deployments": [Deployment("web")], "events": [],
            "duration_s": 100}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        simulate_cluster(args.pop("nodes"), args.pop("deployments"), args.pop("events"), **args)


@pytest.mark.parametrize("call, match", [
    (lambda: k8s.hpa_desired_replicas(0, 1, 1), "current_replicas"),
    (lambda: k8s.hpa_desired_replicas(1, 1, 0), "target_metric must be a number greater than 0"),
    (lambda: k8s.hpa_desired_replicas(1, -1, 1), "current_metric"),
    (lambda: k8s.hpa_desired_replicas(1, 1, 1, tolerance=2), "tolerance"),
    (lambda: k8s.hpa_desired_replicas(1, 1, 1, min_replicas=5, max_replicas=2), "max_replicas"),
    (lambda: k8s.least_allocated_score("n", 0, 0, Deployment("d")), "node must be a Node"),
    (lambda: k8s.failure_schedule([], 100), "node_names must contain"),
    (lambda: k8s.failure_schedule(["a"], 100, failures=2), "failures must be"),
    (lambda: nn.noisy_neighbour("vm"), "config must be one of"),
    (lambda: nn.noisy_neighbour("shared", miner_threads=0), "miner_threads"),
    (lambda: nn.miner_alone(0.01), "cpus must be a number"),
    (lambda: nn.noisy_neighbour("shared", miner_cpus=0.5), "miner_cpus needs config 'cgroups'"),
    (lambda: nn.noisy_neighbour("cgroups", miner_containers=3), "miner_containers must divide"),
    (lambda: nn.noisy_neighbour("cgroups", miner_containers=9),
     r"miner_containers must be an integer in 1\.\.8, got 9"),
    (lambda: nn.noisy_neighbour("cgroups", miner_cpus=0.001), "miner_cpus must be a number"),
    (lambda: nn.noisy_neighbour("cgroups", miner_cpus=9.0), "miner_cpus must be a number"),
    (lambda: caps.capability_mask(["CAP_FLY"]), "names must be capability names"),
    (lambda: caps.decode_capabilities("xyz"), "mask must be"),
    (lambda: caps.decode_capabilities(-1), "mask must be in"),
    (lambda: caps.own_capabilities(42), "status_text must be a string"),
])
def test_helpers_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_result_helpers_reject_bad_input():
    r = simulate_cluster([Node("a")], [Deployment("web", 1)], duration_s=10)
    with pytest.raises(ValueError, match="deployment must be one of"):
        r.outage_s("api")
    with pytest.raises(ValueError, match="kind must be one of"):
        r.total("lost")


# ------------------------------------------------------------------------------------------
# every model number that chapter 8's prose, solutions and alt texts quote without glue
# ------------------------------------------------------------------------------------------

NB08 = "08-orchestration-security.ipynb"


def _demo():
    nodes, deps, events = k8s.default_cluster()
    return simulate_cluster(nodes, deps, events, duration_s=900, seed=0)


def test_demo_prose_and_alt_text_match_the_simulation():
    r = _demo()
    text = " ".join(markdown(NB08).split())
    notready = next(e for e in r.events if "NotReady" in e.message)
    assert notready.time_s == 165 and "lease 55 s old" in notready.message
    assert "last renewed its lease at 110 s" in text and notready.time_s - 55 == 110
    assert (int(r.running["web"][120]), int(r.desired["web"][120])) == (4, 6)
    assert (int(r.running["api"][120]), int(r.desired["api"][120])) == (2, 3)
    assert "four of six `web` and two of three `api` pods" in text
    alt = alt_text(NB08, "fig-08-heal")
    desired = int(r.total("desired")[0])
    serving_after_failure = int(r.total("running")[121])
    evicted = next(e.time_s for e in r.events if e.source == "taint-eviction")
    assert (desired, serving_after_failure, evicted, r.healed_at(120)) == (9, 6, 465, 473)
    for quoted in ("Nine pods are desired", "drop to six", "at 165 s", "at 465 s",
                   "from 473 s nine pods", "at 700 s"):
        assert quoted in alt, quoted


def test_ex_08_2_solution_times_are_the_simulated_ones():
    _, out = run_solution(NB08, "ex-08-2")
    assert "165 s" in out and "NotReady" in out and "465 s" in out
    text = " ".join(solution(NB08, "ex-08-2").split())
    assert "NotReady at 165 s, eviction 300 s later at 465 s" in text


def test_ex_08_3_solution_outages_are_the_simulated_ones():
    _, out = run_solution(NB08, "ex-08-3")
    lines = out.strip().splitlines()
    (d_out, d_heal), (t_out, _), (f_out, _) = (map(int, line.split()) for line in lines[:3])
    assert d_out > 5 * 60 and d_heal == 473, "about six minutes with the defaults"
    assert t_out < 90, "toleration 30 s: under 90 s"
    assert 50 <= f_out <= 70, "fast settings: about a minute"
    slow_default, slow_fast = lines[3], lines[4]
    assert slow_default.startswith("74 []"), "defaults: nothing evicted, about 74 s"
    assert slow_fast.startswith("58 ") and "creates web-6, web-7" in slow_fast
    assert "creates api-3" in slow_fast, "three replacements"
    nodes, deps, events = k8s.default_cluster()
    fast = ControlPlane(toleration_seconds=30, node_monitor_grace_period_s=20)
    r = simulate_cluster(nodes, deps, events, control_plane=fast)
    assert next(e.time_s for e in r.events if "NotReady" in e.message) == 135
    text = " ".join(solution(NB08, "ex-08-3").split())
    for quoted in ("under 90 s", "NotReady at 135 s", "outage about 74 s", "evicted at 165 s",
                   "about 58 s"):
        assert quoted in text, quoted


def test_ex_08_2_to_4_hand_numbers():
    """What ex-08-2, ex-08-3 and ex-08-4 work out by hand, from the model's parameters
    (registered in tests/test_solution_numbers.py)."""
    cp = ControlPlane()
    renew, period, grace = (cp.lease_renew_interval_s, cp.node_monitor_period_s,
                            cp.node_monitor_grace_period_s)
    assert (renew, period, grace, cp.toleration_seconds) == (10, 5, 50, 300)
    # ex-08-2 (a): failure at 120 s, last renewal at 110 s, more than 50 s old from 161 s,
    # first check after that at 165 s, eviction at 465 s
    last = max(t for t in range(0, 120, renew))
    assert last == 110 and last + grace + 1 == 161
    assert min(t for t in range(0, 1000, period) if t > last + grace) == 165 == 465 - 300
    # (b): the mark comes grace - renew = 40 s after the failure at the soonest (a failure just
    # before a renewal) and grace + period = 55 s at the latest; the simulator lies in between
    assert (grace - renew, grace + period) == (40, 55)
    nodes, deps, _ = k8s.default_cluster()
    for failure in range(100, 121):
        r = simulate_cluster(nodes, deps, [NodeFailure("node-2", failure)], duration_s=200)
        marked = next(e.time_s for e in r.events if "NotReady" in e.message)
        assert 40 <= marked - failure <= 55
    assert (cp.pod_startup_min_s, cp.pod_startup_max_s) == (3, 8)
    # ex-08-3 (b): with a grace period of 20 s detection takes 135 - 120 = 15 s
    assert 135 - 120 == 15
    # ex-08-4 (b): api shares two CPUs with n miner threads and itself: 2 / (n + 2), so
    # 2 / 18 = 0.11 for 16 threads and at least 2 / (2 + 2) = 0.5 for one or two
    assert 16 + 2 == 18 and round(2 / 18, 2) == 0.11 and 2 / (2 + 2) == 0.5


def test_noisy_figure_alt_text_holds_for_the_demo_runs():
    runs = {c: nn.noisy_neighbour(c, miner_threads=8, pcpus=2, duration_ms=5000, seed=0)
            for c in nn.NEIGHBOUR_CONFIGS}
    alone, shared, isolated = runs["alone"], runs["shared"], runs["cgroups"]
    assert 0.4 <= alone.cpu_share["api"] <= 0.6, "api needs about half a CPU"
    assert alone.cpu_share["web"] < alone.cpu_share["api"], "web needs little"
    assert shared.cpu_share["miner"] > 1.0, "the miner takes most of the two CPUs"
    assert shared.cpu_share["api"] < 0.5 * alone.cpu_share["api"], "api gets far less"
    assert abs(isolated.cpu_share["api"] - alone.cpu_share["api"]) < 0.05
    assert alone.web_p99_ms < 0.5 and isolated.web_p99_ms < 0.5, "near zero"
    assert 2 <= shared.web_p99_ms <= 10, "several milliseconds"
    alt = alt_text(NB08, "fig-08-noisy")
    for quoted in ("about half a CPU", "most of the two CPUs", "near zero", "several milliseconds"):
        assert quoted in alt, quoted
