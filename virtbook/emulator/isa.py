"""Tiny32: the small, documented instruction set that chapter 9 emulates.

Tiny32 is a made-up 32-bit register machine, small enough to read in one sitting and rich enough
to run real loops (summing, sorting, Fibonacci). It exists so that the chapter can show the two
ways of emulating a processor side by side on the same guest code: interpreting each instruction
(``virtbook.emulator.interpreter``) and translating whole basic blocks into host code once
(``virtbook.emulator.translator``).

The machine
-----------
* Eight general registers ``r0`` .. ``r7``, each holding an unsigned 32-bit value. Arithmetic
  wraps modulo 2**32, as it does on real 32-bit processors.
* A program counter (``pc``) that counts instructions, not bytes: instruction ``i`` of the
  program lives at address ``i``.
* Separate code and data memories (a Harvard design, like a game cartridge's ROM next to the
  console's RAM). Code is read-only, so the chapter can leave self-modifying code aside; QEMU has
  to handle it, by write-protecting pages that hold translated code (QEMU, "Translator
  Internals", section "Self-modifying code and translated code invalidation").
* Data memory holds ``mem_words`` 32-bit words, a power of two. Addresses wrap modulo the memory
  size, as if the address bus had only log2(mem_words) lines: every program has defined
  behaviour, which lets the tests compare the two emulators on random programs.

Encoding
--------
One instruction is one 32-bit word::

    31    28 27    24 23    20 19    16 15                 0
    +-------+--------+--------+--------+--------------------+
    |  op   |   rd   |   rs   |   rt   |       imm16        |
    +-------+--------+--------+--------+--------------------+

Unused fields must be zero. ``imm16`` is unsigned (0..65535) for ``LI`` and branch targets and
two's-complement signed (-32768..32767) for ``ADDI``, ``LD`` and ``ST``. The opcode table
(:data:`OPCODES`) gives the meaning and the cost in cycles of each instruction. The cycle costs
are this book's own illustrative timing model, in the spirit of a simple in-order processor where
multiplies and memory accesses take longer than register arithmetic; they are not the timing of
any real chip.

The split between decoding (turning a word into fields) and executing follows the
decode-and-dispatch interpreter of Smith and Nair, "Virtual Machines: Versatile Platforms for
Systems and Processes", Morgan Kaufmann 2005, Chapter 2 (Emulation: Interpretation and Binary
Translation).

    >>> word = encode("ADD", rd=1, rs=1, rt=2)
    >>> hex(word)
    '0x31120000'
    >>> decode(word)
    Instruction(op='ADD', rd=1, rs=1, rt=2, imm=0)
    >>> str(decode(word))
    'ADD r1, r1, r2'
"""
from __future__ import annotations

from dataclasses import dataclass

from .._validate import check_choice, check_int

__all__ = [
    "NUM_REGS", "WORD_MASK", "MAX_PROGRAM_WORDS", "OpInfo", "OPCODES", "OP_BY_CODE",
    "BRANCHES", "BLOCK_ENDERS", "Instruction", "encode", "decode", "to_signed16",
]

#: Number of general registers, r0 .. r7.
NUM_REGS = 8
#: Register values are unsigned 32-bit integers.
WORD_MASK = 0xFFFF_FFFF
#: Branch targets are 16-bit instruction addresses, so a program has at most 65,536 words.
MAX_PROGRAM_WORDS = 1 << 16


@dataclass(frozen=True)
class OpInfo:
    """One row of the opcode table: what the instruction is called, does and costs.

    ``fields`` names the operand fields the assembly syntax uses, in order; ``syntax`` is the
    assembly form; ``cycles`` is the cost in this book's toy timing model.
    """

    code: int
    name: str
    fields: tuple[str, ...]
    syntax: str
    meaning: str
    cycles: int


#: The whole instruction set, by mnemonic. Fourteen instructions in four groups: data movement,
#: arithmetic and comparison, memory, and control transfer.
OPCODES: dict[str, OpInfo] = {op.name: op for op in (
    OpInfo(0x0, "HALT", (), "HALT", "stop the machine; pc stays on the HALT", 1),
    OpInfo(0x1, "LI", ("rd", "uimm"), "LI rd, imm", "rd = imm (0..65535)", 1),
    OpInfo(0x2, "MOV", ("rd", "rs"), "MOV rd, rs", "rd = rs", 1),
    OpInfo(0x3, "ADD", ("rd", "rs", "rt"), "ADD rd, rs, rt", "rd = rs + rt (mod 2^32)", 1),
    OpInfo(0x4, "SUB", ("rd", "rs", "rt"), "SUB rd, rs, rt", "rd = rs - rt (mod 2^32)", 1),
    OpInfo(0x5, "MUL", ("rd", "rs", "rt"), "MUL rd, rs, rt", "rd = rs * rt (mod 2^32)", 3),
    OpInfo(0x6, "ADDI", ("rd", "rs", "simm"), "ADDI rd, rs, imm",
           "rd = rs + imm (imm -32768..32767, mod 2^32)", 1),
    OpInfo(0x7, "SLT", ("rd", "rs", "rt"), "SLT rd, rs, rt",
           "rd = 1 if rs < rt (unsigned) else 0", 1),
    OpInfo(0x8, "LD", ("rd", "mem"), "LD rd, imm(rs)", "rd = mem[rs + imm]", 2),
    OpInfo(0x9, "ST", ("rd", "mem"), "ST rd, imm(rs)", "mem[rs + imm] = rd", 2),
    OpInfo(0xA, "BEQZ", ("rs", "target"), "BEQZ rs, target", "if rs == 0: pc = target", 2),
    OpInfo(0xB, "BNEZ", ("rs", "target"), "BNEZ rs, target", "if rs != 0: pc = target", 2),
    OpInfo(0xC, "JMP", ("target",), "JMP target", "pc = target", 2),
    OpInfo(0xD, "NOP", (), "NOP", "do nothing", 1),
)}
#: The same table, by numeric opcode.
OP_BY_CODE: dict[int, OpInfo] = {op.code: op for op in OPCODES.values()}
#: Instructions that may change the pc to something other than pc + 1.
BRANCHES = frozenset({"BEQZ", "BNEZ", "JMP"})
#: Instructions that end a basic block: every control transfer, and HALT.
BLOCK_ENDERS = BRANCHES | {"HALT"}


