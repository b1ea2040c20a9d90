"""How many VM exits an I/O operation costs: an emulated device versus virtio.

Chapter 4 uses this module to make one mechanism concrete. When a guest drives an *emulated*
device, every access to a device register (a port I/O instruction or a load or store to a
memory-mapped register) traps to the hypervisor: a VM exit, a round trip through the hardware's
world switch plus the hypervisor's emulation of the access. A *virtio* driver instead places
requests in shared memory (a virtqueue) and tells the device about them with one notification for
a whole batch; either side may also suppress the other's notifications while it is busy. The model
counts exits and converts them to CPU time, so the two designs can be compared per operation.

The model is deliberately small and deterministic (no randomness: every count follows from the
parameters), and every run can print a trace that a student can check by hand.

    >>> costs = ExitCosts()                      # 2,000 + 2,000 cycles per exit at 2.93 GHz
    >>> run_emulated(100, EmulatedDevice(), costs).exits        # DMA read: 14 accesses + EOI
    1500
    >>> EmulatedDevice(transfer="pio", apic_virtualization=True).exits_per_op
    9
    >>> run_virtio(100, VirtioQueue(batch_size=10), costs).exits
    20
    >>> NestedExit(vmx_instructions=10).l0_exits_per_l2_exit
    12

Sources for the mechanisms and defaults
---------------------------------------
* Cost of one exit. Landau, Ben-Yehuda and Gordon, "SplitX: Split Guest/Hypervisor Execution on
  Multi-Core", 3rd USENIX Workshop on I/O Virtualization (WIOV), 2011, Section 1: on a 2.93 GHz
  Intel Xeon X5570 with KVM (Linux 2.6.34, EPT and VPID on) the *direct* cost of an exit, the CPU's
  world switch out of the guest and back, is about 2,000 cycles, and the indirect (cache pollution)
  and synchronous (hypervisor handling) costs "can in certain cases be an order of magnitude
  higher". Older processors were slower still: Adams and Agesen, "A Comparison of Software and
  Hardware Techniques for x86 Virtualization", ASPLOS 2006, blame the first generation's "high
  VMM/guest transition costs" for its poor showing against binary translation.
* The emulated device: a legacy IDE disk controller, read one sector at a time. Two paths:
  - PIO, the way a BIOS reads: poll the status register, write sector count, LBA low/mid/high,
    device and command (READ SECTORS, 20h) to the task-file registers 0x1F2-0x1F7, read status
    when the completion interrupt arrives, and copy the sector out of the data register 0x1F0
    with one REP INSW (Bochs BIOS developer notes, "Read Disk Sector"). The string instruction is
    one exit at least: the exit qualification tells the hypervisor that it is a REP-prefixed
    string I/O instruction, so it can emulate the whole copy at once (Intel SDM Vol. 3C,
    "Exit Qualification for I/O Instructions").
  - DMA, the way an operating system's driver reads: the same task file with READ DMA (C8h), plus
    the bus-master registers of the PCI IDE function. Linux's libata (drivers/ata/libata-sff.c,
    ata_bmdma_setup/start/stop/status/irq_clear) writes the PRD table address and the direction
    bit before the command, sets the start bit after it, and on the interrupt reads the
    bus-master status, clears the start bit, reads the drive's status and writes the bus-master
    status back to clear its interrupt bit. The data itself moves by DMA, which the emulator
    performs by writing guest memory: no exits.
  Both sequences are floors, the fewest accesses that protocol needs: a real driver adds more
  (libata reads the bus-master command register before each of its writes to it, and reads the
  alternate status register to wait). The completion interrupt adds an end-of-interrupt (EOI)
  write to the virtual local APIC, which exits unless the processor virtualizes the APIC: with
  virtual-interrupt delivery, an EOI exits only for vectors the hypervisor marked in the
  EOI-exit bitmap (Intel SDM Vol. 3C, "EOI Virtualization"). KVM turns APIC virtualization on
  by default where the hardware has it (Linux, Documentation/virt/kvm/x86/
  running-nested-guests.rst).
* virtio. OASIS, "Virtual I/O Device (VIRTIO) Version 1.2", Committee Specification 01, 2022,
  Section 2.7 (split virtqueues): "Supplying Buffers to The Device" (the driver may place many
  buffers before it updates the available index and sends one available buffer notification),
  "Available Buffer Notification Suppression" (the device sets VIRTQ_USED_F_NO_NOTIFY, or uses
  avail_event when VIRTIO_F_EVENT_IDX is negotiated) and "Used Buffer Notification Suppression"
  (the driver sets VIRTQ_AVAIL_F_NO_INTERRUPT or uses used_event). The maximum queue size is
  32768, which bounds ``batch_size``. Russell, "virtio: Towards a De-Facto Standard for Virtual I/O
  Devices", ACM SIGOPS Operating Systems Review 42(5), 2008, introduced the ring transport.
* Nested virtualization. Ben-Yehuda et al., "The Turtles Project: Design and Implementation of
  Nested Virtualization", OSDI 2010, Section 3.2: only the lowest hypervisor (L0) uses the hardware;
  every VMX instruction that the guest hypervisor (L1) executes while handling an exit of its
  guest (L2) traps to L0. Linux's KVM says the same in its source ("VMX instructions trap
  unconditionally. This allows L1 to emulate them for its L2 guest") and turns on VMCS shadowing
  by default (``enable_shadow_vmcs`` in arch/x86/kvm/vmx/nested.c), which lets most VMREAD and
  VMWRITE instructions run without an exit.
* Xen's comparison. Barham et al., "Xen and the Art of Virtualization", SOSP 2003, Section 4.1 and
  Figure 3: the scores printed above the bars for native Linux, XenoLinux, VMware Workstation 3.2
  and User-Mode Linux on one CPU of a 2.4 GHz Xeon server (see :data:`XEN_SOSP2003_FIGURE3`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ._validate import check_array, check_bool, check_choice, check_int, check_real

__all__ = [
    "ATA_PIO_READ_SEQUENCE",
    "ATA_DMA_READ_SEQUENCE",
    "TRANSFERS",
    "ExitCosts",
    "EmulatedDevice",
    "VirtioQueue",
    "IOResult",
    "run_emulated",
    "run_virtio",
    "sweep_batch_sizes",
    "trace_emulated",
    "trace_virtio",
    "NestedExit",
    "Benchmark",
    "XEN_SOSP2003_SYSTEMS",
    "XEN_SOSP2003_FIGURE3",
    "relative_performance",
]

#: Largest virtqueue size the VIRTIO specification allows (Section 2.7, split virtqueues).
MAX_QUEUE_SIZE = 32768

#: The task-file registers of the primary IDE channel, shared by both paths (after the status poll).
_TASK_FILE: tuple[tuple[str, str, str], ...] = (
    ("out", "0x1F2", "sector count"),
    ("out", "0x1F3", "LBA low"),
    ("out", "0x1F4", "LBA mid"),
    ("out", "0x1F5", "LBA high"),
    ("out", "0x1F6", "device"),
)

#: Register accesses of one PIO "READ SECTORS" (20h) of one sector, in order: (instruction,
#: port, register). Bochs BIOS notes, "Read Disk Sector"; the REP INSW is one exit at least.
ATA_PIO_READ_SEQUENCE: tuple[tuple[str, str, str], ...] = (
    ("in", "0x1F7", "status (wait until not busy)"),
    *_TASK_FILE,
    ("out", "0x1F7", "command READ SECTORS (20h)"),
    ("in", "0x1F7", "status (acknowledge completion)"),
    ("rep insw", "0x1F0", "data: the sector's 256 words"),
)

#: Register accesses of one "READ DMA" (C8h) through a bus-master IDE controller, in order.
#: "BM+n" is offset n in the bus-master I/O block (PCI BAR4): +0 command, +2 status, +4 PRD
#: table address. Linux drivers/ata/libata-sff.c; the fewest accesses the protocol needs.
ATA_DMA_READ_SEQUENCE: tuple[tuple[str, str, str], ...] = (
    ("in", "0x1F7", "status (wait until not busy)"),
    ("out", "BM+4", "bus master: PRD table address"),
    ("out", "BM+0", "bus master command: direction"),
    *_TASK_FILE,
    ("out", "0x1F7", "command READ DMA (C8h)"),
    ("out", "BM+0", "bus master command: start"),
    ("in", "BM+2", "bus master status (interrupt bit)"),
    ("out", "BM+0", "bus master command: stop"),
    ("in", "0x1F7", "status (acknowledge completion)"),
    ("out", "BM+2", "bus master status: clear interrupt"),
)

#: The two transfer paths of the emulated IDE controller.
TRANSFERS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "pio": ATA_PIO_READ_SEQUENCE,
    "dma": ATA_DMA_READ_SEQUENCE,
}


@dataclass(frozen=True)
class ExitCosts:
    """What one VM exit costs, in CPU cycles, and the clock that turns cycles into time.

    ``exit_cycles`` is the *direct* cost: the hardware saving guest state, loading host state,
    and the same in reverse on the next VM entry. ``handling_cycles`` is the hypervisor's work to
    decode and emulate the access (SplitX calls it the synchronous cost). The default for the
    direct cost, 2,000 cycles on a 2.93 GHz Xeon X5570, is SplitX's measurement (Landau et al.,
    WIOV 2011, Section 1). The default handling cost of another 2,000 cycles is an assumption, and
    a modest one: SplitX reports that handling plus cache effects can be ten times the direct cost.

    >>> ExitCosts().cycles_per_exit
    4000
    >>> round(ExitCosts().microseconds(4000), 3)
    1.365
    """

    exit_cycles: int = 2000
    handling_cycles: int = 2000
    cpu_ghz: float = 2.93

    def __post_init__(self) -> None:
        check_int("exit_cycles", self.exit_cycles, 1, 10_000_000)
        check_int("handling_cycles", self.handling_cycles, 0, 10_000_000)
        check_real("cpu_ghz", self.cpu_ghz, 0.1, 10.0)

    @property
    def cycles_per_exit(self) -> int:
        """Direct plus handling cycles of one exit."""
        return self.exit_cycles + self.handling_cycles

    def microseconds(self, cycles: float) -> float:
        """Convert a number of cycles into microseconds at ``cpu_ghz``."""
        return cycles / (self.cpu_ghz * 1000.0)


@dataclass(frozen=True)
class EmulatedDevice:
    """An emulated IDE controller: every register access of a one-sector read is a VM exit.

    ``transfer`` chooses the path, ``"dma"`` (what an operating system's driver uses, the
    default) or ``"pio"`` (what a BIOS uses); :data:`TRANSFERS` holds both access sequences.
    The completion interrupt costs one more exit, the EOI write to the virtual local APIC,
    unless ``apic_virtualization`` is on. The counts are floors: a real driver makes more
    accesses than the protocol needs.

    >>> EmulatedDevice().exits_per_op, EmulatedDevice(transfer="pio").exits_per_op
    (15, 10)
    """

    transfer: str = "dma"
    apic_virtualization: bool = False

    def __post_init__(self) -> None:
        check_choice("transfer", self.transfer, TRANSFERS)
        check_bool("apic_virtualization", self.apic_virtualization)

    @property
    def sequence(self) -> tuple[tuple[str, str, str], ...]:
        """The register accesses of one read, in order: (instruction, port, register)."""
        return TRANSFERS[self.transfer]

    @property
    def register_accesses(self) -> int:
        return len(self.sequence)

    @property
    def interrupt_exits(self) -> int:
        """The EOI write that acknowledges the completion interrupt (0 with APIC virtualization)."""
        return 0 if self.apic_virtualization else 1

    @property
    def exits_per_op(self) -> int:
        return self.register_accesses + self.interrupt_exits


def _suppressed(index: int, fraction: float) -> bool:
    """Whether notification number ``index`` (0-based) is suppressed when a ``fraction`` is.

    Spreads the suppressed notifications evenly and deterministically, so that exactly
    floor(n * fraction) of the first n are suppressed.
    """
    return math.floor((index + 1) * fraction) > math.floor(index * fraction)


@dataclass(frozen=True)
class VirtioQueue:
    """A virtio split virtqueue driven in batches.

    The driver places ``batch_size`` requests in the available ring, then sends one available
    buffer notification (a write to the device's notify register: ``notify_exits`` exits); the
    device answers a completed batch with one used buffer notification, an interrupt whose EOI
    costs ``interrupt_exits`` exits. Named after the specification's mechanisms,
    ``notify_suppressed`` is the fraction of batches whose notification the device suppressed
    because it was still processing the ring (VIRTQ_USED_F_NO_NOTIFY or avail_event), and
    ``interrupt_suppressed`` the fraction of completions the driver chose not to be interrupted
    for (VIRTQ_AVAIL_F_NO_INTERRUPT or used_event). VIRTIO 1.2, Section 2.7.
    """

    batch_size: int = 1
    notify_suppressed: float = 0.0
    interrupt_suppressed: float = 0.0
    notify_exits: int = 1
    interrupt_exits: int = 1

    def __post_init__(self) -> None:
        check_int("batch_size", self.batch_size, 1, MAX_QUEUE_SIZE)
        check_real("notify_suppressed", self.notify_suppressed, 0.0, 1.0)
        check_real("interrupt_suppressed", self.interrupt_suppressed, 0.0, 1.0)
        check_int("notify_exits", self.notify_exits, 0, 100)
        check_int("interrupt_exits", self.interrupt_exits, 0, 100)

    def batches(self, n_ops: int) -> int:
        """Batches needed for ``n_ops`` requests (the last one may be partial)."""
        return -(-n_ops // self.batch_size)

    def notifications(self, n_ops: int) -> int:
        """Available buffer notifications actually sent for ``n_ops`` requests."""
        b = self.batches(n_ops)
        return b - math.floor(b * self.notify_suppressed)

    def interrupts(self, n_ops: int) -> int:
        """Used buffer notifications (interrupts) actually delivered for ``n_ops`` requests."""
        b = self.batches(n_ops)
        return b - math.floor(b * self.interrupt_suppressed)


@dataclass(frozen=True)
class IOResult:
    """Exits and CPU time that ``n_ops`` I/O operations cost the host."""

    design: str
    n_ops: int
    exits: int
    costs: ExitCosts = field(repr=False)

    @property
    def cycles(self) -> int:
        return self.exits * self.costs.cycles_per_exit

    @property
    def exits_per_op(self) -> float:
        return self.exits / self.n_ops

    @property
    def microseconds(self) -> float:
        return self.costs.microseconds(self.cycles)

    @property
    def microseconds_per_op(self) -> float:
        return self.microseconds / self.n_ops


def run_emulated(n_ops: int, device: EmulatedDevice = EmulatedDevice(),
                 costs: ExitCosts = ExitCosts()) -> IOResult:
    """Exits and time for ``n_ops`` operations on an emulated device (no batching is possible)."""
    check_int("n_ops", n_ops, 1, 10**9)
    return IOResult("emulated", n_ops, n_ops * device.exits_per_op, costs)


def run_virtio(n_ops: int, queue: VirtioQueue = VirtioQueue(),
               costs: ExitCosts = ExitCosts()) -> IOResult:
    """Exits and time for ``n_ops`` requests through a virtqueue, batched and with suppression."""
    check_int("n_ops", n_ops, 1, 10**9)
    exits = (queue.notifications(n_ops) * queue.notify_exits
             + queue.interrupts(n_ops) * queue.interrupt_exits)
    return IOResult("virtio", n_ops, exits, costs)


def sweep_batch_sizes(n_ops: int, batch_sizes, costs: ExitCosts = ExitCosts(),
                      device: EmulatedDevice = EmulatedDevice(), notify_suppressed: float = 0.0,
                      interrupt_suppressed: float = 0.0) -> list[dict]:
    """One row per batch size: exits and microseconds per operation for both designs.

    The emulated device does not depend on the batch size (it cannot batch); it is repeated in
    every row so that the rows plot directly.
    """
    rows = []
    emulated = run_emulated(n_ops, device, costs)
    for b in batch_sizes:
        queue = VirtioQueue(batch_size=b, notify_suppressed=notify_suppressed,
                            interrupt_suppressed=interrupt_suppressed)
        virtio = run_virtio(n_ops, queue, costs)
        rows.append({"batch_size": b,
                     "emulated_exits_per_op": emulated.exits_per_op,
                     "virtio_exits_per_op": virtio.exits_per_op,
                     "emulated_us_per_op": emulated.microseconds_per_op,
                     "virtio_us_per_op": virtio.microseconds_per_op})
    return rows


def trace_emulated(n_ops: int, device: EmulatedDevice = EmulatedDevice()) -> list[str]:
    """A line per event for ``n_ops`` emulated reads; lines ending in 'VM exit' are exits."""
    check_int("n_ops", n_ops, 1, 1000)
    lines, exit_no = [], 0
    for op in range(1, n_ops + 1):
        for insn, port, reg in device.sequence:
            exit_no += 1
            what = f"{insn:<8} {port:<5} {reg}"
            lines.append(f"op {op:>3}  #{exit_no:<4} {what:<52} -> VM exit")
        if device.interrupt_exits:
            exit_no += 1
            lines.append(f"op {op:>3}  #{exit_no:<4} {'EOI write to the virtual local APIC':<52}"
                         " -> VM exit")
        else:
            lines.append(f"op {op:>3}        {'EOI virtualized by the processor':<52} (no exit)")
    return lines


def trace_virtio(n_ops: int, queue: VirtioQueue = VirtioQueue()) -> list[str]:
    """A line per event for ``n_ops`` virtio requests; lines ending in 'VM exit' are exits."""
    check_int("n_ops", n_ops, 1, 1000)
    lines, exit_no = [], 0
    for b in range(queue.batches(n_ops)):
        first = b * queue.batch_size + 1
        last = min(n_ops, first + queue.batch_size - 1)
        lines.append(f"batch {b + 1}: requests {first}..{last} placed in the available ring"
                     " (shared memory, no exit)")
        if _suppressed(b, queue.notify_suppressed):
            lines.append(f"batch {b + 1}: notification suppressed, device still polling the ring")
        else:
            for _ in range(queue.notify_exits):
                exit_no += 1
                lines.append(f"batch {b + 1}: #{exit_no:<4} write to the notify register -> VM exit")
        if _suppressed(b, queue.interrupt_suppressed):
            lines.append(f"batch {b + 1}: completion interrupt suppressed by the driver")
        else:
            for _ in range(queue.interrupt_exits):
                exit_no += 1
                lines.append(f"batch {b + 1}: #{exit_no:<4} EOI after the completion interrupt"
                             " -> VM exit")
    return lines


@dataclass(frozen=True)
class NestedExit:
    """Exit multiplication: what one exit of a nested guest (L2) costs the real hypervisor (L0).

    Following the Turtles design (Ben-Yehuda et al., OSDI 2010, Section 3.2), an L2 exit that the
    guest hypervisor L1 must handle goes: L2 exits to L0 (one hardware exit); L0 emulates an exit
    into L1, whose handler executes ``vmx_instructions`` VMREAD/VMWRITE instructions on the VMCS it
    keeps for L2, each of which traps to L0 unless VMCS shadowing lets it run in hardware; finally
    L1's VMRESUME traps to L0, which resumes L2 (one more exit). The number of VMX instructions
    an L1 handler executes depends on the L1 hypervisor and the exit reason: it is a parameter
    here, not a measured constant.

    >>> NestedExit(vmx_instructions=10).l0_exits_per_l2_exit
    12
    >>> NestedExit(vmx_instructions=10, vmcs_shadowing=True).l0_exits_per_l2_exit
    2
    """

    vmx_instructions: int = 10
    vmcs_shadowing: bool = False

    def __post_init__(self) -> None:
        check_int("vmx_instructions", self.vmx_instructions, 0, 10_000)
        check_bool("vmcs_shadowing", self.vmcs_shadowing)

    @property
    def l0_exits_per_l2_exit(self) -> int:
        trapped = 0 if self.vmcs_shadowing else self.vmx_instructions
        return 1 + trapped + 1

    def l0_exits(self, l2_exits: float) -> float:
        """Exits L0 handles for ``l2_exits`` exits of L2 (per operation, or in total).

        >>> NestedExit(vmx_instructions=10).l0_exits(EmulatedDevice().exits_per_op)
        180
        """
        check_real("l2_exits", l2_exits, 0.0)
        return l2_exits * self.l0_exits_per_l2_exit

    def cycles(self, l2_exits: int, costs: ExitCosts = ExitCosts()) -> int:
        """Cycles L0 spends on ``l2_exits`` exits of L2 (handling cost counted per L0 exit)."""
        check_int("l2_exits", l2_exits, 0, 10**12)
        return l2_exits * self.l0_exits_per_l2_exit * costs.cycles_per_exit


@dataclass(frozen=True)
class Benchmark:
    """One cluster of bars in Figure 3 of the Xen paper: a score for each of the four systems."""

    name: str
    unit: str
    higher_is_better: bool
    scores: tuple[float, float, float, float]


#: The four systems of Figure 3, in the paper's order (L, X, V, U).
XEN_SOSP2003_SYSTEMS: tuple[str, ...] = ("Linux (native)", "XenoLinux", "VMware Workstation 3.2",
                                         "User-Mode Linux")

#: Barham et al., SOSP 2003, Figure 3: the absolute scores printed above the bars (Linux 2.4.21,
#: one CPU of a Dell 2650 with 2.4 GHz Xeons, median of seven trials, Section 4.1). These are
#: the figure's own labels, not values read off bar heights. The paper's text agrees with them:
#: Xen's Linux build has a 3% overhead, XenoLinux is within 1% of native on SPEC WEB99, VMware and
#: UML support less than a third of native's SPEC WEB99 clients, and a second CPU raises native
#: SPEC WEB99 by 28% to 662 conformant clients (Section 4.3).
XEN_SOSP2003_FIGURE3: tuple[Benchmark, ...] = (
    Benchmark("SPEC INT2000", "score", True, (567, 567, 554, 550)),
    Benchmark("Linux build", "seconds", False, (263, 271, 334, 535)),
    Benchmark("OSDB-IR", "tuples/s", True, (172, 158, 80, 65)),
    Benchmark("OSDB-OLTP", "tuples/s", True, (1714, 1633, 199, 306)),
    Benchmark("dbench", "score", True, (418, 400, 310, 111)),
    Benchmark("SPEC WEB99", "score", True, (518, 514, 150, 172)),
)


def relative_performance(benchmark: Benchmark) -> tuple[float, ...]:
    """Each system's performance relative to native Linux (1.0 = native, higher is better).

    For a time, where lower is better, relative performance is native time / system time, as in
    the paper's figure.

    >>> relative_performance(XEN_SOSP2003_FIGURE3[1])[1] < 1.0
    True
    """
    check_array("scores", benchmark.scores, 0.0, lo_open=True)
    native = benchmark.scores[0]
    if benchmark.higher_is_better:
        return tuple(s / native for s in benchmark.scores)
    return tuple(native / s for s in benchmark.scores)
