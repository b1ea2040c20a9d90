"""A small declarative plan/apply tool for a fleet of VMs: infrastructure as code in miniature.

Chapter 11 uses this module to show what tools such as Terraform, CloudFormation, Puppet and
Ansible do underneath. You declare the fleet you want (names, vCPUs, memory, running or not); the
tool reads what exists, computes the difference as an ordered list of actions (the *plan*), shows
it, and carries it out (*apply*). Because the plan is computed from the difference, applying the
same declaration a second time finds nothing to do (*idempotence*), and a VM changed behind the
tool's back shows up as a difference to repair (*drift*).

Two providers implement one interface: :class:`InMemoryProvider`, a dictionary, and
:class:`LibvirtProvider`, which drives libvirt (by default its embedded test driver, so nothing real
is touched). The tool never modifies a VM it does not own. A VM is *managed* only if its name
starts with :data:`NAME_PREFIX` **and** its definition carries this tool's own ``<metadata>``
element (namespace :data:`METADATA_NS`); every provider method that changes something checks both.

    >>> desired = fleet_from_mapping({"iac-web": {"vcpus": 2, "memory_mib": 1024, "running": True}})
    >>> cloud = InMemoryProvider()
    >>> print(plan(desired, cloud.list_vms()).render())
    Plan: 1 to add, 0 to change, 0 to destroy.
      + iac-web  create (vcpus=2, memory_mib=1024)
      ~ iac-web  start
    >>> _ = apply(plan(desired, cloud.list_vms()), cloud)
    >>> plan(desired, cloud.list_vms()).is_empty
    True

Sources for the mechanisms
--------------------------
* Plan and apply. HashiCorp, Terraform documentation, "Command: plan": by default a plan reads the
  current state of existing remote objects, compares the configuration with it, and proposes the
  actions that would make the remote objects match; ``terraform apply`` carries them out. The
  plan's symbols ``+`` create, ``~`` update in place and ``-`` destroy follow Terraform's output
  (Terraform's source, internal/command/jsonformat/plan.go, function ``actionDescription``), as
  does the summary line "Plan: N to add, N to change, N to destroy.".
* State and ownership. HashiCorp, "Purpose of Terraform State": Terraform keeps a state file to map
  configuration to real objects; its early prototypes used provider tags instead, which not every
  resource supports. This tool uses the tag approach (a name prefix plus a metadata element),
  which libvirt supports for every domain: libvirt, "Domain XML format", section "General
  metadata": applications store their own data in ``<metadata>`` under their own XML namespace.
* Drift. HashiCorp, "Run a refresh-only operation" (drift is when resources no longer match the
  recorded state because they were changed outside the tool); AWS CloudFormation User Guide,
  "Detect unmanaged configuration changes to stacks and resources with drift detection".
* Idempotence. Ansible documentation, "Introduction to modules": modules should be idempotent and
  avoid making changes when the current state already matches the desired final state. Puppet,
  "Puppet language overview": a catalog describes the desired state of every managed resource and
  the agent applies only the changes needed to reach it.
* libvirt. ``virDomainDefineXML`` defines a persistent domain (a UUID is generated when the XML has
  none), ``virDomainCreate`` starts it, ``virDomainDestroy`` powers it off at once and
  ``virDomainUndefine`` removes its definition (libvirt API reference, libvirt-domain). The test
  driver, ``test:///default``, is an in-process mock hypervisor with one predefined domain named
  ``test`` (libvirt, "Test mock driver").
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from typing import Iterable, Literal, Mapping, Protocol, Sequence

from virtbook._validate import check_bool, check_int
from virtbook.vmconfig import MEMORY_UNITS

#: Every VM this tool owns has a name that starts with this prefix ...
NAME_PREFIX = "iac-"
#: ... and carries a <metadata> child element in this XML namespace.
METADATA_NS = "https://virtbook.example/ns/iac/1"
#: The namespace prefix and element name used inside <metadata>.
METADATA_PREFIX = "vbiac"
METADATA_ELEMENT = "managed"

#: Limits checked on every declaration (libvirt's own limits are far higher; these keep typos out).
MAX_VCPUS = 256
MIN_MEMORY_MIB = 16
MAX_MEMORY_MIB = 4 * 1024 * 1024

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

# Keep our prefix when ElementTree writes a definition back (it would otherwise invent "ns0").
ET.register_namespace(METADATA_PREFIX, METADATA_NS)

Op = Literal["create", "update_vcpus", "update_memory", "start", "stop", "destroy"]


class UnmanagedVMError(ValueError):
    """Raised when a declaration or an action would touch a VM this tool does not own."""


@dataclass(frozen=True, order=True)
class VMSpec:
    """One VM as declared: the desired state of one resource."""

    name: str
    vcpus: int
    memory_mib: int
    running: bool

    def __post_init__(self) -> None:
        check_vm_name(self.name)
        check_int("vcpus", self.vcpus, 1, MAX_VCPUS)
        check_int("memory_mib", self.memory_mib, MIN_MEMORY_MIB, MAX_MEMORY_MIB)
        check_bool("running", self.running)


@dataclass(frozen=True, order=True)
class ObservedVM:
    """One VM as a provider reports it: its settings and whether this tool owns it."""

    name: str
    vcpus: int
    memory_mib: int
    running: bool
    managed: bool


def check_vm_name(name: object) -> str:
    """A managed VM's name: the prefix, then lower-case letters, digits and dashes, 63 at most."""
    if not isinstance(name, str) or not NAME_RE.match(name) or not name.startswith(NAME_PREFIX) \
            or len(name) == len(NAME_PREFIX):
        raise ValueError(
            f"name must start with {NAME_PREFIX!r} followed by 1..{63 - len(NAME_PREFIX)} lower-case "
            f"letters, digits or dashes, got {name!r}")
    return name


