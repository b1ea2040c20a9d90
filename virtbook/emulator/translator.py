"""Emulation by dynamic binary translation: translate each guest basic block once, then run it.

An interpreter pays for fetching, decoding and dispatching every time an instruction executes.
A dynamic binary translator pays once per *block* of guest code and then reuses the result. This
module follows the structure of QEMU's translator, scaled down to a page of Python:

* **Code discovery at run time.** The translator does not try to translate the whole program
  ahead of time; it starts at the pc the machine is about to execute and decodes forward to the
  end of the basic block, the first instruction that can change the flow of control (a branch,
  a jump or HALT), or ``max_block_insns`` instructions. QEMU calls the result a translation
  block (TB): a run of guest instructions "terminated by a jump or by a virtual CPU state change
  which the translator cannot deduce statically" (QEMU Internals, qemu-tech.texi in QEMU's
  early source tree, section "Translation cache"; the same design is in Bellard 2005).
* **Translation.** Each block becomes Python source code: one straight-line function in which
  guest registers live in local variables, every guest instruction becomes one or two Python
  statements, and the function returns the next guest pc. ``compile()`` turns the source into
  Python bytecode once. (QEMU translates guest code into its TCG intermediate ops and from those
  into host machine code; here the "host code" is CPython bytecode.)
* **The translation cache.** Translated blocks are kept in a dictionary keyed by the guest pc
  at which they start, so a loop body is translated on its first trip and found in the cache on
  every later one. QEMU's original cache was a fixed-size (16 MB) buffer that "is completely
  flushed when it is full" (same sources); ``cache_capacity`` imitates that policy.
* **Block chaining.** After a block runs, the emulator must find the block for the next pc.
  QEMU speeds up the common case where that pc is known by patching the end of a block so that
  it jumps straight into the next block ("Direct block chaining", QEMU documentation, Translator
  Internals). Here each block remembers the block it led to last time for each of its exits, so
  the global cache is consulted only the first time an exit is taken; the statistics count the
  trips through the dispatcher that chaining saves.

Timing accuracy is kept the way a translator can keep it cheaply: the number of instructions and
cycles of a block is computed once, at translation, and added after each execution. That is
exact here because Tiny32's cycle costs are static; timing that depends on run-time events (a
memory access colliding with a device) would force the translator to check after every
instruction, which is one reason accurate emulators run slower.

Sources: Bellard, "QEMU, a Fast and Portable Dynamic Translator", USENIX Annual Technical
Conference, FREENIX Track, 2005; QEMU, "Translator Internals" (docs/devel/tcg.rst, sections
"Direct block chaining" and "Self-modifying code and translated code invalidation"); Smith and
Nair, "Virtual Machines", Morgan Kaufmann 2005, Chapter 2 (binary translation, code discovery,
translation chaining).

    >>> from virtbook.emulator import assemble, CPUState
    >>> program = assemble('''
    ...         LI   r1, 0
    ...         LI   r2, 5
    ... loop:   ADD  r1, r1, r2
    ...         ADDI r2, r2, -1
    ...         BNEZ r2, loop
    ...         HALT
    ... ''')
    >>> engine = BlockTranslator(program)
    >>> state = engine.run(CPUState.boot())
    >>> state.regs[1], state.instructions
    (15, 18)
    >>> engine.stats.blocks_translated, engine.stats.blocks_executed
    (3, 6)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .._validate import check_int
from .assembler import Program
from .interpreter import DEFAULT_MAX_INSTRUCTIONS
from .isa import BLOCK_ENDERS, WORD_MASK, Instruction
from .state import CPUState, GuestFault, InstructionLimitExceeded

__all__ = ["BlockTranslator", "TranslatedBlock", "TranslationStats", "DEFAULT_MAX_BLOCK_INSNS"]

#: Longest block the translator builds. QEMU's limit is higher (TCG_MAX_INSNS is 512 in
#: include/tcg/tcg.h); a smaller limit keeps the generated functions short enough to read.
DEFAULT_MAX_BLOCK_INSNS = 64


@dataclass(eq=False, slots=True)
class TranslatedBlock:
    """One guest basic block and its translation.

    ``fn(regs, mem)`` runs the whole block on the state's register list and memory list and
    returns the next guest pc, or -1 if the block ended with HALT. ``exits`` lists the pcs the
    block can continue at (known at translation time, as Tiny32 has no indirect jumps);
    ``links`` holds the chained successor block for each exit once it has been taken.
    """

    start_pc: int
    instructions: tuple[Instruction, ...]
    source: str
    fn: Callable[[list, list], int]
    cycles: int
    exits: tuple[int, ...]
    halts: bool
    links: dict[int, "TranslatedBlock"] = field(default_factory=dict, repr=False)
    n_insns: int = field(init=False)

    def __post_init__(self) -> None:
        self.n_insns = len(self.instructions)

    @property
    def end_pc(self) -> int:
        """Address of the block's last instruction."""
        return self.start_pc + self.n_insns - 1


