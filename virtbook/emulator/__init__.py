"""A tiny CPU and two emulators for it: an interpreter and a dynamic binary translator.

Chapter 9 uses this package to make the two approaches of emulation concrete. Tiny32
(:mod:`~virtbook.emulator.isa`) is a small, documented 32-bit instruction set; the
:mod:`~virtbook.emulator.assembler` turns text into its machine words; the
:class:`Interpreter` fetches, decodes and executes one instruction at a time; the
:class:`BlockTranslator` translates each guest basic block into a Python function once, keeps it
in a translation cache keyed by guest pc and chains blocks together, the way QEMU's Tiny Code
Generator does with host machine code. Both engines must leave identical architectural state;
the tests check that on the chapter's programs and on random ones.

    >>> from virtbook.emulator import SUM, sum_state, Interpreter, BlockTranslator
    >>> a = Interpreter(SUM).run(sum_state(100))
    >>> b = BlockTranslator(SUM).run(sum_state(100))
    >>> a.mem[1], a.architectural() == b.architectural(), a.instructions == b.instructions
    (5050, True, True)

Run ``python -m virtbook.emulator`` to measure the translator's speedup on your machine.
"""
from .assembler import Program, assemble, disassemble
from .interpreter import DEFAULT_MAX_INSTRUCTIONS, Interpreter
from .isa import OPCODES, Instruction, OpInfo, decode, encode
from .programs import (BUBBLE, BUBBLE_SOURCE, FIB, FIB_SOURCE, PROGRAMS, SUM, SUM_SOURCE,
                       bubble_state, fib_state, sum_state)
from .state import CPUState, GuestFault, InstructionLimitExceeded
from .timing import (Speedup, TimingPoint, best_time, best_times, break_even, measure_speedup,
                     speed_words, sweep, time_point)
from .translator import BlockTranslator, TranslatedBlock, TranslationStats

__all__ = [
    "Program", "assemble", "disassemble", "Interpreter", "DEFAULT_MAX_INSTRUCTIONS",
    "OPCODES", "Instruction", "OpInfo", "decode", "encode", "CPUState", "GuestFault",
    "InstructionLimitExceeded", "BlockTranslator", "TranslatedBlock", "TranslationStats",
    "SUM", "SUM_SOURCE", "sum_state", "FIB", "FIB_SOURCE", "fib_state", "BUBBLE",
    "BUBBLE_SOURCE", "bubble_state", "PROGRAMS", "Speedup", "TimingPoint", "best_time",
    "best_times", "time_point", "sweep", "measure_speedup", "break_even", "speed_words",
    "run_both", "opcode_table",
]


def run_both(program: Program, state: CPUState, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS,
             **translator_options) -> tuple[CPUState, CPUState, BlockTranslator]:
    """Run ``program`` from copies of ``state`` on both engines.

    Returns (interpreter's final state, translator's final state, the translator, for its
    statistics). ``translator_options`` go to :class:`BlockTranslator`.
    """
    engine = BlockTranslator(program, **translator_options)
    a = Interpreter(program).run(state.copy(), max_instructions)
    b = engine.run(state.copy(), max_instructions)
    return a, b, engine


def opcode_table() -> list[tuple[str, str, str, str, int]]:
    """Rows (opcode in hex, mnemonic, syntax, meaning, cycles) of the instruction set, for the
    chapter's encoding table."""
    return [(f"0x{op.code:X}", op.name, op.syntax, op.meaning, op.cycles)
            for op in sorted(OPCODES.values(), key=lambda o: o.code)]