def fleet_from_mapping(desired: Mapping[str, Mapping[str, object]]) -> tuple[VMSpec, ...]:
    """Read a declaration ``{name: {"vcpus": .., "memory_mib": .., "running": ..}}``.

    ``running`` may be left out and then means True. Unknown keys are refused, so a misspelt
    ``memory_mb`` is an error instead of being silently ignored.
    """
    if not isinstance(desired, Mapping):
        raise ValueError(f"desired must be a mapping of VM names to settings, got {type(desired).__name__}")
    allowed = {"vcpus", "memory_mib", "running"}
    specs = []
    for name, settings in desired.items():
        if not isinstance(settings, Mapping):
            raise ValueError(f"settings of {name!r} must be a mapping with keys {sorted(allowed)}, "
                             f"got {settings!r}")
        unknown = set(settings) - allowed
        if unknown:
            raise ValueError(f"settings of {name!r} have unknown keys {sorted(unknown)}; "
                             f"allowed keys are {sorted(allowed)}")
        missing = {"vcpus", "memory_mib"} - set(settings)
        if missing:
            raise ValueError(f"settings of {name!r} lack {sorted(missing)}")
        specs.append(VMSpec(name=name, vcpus=settings["vcpus"], memory_mib=settings["memory_mib"],
                            running=settings.get("running", True)))
    return tuple(sorted(specs))


def fleet_from_yaml(text: str) -> tuple[VMSpec, ...]:
    """Read the same declaration written as YAML (a top-level mapping of names to settings)."""
    import yaml  # PyYAML; imported here so the rest of the module does not need it

    if not isinstance(text, str):
        raise ValueError(f"text must be a YAML string, got {type(text).__name__}")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(f"text is not valid YAML: {err}") from None
    return fleet_from_mapping(data if data is not None else {})


# --------------------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class Action:
    """One step of a plan. ``before`` and ``after`` are the value that changes, for display."""

    op: Op
    name: str
    before: object = None
    after: object = None
    spec: VMSpec | None = None

    @property
    def symbol(self) -> str:
        return {"create": "+", "destroy": "-"}.get(self.op, "~")

    def describe(self) -> str:
        if self.op == "create":
            assert self.spec is not None
            return f"create (vcpus={self.spec.vcpus}, memory_mib={self.spec.memory_mib})"
        if self.op == "update_vcpus":
            return f"vcpus {self.before} -> {self.after}"
        if self.op == "update_memory":
            return f"memory_mib {self.before} -> {self.after}"
        return self.op


@dataclass(frozen=True)
class Plan:
    """An ordered list of actions, and the VMs that were seen but left alone (not managed)."""

    actions: tuple[Action, ...]
    ignored: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not self.actions

    def counts(self) -> tuple[int, int, int]:
        """(VMs to add, VMs to change, VMs to destroy), counted per VM as Terraform counts them."""
        added = {a.name for a in self.actions if a.op == "create"}
        destroyed = {a.name for a in self.actions if a.op == "destroy"}
        changed = {a.name for a in self.actions} - added - destroyed
        return len(added), len(changed), len(destroyed)

    def render(self) -> str:
        """The plan as text, one action a line, in the order apply will carry them out."""
        if self.is_empty:
            return "No changes. The fleet matches the declaration."
        add, change, destroy = self.counts()
        width = max(len(a.name) for a in self.actions)
        lines = [f"Plan: {add} to add, {change} to change, {destroy} to destroy."]
        lines += [f"  {a.symbol} {a.name:<{width}}  {a.describe()}" for a in self.actions]
        return "\n".join(lines)


