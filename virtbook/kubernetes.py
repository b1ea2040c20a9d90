"""Kubernetes in miniature: a reconcile loop that heals a cluster, and the autoscaler's formula.

Chapter 8's orchestration model (pure: numpy only, nothing printed, no matplotlib); the chapter's
container-security models are :mod:`virtbook.noisy_neighbour` and :mod:`virtbook.capabilities`.

**A reconcile loop that heals a cluster** (:func:`simulate_cluster`). Deployments declare a
desired number of replicas; a ReplicaSet-style controller compares that with the pods that
exist and creates or deletes pods; a scheduler places each new pod on a node; kubelets renew
their node's lease; a node-lifecycle controller notices a node that stopped renewing, taints
it, and evicts its pods once their toleration expires, after which the ReplicaSet controller
replaces them elsewhere. The mechanisms and defaults follow Kubernetes:

* controllers as control loops that move the current state towards the desired state, and
  ReplicaSets that "maintain a stable set of replica Pods" (Kubernetes documentation,
  *Controllers*, https://kubernetes.io/docs/concepts/architecture/controller/, and
  *ReplicaSet*, section "Scaling a ReplicaSet", which gives the scale-down order: pending pods
  first, then pods on nodes with more replicas, then the newest);
* the scheduler's two steps, *filtering* (a node is feasible if the pod's requests fit in what
  is left of its allocatable resources) and *scoring*, with ties broken at random
  (*Kubernetes Scheduler*, section "Node selection in kube-scheduler"); the default score is
  ``NodeResourcesFit`` with the ``LeastAllocated`` strategy, CPU and memory weighted 1 each,
  ``(capacity - requested) * 100 // capacity`` per resource (kubernetes/kubernetes,
  pkg/scheduler/framework/plugins/noderesources/least_allocated.go);
* node heartbeats: the kubelet renews its Lease every 10 s (*Nodes*, section "Heartbeats");
  the node controller checks every ``--node-monitor-period`` (5 s) and marks a node whose
  lease is older than ``--node-monitor-grace-period`` as not ready; that default is 50 s since
  Kubernetes 1.32, 40 s before (kube-controller-manager reference; kubernetes/kubernetes pull
  request 126287);
* taint-based eviction: the unreachable node gets the ``node.kubernetes.io/unreachable``
  ``NoExecute`` taint, and every pod carries an automatically added toleration of
  ``tolerationSeconds=300`` for it, so its pods are evicted 5 minutes after the taint
  (*Taints and Tolerations*, section "Taint based Evictions").

What is *not* Kubernetes: the time a pod needs from binding to running (image pull, container
start) is a modelling assumption, drawn uniformly from ``pod_startup_min_s..pod_startup_max_s``;
the controllers run once per simulated second instead of reacting to watch events; the
eviction rate limit (``--node-eviction-rate``) is not modelled.

A cluster run is reproducible: every random choice (scheduler tie-breaks, pod start-up times)
comes from ``numpy.random.default_rng(seed)``, and :meth:`ClusterResult.log` prints a trace a
student can check by hand.

>>> nodes = [Node("node-1"), Node("node-2")]
>>> r = simulate_cluster(nodes, [Deployment("web", replicas=3)], duration_s=60, seed=1)
>>> int(r.running["web"][-1]), int(r.desired["web"][-1])
(3, 3)
>>> hpa_desired_replicas(4, current_metric=200, target_metric=100)
8
>>> hpa_scale_up_path(4, 10)     # the default policy: at most +4 pods or +100 % per 15 s
[4, 8, 10]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence, Union

import numpy as np

from virtbook._validate import check_choice, check_int, check_name, check_real

MAX_CPU_M = 1_000_000  # 1000 cores, in millicores
MAX_MEMORY_MIB = 16 * 1024 * 1024  # 16 TiB
MAX_REPLICAS = 10_000
MAX_DURATION_S = 100_000
MAX_NODES = 1000
MAX_NODE_SCORE = 100  # framework.MaxNodeScore
#: Names are checked as RFC 1123 DNS labels are in length: at most 63 characters (Kubernetes
#: design proposal "identifiers.md", DNS_LABEL); no spaces.
MAX_NAME_LEN = 63


# --------------------------------------------------------------------------------------------
# The declared state: nodes, deployments, and what happens to them.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A machine of the cluster with its allocatable CPU (millicores) and memory (MiB).

    Kubernetes schedules against ``status.allocatable``, what is left of a node's capacity after
    the system reservations; these two numbers play that role.

    >>> Node("node-1").cpu_m
    4000
    """

    name: str
    cpu_m: int = 4000
    memory_mib: int = 8192

    def __post_init__(self) -> None:
        check_name("name", self.name, MAX_NAME_LEN, spaces=False)
        object.__setattr__(self, "cpu_m", check_int("cpu_m", self.cpu_m, 1, MAX_CPU_M))
        object.__setattr__(
            self, "memory_mib", check_int("memory_mib", self.memory_mib, 1, MAX_MEMORY_MIB)
        )


