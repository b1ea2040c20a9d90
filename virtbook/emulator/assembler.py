"""A two-pass assembler and a disassembler for Tiny32.

The assembler turns the text a person writes into the machine words an emulator runs, the same
job ``as`` does for a real processor. It works in the classic two passes: the first pass records
the address of every label, the second encodes each instruction, so a branch may name a label
that appears later in the text.

Syntax, one instruction per line::

    ; comments start with ';' or '#'
    loop:   ADD  r1, r1, r2        ; three registers
            ADDI r2, r2, -1        ; register, register, signed immediate
            LD   r3, 4(r0)         ; load from address r0 + 4
            BNEZ r2, loop          ; branch to a label (or a number)
            HALT

Numbers may be decimal or hexadecimal (``0x10``). Every mistake raises ValueError that names the
line, the operand and the allowed range.

    >>> program = assemble('''
    ...         LI   r1, 3
    ... again:  ADDI r1, r1, -1
    ...         BNEZ r1, again
    ...         HALT
    ... ''')
    >>> program.labels
    {'again': 1}
    >>> print(program.listing())
    0000  11000003  LI r1, 3
    0001  6110FFFF  again: ADDI r1, r1, -1
    0002  B0100001  BNEZ r1, 1
    0003  00000000  HALT
    >>> assemble(disassemble(program.words)).words == program.words
    True
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .isa import MAX_PROGRAM_WORDS, NUM_REGS, OPCODES, Instruction, decode, encode

__all__ = ["Program", "assemble", "disassemble"]

_LABEL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):")
_MEM = re.compile(r"^(-?(?:0x[0-9A-Fa-f]+|\d+))?\((r\d+)\)$", re.IGNORECASE)


@dataclass(frozen=True)
class Program:
    """An assembled program: its machine words, its labels and the text it came from.

    The words are what the emulators run; the labels let a chapter or a test refer to an
    address by name (``program.labels['loop']``).
    """

    words: tuple[int, ...]
    labels: dict[str, int] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        if not 1 <= len(self.words) <= MAX_PROGRAM_WORDS:
            raise ValueError(f"program length must be in 1..{MAX_PROGRAM_WORDS} words, "
                             f"got {len(self.words)}")
        for pc, word in enumerate(self.words):
            inst = decode(word)
            if inst.info.name in ("BEQZ", "BNEZ", "JMP") and inst.imm >= len(self.words):
                raise ValueError(f"branch target at address {pc} must be in "
                                 f"0..{len(self.words) - 1}, got {inst.imm}")

    def __len__(self) -> int:
        return len(self.words)

    def instructions(self) -> list[Instruction]:
        """The program decoded, one :class:`Instruction` per word."""
        return [decode(w) for w in self.words]

    def listing(self) -> str:
        """Address, machine word in hex, and the instruction, one line each (labels shown)."""
        names = {addr: name for name, addr in self.labels.items()}
        lines = []
        for pc, word in enumerate(self.words):
            label = f"{names[pc]}: " if pc in names else ""
            lines.append(f"{pc:04d}  {word:08X}  {label}{decode(word)}")
        return "\n".join(lines)


def _number(text: str, what: str, lineno: int) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise ValueError(f"line {lineno}: {what} must be a number, got {text!r}") from None


def _register(text: str, lineno: int) -> int:
    m = re.fullmatch(r"r(\d+)", text.strip(), re.IGNORECASE)
    if not m or int(m.group(1)) >= NUM_REGS:
        raise ValueError(f"line {lineno}: register must be r0..r{NUM_REGS - 1}, got {text!r}")
    return int(m.group(1))


def _strip(line: str) -> str:
    for mark in (";", "#"):
        line = line.split(mark, 1)[0]
    return line.strip()


def assemble(source: str) -> Program:
    """Assemble Tiny32 source text into a :class:`Program` (see the module docstring)."""
    if not isinstance(source, str):
        raise ValueError(f"source must be a string of assembly text, got {type(source).__name__}")
    # Pass 1: find labels and the instruction text on each line.
    labels: dict[str, int] = {}
    body: list[tuple[int, str]] = []
    for lineno, raw in enumerate(source.splitlines(), start=1):
        line = _strip(raw)
        while (m := _LABEL.match(line)):
            name = m.group(1)
            if name in labels:
                raise ValueError(f"line {lineno}: label {name!r} is defined twice")
            labels[name] = len(body)
            line = line[m.end():].strip()
        if line:
            body.append((lineno, line))
    if not body:
        raise ValueError("source must contain at least one instruction, got none")
    # Pass 2: encode.
    words = []
    for lineno, line in body:
        mnemonic, _, rest = line.partition(" ")
        op = mnemonic.upper()
        if op not in OPCODES:
            raise ValueError(f"line {lineno}: mnemonic must be one of {', '.join(OPCODES)}, "
                             f"got {mnemonic!r}")
        info = OPCODES[op]
        operands = [o.strip() for o in rest.split(",")] if rest.strip() else []
        if len(operands) != len(info.fields):
            raise ValueError(f"line {lineno}: {op} takes {len(info.fields)} operand(s) "
                             f"({info.syntax}), got {len(operands)}")
        fields = {"rd": 0, "rs": 0, "rt": 0, "imm": 0}
        for kind, text in zip(info.fields, operands):
            if kind in ("rd", "rs", "rt"):
                fields[kind] = _register(text, lineno)
            elif kind in ("uimm", "simm"):
                fields["imm"] = _number(text, "immediate", lineno)
            elif kind == "target":
                fields["imm"] = labels[text] if text in labels else _number(
                    text, "branch target (a label or an address)", lineno)
            elif kind == "mem":
                m = _MEM.match(text.replace(" ", ""))
                if not m:
                    raise ValueError(f"line {lineno}: memory operand must look like "
                                     f"offset(rN), got {text!r}")
                fields["imm"] = _number(m.group(1) or "0", "offset", lineno)
                fields["rs"] = _register(m.group(2), lineno)
        try:
            words.append(encode(op, **fields))
        except ValueError as err:
            raise ValueError(f"line {lineno}: {err}") from None
    return Program(tuple(words), labels, source)


def disassemble(words) -> str:
    """The assembly text for a sequence of machine words (no labels: targets are addresses).

    ``assemble(disassemble(words)).words == tuple(words)`` for every valid program.
    """
    return "\n".join(str(decode(w)) for w in words)
