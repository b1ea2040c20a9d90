"""Security in the cloud, in code: who is responsible, who may do what, and fixing what drifts.

Chapter 13 uses three small models from this module.

1. :data:`RESPONSIBILITY` - the shared-responsibility matrix: for each layer of a system and each
   service model, whether the customer, the provider or both are responsible. It is the book's
   adaptation of Microsoft's table, beside which :data:`MICROSOFT_TABLE` and
   :data:`MICROSOFT_DIAGRAM` keep Microsoft's own two versions.
2. :func:`evaluate` - an IAM-style policy evaluator over JSON policy documents. It follows AWS's
   documented order: an explicit ``Deny`` anywhere wins; otherwise something must explicitly
   ``Allow`` the request; otherwise the request is implicitly denied. It returns a decision
   *and* a trace that says which statement decided and why.
3. :func:`run_remediation` - a seeded inventory of security groups in which people keep opening
   ports, and an event-driven function that revokes any rule that opens SSH to the whole
   internet. It measures how long each hole stays open with and without the function.

    >>> policy = Policy.from_json({"Version": "2012-10-17", "Statement": [
    ...     {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
    ...     {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::payroll/*"}]})
    >>> evaluate(Request("s3:GetObject", "arn:aws:s3:::photos/cat.jpg"), [policy]).decision
    'Allow'
    >>> evaluate(Request("s3:GetObject", "arn:aws:s3:::payroll/2026.csv"), [policy]).decision
    'ExplicitDeny'
    >>> evaluate(Request("s3:PutObject", "arn:aws:s3:::photos/cat.jpg"), [policy]).decision
    'ImplicitDeny'

Sources
-------
* Shared responsibility. Microsoft, "Shared responsibility in the cloud" (Azure security
  fundamentals, page dated 2026-01-12). The page shows the division twice, and the two
  disagree: a long-standing *diagram* (``media/shared-responsibility/shared-responsibility.svg``
  in MicrosoftDocs/azure-docs; its labels are drawn as paths, read here from the geometry) and,
  since the 2026 revision, a *table* ("Responsibility matrix"). The table has a row
  "Configurations and settings" where the diagram has "Identity and directory infrastructure",
  makes client devices and applications shared under SaaS where the diagram makes devices the
  customer's and applications Microsoft's. :data:`MICROSOFT_TABLE` and
  :data:`MICROSOFT_DIAGRAM` hold both verbatim ("Microsoft" written ``provider``);
  :func:`source_differences` lists where they disagree. The page also says "For all cloud
  deployment types, you own your data and identities." AWS, "Shared Responsibility Model": AWS
  is responsible for "security of the cloud", the customer for "security in the cloud", and the
  customer's share is determined by the services chosen.
* The book's matrix, :data:`RESPONSIBILITY`, is an adaptation: Microsoft's table for
  on-premises, IaaS, PaaS and SaaS, plus a FaaS column of the book's own. Microsoft lists Azure
  Functions among its PaaS examples, and AWS's "Security Overview of AWS Lambda" whitepaper ("You
  are responsible only for the code that you provide Lambda, and the configuration of how Lambda
  runs that code on your behalf") and "Understanding the shared responsibility model for Lambda
  runtime management" (Lambda patches managed runtimes in the Auto update mode; for container
  images the customer rebuilds on Lambda's updated base images) draw the line in the same place,
  so the FaaS column equals the PaaS column.
* Policy evaluation. AWS IAM User Guide, "Policy evaluation logic", "How AWS enforcement code
  logic evaluates requests to allow or deny access" and "The difference between explicit and
  implicit denies"; "IAM JSON policy elements: Action" (``*`` and ``?`` wildcards; the service
  prefix and action name are case-insensitive) and "IAM JSON policy elements: Condition
  operators" (a key missing from the request makes a condition false, except for negated
  operators, which are then true). Several operators or keys in one ``Condition`` block must all
  hold (AND); several values for one key are alternatives (OR). Checked 2026-11.
* Auto-remediation. AWS Config managed rule ``restricted-ssh`` (identifier INCOMING_SSH_DISABLED):
  NON_COMPLIANT when a security group allows incoming SSH from 0.0.0.0/0 or ::/0; triggered by
  configuration changes and periodically. AWS Security Blog, "How to Automatically Revert and
  Receive Notifications About Changes to Your Amazon VPC Security Groups": a CloudWatch Events
  (now EventBridge) rule on the CloudTrail ``AuthorizeSecurityGroupIngress`` call invokes a
  Lambda function that revokes the new rule. Amazon EventBridge User Guide, "Events from AWS
  services": events that AWS services deliver via CloudTrail are sent on a best-effort basis and
  "in some rare cases an event might not be delivered", which is why the model keeps a periodic
  sweep as a backstop. The delays in :class:`ExposureModel` are assumptions, named as such.
"""
from __future__ import annotations