@dataclass(frozen=True)
class Deployment:
    """The desired state of one application: ``replicas`` identical pods, each requesting
    ``cpu_m`` millicores and ``memory_mib`` MiB (the pod's ``resources.requests``).

    >>> Deployment("web", replicas=6, cpu_m=500).replicas
    6
    """

    name: str
    replicas: int = 3
    cpu_m: int = 500
    memory_mib: int = 512

    def __post_init__(self) -> None:
        check_name("name", self.name, MAX_NAME_LEN, spaces=False)
        object.__setattr__(self, "replicas", check_int("replicas", self.replicas, 0, MAX_REPLICAS))
        object.__setattr__(self, "cpu_m", check_int("cpu_m", self.cpu_m, 1, MAX_CPU_M))
        object.__setattr__(
            self, "memory_mib", check_int("memory_mib", self.memory_mib, 1, MAX_MEMORY_MIB)
        )


@dataclass(frozen=True)
class _NodeEvent:
    """Something that happens to node ``node`` at ``at_s`` (the fields both node events share)."""

    node: str
    at_s: int

    def __post_init__(self) -> None:
        check_name("node", self.node, MAX_NAME_LEN, spaces=False)
        object.__setattr__(self, "at_s", check_int("at_s", self.at_s, 0, MAX_DURATION_S))


@dataclass(frozen=True)
class NodeFailure(_NodeEvent):
    """Node ``node`` stops at ``at_s``: its containers stop and its kubelet renews no lease."""


@dataclass(frozen=True)
class NodeRecovery(_NodeEvent):
    """Node ``node`` comes back at ``at_s``: its kubelet renews the lease and restarts the pods
    still bound to it; pods the control plane evicted in the meantime are removed."""


@dataclass(frozen=True)
class Scale:
    """Someone (a person, or the Horizontal Pod Autoscaler) sets ``replicas`` at ``at_s``."""

    deployment: str
    replicas: int
    at_s: int

    def __post_init__(self) -> None:
        check_name("deployment", self.deployment, MAX_NAME_LEN, spaces=False)
        object.__setattr__(self, "replicas", check_int("replicas", self.replicas, 0, MAX_REPLICAS))
        object.__setattr__(self, "at_s", check_int("at_s", self.at_s, 0, MAX_DURATION_S))


ClusterEvent = Union[NodeFailure, NodeRecovery, Scale]


@dataclass(frozen=True)
class ControlPlane:
    """Timing parameters of the control plane, with Kubernetes' defaults (see module docstring).

    * ``node_monitor_period_s`` (kube-controller-manager ``--node-monitor-period``, 5 s): how
      often the node-lifecycle controller looks at the leases.
    * ``node_monitor_grace_period_s`` (``--node-monitor-grace-period``, 50 s since 1.32): how
      old a lease may get before the node is marked not ready and tainted.
    * ``lease_renew_interval_s`` (kubelet, 10 s): how often a live kubelet renews its Lease.
    * ``toleration_seconds`` (kube-apiserver ``--default-unreachable-toleration-seconds``, 300 s):
      how long pods stay bound to a tainted node before they are evicted.
    * ``pod_startup_min_s`` .. ``pod_startup_max_s``: time from binding (or from a node's
      restart) until a pod runs; a modelling assumption, not a Kubernetes default.
    """

    node_monitor_period_s: int = 5
    node_monitor_grace_period_s: int = 50
    lease_renew_interval_s: int = 10
    toleration_seconds: int = 300
    pod_startup_min_s: int = 3
    pod_startup_max_s: int = 8

    def __post_init__(self) -> None:
        check_int("node_monitor_period_s", self.node_monitor_period_s, 1, 3600)
        check_int("lease_renew_interval_s", self.lease_renew_interval_s, 1, 3600)
        check_int("node_monitor_grace_period_s", self.node_monitor_grace_period_s,
                  self.lease_renew_interval_s, 86_400)
        check_int("toleration_seconds", self.toleration_seconds, 0, 86_400)
        check_int("pod_startup_min_s", self.pod_startup_min_s, 0, 3600)
        check_int("pod_startup_max_s", self.pod_startup_max_s, self.pod_startup_min_s, 3600)


