"""The Tiny32 emulators: the encoding is exact, the assembler catches mistakes, the chapter's
programs compute what they should, and the interpreter and the block translator always leave the
same architectural state and counters, on the chapter's programs and on random ones."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import alt_text, markdown, run_solution, solution
from virtbook.emulator import (BUBBLE, FIB, OPCODES, SUM, BlockTranslator, CPUState, GuestFault,
                               Instruction, InstructionLimitExceeded, Interpreter, Program,
                               assemble, bubble_state, decode, disassemble, encode, fib_state,
                               opcode_table, run_both, sum_state)
from virtbook.emulator.isa import BLOCK_ENDERS, WORD_MASK
from virtbook.emulator.timing import (SAME_SPEED, TimingPoint, best_time, best_times, break_even,
                                     speed_words, time_point)

REG = st.integers(min_value=0, max_value=7)
SIMM = st.integers(min_value=-0x8000, max_value=0x7FFF)
UIMM = st.integers(min_value=0, max_value=0xFFFF)
WORD = st.integers(min_value=0, max_value=WORD_MASK)

# --- strategies for random guest code -------------------------------------------------------

STRAIGHT = st.one_of(
    st.builds(lambda d, v: encode("LI", rd=d, imm=v), REG, UIMM),
    st.builds(lambda d, s: encode("MOV", rd=d, rs=s), REG, REG),
    *[st.builds(lambda d, s, t, op=op: encode(op, rd=d, rs=s, rt=t), REG, REG, REG)
      for op in ("ADD", "SUB", "MUL", "SLT")],
    st.builds(lambda d, s, v: encode("ADDI", rd=d, rs=s, imm=v), REG, REG, SIMM),
    st.builds(lambda d, s, v: encode("LD", rd=d, rs=s, imm=v), REG, REG, SIMM),
    st.builds(lambda d, s, v: encode("ST", rd=d, rs=s, imm=v), REG, REG, SIMM),
    st.just(encode("NOP")),
)


@st.composite
def machine(draw):
    """A random starting state: registers and a small memory full of random words."""
    mem_words = draw(st.sampled_from([4, 16, 64]))
    regs = draw(st.lists(WORD, min_size=8, max_size=8))
    mem = draw(st.lists(WORD, min_size=mem_words, max_size=mem_words))
    return CPUState.boot(mem_words, mem, regs)


@st.composite
def branchy_program(draw):
    """Random code with forward branches and jumps only (so it always reaches HALT)."""
    n = draw(st.integers(min_value=1, max_value=30))
    words = []
    for i in range(n):
        kind = draw(st.sampled_from(["op", "op", "op", "BEQZ", "BNEZ", "JMP"]))
        if kind == "op":
            words.append(draw(STRAIGHT))
        else:
            target = draw(st.integers(min_value=i + 1, max_value=n))   # n is the final HALT
            if kind == "JMP":
                words.append(encode("JMP", imm=target))
            else:
                words.append(encode(kind, rs=draw(REG), imm=target))
    words.append(encode("HALT"))
    return Program(tuple(words))


def assert_same(a: CPUState, b: CPUState) -> None:
    assert a.architectural() == b.architectural()
    assert (a.instructions, a.cycles) == (b.instructions, b.cycles)


# --- the instruction set ----------------------------------------------------------------------

ANY_INSTRUCTION = st.one_of(
    STRAIGHT, st.just(encode("HALT")),
    st.builds(lambda s, t: encode("BEQZ", rs=s, imm=t), REG, UIMM),
    st.builds(lambda s, t: encode("BNEZ", rs=s, imm=t), REG, UIMM),
    st.builds(lambda t: encode("JMP", imm=t), UIMM),
)


@given(ANY_INSTRUCTION)
def test_decode_then_encode_gives_back_the_same_word(word):
    inst = decode(word)
    assert encode(inst.op, inst.rd, inst.rs, inst.rt, inst.imm) == word


@given(WORD)
def test_every_word_either_decodes_exactly_or_is_rejected(word):
    try:
        inst = decode(word)
    except ValueError as err:
        assert "must" in str(err)
    else:
        assert encode(inst.op, inst.rd, inst.rs, inst.rt, inst.imm) == word


def test_opcodes_are_unique_and_fit_in_four_bits():
    codes = [op.code for op in OPCODES.values()]
    assert len(set(codes)) == len(codes) and all(0 <= c < 16 for c in codes)
    assert [row[1] for row in opcode_table()] == sorted(OPCODES, key=lambda n: OPCODES[n].code)
    assert BLOCK_ENDERS == {"BEQZ", "BNEZ", "JMP", "HALT"}


@pytest.mark.parametrize("word", [0xE000_0000, 0xF000_0000])
def test_unknown_opcodes_are_rejected(word):
    with pytest.raises(ValueError, match="opcode must be one of"):
        decode(word)


def test_unused_fields_must_be_zero_so_each_instruction_has_one_encoding():
    with pytest.raises(ValueError, match="is not a valid HALT"):
        decode(encode("HALT") | 1)
    with pytest.raises(ValueError, match="rt must be 0 for LI"):
        encode("LI", rd=1, rt=2, imm=5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(op="LI", rd=8), r"rd must be an integer in 0\.\.7, got 8"),
    (dict(op="LI", rd=1, imm=70000), r"imm must be an integer in 0\.\.65535, got 70000"),
    (dict(op="ADDI", rd=1, rs=1, imm=40000), r"imm must be an integer in -32768\.\.32767"),
    (dict(op="FOO"), r"op must be one of"),
])
def test_encode_names_the_field_and_its_range(kwargs, message):
    with pytest.raises(ValueError, match=message):
        encode(**kwargs)


def test_addi_immediate_is_signed_and_li_immediate_is_not():
    assert decode(encode("ADDI", rd=2, rs=2, imm=-1)).imm == -1
    assert decode(encode("LI", rd=2, imm=0xFFFF)).imm == 0xFFFF


# --- the assembler ------------------------------------------------------------------------------

def test_assembler_resolves_forward_and_backward_labels():
    program = assemble("""
        start: BEQZ r1, end     ; forward
               JMP  start       ; backward
        end:   HALT
    """)
    assert program.labels == {"start": 0, "end": 2}
    assert [decode(w).imm for w in program.words[:2]] == [2, 0]


@pytest.mark.parametrize("source, message", [
    ("FOO r1", r"line 1: mnemonic must be one of"),
    ("LI r9, 1", r"line 1: register must be r0\.\.r7, got 'r9'"),
    ("ADD r1, r2", r"line 1: ADD takes 3 operand\(s\)"),
    ("LI r1, 70000", r"line 1: imm must be an integer in 0\.\.65535"),
    ("x: NOP\nx: HALT", r"line 2: label 'x' is defined twice"),
    ("JMP nowhere", r"branch target \(a label or an address\) must be a number"),
    ("JMP 5\nHALT", r"branch target at address 0 must be in 0\.\.1, got 5"),
    ("LD r1, r2", r"memory operand must look like offset\(rN\)"),
    ("; only a comment", r"source must contain at least one instruction"),
])
def test_assembler_errors_name_the_line_and_the_rule(source, message):
    with pytest.raises(ValueError, match=message):
        assemble(source)


@given(st.lists(ANY_INSTRUCTION, min_size=1, max_size=40))
def test_disassembly_reassembles_to_the_same_words(words):
    words = [w if decode(w).op not in ("BEQZ", "BNEZ", "JMP") else
             (w & ~0xFFFF) | (decode(w).imm % len(words)) for w in words]
    assert assemble(disassemble(words)).words == tuple(words)


def test_listing_shows_address_word_label_and_instruction():
    lines = SUM.listing().splitlines()
    assert len(lines) == len(SUM)
    assert lines[SUM.labels["loop"]].endswith("loop: ADD r1, r1, r2")
    assert lines[0].split()[1] == f"{SUM.words[0]:08X}"


# --- the chapter's programs compute what they should, on both engines ------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=400))
def test_sum_program(n):
    a, b, engine = run_both(SUM, sum_state(n))
    assert a.mem[1] == n * (n + 1) // 2 % 2**32
    assert_same(a, b)
    assert a.instructions == (3 * n + 6 if n else 6)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=300))
def test_fibonacci_program(n):
    x, y = 0, 1
    for _ in range(n):
        x, y = y, x + y
    a, b, _ = run_both(FIB, fib_state(n))
    assert a.mem[1] == x % 2**32
    assert_same(a, b)


@settings(max_examples=40, deadline=None)
@given(st.lists(WORD, max_size=25))
def test_bubble_sort_program(values):
    a, b, _ = run_both(BUBBLE, bubble_state(values))
    assert a.mem[1:1 + len(values)] == sorted(values)
    assert a.mem[0] == len(values)
    assert_same(a, b)


# --- interpreter and translator agree on random programs -------------------------------------

@settings(max_examples=150, deadline=None)
@given(st.lists(STRAIGHT, min_size=1, max_size=60), machine(),
       st.integers(min_value=1, max_value=8), st.booleans())
def test_random_straight_line_programs_agree(body, start, max_block, chain):
    program = Program(tuple(body) + (encode("HALT"),))
    a, b, engine = run_both(program, start, max_block_insns=max_block, chain=chain)
    assert_same(a, b)
    assert a.halted and a.instructions == len(program)
    assert engine.stats.blocks_translated == -(-len(program) // max_block)


@settings(max_examples=150, deadline=None)
@given(branchy_program(), machine(), st.integers(min_value=1, max_value=6), st.booleans(),
       st.one_of(st.none(), st.integers(min_value=1, max_value=3)))
def test_random_branching_programs_agree(program, start, max_block, chain, capacity):
    a, b, engine = run_both(program, start, max_block_insns=max_block, chain=chain,
                            cache_capacity=capacity)
    assert_same(a, b)
    s = engine.stats
    assert s.cache_hits + s.cache_misses == s.lookups
    assert s.lookups + s.chained == s.blocks_executed
    assert s.cache_misses == s.blocks_translated


@settings(max_examples=60, deadline=None)
@given(branchy_program(), machine())
def test_predecoding_interpreter_agrees_with_the_plain_one(program, start):
    a = Interpreter(program).run(start.copy())
    b = Interpreter(program, predecode=True).run(start.copy())
    assert_same(a, b)


# --- the translator's cache and chaining behave as described ---------------------------------

@given(st.integers(min_value=2, max_value=200))
def test_sum_loop_is_translated_once_and_then_found_in_the_cache(n):
    _, _, engine = run_both(SUM, sum_state(n))
    s = engine.stats
    assert s.blocks_translated == 3                  # set-up, loop body, store + HALT
    assert s.blocks_executed == n + 2
    assert s.lookups == 4 and s.chained == n - 2     # chaining removes all other lookups
    _, _, plain = run_both(SUM, sum_state(n), chain=False)
    assert plain.stats.lookups == n + 2 and plain.stats.chained == 0
    assert plain.stats.blocks_translated == 3


def test_a_tiny_cache_is_flushed_and_retranslates_but_stays_correct():
    a, b, engine = run_both(BUBBLE, bubble_state([5, 3, 9, 1, 7]), cache_capacity=2)
    assert_same(a, b)
    assert engine.stats.flushes > 0
    _, _, roomy = run_both(BUBBLE, bubble_state([5, 3, 9, 1, 7]))
    assert engine.stats.blocks_translated > roomy.stats.blocks_translated


def test_translated_source_is_readable_and_deterministic():
    engine = BlockTranslator(SUM)
    loop = SUM.labels["loop"]
    first = engine.translate(loop, 255).source
    assert first == BlockTranslator(SUM).translate(loop, 255).source
    assert first.startswith(f"def tb_{loop:04d}(R, M):")
    assert "ADD r1, r1, r2" in first and "0xffffffff" in first
    assert f"return {loop} if r2 != 0 else {loop + 3}" in first


def test_changing_memory_size_flushes_the_cache():
    engine = BlockTranslator(SUM)
    engine.run(sum_state(5, mem_words=16))
    assert engine.stats.flushes == 0
    state = engine.run(sum_state(5, mem_words=32))
    assert engine.stats.flushes == 1 and state.mem[1] == 15


# --- runaway and broken guests -----------------------------------------------------------------

@pytest.mark.parametrize("engine", [Interpreter, BlockTranslator])
def test_an_endless_loop_hits_the_instruction_limit(engine):
    program = assemble("top: ADDI r1, r1, 1\nJMP top")
    with pytest.raises(InstructionLimitExceeded):
        engine(program).run(CPUState.boot(), max_instructions=1000)


@given(st.integers(min_value=1, max_value=100), st.integers(min_value=-3, max_value=3))
def test_both_engines_stop_at_the_limit_in_exactly_the_same_cases(n, delta):
    limit = 3 * n + 6 + delta
    outcomes = []
    for engine in (Interpreter(SUM), BlockTranslator(SUM)):
        try:
            outcomes.append(engine.run(sum_state(n), max_instructions=limit).mem[1])
        except InstructionLimitExceeded:
            outcomes.append("limit")
    assert outcomes[0] == outcomes[1]
    assert (outcomes[0] == "limit") == (delta < 0)


@pytest.mark.parametrize("engine", [Interpreter, BlockTranslator])
def test_running_off_the_end_of_the_program_is_a_guest_fault(engine):
    with pytest.raises(GuestFault, match="outside the program"):
        engine(assemble("LI r1, 1\nADDI r1, r1, 1")).run(CPUState.boot())


@pytest.mark.parametrize("engine", [Interpreter, BlockTranslator])
def test_bad_arguments_are_rejected(engine):
    with pytest.raises(ValueError, match="max_instructions must be an integer in 1 or more"):
        engine(SUM).run(sum_state(1), max_instructions=0)
    with pytest.raises(ValueError, match="program must be a Program"):
        engine("HALT")


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_block_insns=0), r"max_block_insns must be an integer in 1\.\.4096"),
    (dict(cache_capacity=0), r"cache_capacity must be None or an integer >= 1"),
])
def test_translator_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BlockTranslator(SUM, **kwargs)


@pytest.mark.parametrize("call, message", [
    (lambda: CPUState.boot(mem_words=100), r"mem_words must be a power of two"),
    (lambda: CPUState.boot(mem_words=8, memory={8: 1}), r"memory address must be in 0\.\.7"),
    (lambda: CPUState.boot(mem_words=8, memory=[2**32]), r"mem\[0\] must be an integer"),
    (lambda: CPUState.boot(regs=[0] * 7), r"regs must hold exactly 8 values"),
    (lambda: sum_state(-1), r"n must be an integer in 0\.\."),
    (lambda: bubble_state(range(300)), r"values must hold at most mem_words - 2"),
])
def test_state_construction_is_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the trace a student can check by hand ----------------------------------------------------

def test_trace_reports_each_instruction_and_its_effect():
    state = sum_state(2)
    lines = list(Interpreter(SUM).trace(state, steps=50))
    assert len(lines) == state.instructions == 3 * 2 + 6
    assert lines[-1].endswith("halted")
    assert any("mem[1]=3" in line for line in lines)
    assert "pc->4" in lines[6]   # the first BNEZ jumps back to the loop
    with pytest.raises(ValueError, match="steps must be an integer in 1 or more"):
        next(Interpreter(SUM).trace(sum_state(1), steps=0))


def test_instruction_str_uses_the_assembler_syntax():
    assert str(Instruction("LD", rd=2, rs=0, imm=4)) == "LD r2, 4(r0)"
    assert str(Instruction("HALT")) == "HALT"


# --- timing helpers (no assertion on measured times) -------------------------------------------

def test_break_even_is_where_the_translator_starts_winning_for_good():
    pts = [TimingPoint(1, 10, 1.0, 5.0), TimingPoint(10, 40, 2.0, 3.0),
           TimingPoint(100, 400, 10.0, 4.0), TimingPoint(1000, 4000, 90.0, 20.0)]
    assert break_even(pts) == 100
    assert break_even(pts[:2]) is None
    assert pts[-1].speedup == pytest.approx(4.5)


def test_time_point_counts_guest_instructions_and_checks_arguments():
    point = time_point(SUM, sum_state, 7, repeats=1)
    assert point.instructions == 3 * 7 + 6
    assert point.interpreter_s > 0 and point.translator_s > 0
    with pytest.raises(ValueError, match=r"repeats must be an integer in 1\.\.100"):
        time_point(SUM, sum_state, 7, repeats=0)
    with pytest.raises(ValueError, match=r"repeats must be an integer in 1\.\.100"):
        best_time(lambda: None, repeats=101)
    calls = []
    assert best_time(lambda: calls.append(1), repeats=3) >= 0
    assert len(calls) == 4, "one untimed warm-up call, then the timed repeats"


def test_best_times_interleaves_the_runs_round_by_round():
    order = []
    runs = {name: (lambda name=name: order.append(name)) for name in ("a", "b", "c")}
    t = best_times(runs, repeats=3)
    assert set(t) == {"a", "b", "c"}
    assert order == ["a", "b", "c"] * 4, "one warm-up round, then each round times every run"
    with pytest.raises(ValueError, match="runs must name at least one"):
        best_times({}, repeats=3)


@pytest.mark.parametrize("ratio, words", [
    (3.14, "3.1 times faster than"), (SAME_SPEED, f"{SAME_SPEED:.1f} times faster than"),
    (1.1, "about as fast as"), (1.0, "about as fast as"), (0.9, "about as fast as"),
    (1 / SAME_SPEED, f"{SAME_SPEED:.1f} times slower than"), (0.57, "1.8 times slower than"),
    (0.075, "13.3 times slower than")])
def test_speed_words_follow_the_measured_ratio(ratio, words):
    assert speed_words(ratio) == words


def test_speed_words_rejects_non_positive_ratios():
    with pytest.raises(ValueError, match="speedup"):
        speed_words(0)


# --- every model number that chapter 9's prose, solutions and alt texts quote without glue -----

NB09 = "09-emulation.ipynb"


def test_the_traced_sum_of_three_matches_the_prose():
    final = Interpreter(SUM).run(sum_state(3))
    assert final.mem[1] == 6 == 3 + 2 + 1
    text = " ".join(markdown(NB09).split())
    assert "halts with 6 (that is, 3 + 2 + 1)" in text
    # the loop body (addresses 4-6) runs three times: 4 + 3 * 3 + 2 instructions in all
    assert final.instructions == 4 + 3 * 3 + 2


def test_ex_09_2_solution_prints_what_its_comments_say():
    _, out = run_solution(NB09, "ex-09-2")
    assert out.split("\n")[:2] == ["306 409 102 3 4 98", "102 0"]
    text = " ".join(solution(NB09, "ex-09-2").split())
    for quoted in ("= 306", "= 409 cycles", "102 block executions", "so 4;", "remaining 98"):
        assert quoted in text, quoted


def test_ex_09_3_solution_counts_are_the_emulators():
    _, out = run_solution(NB09, "ex-09-3")
    assert out.strip().splitlines()[-1].split() == ["119", "59", "7"]
    _, _, one = run_both(SUM, sum_state(20000), max_block_insns=1)
    assert (one.stats.blocks_executed, one.stats.blocks_translated) == (60006, 9)
    text = " ".join(solution(NB09, "ex-09-3").split())
    for quoted in ("(60,006 for n = 20,000)", "9 one-instruction blocks", "uses 7 blocks",
                   "each of the 29 passes", "119 translations and 59 flushes"):
        assert quoted in text, quoted


def test_ex_09_2_to_4_hand_numbers():
    """What ex-09-2, ex-09-3 and ex-09-4 work out by hand (registered in
    tests/test_solution_numbers.py)."""
    # ex-09-2: the listing's blocks are at 0-3, 4-6 and 7-8; Tiny32's cycle costs are LI 1,
    # LD 2, BEQZ 2 (set-up: 6), ADD 1, ADDI 1, BNEZ 2 (loop: 4), ST 2, HALT 1 (exit: 3)
    assert (SUM.labels["loop"], SUM.labels["done"], len(SUM.words) - 1) == (4, 7, 8)
    cycles = {name: OPCODES[name].cycles for name in OPCODES}
    assert (cycles["LI"], cycles["LD"], cycles["BEQZ"]) == (1, 2, 2)
    assert (cycles["ADD"], cycles["ADDI"], cycles["BNEZ"], cycles["ST"], cycles["HALT"]) == \
        (1, 1, 2, 2, 1)
    assert 1 + 2 + 1 + 2 == 6 and 1 + 1 + 2 == 4 and 2 + 1 == 3
    assert 4 + 3 * 100 + 2 == 306 and 6 + 4 * 100 + 3 == 409
    final = Interpreter(SUM).run(sum_state(100))
    assert (final.instructions, final.cycles) == (306, 409)
    # ex-09-3: bubble sort of 30 values makes 30 - 1 = 29 passes; with room for two blocks the
    # cache is flushed about twice a pass (59 times) and 119 blocks are translated instead of 7
    _, _, small = run_both(BUBBLE, bubble_state(range(30, 0, -1)), cache_capacity=2)
    _, _, roomy = run_both(BUBBLE, bubble_state(range(30, 0, -1)))
    assert (small.stats.blocks_translated, small.stats.flushes) == (119, 59) == (119, 2 * 29 + 1)
    assert roomy.stats.blocks_translated == 7
    # ex-09-4: translating the two blocks costs 2 x 80 = 160 us and saves 2.0 - 0.5 = 1.5 us per
    # iteration, so it pays after 160 / 1.5, about 107 iterations; 500 cold loops of 10
    # iterations cost 500 x 160 us = 80 ms to translate plus 500 x 10 x 0.5 us = 2.5 ms to run,
    # 82.5 ms; a threshold of 50 iterations costs 50 x 2.0 = 100 us of interpretation
    assert 2 * 80 == 160 and 2.0 - 0.5 == 1.5 and round(160 / 1.5) == 107
    assert 500 * 160 / 1000 == 80 and 500 * 10 * 0.5 / 1000 == 2.5 and 80 + 2.5 == 82.5
    assert 50 * 2.0 == 100


def test_events_figure_alt_text_quotes_the_counts():
    runs = [run_both(SUM, sum_state(n)) for n in (1, 10000)]
    (a1, _, e1), (a2, _, e2) = runs
    assert (a1.instructions, e1.stats.blocks_executed) == (9, 3)
    assert round(a2.instructions, -4) == 30000 and round(e2.stats.blocks_executed, -4) == 10000
    counts = [run_both(SUM, sum_state(n))[2].stats for n in (1, 3, 10, 30, 100, 300, 1000, 3000,
                                                             10000)]
    assert max(s.lookups for s in counts) <= 4 and {s.blocks_translated for s in counts} == {3}
    alt = alt_text(NB09, "fig-09-events")
    for quoted in ("from 9 to about 30,000", "from 3 to about 10,000", "4 or fewer",
                   "stay at 3"):
        assert quoted in alt, quoted
