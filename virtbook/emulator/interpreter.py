"""Emulation by interpretation: fetch, decode and execute one guest instruction at a time.

This is the simplest emulator that can exist, and the model for every other. Its main loop does
for each guest instruction what a real processor's control unit does in hardware:

1. fetch the word at the guest pc,
2. decode it into opcode and fields (shifts and masks),
3. dispatch to the routine that implements that opcode (here a table of small functions,
   indexed by opcode), which updates registers or memory and returns the next pc,
4. count the instruction and its cycles, and check the instruction budget.

Smith and Nair call this structure a decode-and-dispatch interpreter, and it is easy to write,
easy to port and easy to make exact; its cost is that steps 1-4 are paid again every time an
instruction executes, even the millionth time round a loop (Smith and Nair, "Virtual Machines:
Versatile Platforms for Systems and Processes", Morgan Kaufmann 2005, Chapter 2, sections on
basic interpretation and decode-and-dispatch). Their refinements remove part of the repeated
work: *predecoding* splits every instruction into fields once, before execution, and *threaded*
interpretation jumps straight from one routine to the next. ``predecode=True`` switches on the
first refinement so that a student can measure how much of the time decoding takes.

    >>> from virtbook.emulator import assemble, CPUState
    >>> program = assemble("LI r1, 2\\nLI r2, 3\\nMUL r3, r1, r2\\nHALT")
    >>> state = Interpreter(program).run(CPUState.boot())
    >>> state.regs[3], state.instructions, state.cycles
    (6, 4, 6)
"""
from __future__ import annotations

from typing import Callable, Iterator

from .._validate import check_int
from .assembler import Program
from .isa import OP_BY_CODE, WORD_MASK, decode, to_signed16
from .state import CPUState, GuestFault, InstructionLimitExceeded

__all__ = ["Interpreter", "DEFAULT_MAX_INSTRUCTIONS"]

#: Budget after which a run is stopped as a runaway (ten million guest instructions).
DEFAULT_MAX_INSTRUCTIONS = 10_000_000

# One handler per opcode: (regs, mem, mask, rd, rs, rt, imm, pc) -> next pc, or -1 for HALT.
# ``imm`` arrives as the raw 16-bit field; handlers that read it as signed convert it.
Handler = Callable[[list, list, int, int, int, int, int, int], int]


def _halt(r, m, k, rd, rs, rt, imm, pc):
    return -1


def _li(r, m, k, rd, rs, rt, imm, pc):
    r[rd] = imm
    return pc + 1


def _mov(r, m, k, rd, rs, rt, imm, pc):
    r[rd] = r[rs]
    return pc + 1


def _add(r, m, k, rd, rs, rt, imm, pc):
    r[rd] = (r[rs] + r[rt]) & WORD_MASK
    return pc + 1


def _sub(r, m, k, rd, rs, rt, imm, pc):
    r[rd] = (r[rs] - r[rt]) & WORD_MASK
    return pc + 1


def _mul(r, m, k, rd, rs, rt, imm, pc):
    r[rd] = (r[rs] * r[rt]) & WORD_MASK
    return pc + 1


def _addi(r, m, k, rd, rs, rt, imm, pc):
    r[rd] = (r[rs] + to_signed16(imm)) & WORD_MASK
    return pc + 1


def _slt(r, m, k, rd, rs, rt, imm, pc):
    r[rd] = 1 if r[rs] < r[rt] else 0
    return pc + 1


def _ld(r, m, k, rd, rs, rt, imm, pc):
    r[rd] = m[(r[rs] + to_signed16(imm)) & k]
    return pc + 1


def _st(r, m, k, rd, rs, rt, imm, pc):
    m[(r[rs] + to_signed16(imm)) & k] = r[rd]
    return pc + 1


def _beqz(r, m, k, rd, rs, rt, imm, pc):
    return imm if r[rs] == 0 else pc + 1


def _bnez(r, m, k, rd, rs, rt, imm, pc):
    return imm if r[rs] != 0 else pc + 1


def _jmp(r, m, k, rd, rs, rt, imm, pc):
    return imm


def _nop(r, m, k, rd, rs, rt, imm, pc):
    return pc + 1


#: The dispatch table, indexed by opcode (0x0 .. 0xD).
HANDLERS: tuple[Handler, ...] = (_halt, _li, _mov, _add, _sub, _mul, _addi, _slt, _ld, _st,
                                 _beqz, _bnez, _jmp, _nop)
#: Cycles per opcode, from the opcode table.
CYCLES: tuple[int, ...] = tuple(OP_BY_CODE[c].cycles for c in range(len(HANDLERS)))