# --------------------------------------------------------------------------------------------
# The scheduler's score and the autoscaler's formula, as plain functions.
# --------------------------------------------------------------------------------------------


def least_allocated_score(node: Node, requested_cpu_m: int, requested_memory_mib: int,
                          pod: Deployment) -> int:
    """kube-scheduler's default node score for placing one pod of ``pod`` on ``node``.

    ``requested_*`` is what the pods already bound to the node request. For each resource the
    score is ``(allocatable - requested_after) * 100 // allocatable`` (0 if the pod does not fit)
    and the node score is the integer mean over CPU and memory (weights 1 and 1), as in
    ``leastResourceScorer`` in least_allocated.go. Emptier nodes score higher, so the default
    scheduler spreads pods.

    >>> least_allocated_score(Node("n", 4000, 8192), 1000, 2048, Deployment("w", 1, 1000, 2048))
    50
    >>> least_allocated_score(Node("n", 4000, 8192), 0, 0, Deployment("w", 1, 1000, 2048))
    75
    """
    if not isinstance(node, Node):
        raise ValueError(f"node must be a Node, got {node!r}")
    if not isinstance(pod, Deployment):
        raise ValueError(f"pod must be a Deployment (its requests are used), got {pod!r}")
    cpu = check_int("requested_cpu_m", requested_cpu_m, 0, MAX_CPU_M * MAX_REPLICAS)
    mem = check_int("requested_memory_mib", requested_memory_mib, 0, MAX_MEMORY_MIB * MAX_REPLICAS)
    scores = []
    for req, cap in ((cpu + pod.cpu_m, node.cpu_m), (mem + pod.memory_mib, node.memory_mib)):
        scores.append(0 if req > cap else (cap - req) * MAX_NODE_SCORE // cap)
    return sum(scores) // len(scores)


def hpa_desired_replicas(current_replicas: int, current_metric: float, target_metric: float, *,
                         tolerance: float = 0.1, min_replicas: int = 1,
                         max_replicas: int = MAX_REPLICAS) -> int:
    """The Horizontal Pod Autoscaler's rule for one metric.

    ``desiredReplicas = ceil(currentReplicas * currentMetricValue / desiredMetricValue)``, except
    that nothing changes while the ratio is within ``tolerance`` of 1 (default 0.1, the
    ``--horizontal-pod-autoscaler-tolerance`` flag), and the result is kept within
    ``min_replicas..max_replicas`` (Kubernetes documentation, *Horizontal Pod Autoscaling*,
    section "Algorithm details"). The real controller also sets aside pods that are not ready or
    lack metrics, only scales down after a 5-minute stabilization window, and limits how fast it
    scales up (:func:`hpa_scale_up_limit`); this function is the core formula only.

    >>> hpa_desired_replicas(4, 200, 100)
    8
    >>> hpa_desired_replicas(4, 105, 100)   # within the 10 % tolerance: no change
    4
    >>> hpa_desired_replicas(3, 50, 100)    # ceil(1.5)
    2
    """
    cur = check_int("current_replicas", current_replicas, 1, MAX_REPLICAS)
    metric = check_real("current_metric", current_metric, 0.0)
    target = check_real("target_metric", target_metric, 0.0, lo_open=True)
    tol = check_real("tolerance", tolerance, 0.0, 1.0)
    lo = check_int("min_replicas", min_replicas, 1, MAX_REPLICAS)
    hi = check_int("max_replicas", max_replicas, lo, MAX_REPLICAS)
    ratio = metric / target
    if abs(ratio - 1.0) <= tol:
        desired = cur
    else:
        # round away float noise before the ceiling, so 4 * 1.5 is 6, not 7
        desired = math.ceil(round(cur * ratio, 9))
    return min(hi, max(lo, desired))


#: The HPA controller's default sync period, in seconds (``--horizontal-pod-autoscaler-sync-period``).
HPA_SYNC_PERIOD_S = 15


def hpa_scale_up_limit(current_replicas: int, *, pods: int = 4, percent: int = 100) -> int:
    """The most replicas the HPA's default scale-up behaviour allows one period later.

    With no ``behavior`` set, two policies apply per 15 s period, "4 pods or a 100% of the
    currently running replicas", and the one that allows more wins (``selectPolicy: Max``); there
    is no scale-up stabilization window (Kubernetes documentation, *Horizontal Pod Autoscaling*,
    section "Default Behavior"). The Percent policy rounds up, as the controller does.

    >>> hpa_scale_up_limit(4), hpa_scale_up_limit(1), hpa_scale_up_limit(10)
    (8, 5, 20)
    """
    cur = check_int("current_replicas", current_replicas, 1, MAX_REPLICAS)
    add = check_int("pods", pods, 0, MAX_REPLICAS)
    pct = check_int("percent", percent, 0, 1000)
    return max(cur + add, math.ceil(round(cur * (1 + pct / 100), 9)))


def hpa_scale_up_path(current_replicas: int, desired_replicas: int, *, pods: int = 4,
                      percent: int = 100) -> list[int]:
    """Replica counts at successive HPA syncs (every :data:`HPA_SYNC_PERIOD_S` seconds) while
    the recommendation stays at ``desired_replicas``, each step capped by
    :func:`hpa_scale_up_limit`. It models a load that holds steady; the real controller
    recomputes the recommendation at each sync and treats pods that are not yet ready
    conservatively, which can only slow the climb.

    >>> hpa_scale_up_path(4, 10)
    [4, 8, 10]
    >>> hpa_scale_up_path(4, 3)      # scaling down is not limited by these policies
    [4, 3]
    """
    cur = check_int("current_replicas", current_replicas, 1, MAX_REPLICAS)
    want = check_int("desired_replicas", desired_replicas, 1, MAX_REPLICAS)
    path = [cur]
    while path[-1] < want:
        path.append(min(want, hpa_scale_up_limit(path[-1], pods=pods, percent=percent)))
        if path[-1] == path[-2]:
            raise ValueError(f"pods ({pods}) and percent ({percent}) allow no growth from "
                             f"{path[-1]} replicas; at least one must be positive")
    if want < cur:
        path.append(want)
    return path


def failure_schedule(node_names: Sequence[str], duration_s: int, *, failures: int = 1,
                     min_down_s: int = 60, max_down_s: int = 600, seed: int = 0
                     ) -> list[ClusterEvent]:
    """A seeded random schedule of node failures, each followed by a recovery.

    Failure times are drawn uniformly from the first half of the run, the down time uniformly
    from ``min_down_s..max_down_s``, and the node uniformly from ``node_names`` (a node that is
    already down is not chosen again). The same seed gives the same schedule.

    >>> failure_schedule(["a", "b"], 900, seed=3) == failure_schedule(["a", "b"], 900, seed=3)
    True
    """
    names = list(node_names)
    if not names:
        raise ValueError("node_names must contain at least 1 name, got 0")
    for i, n in enumerate(names):
        check_name(f"node_names[{i}]", n, MAX_NAME_LEN, spaces=False)
    dur = check_int("duration_s", duration_s, 2, MAX_DURATION_S)
    k = check_int("failures", failures, 0, len(names))
    lo = check_int("min_down_s", min_down_s, 1, MAX_DURATION_S)
    hi = check_int("max_down_s", max_down_s, lo, MAX_DURATION_S)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    chosen = rng.choice(len(names), size=k, replace=False)
    events: list[ClusterEvent] = []
    for idx in chosen:
        at = int(rng.integers(1, dur // 2 + 1))
        down = int(rng.integers(lo, hi + 1))
        events.append(NodeFailure(names[int(idx)], at))
        if at + down <= dur:
            events.append(NodeRecovery(names[int(idx)], at + down))
    return sorted(events, key=lambda e: (e.at_s, type(e).__name__, getattr(e, "node", "")))


# --------------------------------------------------------------------------------------------
# The cluster simulation.
# --------------------------------------------------------------------------------------------

PENDING, STARTING, RUNNING, TERMINATING = "Pending", "Starting", "Running", "Terminating"


@dataclass
class _Pod:
    idx: int
    name: str
    dep: str
    created_s: int
    phase: str = PENDING
    node: str | None = None
    ready_at: int = -1
    unschedulable_logged: bool = False


@dataclass
class _NodeState:
    spec: Node
    alive: bool = True
    last_renew: int = 0
    ready: bool = True  # the control plane's view
    taint_since: int | None = None
    cpu_req: int = 0
    mem_req: int = 0


@dataclass(frozen=True)
class Event:
    """One line of the event log: when, which component, and what it did."""

    time_s: int
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.time_s:6d} s  {self.source:<15} {self.message}"


@dataclass
class ClusterResult:
    """What happened during :func:`simulate_cluster`, second by second.

    ``desired[d]``, ``running[d]`` (pods actually serving: phase Running on a live node),
    ``ready[d]`` (pods the control plane counts as ready: Running on a node it believes is
    ready) and ``pending[d]`` are integer arrays indexed like ``times_s``. ``node_cpu_m[n]`` and
    ``node_memory_mib[n]`` are the requests bound to node ``n`` at each second.
    """

    times_s: np.ndarray
    desired: dict[str, np.ndarray]
    running: dict[str, np.ndarray]
    ready: dict[str, np.ndarray]
    pending: dict[str, np.ndarray]
    node_cpu_m: dict[str, np.ndarray]
    node_memory_mib: dict[str, np.ndarray]
    events: list[Event] = field(default_factory=list)
    seed: int = 0

    def log(self, limit: int | None = None, *, source: str | None = None) -> str:
        """The event log as text, one event per line, optionally only one ``source``."""
        rows = [e for e in self.events if source is None or e.source == source]
        if limit is not None:
            rows = rows[:check_int("limit", limit, 0)]
        return "\n".join(str(e) for e in rows)

    def outage_s(self, deployment: str) -> int:
        """Seconds during which ``deployment`` had fewer pods serving than desired."""
        check_choice("deployment", deployment, sorted(self.desired))
        return int(np.sum(self.running[deployment] < self.desired[deployment]))

    def healed_at(self, after_s: int) -> int | None:
        """First second at or after ``after_s`` from which every deployment serves its desired
        number of pods until the end of the run; ``None`` if that never happens."""
        after = check_int("after_s", after_s, 0)
        ok = np.ones_like(self.times_s, dtype=bool)
        for d in self.desired:
            ok &= self.running[d] == self.desired[d]
        bad = np.nonzero(~ok)[0]
        last_bad = int(bad[-1]) if bad.size else -1
        first = max(after, last_bad + 1)
        return int(self.times_s[first]) if first < len(self.times_s) else None

    def total(self, kind: str) -> np.ndarray:
        """``desired``, ``running``, ``ready`` or ``pending`` summed over all deployments."""
        check_choice("kind", kind, ("desired", "running", "ready", "pending"))
        series = getattr(self, kind)
        return np.sum(np.vstack(list(series.values())), axis=0)


class _Cluster:
    """One run of the control loops. Build it, call :meth:`run`."""

    def __init__(self, nodes: Sequence[Node], deployments: Sequence[Deployment],
                 events: Sequence[ClusterEvent], cp: ControlPlane, duration_s: int, seed: int):
        self.cp = cp
        self.end = duration_s
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.nodes = {n.name: _NodeState(n) for n in nodes}
        self.deps = {d.name: d for d in deployments}
        self.desired = {d.name: d.replicas for d in deployments}
        self.pods: list[_Pod] = []
        self.counter = {d.name: 0 for d in deployments}
        self.next_idx = 0
        self.events_in = sorted(events, key=lambda e: (e.at_s, _EVENT_ORDER[type(e)]))
        self.log: list[Event] = []

    # -- helpers -------------------------------------------------------------------------------
    def note(self, t: int, source: str, message: str) -> None:
        self.log.append(Event(t, source, message))

    def _bind(self, pod: _Pod, node: _NodeState, t: int) -> None:
        dep = self.deps[pod.dep]
        pod.node = node.spec.name
        pod.phase = STARTING
        pod.ready_at = t + self._startup()
        node.cpu_req += dep.cpu_m
        node.mem_req += dep.memory_mib

    def _unbind(self, pod: _Pod) -> None:
        if pod.node is not None:
            dep = self.deps[pod.dep]
            node = self.nodes[pod.node]
            node.cpu_req -= dep.cpu_m
            node.mem_req -= dep.memory_mib
        self.pods.remove(pod)

    def _startup(self) -> int:
        return int(self.rng.integers(self.cp.pod_startup_min_s, self.cp.pod_startup_max_s + 1))

    # -- the components, in the order they act within one second -------------------------------
    def apply_events(self, t: int, pending: list[ClusterEvent]) -> None:
        while pending and pending[0].at_s == t:
            ev = pending.pop(0)
            if isinstance(ev, NodeFailure):
                node = self.nodes[ev.node]
                if node.alive:
                    node.alive = False
                    lost = sum(1 for p in self.pods if p.node == ev.node and p.phase == RUNNING)
                    self.note(t, "injected", f"{ev.node} fails ({lost} running pods stop serving)")
            elif isinstance(ev, NodeRecovery):
                node = self.nodes[ev.node]
                if not node.alive:
                    node.alive = True
                    node.last_renew = t
                    self.note(t, "injected", f"{ev.node} is back; its kubelet renews the lease")
                    for p in list(self.pods):
                        if p.node != ev.node:
                            continue
                        if p.phase == TERMINATING:
                            continue  # removed by the kubelet step below
                        p.phase = STARTING
                        p.ready_at = t + self._startup()
                        self.note(t, f"kubelet/{ev.node}", f"restarts {p.name}")
            else:  # Scale
                old = self.desired[ev.deployment]
                self.desired[ev.deployment] = ev.replicas
                self.note(t, "injected", f"{ev.deployment} scaled {old} -> {ev.replicas}")

    def kubelets(self, t: int) -> None:
        for name, node in self.nodes.items():
            if not node.alive:
                continue
            if t - node.last_renew >= self.cp.lease_renew_interval_s:
                node.last_renew = t
            for p in [p for p in self.pods if p.node == name]:
                if p.phase == TERMINATING:
                    self._unbind(p)
                    self.note(t, f"kubelet/{name}", f"stops and removes {p.name}")
                elif p.phase == STARTING and p.ready_at <= t:
                    p.phase = RUNNING
                    self.note(t, f"kubelet/{name}", f"{p.name} is running")

    def node_lifecycle(self, t: int) -> None:
        if t % self.cp.node_monitor_period_s:
            return
        for name, node in self.nodes.items():
            age = t - node.last_renew
            if node.ready and age > self.cp.node_monitor_grace_period_s:
                node.ready = False
                node.taint_since = t
                self.note(t, "node-controller",
                          f"{name}: lease {age} s old > grace period "
                          f"{self.cp.node_monitor_grace_period_s} s -> NotReady, taint "
                          f"node.kubernetes.io/unreachable:NoExecute")
            elif not node.ready and age <= self.cp.node_monitor_grace_period_s:
                node.ready = True
                node.taint_since = None
                self.note(t, "node-controller", f"{name}: lease renewed -> Ready, taint removed")

    def taint_eviction(self, t: int) -> None:
        for name, node in self.nodes.items():
            if node.taint_since is None or t - node.taint_since < self.cp.toleration_seconds:
                continue
            victims = [p for p in self.pods if p.node == name and p.phase != TERMINATING]
            for p in victims:
                p.phase = TERMINATING
            if victims:
                self.note(t, "taint-eviction",
                          f"{name}: toleration of {self.cp.toleration_seconds} s expired, evicts "
                          + ", ".join(p.name for p in victims))

    def replicasets(self, t: int) -> None:
        for dname, dep in self.deps.items():
            active = [p for p in self.pods if p.dep == dname and p.phase != TERMINATING]
            diff = self.desired[dname] - len(active)
            if diff > 0:
                made = []
                for _ in range(diff):
                    pod = _Pod(self.next_idx, f"{dname}-{self.counter[dname]}", dname, t)
                    self.next_idx += 1
                    self.counter[dname] += 1
                    self.pods.append(pod)
                    made.append(pod.name)
                self.note(t, "replicaset", f"{dname}: {len(active)} of {self.desired[dname]} "
                          f"pods exist -> creates {', '.join(made)}")
            elif diff < 0:
                per_node: dict[str | None, int] = {}
                for p in active:
                    per_node[p.node] = per_node.get(p.node, 0) + 1
                order = sorted(active, key=lambda p: (
                    p.phase != PENDING,            # pending pods go first
                    p.phase == RUNNING,            # then pods not yet running
                    -per_node[p.node],             # then pods on nodes with more replicas
                    -p.created_s, -p.idx,          # then the newest
                ))
                gone = order[:-diff]
                for p in gone:
                    if p.node is None:
                        self._unbind(p)
                    else:
                        p.phase = TERMINATING
                self.note(t, "replicaset", f"{dname}: {len(active)} of {self.desired[dname]} "
                          f"pods exist -> deletes {', '.join(p.name for p in gone)}")

    def scheduler(self, t: int) -> None:
        for pod in [p for p in self.pods if p.phase == PENDING]:
            dep = self.deps[pod.dep]
            best: list[_NodeState] = []
            best_score = -1
            for node in self.nodes.values():
                if not node.ready or node.taint_since is not None:
                    continue  # filter: tainted or not-ready nodes
                if node.cpu_req + dep.cpu_m > node.spec.cpu_m or \
                        node.mem_req + dep.memory_mib > node.spec.memory_mib:
                    continue  # filter: NodeResourcesFit
                score = least_allocated_score(node.spec, node.cpu_req, node.mem_req, dep)
                if score > best_score:
                    best, best_score = [node], score
                elif score == best_score:
                    best.append(node)
            if not best:
                if not pod.unschedulable_logged:
                    pod.unschedulable_logged = True
                    self.note(t, "scheduler", f"{pod.name}: no feasible node (FailedScheduling)")
                continue
            node = best[int(self.rng.integers(len(best)))] if len(best) > 1 else best[0]
            self._bind(pod, node, t)
            self.note(t, "scheduler", f"binds {pod.name} to {node.spec.name} (score {best_score})")

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> ClusterResult:
        n = self.end + 1
        names = list(self.deps)
        desired = {d: np.zeros(n, dtype=np.int64) for d in names}
        running = {d: np.zeros(n, dtype=np.int64) for d in names}
        ready = {d: np.zeros(n, dtype=np.int64) for d in names}
        pending = {d: np.zeros(n, dtype=np.int64) for d in names}
        cpu = {m: np.zeros(n, dtype=np.int64) for m in self.nodes}
        mem = {m: np.zeros(n, dtype=np.int64) for m in self.nodes}
        queue = list(self.events_in)
        for t in range(n):
            self.apply_events(t, queue)
            self.kubelets(t)
            self.node_lifecycle(t)
            self.taint_eviction(t)
            self.replicasets(t)
            self.scheduler(t)
            for d in names:
                desired[d][t] = self.desired[d]
            for p in self.pods:
                node = self.nodes[p.node] if p.node is not None else None
                if p.phase == RUNNING and node is not None:
                    if node.alive:
                        running[p.dep][t] += 1
                    if node.ready:
                        ready[p.dep][t] += 1
                elif p.phase == PENDING:
                    pending[p.dep][t] += 1
            for m, node in self.nodes.items():
                cpu[m][t] = node.cpu_req
                mem[m][t] = node.mem_req
        return ClusterResult(np.arange(n), desired, running, ready, pending, cpu, mem,
                             self.log, self.seed)


_EVENT_ORDER = {NodeFailure: 0, NodeRecovery: 1, Scale: 2}


def simulate_cluster(nodes: Sequence[Node], deployments: Sequence[Deployment],
                     events: Iterable[ClusterEvent] = (), *,
                     control_plane: ControlPlane | None = None, duration_s: int = 900,
                     seed: int = 0) -> ClusterResult:
    """Run the control loops over ``nodes`` for ``duration_s`` seconds (one step per second).

    Each second, in this order: injected ``events`` happen; live kubelets renew their lease,
    remove evicted pods and report started pods as running; every ``node_monitor_period_s`` the
    node-lifecycle controller marks nodes with an expired lease NotReady and taints them (or
    clears a renewed node); pods on a node tainted for ``toleration_seconds`` are evicted; each
    Deployment's ReplicaSet controller creates or deletes pods until the pods that exist match
    the desired count; the scheduler binds pending pods to the best-scoring feasible node.
    Events later than ``duration_s`` do not happen.

    >>> r = simulate_cluster([Node("a", 1000, 1024)], [Deployment("x", 3, 500, 256)],
    ...                      duration_s=30)
    >>> int(r.running["x"][-1]), int(r.pending["x"][-1])   # only two fit
    (2, 1)
    """
    node_list = list(nodes)
    if not node_list:
        raise ValueError("nodes must contain at least 1 Node, got 0")
    if len(node_list) > MAX_NODES:
        raise ValueError(f"nodes must contain at most {MAX_NODES} Node, got {len(node_list)}")
    for i, n in enumerate(node_list):
        if not isinstance(n, Node):
            raise ValueError(f"nodes[{i}] must be a Node, got {n!r}")
    if len({n.name for n in node_list}) != len(node_list):
        raise ValueError("nodes must have unique names")
    dep_list = list(deployments)
    for i, d in enumerate(dep_list):
        if not isinstance(d, Deployment):
            raise ValueError(f"deployments[{i}] must be a Deployment, got {d!r}")
    if not dep_list:
        raise ValueError("deployments must contain at least 1 Deployment, got 0")
    if len({d.name for d in dep_list}) != len(dep_list):
        raise ValueError("deployments must have unique names")
    dur = check_int("duration_s", duration_s, 1, MAX_DURATION_S)
    seed_v = check_int("seed", seed, 0)
    cp = ControlPlane() if control_plane is None else control_plane
    if not isinstance(cp, ControlPlane):
        raise ValueError(f"control_plane must be a ControlPlane, got {cp!r}")
    node_names = {n.name for n in node_list}
    dep_names = {d.name for d in dep_list}
    ev_list = list(events)
    for i, ev in enumerate(ev_list):
        if isinstance(ev, (NodeFailure, NodeRecovery)):
            check_choice(f"events[{i}].node", ev.node, sorted(node_names))
        elif isinstance(ev, Scale):
            check_choice(f"events[{i}].deployment", ev.deployment, sorted(dep_names))
        else:
            raise ValueError(f"events[{i}] must be a NodeFailure, NodeRecovery or Scale, "
                             f"got {ev!r}")
    return _Cluster(node_list, dep_list, ev_list, cp, dur, seed_v).run()


def default_cluster() -> tuple[list[Node], list[Deployment], list[ClusterEvent]]:
    """The chapter's scenario: three 4-core nodes, a web tier of 6 pods and an API of 3 pods;
    ``node-2`` fails at 120 s and comes back at 700 s."""
    nodes = [Node(f"node-{i}", cpu_m=4000, memory_mib=8192) for i in (1, 2, 3)]
    deps = [Deployment("web", replicas=6, cpu_m=500, memory_mib=512),
            Deployment("api", replicas=3, cpu_m=1000, memory_mib=1024)]
    events: list[ClusterEvent] = [NodeFailure("node-2", 120), NodeRecovery("node-2", 700)]
    return nodes, deps, events


__all__ = [
    "ClusterEvent", "ClusterResult", "ControlPlane", "Deployment", "Event", "HPA_SYNC_PERIOD_S",
    "Node", "NodeFailure", "NodeRecovery", "Scale", "default_cluster", "failure_schedule",
    "hpa_desired_replicas", "hpa_scale_up_limit", "hpa_scale_up_path", "least_allocated_score",
    "simulate_cluster",
]