import functools
import ipaddress
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from virtbook._validate import check_choice, check_int, check_name, check_real

__all__ = [
    "SERVICE_MODELS",
    "RESPONSIBILITY_AREAS",
    "RESPONSIBILITY",
    "MICROSOFT_MODELS",
    "MICROSOFT_TABLE",
    "MICROSOFT_DIAGRAM",
    "DIAGRAM_ROW",
    "source_differences",
    "responsibility",
    "CONDITION_OPERATORS",
    "Statement",
    "Policy",
    "Request",
    "Decision",
    "wildcard_match",
    "evaluate",
    "IngressRule",
    "SecurityGroup",
    "ChangeEvent",
    "violates",
    "remediate",
    "ExposureModel",
    "Exposure",
    "RemediationRun",
    "run_remediation",
]

# --- 1. the shared-responsibility matrix -----------------------------------------------------

#: Columns of the matrix, from owning everything to owning the least.
SERVICE_MODELS: tuple[str, ...] = ("On-premises", "IaaS", "PaaS", "FaaS", "SaaS")

#: Rows, from the top of the stack (always the customer's) to the bottom (the building).
RESPONSIBILITY_AREAS: tuple[str, ...] = (
    "Customer data", "Configurations and settings", "Identities and users", "Client devices",
    "Applications", "Network controls", "Operating system", "Physical hosts",
    "Physical network", "Physical datacenter",
)

_C, _S, _P = "customer", "shared", "provider"
#: Who is responsible for each area under each model: the book's adaptation (see the module
#: docstring). On-premises, IaaS, PaaS and SaaS are Microsoft's table (:data:`MICROSOFT_TABLE`);
#: FaaS is the book's reading of AWS's Lambda documents and equals the PaaS column: the customer
#: owns code, configuration, identities and data; network controls are shared (security groups
#: when the function runs in a VPC); Lambda patches the OS and, in the Auto update mode, the
#: language runtime.
RESPONSIBILITY: dict[str, dict[str, str]] = {
    "Customer data":               dict(zip(SERVICE_MODELS, (_C, _C, _C, _C, _C))),
    "Configurations and settings": dict(zip(SERVICE_MODELS, (_C, _C, _C, _C, _C))),
    "Identities and users":        dict(zip(SERVICE_MODELS, (_C, _C, _C, _C, _C))),
    "Client devices":              dict(zip(SERVICE_MODELS, (_C, _C, _C, _C, _S))),
    "Applications":                dict(zip(SERVICE_MODELS, (_C, _C, _S, _S, _S))),
    "Network controls":            dict(zip(SERVICE_MODELS, (_C, _C, _S, _S, _P))),
    "Operating system":            dict(zip(SERVICE_MODELS, (_C, _C, _P, _P, _P))),
    "Physical hosts":              dict(zip(SERVICE_MODELS, (_C, _P, _P, _P, _P))),
    "Physical network":            dict(zip(SERVICE_MODELS, (_C, _P, _P, _P, _P))),
    "Physical datacenter":         dict(zip(SERVICE_MODELS, (_C, _P, _P, _P, _P))),
}

#: The models Microsoft's page covers (it has no FaaS column).
MICROSOFT_MODELS: tuple[str, ...] = ("On-premises", "IaaS", "PaaS", "SaaS")


def _rows(models: Sequence[str], table: Mapping[str, Sequence[str]]) -> dict[str, dict[str, str]]:
    return {area: dict(zip(models, cells)) for area, cells in table.items()}


#: Microsoft's "Responsibility matrix" table, row by row as printed (page dated 2026-01-12).
MICROSOFT_TABLE: dict[str, dict[str, str]] = _rows(MICROSOFT_MODELS, {
    "Customer data":               (_C, _C, _C, _C),
    "Configurations and settings": (_C, _C, _C, _C),
    "Identities and users":        (_C, _C, _C, _C),
    "Client devices":              (_C, _C, _C, _S),
    "Applications":                (_C, _C, _S, _S),
    "Network controls":            (_C, _C, _S, _P),
    "Operating system":            (_C, _C, _P, _P),
    "Physical hosts":              (_C, _P, _P, _P),
    "Physical network":            (_C, _P, _P, _P),
    "Physical datacenter":         (_C, _P, _P, _P),
})

