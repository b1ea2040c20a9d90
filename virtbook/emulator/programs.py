"""Guest programs for Tiny32: the loops that chapter 9 runs on both emulators.

Every program reads its input from data memory and writes its result back to memory, so that a
run is described completely by the memory image it starts from and the one it leaves. Each
``*_state`` helper builds that starting memory. The programs are small on purpose: a student can
follow them with the interpreter's trace.

    >>> from virtbook.emulator import Interpreter
    >>> state = Interpreter(SUM).run(sum_state(10))
    >>> state.mem[1]
    55
"""
from __future__ import annotations

from typing import Sequence

from .._validate import check_int, check_ints
from .assembler import assemble
from .isa import WORD_MASK
from .state import DEFAULT_MEM_WORDS, CPUState

__all__ = ["SUM_SOURCE", "SUM", "sum_state", "FIB_SOURCE", "FIB", "fib_state",
           "BUBBLE_SOURCE", "BUBBLE", "bubble_state", "PROGRAMS"]

SUM_SOURCE = """\
; Sum 1 + 2 + ... + n.  Input: n in mem[0].  Output: the sum (mod 2^32) in mem[1].
        LI   r0, 0          ; r0 = 0, the base address of the data
        LD   r2, 0(r0)      ; r2 = n, the loop counter
        LI   r1, 0          ; r1 = running sum
        BEQZ r2, done       ; n == 0: nothing to add
loop:   ADD  r1, r1, r2     ; sum += counter
        ADDI r2, r2, -1     ; counter -= 1
        BNEZ r2, loop       ; until the counter reaches zero
done:   ST   r1, 1(r0)      ; mem[1] = sum
        HALT
"""
SUM = assemble(SUM_SOURCE)

FIB_SOURCE = """\
; Fibonacci.  Input: n in mem[0].  Output: F(n) (mod 2^32) in mem[1], with F(0)=0, F(1)=1.
        LI   r0, 0
        LD   r3, 0(r0)      ; r3 = n, steps left
        LI   r1, 0          ; r1 = F(i)
        LI   r2, 1          ; r2 = F(i+1)
        BEQZ r3, done
loop:   ADD  r4, r1, r2     ; r4 = F(i+2)
        MOV  r1, r2
        MOV  r2, r4
        ADDI r3, r3, -1
        BNEZ r3, loop
done:   ST   r1, 1(r0)
        HALT
"""
FIB = assemble(FIB_SOURCE)

BUBBLE_SOURCE = """\
; Bubble sort, ascending, unsigned.  Input: k in mem[0], the k values in mem[1..k].
; Output: the values sorted in place.  Registers: r1 = passes left, r2 = pointer,
; r3 = comparisons left in this pass, r4/r5 = neighbours, r6 = scratch.
        LI   r0, 0
        LD   r1, 0(r0)      ; r1 = k
        BEQZ r1, done
        ADDI r1, r1, -1     ; k - 1 passes (and comparisons in the first pass)
        BEQZ r1, done       ; a single value is sorted
outer:  LI   r2, 1          ; pointer to mem[1]
        MOV  r3, r1         ; comparisons in this pass
inner:  LD   r4, 0(r2)      ; r4 = mem[p]
        LD   r5, 1(r2)      ; r5 = mem[p+1]
        SLT  r6, r5, r4     ; r6 = 1 if out of order
        BEQZ r6, next
        ST   r5, 0(r2)      ; swap the neighbours
        ST   r4, 1(r2)
next:   ADDI r2, r2, 1
        ADDI r3, r3, -1
        BNEZ r3, inner
        ADDI r1, r1, -1     ; one fewer pass (the largest value is in place)
        BNEZ r1, outer
done:   HALT
"""
BUBBLE = assemble(BUBBLE_SOURCE)


def sum_state(n: int, mem_words: int = DEFAULT_MEM_WORDS) -> CPUState:
    """A machine ready to run :data:`SUM` on ``n`` (the loop runs n times)."""
    return CPUState.boot(mem_words, {0: check_int("n", n, 0, WORD_MASK)})


def fib_state(n: int, mem_words: int = DEFAULT_MEM_WORDS) -> CPUState:
    """A machine ready to run :data:`FIB` on ``n``."""
    return CPUState.boot(mem_words, {0: check_int("n", n, 0, WORD_MASK)})


def bubble_state(values: Sequence[int], mem_words: int = DEFAULT_MEM_WORDS) -> CPUState:
    """A machine ready to run :data:`BUBBLE` on ``values`` (at most mem_words - 2 of them)."""
    values = check_ints("values", values, 0, WORD_MASK, min_len=0)
    if len(values) > mem_words - 2:
        raise ValueError(f"values must hold at most mem_words - 2 = {mem_words - 2} numbers, "
                         f"got {len(values)}")
    return CPUState.boot(mem_words, [len(values), *values])


#: The chapter's programs by name: (program, function that builds a starting state).
PROGRAMS = {"sum": (SUM, sum_state), "fibonacci": (FIB, fib_state),
            "bubble sort": (BUBBLE, bubble_state)}