def plan(desired: Sequence[VMSpec], observed: Iterable[ObservedVM]) -> Plan:
    """The actions that turn the ``observed`` fleet into the ``desired`` one.

    Order: managed VMs that are no longer declared are destroyed first (to free capacity), then
    each declared VM in name order: create, or stop it if its size must change while it runs,
    resize it, and finally start or stop it as declared. A resize of a running VM is planned as
    stop, resize, start because vCPUs and memory in the persistent definition take effect at the
    next boot. Unmanaged VMs are never in a plan; a declared name that belongs to an unmanaged VM
    raises :class:`UnmanagedVMError`.
    """
    desired = tuple(desired)
    names = [d.name for d in desired]
    if len(names) != len(set(names)):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"desired declares these names more than once: {dupes}")
    seen = {o.name: o for o in observed}
    ignored = tuple(sorted(n for n, o in seen.items() if not o.managed))
    clash = sorted(set(names) & set(ignored))
    if clash:
        raise UnmanagedVMError(
            f"desired declares {clash}, which exist but are not managed by this tool "
            f"(no {METADATA_PREFIX}:{METADATA_ELEMENT} metadata); rename them in the declaration "
            "or remove the existing VMs by hand")
    actions: list[Action] = []
    for name in sorted(set(seen) - set(names)):
        if seen[name].managed:
            actions.append(Action("destroy", name))
    for want in sorted(desired):
        have = seen.get(want.name)
        if have is None:
            actions.append(Action("create", want.name, spec=want))
            if want.running:
                actions.append(Action("start", want.name))
            continue
        resize = have.vcpus != want.vcpus or have.memory_mib != want.memory_mib
        running = have.running
        if resize and running:
            actions.append(Action("stop", want.name))
            running = False
        if have.vcpus != want.vcpus:
            actions.append(Action("update_vcpus", want.name, have.vcpus, want.vcpus))
        if have.memory_mib != want.memory_mib:
            actions.append(Action("update_memory", want.name, have.memory_mib, want.memory_mib))
        if want.running and not running:
            actions.append(Action("start", want.name))
        elif running and not want.running:
            actions.append(Action("stop", want.name))
    return Plan(actions=tuple(actions), ignored=ignored)


# ------------------------------------------------------------------------------------ providers


class Provider(Protocol):
    """What plan/apply needs from an infrastructure API."""

    def list_vms(self) -> list[ObservedVM]:
        """Every VM that exists, managed or not, sorted by name."""

    def create(self, spec: VMSpec) -> None:
        """Define a new managed VM, powered off, with the spec's vCPUs and memory."""

    def set_vcpus(self, name: str, vcpus: int) -> None:
        """Change a managed, powered-off VM's vCPU count."""

    def set_memory(self, name: str, memory_mib: int) -> None:
        """Change a managed, powered-off VM's memory."""

    def start(self, name: str) -> None:
        """Power on a managed VM."""

    def stop(self, name: str) -> None:
        """Power off a managed VM."""

    def destroy(self, name: str) -> None:
        """Power off (if needed) and delete a managed VM."""


def apply(the_plan: Plan, provider: Provider) -> list[str]:
    """Carry out ``the_plan`` on ``provider`` in order; return one log line per action."""
    log = []
    for action in the_plan.actions:
        if action.op == "create":
            assert action.spec is not None
            provider.create(action.spec)
        elif action.op == "update_vcpus":
            provider.set_vcpus(action.name, int(action.after))
        elif action.op == "update_memory":
            provider.set_memory(action.name, int(action.after))
        elif action.op == "start":
            provider.start(action.name)
        elif action.op == "stop":
            provider.stop(action.name)
        elif action.op == "destroy":
            provider.destroy(action.name)
        log.append(f"{action.symbol} {action.name}: {action.describe()} ... done")
    return log


def converge(desired: Sequence[VMSpec], provider: Provider) -> tuple[Plan, list[str]]:
    """Plan against the provider's current fleet and apply the plan: one run of the tool."""
    the_plan = plan(desired, provider.list_vms())
    return the_plan, apply(the_plan, provider)