class Interpreter:
    """A decode-and-dispatch interpreter for one Tiny32 program.

    ``predecode=False`` (the default) extracts the fields from the machine word every time the
    instruction runs, as the simplest interpreter does; ``predecode=True`` does it once for the
    whole program when the interpreter is built, and only dispatches at run time.
    """

    def __init__(self, program: Program, predecode: bool = False) -> None:
        if not isinstance(program, Program):
            raise ValueError(f"program must be a Program from assemble(), got "
                             f"{type(program).__name__}")
        self.program = program
        self.predecode = bool(predecode)
        self._words = program.words
        # Predecoded form: (handler, rd, rs, rt, raw imm, cycles) per instruction.
        self._decoded = tuple(
            (HANDLERS[w >> 28], (w >> 24) & 0xF, (w >> 20) & 0xF, (w >> 16) & 0xF, w & 0xFFFF,
             CYCLES[w >> 28]) for w in program.words) if self.predecode else ()

    def run(self, state: CPUState, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS) -> CPUState:
        """Run from ``state.pc`` until HALT; update ``state`` in place and return it.

        Raises :class:`InstructionLimitExceeded` if the next instruction would exceed
        ``max_instructions`` in total, and :class:`GuestFault` if the pc leaves the program.
        """
        max_instructions = check_int("max_instructions", max_instructions, 1)
        if state.halted:
            return state
        regs, mem, mask = state.regs, state.mem, state.mem_mask
        pc, count, cycles = state.pc, state.instructions, state.cycles
        n = len(self._words)
        try:
            if self.predecode:
                code = self._decoded
                while True:
                    if not 0 <= pc < n:
                        raise GuestFault(f"pc {pc} is outside the program (0..{n - 1})")
                    if count >= max_instructions:
                        raise InstructionLimitExceeded(
                            f"no HALT within max_instructions={max_instructions}")
                    handler, rd, rs, rt, imm, cost = code[pc]
                    nxt = handler(regs, mem, mask, rd, rs, rt, imm, pc)
                    count += 1
                    cycles += cost
                    if nxt < 0:
                        state.halted = True
                        break
                    pc = nxt
            else:
                words = self._words
                while True:
                    if not 0 <= pc < n:
                        raise GuestFault(f"pc {pc} is outside the program (0..{n - 1})")
                    if count >= max_instructions:
                        raise InstructionLimitExceeded(
                            f"no HALT within max_instructions={max_instructions}")
                    word = words[pc]                          # fetch
                    op = word >> 28                           # decode
                    nxt = HANDLERS[op](regs, mem, mask,       # dispatch and execute
                                       (word >> 24) & 0xF, (word >> 20) & 0xF,
                                       (word >> 16) & 0xF, word & 0xFFFF, pc)
                    count += 1                                # count
                    cycles += CYCLES[op]
                    if nxt < 0:
                        state.halted = True
                        break
                    pc = nxt
        finally:
            state.pc, state.instructions, state.cycles = pc, count, cycles
        return state

    def step(self, state: CPUState) -> CPUState:
        """Execute exactly one instruction (nothing if the machine has halted)."""
        if state.halted:
            return state
        pc, n = state.pc, len(self._words)
        if not 0 <= pc < n:
            raise GuestFault(f"pc {pc} is outside the program (0..{n - 1})")
        word = self._words[pc]
        op = word >> 28
        nxt = HANDLERS[op](state.regs, state.mem, state.mem_mask, (word >> 24) & 0xF,
                           (word >> 20) & 0xF, (word >> 16) & 0xF, word & 0xFFFF, pc)
        state.instructions += 1
        state.cycles += CYCLES[op]
        if nxt < 0:
            state.halted = True
        else:
            state.pc = nxt
        return state

    def trace(self, state: CPUState, steps: int = 20) -> Iterator[str]:
        """Execute up to ``steps`` instructions one by one, yielding a line per instruction.

        Each line gives the instruction count, the pc, the instruction and what it changed, so
        that a student can check a run by hand. ``state`` is updated as in :meth:`run`.
        """
        check_int("steps", steps, 1)
        for _ in range(steps):
            if state.halted:
                return
            pc = state.pc
            inst = decode(self._words[pc]) if 0 <= pc < len(self._words) else None
            before_regs, before_mem = list(state.regs), list(state.mem)
            self.step(state)
            changes = [f"r{i}={v}" for i, (u, v) in enumerate(zip(before_regs, state.regs))
                       if u != v]
            changes += [f"mem[{a}]={v}" for a, (u, v) in enumerate(zip(before_mem, state.mem))
                        if u != v]
            if inst.op in ("BEQZ", "BNEZ", "JMP"):
                changes.append(f"pc->{state.pc}")
            if state.halted:
                changes.append("halted")
            yield (f"{state.instructions:>5}  {pc:04d}  {str(inst):<18} "
                   f"{' '.join(changes)}").rstrip()