def to_signed16(value: int) -> int:
    """Read a 16-bit field as two's complement: 0xFFFF is -1.

    >>> to_signed16(0xFFFF), to_signed16(5)
    (-1, 5)
    """
    return value - 0x10000 if value & 0x8000 else value


@dataclass(frozen=True)
class Instruction:
    """A decoded instruction: the mnemonic and its fields (``imm`` already sign-extended where
    the instruction treats it as signed)."""

    op: str
    rd: int = 0
    rs: int = 0
    rt: int = 0
    imm: int = 0

    @property
    def info(self) -> OpInfo:
        return OPCODES[self.op]

    def __str__(self) -> str:
        """The instruction in the assembler's syntax, e.g. ``LD r2, 0(r0)``."""
        parts = []
        for f in self.info.fields:
            if f in ("rd", "rs", "rt"):
                parts.append(f"r{getattr(self, f)}")
            elif f in ("uimm", "simm", "target"):
                parts.append(str(self.imm))
            elif f == "mem":
                parts.append(f"{self.imm}(r{self.rs})")
        return f"{self.op} {', '.join(parts)}" if parts else self.op


def encode(op: str, rd: int = 0, rs: int = 0, rt: int = 0, imm: int = 0) -> int:
    """Pack one instruction into its 32-bit word.

    ``imm`` is checked against the range the instruction allows (unsigned for ``LI`` and branch
    targets, signed for ``ADDI``, ``LD`` and ``ST``); fields the instruction does not use must be
    zero, so that every instruction has exactly one encoding.

    >>> hex(encode("LI", rd=3, imm=100))
    '0x13000064'
    >>> encode("ADDI", rd=1, rs=1, imm=-1) & 0xFFFF
    65535
    """
    info = OPCODES[check_choice("op", op, OPCODES)]
    used = set(info.fields)
    uses = {
        "rd": bool(used & {"rd"}),
        "rs": bool(used & {"rs", "mem"}),
        "rt": "rt" in used,
        "imm": bool(used & {"uimm", "simm", "mem", "target"}),
    }
    regs = {}
    for name, value in (("rd", rd), ("rs", rs), ("rt", rt)):
        regs[name] = check_int(name, value, 0, NUM_REGS - 1)
        if not uses[name] and value != 0:
            raise ValueError(f"{name} must be 0 for {op}, which does not use it, got {value}")
    rd, rs, rt = regs["rd"], regs["rs"], regs["rt"]
    if used & {"simm", "mem"}:
        imm = check_int("imm", imm, -0x8000, 0x7FFF)
    else:
        imm = check_int("imm", imm, 0, 0xFFFF)
    if not uses["imm"] and imm != 0:
        raise ValueError(f"imm must be 0 for {op}, which does not use it, got {imm}")
    return (info.code << 28) | (rd << 24) | (rs << 20) | (rt << 16) | (imm & 0xFFFF)


def decode(word: int) -> Instruction:
    """Split a 32-bit word into an :class:`Instruction`.

    Raises ValueError for a word that is not a valid Tiny32 instruction (unknown opcode, register
    field above r7, or a non-zero field that the instruction does not use): an emulator must
    reject what the real processor would reject, not guess.
    """
    word = check_int("word", word, 0, WORD_MASK)
    code, rd, rs, rt, raw = word >> 28, (word >> 24) & 0xF, (word >> 20) & 0xF, \
        (word >> 16) & 0xF, word & 0xFFFF
    if code not in OP_BY_CODE:
        raise ValueError(f"opcode must be one of {sorted(OP_BY_CODE)}, got {code} "
                         f"in word {word:#010x}")
    info = OP_BY_CODE[code]
    signed = bool(set(info.fields) & {"simm", "mem"})
    imm = to_signed16(raw) if signed else raw
    inst = Instruction(info.name, rd, rs, rt, imm)
    try:
        again = encode(info.name, rd, rs, rt, imm)
    except ValueError as err:
        raise ValueError(f"word {word:#010x} is not a valid {info.name}: {err}") from None
    assert again == word
    return inst