class InMemoryProvider:
    """A provider whose "hypervisor" is a dictionary: same interface and checks as libvirt's.

    ``add_unmanaged`` puts a VM there that this tool did not create (somebody else's), so that the
    safety rules can be seen at work.
    """

    def __init__(self) -> None:
        self._vms: dict[str, ObservedVM] = {}

    def list_vms(self) -> list[ObservedVM]:
        return sorted(self._vms.values())

    def add_unmanaged(self, name: str, vcpus: int = 1, memory_mib: int = 512,
                      running: bool = True) -> None:
        if not isinstance(name, str) or not name or name in self._vms:
            raise ValueError(f"name must be a new, non-empty VM name, got {name!r}")
        check_int("vcpus", vcpus, 1, MAX_VCPUS)
        check_int("memory_mib", memory_mib, MIN_MEMORY_MIB, MAX_MEMORY_MIB)
        self._vms[name] = ObservedVM(name, vcpus, memory_mib, check_bool("running", running),
                                     managed=False)

    def _owned(self, name: str) -> ObservedVM:
        vm = self._vms.get(name)
        if vm is None:
            raise ValueError(f"name {name!r} is not a VM that exists")
        if not vm.managed:
            raise UnmanagedVMError(f"refusing to change {name!r}: it is not managed by this tool")
        return vm

    def create(self, spec: VMSpec) -> None:
        if spec.name in self._vms:
            raise ValueError(f"name {spec.name!r} already exists")
        self._vms[spec.name] = ObservedVM(spec.name, spec.vcpus, spec.memory_mib, False, True)

    def _set_offline(self, name: str, **changes: int) -> None:
        vm = self._owned(name)
        if vm.running:
            raise ValueError(f"VM {name!r} must be powered off to change its size")
        self._vms[name] = replace(vm, **changes)

    def set_vcpus(self, name: str, vcpus: int) -> None:
        self._set_offline(name, vcpus=check_int("vcpus", vcpus, 1, MAX_VCPUS))

    def set_memory(self, name: str, memory_mib: int) -> None:
        self._set_offline(name, memory_mib=check_int("memory_mib", memory_mib, MIN_MEMORY_MIB,
                                                     MAX_MEMORY_MIB))

    def start(self, name: str) -> None:
        self._vms[name] = replace(self._owned(name), running=True)

    def stop(self, name: str) -> None:
        self._vms[name] = replace(self._owned(name), running=False)

    def destroy(self, name: str) -> None:
        self._owned(name)
        del self._vms[name]


def domain_xml(spec: VMSpec) -> str:
    """The libvirt domain XML for a new managed VM: no <uuid> (libvirt generates one)."""
    return (
        "<domain type='test'>\n"
        f"  <name>{spec.name}</name>\n"
        f"  <memory unit='MiB'>{spec.memory_mib}</memory>\n"
        f"  <currentMemory unit='MiB'>{spec.memory_mib}</currentMemory>\n"
        f"  <vcpu>{spec.vcpus}</vcpu>\n"
        "  <metadata>\n"
        f"    <{METADATA_PREFIX}:{METADATA_ELEMENT} xmlns:{METADATA_PREFIX}='{METADATA_NS}'>"
        f"plan-apply</{METADATA_PREFIX}:{METADATA_ELEMENT}>\n"
        "  </metadata>\n"
        "  <os><type>hvm</type></os>\n"
        "</domain>\n"
    )


#: libvirt's memory units (:data:`virtbook.vmconfig.MEMORY_UNITS`) in KiB, keyed in lower case
#: because a definition read back is matched without regard to case.
_UNIT_KIB = {unit.lower(): size / 1024 for unit, size in MEMORY_UNITS.items()}


def _kib(element: ET.Element) -> float:
    unit = element.get("unit", "KiB").lower()
    if unit not in _UNIT_KIB:
        raise ValueError(f"memory unit must be one of {sorted(_UNIT_KIB)}, got {unit!r}")
    return float(element.text or 0) * _UNIT_KIB[unit]