#: Microsoft's diagram on the same page, row by row from the top (its columns run SaaS, PaaS,
#: IaaS, On-prem from left to right; stored here in the book's order).
MICROSOFT_DIAGRAM: dict[str, dict[str, str]] = _rows(MICROSOFT_MODELS, {
    "Information and data":                  (_C, _C, _C, _C),
    "Devices (Mobile and PCs)":              (_C, _C, _C, _C),
    "Accounts and identities":               (_C, _C, _C, _C),
    "Identity and directory infrastructure": (_C, _C, _S, _S),
    "Applications":                          (_C, _C, _S, _P),
    "Network controls":                      (_C, _C, _S, _P),
    "Operating system":                      (_C, _C, _P, _P),
    "Physical hosts":                        (_C, _P, _P, _P),
    "Physical network":                      (_C, _P, _P, _P),
    "Physical datacenter":                   (_C, _P, _P, _P),
})

#: The diagram's row for each row of the table, where the two name the same thing (``None``:
#: the diagram has no such row).
DIAGRAM_ROW: dict[str, str | None] = {
    "Customer data": "Information and data",
    "Configurations and settings": None,
    "Identities and users": "Accounts and identities",
    "Client devices": "Devices (Mobile and PCs)",
    "Applications": "Applications",
    "Network controls": "Network controls",
    "Operating system": "Operating system",
    "Physical hosts": "Physical hosts",
    "Physical network": "Physical network",
    "Physical datacenter": "Physical datacenter",
}


def source_differences() -> list[tuple[str, str, str, str]]:
    """Where Microsoft's table and diagram disagree, as ``(row, model, table, diagram)``.

    A row that only one of them has is reported once, with model ``"*"`` and ``"(no row)"`` for
    the side that lacks it.

    >>> [d for d in source_differences() if d[1] != "*"]
    [('Client devices', 'SaaS', 'shared', 'customer'), ('Applications', 'SaaS', 'shared', 'provider')]
    """
    out: list[tuple[str, str, str, str]] = []
    for area, row in MICROSOFT_TABLE.items():
        twin = DIAGRAM_ROW[area]
        if twin is None:
            out.append((area, "*", "(row)", "(no row)"))
            continue
        for model in MICROSOFT_MODELS:
            if row[model] != MICROSOFT_DIAGRAM[twin][model]:
                out.append((area, model, row[model], MICROSOFT_DIAGRAM[twin][model]))
    for area in MICROSOFT_DIAGRAM:
        if area not in DIAGRAM_ROW.values():
            out.append((area, "*", "(no row)", "(row)"))
    return out


def responsibility(area: str, model: str) -> str:
    """``'customer'``, ``'shared'`` or ``'provider'`` for one cell of the matrix.

    >>> responsibility("Customer data", "SaaS"), responsibility("Operating system", "IaaS")
    ('customer', 'customer')
    >>> responsibility("Physical hosts", "FaaS")
    'provider'
    """
    check_choice("area", area, RESPONSIBILITY_AREAS)
    check_choice("model", model, SERVICE_MODELS)
    return RESPONSIBILITY[area][model]


# --- 2. IAM-style policy evaluation ----------------------------------------------------------

#: The condition operators this evaluator understands (a subset of IAM's).
CONDITION_OPERATORS: tuple[str, ...] = (
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringLike", "StringNotLike",
    "Bool", "IpAddress", "NotIpAddress", "NumericEquals", "NumericLessThan",
    "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
)
_NEGATED = {"StringNotEquals", "StringNotLike", "NotIpAddress"}
_VERSIONS = ("2012-10-17", "2008-10-17")
_ACTION = re.compile(r"^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+)$")


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str, case_sensitive: bool) -> re.Pattern:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{body}$", 0 if case_sensitive else re.IGNORECASE)