@dataclass
class TranslationStats:
    """What the translator did: the counters behind the chapter's figure.

    ``lookups`` are trips through the dispatcher's global cache; each is a ``cache_hit`` or a
    ``cache_miss`` (a miss means a translation). ``chained`` counts block-to-block transitions
    that followed a chain link and needed no lookup.
    """

    blocks_translated: int = 0
    insns_translated: int = 0
    blocks_executed: int = 0
    lookups: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    chained: int = 0
    flushes: int = 0


def _expr_imm(var: str, imm: int) -> str:
    return f"{var} + {imm}" if imm >= 0 else f"{var} - {-imm}"


def _statement(inst: Instruction, mask: int) -> list[str]:
    """Python statements for one non-control guest instruction (registers in locals r0..r7)."""
    op, d, s, t, imm = inst.op, f"r{inst.rd}", f"r{inst.rs}", f"r{inst.rt}", inst.imm
    if op == "LI":
        return [f"{d} = {imm}"]
    if op == "MOV":
        return [f"{d} = {s}"]
    if op == "ADD":
        return [f"{d} = ({s} + {t}) & {WORD_MASK:#x}"]
    if op == "SUB":
        return [f"{d} = ({s} - {t}) & {WORD_MASK:#x}"]
    if op == "MUL":
        return [f"{d} = ({s} * {t}) & {WORD_MASK:#x}"]
    if op == "ADDI":
        return [f"{d} = ({_expr_imm(s, imm)}) & {WORD_MASK:#x}"]
    if op == "SLT":
        return [f"{d} = 1 if {s} < {t} else 0"]
    if op == "LD":
        return [f"{d} = M[({_expr_imm(s, imm)}) & {mask}]"]
    if op == "ST":
        return [f"M[({_expr_imm(s, imm)}) & {mask}] = {d}"]
    if op == "NOP":
        return ["pass"]
    raise AssertionError(f"{op} is a control transfer")  # pragma: no cover


def _registers(inst: Instruction) -> tuple[set[int], set[int]]:
    """(registers read, registers written) by one instruction."""
    f = set(inst.info.fields)
    read: set[int] = set()
    if "rs" in f or "mem" in f:
        read.add(inst.rs)
    if "rt" in f:
        read.add(inst.rt)
    written: set[int] = set()
    if inst.op == "ST":
        read.add(inst.rd)
    elif "rd" in f:
        written.add(inst.rd)
    return read, written