class LibvirtProvider:
    """A provider that drives libvirt through libvirt-python (by default, the test driver).

    Open it with :meth:`open`, which installs a silent libvirt error handler first: libvirt's
    default handler writes every error to the C stderr, which a notebook cannot capture. Sizes are
    changed by editing the persistent (inactive) definition and defining it again, as
    ``virsh edit`` does; they take effect at the next start.
    """

    def __init__(self, conn) -> None:
        import libvirt  # the optional dependency is needed only for this provider

        self._libvirt = libvirt
        self.conn = conn

    @classmethod
    def open(cls, uri: str = "test:///default") -> "LibvirtProvider":
        import libvirt

        if not isinstance(uri, str) or "://" not in uri:
            raise ValueError(f"uri must be a libvirt connection URI such as 'test:///default', got {uri!r}")
        libvirt.registerErrorHandler(lambda *args: None, None)
        return cls(libvirt.open(uri))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "LibvirtProvider":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading
    def _is_managed(self, dom) -> bool:
        if not dom.name().startswith(NAME_PREFIX):
            return False
        try:
            dom.metadata(self._libvirt.VIR_DOMAIN_METADATA_ELEMENT, METADATA_NS)
        except self._libvirt.libvirtError as err:
            if err.get_error_code() == self._libvirt.VIR_ERR_NO_DOMAIN_METADATA:
                return False
            raise
        return True

    def _observe(self, dom) -> ObservedVM:
        root = ET.fromstring(dom.XMLDesc(self._libvirt.VIR_DOMAIN_XML_INACTIVE))
        vcpus = int(root.findtext("vcpu", "1"))
        memory = root.find("memory")
        memory_mib = round(_kib(memory) / 1024) if memory is not None else 0
        return ObservedVM(dom.name(), vcpus, memory_mib, bool(dom.isActive()),
                          self._is_managed(dom))

    def list_vms(self) -> list[ObservedVM]:
        return sorted(self._observe(d) for d in self.conn.listAllDomains())

    def _owned(self, name: str):
        try:
            dom = self.conn.lookupByName(name)
        except self._libvirt.libvirtError:
            raise ValueError(f"name {name!r} is not a VM that exists") from None
        if not self._is_managed(dom):
            raise UnmanagedVMError(f"refusing to change {name!r}: it is not managed by this tool")
        return dom

    # -- changing
    def _call(self, what: str, fn, *args):
        """Run one libvirt call; turn a libvirtError into one sentence that says what failed."""
        try:
            return fn(*args)
        except self._libvirt.libvirtError as err:
            raise RuntimeError(f"libvirt could not {what}: {err.get_error_message()}") from None

    def create(self, spec: VMSpec) -> None:
        try:
            self.conn.lookupByName(spec.name)
        except self._libvirt.libvirtError:
            self._call(f"define VM {spec.name!r}", self.conn.defineXML, domain_xml(spec))
            return
        raise ValueError(f"name {spec.name!r} already exists")

    def _redefine(self, name: str, edit) -> None:
        dom = self._owned(name)
        if dom.isActive():
            raise ValueError(f"VM {name!r} must be powered off to change its size")
        root = ET.fromstring(dom.XMLDesc(self._libvirt.VIR_DOMAIN_XML_INACTIVE))
        edit(root)
        self._call(f"redefine VM {name!r}", self.conn.defineXML, ET.tostring(root, encoding="unicode"))

    def set_vcpus(self, name: str, vcpus: int) -> None:
        vcpus = check_int("vcpus", vcpus, 1, MAX_VCPUS)

        def edit(root: ET.Element) -> None:
            vcpu = root.find("vcpu")
            vcpu.text = str(vcpus)
            vcpu.attrib.pop("current", None)

        self._redefine(name, edit)

    def set_memory(self, name: str, memory_mib: int) -> None:
        memory_mib = check_int("memory_mib", memory_mib, MIN_MEMORY_MIB, MAX_MEMORY_MIB)

        def edit(root: ET.Element) -> None:
            for tag in ("memory", "currentMemory"):
                element = root.find(tag)
                if element is None:
                    element = ET.SubElement(root, tag)
                element.set("unit", "KiB")
                element.text = str(memory_mib * 1024)

        self._redefine(name, edit)

    def start(self, name: str) -> None:
        dom = self._owned(name)
        if not dom.isActive():
            self._call(f"start VM {name!r}", dom.create)

    def stop(self, name: str) -> None:
        """Power off at once (virDomainDestroy); a real tool would first ask the guest to shut down."""
        dom = self._owned(name)
        if dom.isActive():
            self._call(f"power off VM {name!r}", dom.destroy)

    def destroy(self, name: str) -> None:
        dom = self._owned(name)
        if dom.isActive():
            self._call(f"power off VM {name!r}", dom.destroy)
        self._call(f"delete the definition of VM {name!r}", dom.undefine)


def libvirt_available() -> bool:
    """True when libvirt-python can be imported (the in-memory provider works without it)."""
    try:
        import libvirt  # noqa: F401
    except ImportError:
        return False
    return True
