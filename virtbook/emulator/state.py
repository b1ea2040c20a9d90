"""The architectural state of a Tiny32 machine, shared by both emulators.

"Architectural" state is everything a program can observe: the registers, the data memory, the
program counter and whether the machine has halted. Two emulators of the same processor are
correct with respect to each other exactly when they leave identical architectural state after
running the same program from the same start; that is what the chapter and the tests compare.
The counters (instructions retired and cycles in the toy timing model) are kept beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from .isa import NUM_REGS, WORD_MASK

__all__ = ["CPUState", "GuestFault", "InstructionLimitExceeded", "DEFAULT_MEM_WORDS"]

#: Default data memory: 256 words (1 KiB), plenty for the chapter's programs.
DEFAULT_MEM_WORDS = 256


class GuestFault(RuntimeError):
    """The guest program did something the machine cannot do (its pc left the program)."""


class InstructionLimitExceeded(RuntimeError):
    """The guest did not halt within the instruction budget (probably an endless loop)."""


@dataclass
class CPUState:
    """Registers, data memory, pc, halted flag, and the retired-instruction and cycle counters.

    Build one with :meth:`boot`; the emulators change it in place as they run.
    """

    regs: list[int]
    mem: list[int]
    pc: int = 0
    halted: bool = False
    instructions: int = 0
    cycles: int = 0
    mem_mask: int = field(init=False)

    def __post_init__(self) -> None:
        if len(self.regs) != NUM_REGS:
            raise ValueError(f"regs must hold exactly {NUM_REGS} values, got {len(self.regs)}")
        n = len(self.mem)
        if n < 1 or n & (n - 1) or n > 1 << 16:
            raise ValueError(f"mem_words must be a power of two in 1..65536, got {n}")
        for name, values in (("regs", self.regs), ("mem", self.mem)):
            for i, v in enumerate(values):
                if not isinstance(v, int) or not 0 <= v <= WORD_MASK:
                    raise ValueError(
                        f"{name}[{i}] must be an integer in 0..{WORD_MASK}, got {v!r}")
        self.mem_mask = n - 1

    @classmethod
    def boot(cls, mem_words: int = DEFAULT_MEM_WORDS,
             memory: Mapping[int, int] | Sequence[int] | None = None,
             regs: Sequence[int] | None = None) -> "CPUState":
        """A machine after reset: pc 0, registers zero (or ``regs``), memory zero except the
        words given in ``memory`` (a sequence loaded from address 0, or {address: value})."""
        if not isinstance(mem_words, int) or mem_words < 1 or mem_words & (mem_words - 1) \
                or mem_words > 1 << 16:
            raise ValueError(f"mem_words must be a power of two in 1..65536, got {mem_words!r}")
        mem = [0] * mem_words
        items = memory.items() if isinstance(memory, Mapping) else enumerate(memory or ())
        for addr, value in items:
            if not isinstance(addr, int) or not 0 <= addr < mem_words:
                raise ValueError(f"memory address must be in 0..{mem_words - 1}, got {addr!r}")
            mem[addr] = value
        return cls(list(regs) if regs is not None else [0] * NUM_REGS, mem)

    def copy(self) -> "CPUState":
        """An independent copy, so that two emulators can start from the same state."""
        return CPUState(list(self.regs), list(self.mem), self.pc, self.halted,
                        self.instructions, self.cycles)

    def architectural(self) -> tuple:
        """What a program can observe: (pc, halted, registers, memory), for comparisons."""
        return (self.pc, self.halted, tuple(self.regs), tuple(self.mem))

    def summary(self) -> str:
        """One line: pc, halted flag, counters and the registers."""
        regs = " ".join(f"r{i}={v}" for i, v in enumerate(self.regs))
        return (f"pc={self.pc} halted={self.halted} instructions={self.instructions} "
                f"cycles={self.cycles} | {regs}")