class BlockTranslator:
    """A dynamic binary translator for one Tiny32 program, with a translation cache.

    ``max_block_insns`` bounds the length of a block (1..4096); ``cache_capacity`` is the
    number of blocks the cache may hold before it is flushed completely (None: unbounded);
    ``chain`` turns block chaining on or off.
    """

    def __init__(self, program: Program, max_block_insns: int = DEFAULT_MAX_BLOCK_INSNS,
                 cache_capacity: int | None = None, chain: bool = True) -> None:
        if not isinstance(program, Program):
            raise ValueError(f"program must be a Program from assemble(), got "
                             f"{type(program).__name__}")
        max_block_insns = check_int("max_block_insns", max_block_insns, 1, 4096)
        if cache_capacity is not None and (not isinstance(cache_capacity, int)
                                           or cache_capacity < 1):
            raise ValueError(f"cache_capacity must be None or an integer >= 1, "
                             f"got {cache_capacity!r}")
        self.program = program
        self.max_block_insns = max_block_insns
        self.cache_capacity = cache_capacity
        self.chain = bool(chain)
        self.cache: dict[int, TranslatedBlock] = {}
        self.stats = TranslationStats()
        self._insts = program.instructions()
        self._mask: int | None = None

    # --- translation ---------------------------------------------------------------------

    def translate(self, pc: int, mem_mask: int) -> TranslatedBlock:
        """Discover the basic block that starts at ``pc`` and translate it (no caching)."""
        n = len(self._insts)
        if not isinstance(pc, int) or not 0 <= pc < n:
            raise GuestFault(f"pc {pc} is outside the program (0..{n - 1})")
        block: list[Instruction] = []
        addr = pc
        while addr < n and len(block) < self.max_block_insns:
            inst = self._insts[addr]
            block.append(inst)
            addr += 1
            if inst.op in BLOCK_ENDERS:
                break
        last = block[-1]
        fallthrough = pc + len(block)
        reads: set[int] = set()
        writes: set[int] = set()
        for inst in block:
            r, w = _registers(inst)
            reads |= r
            writes |= w
        used = sorted(reads | writes)
        name = f"tb_{pc:04d}"
        lines = [f"def {name}(R, M):"]
        if used:
            lines.append("    " + "; ".join(f"r{i} = R[{i}]" for i in used))
        for i, inst in enumerate(block):
            lines.append(f"    # {pc + i:04d}  {inst}")
            if inst.op not in BLOCK_ENDERS:
                lines.extend("    " + s for s in _statement(inst, mem_mask))
        writeback = "; ".join(f"R[{i}] = r{i}" for i in sorted(writes))
        if writeback:
            lines.append("    " + writeback)
        if last.op == "HALT":
            lines.append("    return -1")
            exits: tuple[int, ...] = ()
        elif last.op == "JMP":
            lines.append(f"    return {last.imm}")
            exits = (last.imm,)
        elif last.op in ("BEQZ", "BNEZ"):
            test = f"r{last.rs} == 0" if last.op == "BEQZ" else f"r{last.rs} != 0"
            lines.append(f"    return {last.imm} if {test} else {fallthrough}")
            exits = (last.imm, fallthrough)
        else:  # the block was cut by max_block_insns or by the end of the program
            lines.append(f"    return {fallthrough}")
            exits = (fallthrough,)
        source = "\n".join(lines) + "\n"
        namespace: dict = {}
        exec(compile(source, f"<translated block {pc:04d}>", "exec"), namespace)
        self.stats.blocks_translated += 1
        self.stats.insns_translated += len(block)
        return TranslatedBlock(pc, tuple(block), source, namespace[name],
                               sum(inst.info.cycles for inst in block), exits,
                               last.op == "HALT")

    def flush(self) -> None:
        """Empty the translation cache and undo all chaining, as QEMU does when its cache fills."""
        for blk in self.cache.values():
            blk.links.clear()
        self.cache.clear()
        self.stats.flushes += 1

    def _lookup(self, pc: int) -> TranslatedBlock:
        stats = self.stats
        stats.lookups += 1
        blk = self.cache.get(pc)
        if blk is not None:
            stats.cache_hits += 1
            return blk
        stats.cache_misses += 1
        if self.cache_capacity is not None and len(self.cache) >= self.cache_capacity:
            self.flush()
        blk = self.translate(pc, self._mask)
        self.cache[pc] = blk
        return blk

    # --- execution -------------------------------------------------------------------------

    def run(self, state: CPUState, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS) -> CPUState:
        """Run from ``state.pc`` until HALT, block by block; update ``state`` and return it.

        A block runs only if all its instructions fit in ``max_instructions``; otherwise
        :class:`InstructionLimitExceeded` is raised, exactly when the interpreter would raise
        it. The cache survives between runs (flushed if the memory size changes).
        """
        max_instructions = check_int("max_instructions", max_instructions, 1)
        if state.halted:
            return state
        if self._mask != state.mem_mask:
            if self.cache:
                self.flush()
            self._mask = state.mem_mask
        regs, mem, stats, chain = state.regs, state.mem, self.stats, self.chain
        pc, count, cycles = state.pc, state.instructions, state.cycles
        executed = chained = 0
        try:
            blk = self._lookup(pc)
            while True:
                n = blk.n_insns
                if count + n > max_instructions:
                    raise InstructionLimitExceeded(
                        f"no HALT within max_instructions={max_instructions}")
                nxt = blk.fn(regs, mem)          # run the translated block
                count += n                       # counters were computed at translation time
                cycles += blk.cycles
                executed += 1
                if nxt < 0:
                    pc = blk.end_pc
                    state.halted = True
                    break
                pc = nxt
                if chain:
                    linked = blk.links.get(nxt)  # chained: no trip through the global cache
                    if linked is not None:
                        chained += 1
                        blk = linked
                        continue
                    target = self._lookup(nxt)
                    blk.links[nxt] = target
                    blk = target
                else:
                    blk = self._lookup(nxt)
        finally:
            state.pc, state.instructions, state.cycles = pc, count, cycles
            stats.blocks_executed += executed
            stats.chained += chained
        return state