def wildcard_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM-style match: ``*`` is any run of characters (also none), ``?`` exactly one.

    >>> wildcard_match("s3:Get*", "s3:getobject", case_sensitive=False)
    True
    >>> wildcard_match("arn:aws:s3:::logs/202?/*", "arn:aws:s3:::logs/2026/jan.gz")
    True
    >>> wildcard_match("arn:aws:s3:::logs/*", "arn:aws:s3:::logsbackup/x")
    False
    """
    return bool(_compile(pattern, case_sensitive).match(value))


def _as_tuple(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if (not isinstance(value, (list, tuple)) or not value
            or not all(isinstance(v, str) and v for v in value)):
        raise ValueError(f"{name} must be a non-empty string or a non-empty list of strings, "
                         f"got {value!r}")
    return tuple(value)


@dataclass(frozen=True)
class Statement:
    """One statement of a policy: ``Effect``, ``Action``, ``Resource`` and optional ``Condition``.

    ``principals`` is only used in resource-based policies (their ``Principal`` element):
    ``("*",)`` matches anyone. ``condition`` maps an operator to ``{key: (values...)}``.
    """

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    sid: str = ""
    principals: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_choice("Effect", self.effect, ("Allow", "Deny"))
        _as_tuple("Action", list(self.actions))
        _as_tuple("Resource", list(self.resources))
        for a in self.actions:
            if not _ACTION.match(a):
                raise ValueError("Action must be '*' or 'service:action' (letters, digits, * "
                                 f"and ?), got {a!r}")
        for op, keys in self.condition.items():
            check_choice("Condition operator", op, CONDITION_OPERATORS)
            if not isinstance(keys, Mapping) or not keys:
                raise ValueError(f"Condition {op} must map keys to values, got {keys!r}")

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> "Statement":
        """Build a statement from its JSON form (``Effect``, ``Action``, ``Resource``, ...)."""
        if not isinstance(doc, Mapping):
            raise ValueError(f"a Statement must be a JSON object, got {doc!r}")
        unsupported = set(doc) - {"Sid", "Effect", "Action", "Resource", "Condition", "Principal"}
        if unsupported:
            raise ValueError("Statement may contain only Sid, Effect, Action, Resource, "
                             f"Condition and Principal; got also {sorted(unsupported)}")
        for required in ("Effect", "Action", "Resource"):
            if required not in doc:
                raise ValueError(f"Statement must contain {required}, got {dict(doc)!r}")
        cond: dict[str, dict[str, tuple[str, ...]]] = {}
        for op, keys in (doc.get("Condition") or {}).items():
            if not isinstance(keys, Mapping):
                raise ValueError(f"Condition {op} must map keys to values, got {keys!r}")
            cond[op] = {k: _as_tuple(f"Condition {op} {k}", v) for k, v in keys.items()}
        principals = None
        if "Principal" in doc:
            p = doc["Principal"]
            principals = ("*",) if p == "*" else _as_tuple(
                "Principal", p.get("AWS") if isinstance(p, Mapping) else p)
        return cls(doc["Effect"], _as_tuple("Action", doc["Action"]),
                   _as_tuple("Resource", doc["Resource"]), cond, str(doc.get("Sid", "")),
                   principals)

    @property
    def label(self) -> str:
        return f"'{self.sid}'" if self.sid else "(no Sid)"


@dataclass(frozen=True)
class Policy:
    """A named policy document: a list of statements."""

    name: str
    statements: tuple[Statement, ...]

    def __post_init__(self) -> None:
        check_name("name", self.name, max_len=128)
        if not self.statements:
            raise ValueError("Statement must contain at least one statement, got none")

    @classmethod
    def from_json(cls, doc: str | Mapping[str, Any], name: str = "policy") -> "Policy":
        """Parse a policy from JSON text or an already-loaded dictionary."""
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except json.JSONDecodeError as err:
                raise ValueError(f"policy must be valid JSON: {err}") from None
        if not isinstance(doc, Mapping):
            raise ValueError(f"policy must be a JSON object, got {doc!r}")
        version = doc.get("Version", "2012-10-17")
        check_choice("Version", version, _VERSIONS)
        stmts = doc.get("Statement")
        if isinstance(stmts, Mapping):
            stmts = [stmts]
        if not isinstance(stmts, list) or not stmts:
            raise ValueError(f"Statement must be an object or a non-empty list, got {stmts!r}")
        return cls(name, tuple(Statement.from_dict(s) for s in stmts))


@dataclass(frozen=True)
class Request:
    """What is being asked: ``action`` on ``resource`` by ``principal``, with context keys.

    ``context`` holds the request's condition keys, such as ``aws:SourceIp`` or
    ``aws:MultiFactorAuthPresent``, as strings.
    """

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)
    principal: str = "arn:aws:iam::111122223333:user/alice"

    def __post_init__(self) -> None:
        if not isinstance(self.action, str) or ":" not in self.action:
            raise ValueError(f"action must look like 'service:Action', got {self.action!r}")
        check_name("resource", self.resource, max_len=2048)
        check_name("principal", self.principal, max_len=2048)


@dataclass
class Decision:
    """The result of :func:`evaluate`: ``'Allow'``, ``'ExplicitDeny'`` or ``'ImplicitDeny'``."""

    decision: str
    reason: str
    trace: list[str]

    @property
    def allowed(self) -> bool:
        return self.decision == "Allow"


def _condition_holds(op: str, key: str, values: tuple[str, ...],
                     context: Mapping[str, str]) -> tuple[bool, str]:
    if key not in context:
        ok = op in _NEGATED
        return ok, f"{op} {key}: key absent from the request -> {'true' if ok else 'false'}"
    actual = context[key]
    if op in ("StringEquals", "StringNotEquals"):
        hit = actual in values
    elif op == "StringEqualsIgnoreCase":
        hit = actual.lower() in {v.lower() for v in values}
    elif op in ("StringLike", "StringNotLike"):
        hit = any(wildcard_match(v, actual) for v in values)
    elif op == "Bool":
        hit = actual.lower() in {v.lower() for v in values}
    elif op in ("IpAddress", "NotIpAddress"):
        try:
            ip = ipaddress.ip_address(actual)
            hit = any(ip in ipaddress.ip_network(v, strict=False) for v in values)
        except ValueError:
            hit = False
    else:
        try:
            x = float(actual)
            nums = [float(v) for v in values]
        except ValueError:
            return False, f"{op} {key}: {actual!r} is not a number -> false"
        cmp = {"NumericEquals": x.__eq__, "NumericLessThan": x.__lt__,
               "NumericLessThanEquals": x.__le__, "NumericGreaterThan": x.__gt__,
               "NumericGreaterThanEquals": x.__ge__}[op]
        hit = any(cmp(n) for n in nums)
    ok = (not hit) if op in _NEGATED else hit
    return ok, f"{op} {key}: request has {actual!r}, policy lists {list(values)} -> " \
               f"{'true' if ok else 'false'}"


def _applies(stmt: Statement, req: Request, check_principal: bool) -> tuple[bool, str]:
    act = next((a for a in stmt.actions if wildcard_match(a, req.action, False)), None)
    if act is None:
        return False, f"action {req.action} matches none of {list(stmt.actions)}"
    res = next((r for r in stmt.resources if wildcard_match(r, req.resource)), None)
    if res is None:
        return False, f"resource {req.resource} matches none of {list(stmt.resources)}"
    if check_principal and stmt.principals is not None:
        if not any(p == "*" or wildcard_match(p, req.principal) for p in stmt.principals):
            return False, f"principal {req.principal} is not among {list(stmt.principals)}"
    notes = [f"action matches {act!r}", f"resource matches {res!r}"]
    for op, keys in stmt.condition.items():
        for key, values in keys.items():
            ok, note = _condition_holds(op, key, values, req.context)
            notes.append(note)
            if not ok:
                return False, "; ".join(notes)
    return True, "; ".join(notes)


def _scan(kind: str, policies: Sequence[Policy], req: Request, effect: str,
          trace: list[str], check_principal: bool = False) -> list[str]:
    """Record every statement of ``effect`` in ``policies`` that applies to ``req``."""
    hits = []
    if not policies:
        trace.append(f"  (no {kind} policies)")
    for pol in policies:
        for stmt in pol.statements:
            if stmt.effect != effect:
                continue
            ok, why = _applies(stmt, req, check_principal)
            where = f"{kind} policy '{pol.name}' statement {stmt.label} ({effect})"
            trace.append(f"  {where}: {'APPLIES' if ok else 'does not apply'} - {why}")
            if ok:
                hits.append(where)
    return hits


def evaluate(request: Request, identity_policies: Sequence[Policy],
             resource_policies: Sequence[Policy] = (),
             permissions_boundary: Policy | None = None,
             scps: Sequence[Policy] | None = None) -> Decision:
    """Decide ``request`` the way AWS documents it for a request within one account.

    1. Default: implicit deny.
    2. Any applicable ``Deny`` in any policy (identity, resource, boundary, SCP): explicit deny.
    3. If service control policies are given, one of them must allow the request.
    4. An applicable ``Allow`` in a resource-based policy allows the request.
    5. Otherwise an identity-based policy must allow it, and, if a permissions boundary is set,
       the boundary must allow it too.

    Step 4 follows AWS's flow chart for an IAM user; for role sessions AWS applies the boundary
    to some resource-based grants as well, which this small evaluator does not model.
    """
    if not isinstance(request, Request):
        raise ValueError(f"request must be a Request, got {request!r}")
    groups = {"identity": list(identity_policies), "resource": list(resource_policies),
              "boundary": [permissions_boundary] if permissions_boundary else [],
              "SCP": list(scps) if scps is not None else []}
    for kind, pols in groups.items():
        if not all(isinstance(p, Policy) for p in pols):
            raise ValueError(f"{kind} policies must be Policy objects, got {pols!r}")
    trace = [f"Request: {request.principal} wants {request.action} on {request.resource}",
             "Step 1: start from an implicit deny.",
             "Step 2: look for an explicit Deny in every policy:"]
    denies = []
    for kind, pols in groups.items():
        denies += _scan(kind, pols, request, "Deny", trace, check_principal=kind == "resource")
    if denies:
        trace.append(f"=> ExplicitDeny by {denies[0]}; no Allow can override it.")
        return Decision("ExplicitDeny", f"explicitly denied by {denies[0]}", trace)
    if scps is None:
        trace.append("Step 3: no service control policies apply.")
    else:
        trace.append("Step 3: an SCP must allow the request:")
        if not _scan("SCP", groups["SCP"], request, "Allow", trace):
            trace.append("=> ImplicitDeny: no service control policy allows it.")
            return Decision("ImplicitDeny", "no service control policy allows it", trace)
    trace.append("Step 4: look for an Allow in resource-based policies:")
    res_allows = _scan("resource", groups["resource"], request, "Allow", trace,
                       check_principal=True)
    if res_allows:
        trace.append(f"=> Allow by {res_allows[0]}.")
        return Decision("Allow", f"allowed by {res_allows[0]}", trace)
    trace.append("Step 5: look for an Allow in identity-based policies:")
    id_allows = _scan("identity", groups["identity"], request, "Allow", trace)
    if not id_allows:
        trace.append("=> ImplicitDeny: nothing allows the request.")
        return Decision("ImplicitDeny", "no policy allows it (implicit deny)", trace)
    if permissions_boundary is not None:
        trace.append("Step 5b: the permissions boundary must allow it too:")
        if not _scan("boundary", groups["boundary"], request, "Allow", trace):
            trace.append("=> ImplicitDeny: the identity policy allows it, the boundary does not.")
            return Decision("ImplicitDeny", "outside the permissions boundary", trace)
    trace.append(f"=> Allow by {id_allows[0]}.")
    return Decision("Allow", f"allowed by {id_allows[0]}", trace)


# --- 3. security groups and auto-remediation -------------------------------------------------

WORLD = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class IngressRule:
    """One inbound rule of a security group: protocol, port range and source CIDR.

    >>> IngressRule("tcp", 22, 22, "0.0.0.0/0").open_to_world
    True
    """

    protocol: str
    from_port: int
    to_port: int
    cidr: str

    def __post_init__(self) -> None:
        if self.protocol not in ("tcp", "udp", "-1"):
            raise ValueError(f"protocol must be 'tcp', 'udp' or '-1' (all), got {self.protocol!r}")
        check_int("from_port", self.from_port, 0, 65535)
        check_int("to_port", self.to_port, self.from_port, 65535)
        try:
            ipaddress.ip_network(self.cidr, strict=False)
        except ValueError:
            raise ValueError(f"cidr must be an IPv4 or IPv6 network such as '10.0.0.0/8', "
                             f"got {self.cidr!r}") from None

    @property
    def open_to_world(self) -> bool:
        return self.cidr in WORLD

    def covers(self, port: int) -> bool:
        return self.protocol == "-1" or self.from_port <= port <= self.to_port

    def describe(self) -> str:
        ports = "all" if self.protocol == "-1" else (
            str(self.from_port) if self.from_port == self.to_port
            else f"{self.from_port}-{self.to_port}")
        return f"{self.protocol} {ports} from {self.cidr}"


@dataclass
class SecurityGroup:
    """A security group: an id, a name and its inbound rules."""

    group_id: str
    name: str
    rules: list[IngressRule] = field(default_factory=list)


@dataclass(frozen=True)
class ChangeEvent:
    """An ``AuthorizeSecurityGroupIngress`` call as CloudTrail would record it."""

    time_s: float
    group_id: str
    rule: IngressRule
    actor: str
    event_name: str = "AuthorizeSecurityGroupIngress"


def violates(rule: IngressRule, risky_ports: Sequence[int] = (22,)) -> bool:
    """True if ``rule`` opens one of ``risky_ports`` to the whole internet.

    With the default this is AWS Config's ``restricted-ssh`` check (port 22 from 0.0.0.0/0 or
    ::/0); add 3389 for RDP.

    >>> violates(IngressRule("tcp", 22, 22, "0.0.0.0/0")), violates(IngressRule("tcp", 22, 22, "10.0.0.0/8"))
    (True, False)
    >>> violates(IngressRule("tcp", 0, 65535, "::/0")), violates(IngressRule("tcp", 443, 443, "0.0.0.0/0"))
    (True, False)
    """
    return rule.open_to_world and any(rule.covers(p) for p in risky_ports)


def _clock(t: float) -> str:
    d, rem = divmod(int(round(t)), 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return f"day {d:2d} {h:02d}:{m:02d}:{s:02d}"


def remediate(inventory: dict[str, SecurityGroup], event: ChangeEvent, now_s: float,
              risky_ports: Sequence[int] = (22,)) -> str:
    """The remediation function: given the event, revoke the rule if it still violates policy.

    It re-reads the group (the event may be stale), removes the offending rule if it is still
    there, and returns one log line either way. It never touches a compliant rule.
    """
    check_real("now_s", now_s, 0.0)
    group = inventory.get(event.group_id)
    stamp = f"{_clock(now_s)} {event.group_id}"
    if group is None:
        return f"{stamp} skipped: the group no longer exists"
    if not violates(event.rule, risky_ports):
        return f"{stamp} ok: {event.rule.describe()} is allowed by policy"
    if event.rule not in group.rules:
        return f"{stamp} nothing to do: {event.rule.describe()} was already removed"
    group.rules.remove(event.rule)
    return (f"{stamp} REVOKED {event.rule.describe()} (opened by {event.actor} at "
            f"{_clock(event.time_s)}, exposed {now_s - event.time_s:,.0f} s)")


@dataclass(frozen=True)
class ExposureModel:
    """The simulated organisation and the two ways of finding open ports.

    Traffic: ``groups`` security groups, ``changes_per_day`` ingress changes a day (Poisson),
    of which ``risky_fraction`` open SSH to the world. *Manual*: a person reviews all groups
    every ``review_period_h`` hours and fixes what they find after a delay with median
    ``fix_median_h``. *Automatic*: the change event reaches the function after a delay with
    median ``delivery_median_s``; with probability ``delivery_loss`` it is never delivered
    (best-effort delivery) and a periodic compliance sweep every ``sweep_period_h`` hours
    catches it instead. All delays are log-normal with shape ``delay_sigma``; every number is an
    assumption to vary, not a measured AWS figure.
    """

    groups: int = 40
    horizon_days: float = 90.0
    changes_per_day: float = 6.0
    risky_fraction: float = 0.1
    review_period_h: float = 168.0
    fix_median_h: float = 4.0
    delivery_median_s: float = 60.0
    delivery_loss: float = 0.01
    sweep_period_h: float = 24.0
    delay_sigma: float = 0.5

    def __post_init__(self) -> None:
        check_int("groups", self.groups, 1, 100_000)
        check_real("horizon_days", self.horizon_days, 0.0, 3650.0, lo_open=True)
        check_real("changes_per_day", self.changes_per_day, 0.0, 100_000.0)
        check_real("risky_fraction", self.risky_fraction, 0.0, 1.0)
        check_real("review_period_h", self.review_period_h, 0.0, 24.0 * 3650, lo_open=True)
        check_real("fix_median_h", self.fix_median_h, 0.0, 24.0 * 365)
        check_real("delivery_median_s", self.delivery_median_s, 0.0, 86_400.0)
        check_real("delivery_loss", self.delivery_loss, 0.0, 1.0)
        check_real("sweep_period_h", self.sweep_period_h, 0.0, 24.0 * 365, lo_open=True)
        check_real("delay_sigma", self.delay_sigma, 0.0, 3.0)


@dataclass(frozen=True)
class Exposure:
    """One risky change and when each process closed it."""

    event: ChangeEvent
    closed_manual_s: float
    closed_auto_s: float
    delivered: bool

    @property
    def manual_s(self) -> float:
        return self.closed_manual_s - self.event.time_s

    @property
    def auto_s(self) -> float:
        return self.closed_auto_s - self.event.time_s


@dataclass
class RemediationRun:
    """Everything :func:`run_remediation` produced."""

    model: ExposureModel
    events: list[ChangeEvent]
    exposures: list[Exposure]
    log: list[str]
    final_inventory: dict[str, SecurityGroup]

    def durations_s(self, mode: str) -> np.ndarray:
        """Exposure durations in seconds for ``mode`` 'manual' or 'auto'."""
        if mode not in ("manual", "auto"):
            raise ValueError(f"mode must be 'manual' or 'auto', got {mode!r}")
        return np.array([e.manual_s if mode == "manual" else e.auto_s for e in self.exposures])

    def exposed_hours(self, mode: str) -> float:
        """Total hours during which some group had SSH open to the world (summed per hole)."""
        return float(self.durations_s(mode).sum() / 3600.0)

    def open_over_time(self, mode: str, times_s: Sequence[float]) -> np.ndarray:
        """How many risky rules are open at each of ``times_s`` under ``mode``."""
        t = np.asarray(times_s, dtype=float)[:, None]
        opened = np.array([e.event.time_s for e in self.exposures])[None, :]
        closed = np.array([e.closed_manual_s if mode == "manual" else e.closed_auto_s
                           for e in self.exposures])[None, :]
        if mode not in ("manual", "auto"):
            raise ValueError(f"mode must be 'manual' or 'auto', got {mode!r}")
        return ((opened <= t) & (t < closed)).sum(axis=1) if self.exposures else np.zeros(len(t))


_SAFE_RULES = (("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 80, 80, "0.0.0.0/0"),
               ("tcp", 22, 22, "10.0.0.0/8"), ("tcp", 5432, 5432, "10.20.0.0/16"),
               ("tcp", 3389, 3389, "192.168.10.0/24"))


def run_remediation(model: ExposureModel | None = None, seed: int = 0,
                    risky_ports: Sequence[int] = (22,)) -> RemediationRun:
    """Simulate ``model`` with a seeded random generator and replay both closing processes.

    The automatic path really calls :func:`remediate` on a copy of the inventory, in time order,
    so the log is what the function would write; the manual path closes each hole at the first
    review after it opened, plus the fix delay.
    """
    m = model or ExposureModel()
    check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    horizon = m.horizon_days * 86400.0
    inventory = {f"sg-{i:04x}": SecurityGroup(f"sg-{i:04x}", f"app-{i}",
                 [IngressRule(*_SAFE_RULES[i % 2])]) for i in range(m.groups)}
    n = rng.poisson(m.changes_per_day * m.horizon_days)
    times = np.sort(rng.uniform(0.0, horizon, size=n))
    risky = rng.uniform(size=n) < m.risky_fraction
    gids = rng.integers(0, m.groups, size=n)
    actors = rng.integers(1, 9, size=n)
    safe_pick = rng.integers(0, len(_SAFE_RULES), size=n)
    events = []
    for k in range(n):
        rule = IngressRule("tcp", 22, 22, "0.0.0.0/0") if risky[k] else IngressRule(
            *_SAFE_RULES[safe_pick[k]])
        events.append(ChangeEvent(float(times[k]), f"sg-{gids[k]:04x}", rule,
                                  f"user/dev-{actors[k]}"))

    def lognormal(median: float, size: int) -> np.ndarray:
        return median * np.exp(m.delay_sigma * rng.standard_normal(size)) if median > 0 \
            else np.zeros(size)

    review = m.review_period_h * 3600.0
    sweep = m.sweep_period_h * 3600.0
    deliver = lognormal(m.delivery_median_s, n)
    lost = rng.uniform(size=n) < m.delivery_loss
    fix = lognormal(m.fix_median_h * 3600.0, n)
    phase = rng.uniform(0.0, review)            # when the weekly review happens
    exposures = []
    for k, ev in enumerate(events):
        if not violates(ev.rule, risky_ports):
            continue
        next_review = phase + review * math.ceil((ev.time_s - phase) / review + 1e-12)
        manual = next_review + fix[k]
        auto = (sweep * math.ceil(ev.time_s / sweep + 1e-12) if lost[k]
                else ev.time_s + deliver[k])
        exposures.append(Exposure(ev, float(manual), float(auto), not bool(lost[k])))

    # replay the automatic path: authorise calls and remediation calls in time order
    actions = [(ev.time_s, 0, k) for k, ev in enumerate(events)]
    actions += [(e.closed_auto_s, 1, j) for j, e in enumerate(exposures)]
    actions.sort()
    log = []
    for t, kind, idx in actions:
        if kind == 0:
            ev = events[idx]
            group = inventory[ev.group_id]
            if ev.rule not in group.rules:
                group.rules.append(ev.rule)
        else:
            log.append(remediate(inventory, exposures[idx].event, t, risky_ports))
    return RemediationRun(m, events, exposures, log, inventory)
