"""No exercise solution quotes a number without a source.

A model number typed into a solution drifts the day the model changes, and no reader notices. So
every number in the prose of every ``{solution}`` of every chapter and lab (fenced code blocks are
code, not prose) must be one of:

(a) *glued*: produced by code when the book is built (``{glue:text}`key```, ``{glue}`key```,
    or a MyST ``{eval}`expr```);
(b) *a reference or a label*: inside a ``{cite}``, ``{ref}``, ``{numref}``, ``{doc}`` or ``{term}``
    role; after a label word (chapter, section, slide, figure, table, exercise, lab, task, step,
    part, line, page, row, host, CPU/vCPU/pCPU numbers, port, ring, privilege level, Article,
    ``§``, UID, HTTP status, seed, "Fix 1"); an item marker (``1.``, ``(a)``, ``(2)``); a year
    (1950-2039, written without separator and not followed by a unit) or a day of a month
    ("10 July"); a version (a number with two dots, or after a product name: ``Linux 6.6``,
    ``libvirt 9.9``, ``runc 1.1.12``); part of a name (``x86_64``, ``cgroup v2``,
    ``CVE-2019-5736``, ``node-2``, ``t3.micro``, ``FX!32``); the ``95`` of "95th percentile";
    the arithmetic ``1`` of ``1 − x``, ``1 / x`` or ``m + 1``; a power written as notation
    (``10^{-6}``, ``2^30``); or a unit's definition ("One terabyte is 1,024 GB", "A week has 168
    hours", "1 MiB = 1,048,576 bytes");
(c) *cited*: in a sentence that carries a ``{cite}`` role, since the citation is its source;
(d) *given*: stated in the exercise the solution answers, that is, the same value appears in the
    exercise's text, in digits (inline code and literals such as ``120_000`` included) or in
    words up to twenty, the tens, hundred, thousand, half and twice ("four-level", "ten VMs");
(e) *registered*: listed in ``REGISTRY`` under the solution's label with the test that asserts it
    (``"tests/test_x.py::test_name"``); that test function must exist and its source must mention
    the number (the text as printed, or a numeric literal of the same value). A registered number
    that no longer appears unsourced in its solution is an error too, so the registry cannot go
    stale, and a registry entry for a label that no solution has is an error.

Anything else is *unsourced* and fails the test. Inline code that is more than a bare number
(``cap=10``, ``<shares>300</shares>``) is code the reader copies, not a quoted result, and is not
scanned; a bare number in backticks is. Numbers inside ``$...$`` math are scanned like prose.
Numbers written as words in a solution ("six minutes") are not scanned, and a value that
coincides with a given of the exercise passes as given: the rules are built to catch a typed model
result, not to prove every word.

Run this file as a script (``python tests/test_solution_numbers.py``) to print, per page, how many
numbers were examined and how each was sourced.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import pytest

from booklib import ROOT
from solutions import exercise, prose, solutions

PAGES = sorted(p.relative_to(ROOT).as_posix()
               for folder in ("chapters", "labs") for p in (ROOT / folder).glob("*.ipynb"))

# --- the rules -------------------------------------------------------------------------------

GLUE = re.compile(r"\{(?:glue(?::\w*)?|eval)\}`[^`]*`")
REFERENCE_ROLE = re.compile(r"\{(?:cite(?::\w+)?|ref|numref|doc|term|eq|download|prf:ref)\}`[^`]*`")
CITE = re.compile(r"\{cite(?::\w+)?\}`")
ANY_ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`")
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# A name that contains digits: x86_64, CVE-2019-5736, node-2, t3.micro, ex-05-1, vblab-l3-clone.
NAME = re.compile(r"(?<![\w$])[A-Za-z]+!?\d[\w]*(?:[-_./][\w]+)*|"
                  r"(?<![\w$])[A-Za-z][\w]*(?:[-_./][\w]*\d[\w]*)+")
NUMBER = re.compile(r"(?<![\w.,])(?:0x[0-9a-fA-F]+|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)*)"
                    r"(?:(?=(?:st|nd|rd|th)\b)|(?![\w]))")                # 107th is a number too
LABEL_WORDS = (r"chapters?|sections?|slides?|figures?|fig\.|tables?|exercises?|labs?|tasks?|steps?|"
               r"parts?|questions?|equations?|lines?|pages?|lectures?|rows?|columns?|HTTP|UID|"
               r"Fix|vCPUs?|pCPUs?|CPUs?|ports?|ring|privilege level|hosts?|Articles?|seed")
VERSION_WORDS = (r"Linux|kernel|Xen|ESXi?|vSphere|QEMU|libvirt|runc|Docker|Kubernetes|Python|"
                 r"Windows|macOS|TLS|HTTP/|version|release|v|OCI|IPv|Nehalem|CSA")
LABEL_BEFORE = re.compile(r"(?:§|\b(?:%s)|\b(?:%s))\s*(?:\d[\d.,]*\s*(?:,|and|or|to|-|–)\s*)*$"
                          % (LABEL_WORDS, VERSION_WORDS), re.I)
UNIT = (r"bytes?|bits?|[KMGT]i?B|kilobytes?|megabytes?|gigabytes?|terabytes?|ms|µs|us|ns|s|"
        r"seconds?|minutes?|min|h|hours?|days?|weeks?|months?|years?")
DEFINITION = re.compile(r"\b(?:1|[Oo]ne|[Aa]n?)\s+(?:%s)\s+(?:=|is|has|equals|holds)\s+"
                        r"(\d[\d,]*)\s+(?:%s)\b" % (UNIT, UNIT))
UNIT_AFTER = re.compile(r"\s*(?:%s|%%|percent|pages|cycles|requests|instructions|credits|VMs?|"
                        r"vCPUs?|pCPUs?|W|kWh|GB-s)\b" % UNIT)
ITEM_MARKER = re.compile(r"^\s*\d+\.\s|\((?:\d+|[a-z])\)", re.M)
SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=[A-Z*(`_\[$])|\n\s*\n|\n(?=\s*(?:\d+\.|[-*])\s)")


@dataclass(frozen=True)
class Number:
    text: str            # as printed
    kind: str            # glued, reference, cited, given, unsourced (then registered or not)
    sentence: str


def value(text: str) -> float:
    """The value of a number as printed (thousands separators and digit groups removed)."""
    text = text.replace(",", "").replace("_", "")
    return float(int(text, 16)) if text.lower().startswith("0x") else float(text)


WORDS = dict(zip("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                 "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split(), range(21)))
WORDS.update(thirty=30, forty=40, fifty=50, sixty=60, seventy=70, eighty=80, ninety=90,
             hundred=100, thousand=1000, half=0.5, twice=2, double=2)
MONTH = (r"January|February|March|April|May|June|July|August|September|October|November|"
         r"December")


def givens(text: str) -> set[float]:
    """Every number an exercise states: in digits (inline code and Python literals such as
    ``120_000`` included) or in words ("four-level", "ten VMs")."""
    text = re.sub(r"(?<=\d)_(?=\d)", "", ANY_ROLE.sub(" ", text))
    words = {float(WORDS[w.lower()]) for w in re.findall(r"[A-Za-z]+", text) if w.lower() in WORDS}
    text = NAME.sub(" ", text)
    return words | {value(m.group()) for m in NUMBER.finditer(text) if m.group().count(".") <= 1}


def _plain(sentence: str) -> str:
    """A sentence with everything that cannot hold a prose number (glue, roles, link targets,
    code, LaTeX commands and powers, names, item markers) blanked out."""
    def blank(m: re.Match) -> str:
        return " " * len(m.group())

    text = re.sub(r"<!--.*?-->", blank, sentence, flags=re.S)
    text = text.replace("{,}", ",")                                  # LaTeX's 1{,}000
    text = GLUE.sub(blank, text)
    text = REFERENCE_ROLE.sub(blank, text)
    text = LINK.sub(lambda m: m.group(1).ljust(len(m.group())), text)
    # Inline code: keep a bare number (a quoted value), blank code.
    text = INLINE_CODE.sub(lambda m: (" " + m.group(1) + " ") if NUMBER.fullmatch(m.group(1).strip())
                           else blank(m), text)
    text = re.sub(r"\\[A-Za-z]+|\d*\^\{-?\d+\}|\d*\^-?\d+", blank, text)  # LaTeX; 10^9, 2^30
    text = NAME.sub(blank, text)
    return ITEM_MARKER.sub(blank, text)


def scan(exercise_text: str, solution_text: str) -> list[Number]:
    """Every number in a solution's prose, with the rule that sources it (module docstring)."""
    given = givens(exercise_text)
    found: list[Number] = []
    for sentence in SENTENCE_END.split(prose(solution_text)):
        found += [Number(m.group(), "glued", sentence) for m in GLUE.finditer(sentence)]
        cited = bool(CITE.search(sentence))
        plain = _plain(sentence)
        defined = [d.span() for d in DEFINITION.finditer(plain)]
        for m in NUMBER.finditer(plain):
            text = m.group()
            before, after = plain[:m.start()], plain[m.end():]
            if any(a <= m.start() < b for a, b in defined):
                kind = "reference"                                 # a unit's definition
            elif text.count(".") >= 2 or LABEL_BEFORE.search(before) \
                    or re.match(r"th percentile|\s+(?:%s)\b" % MONTH, after):
                kind = "reference"
            elif text == "1" and (re.search(r"[-−+/×]\s*$", before)
                                  or re.match(r"\s*[-−+/×]", after)):
                kind = "reference"                                 # the 1 of 1 − x, 1 / x, m + 1
            elif re.fullmatch(r"(?:19[5-9]\d|20[0-3]\d)", text) and not UNIT_AFTER.match(after):
                kind = "reference"                                        # a year
            elif cited:
                kind = "cited"
            elif value(text) in given:
                kind = "given"
            else:
                kind = "unsourced"
            found.append(Number(text, kind, " ".join(sentence.split())))
    return found


# --- the registry: numbers a test asserts ------------------------------------------------------

def _asserted(test: str, numbers: str) -> dict[str, str]:
    """Registry entries: each of the space-separated ``numbers`` is asserted by ``test``."""
    return {number: test for number in numbers.split()}


CH3 = "tests/test_consolidation.py::test_chapter_3_solution_hand_numbers_are_the_models"
CH4 = "tests/test_iomodel.py::test_chapter_4_solution_hand_numbers_match_the_model"
CH5 = "tests/test_cpu_chapter5.py::test_solutions_hand_numbers_are_the_models"
CH6 = "tests/test_memory_chapter6.py::"
CH7 = "tests/test_containers.py::"
CH8 = "tests/test_orchestration.py::"
CH9 = "tests/test_emulator.py::"
CH10 = "tests/test_cloudcost.py::test_ex_10_2_and_10_3_hand_numbers"
CH12 = "tests/test_serverless.py::test_ex_12_hand_numbers"
CH13 = "tests/test_cloudsec.py::test_solution_13_3_quotes_what_its_code_computes"
CH14 = "tests/test_lockin.py::"
LABS = "tests/test_lab_solutions.py::"

CH2 = "tests/test_vmconfig.py::"

REGISTRY: dict[str, dict[str, str]] = {
    "ex-02-4": _asserted(CH2 + "test_exercise_numbers_of_chapter_2", "4,000,000,000 1024"),
    "ex-02-5": _asserted(CH2 + "test_exercise_5_slot_range_of_chapter_2", "0x1f 0x1F"),
    "ex-03-1": _asserted(CH3, "24"),
    "ex-03-2": _asserted(CH3, "0.20 80 45 90"),
    "ex-03-4": _asserted(CH3, "5 10"),
    "ex-03-5": _asserted(CH3, "0.5 300 150 1,314 0"),
    "ex-04-2": _asserted(CH4, "4,000 63"),
    "ex-04-3": _asserted(CH4, "100 52 512"),
    "ex-05-1": _asserted(CH5, "5 35 3.5 0.117 0.100 6 4 32"),
    "ex-05-2": _asserted(CH5, "1,280 0.4 0.3 1.7 0.85 400 0.5 0.2 0.7"),
    "ex-05-3": _asserted(CH5, "10 4,352 0.06 0.1"),
    "ex-05-5": _asserted(CH5, "0.5 25,000"),
    "ex-06-1": _asserted(CH6 + "test_ex_06_1_walk_lengths", "5"),
    "ex-06-2": _asserted(CH6 + "test_ex_06_2_prediction_from_the_fleets_parameters",
                         "0.20 9 0.18 256 0.05 80"),
    "ex-06-3": _asserted(CH6 + "test_ex_06_3_to_5_parameters_of_the_default_scenario", "5"),
    "ex-06-4": _asserted(CH6 + "test_ex_06_3_to_5_parameters_of_the_default_scenario", "50 4"),
    "ex-06-5": _asserted(CH6 + "test_ex_06_3_to_5_parameters_of_the_default_scenario", "16"),
    "ex-07-2": _asserted(CH7 + "test_ex_07_2_solution_computes_half_a_cpu", "0.5 25 6.25"),
    "ex-07-3": _asserted(CH7 + "test_ex_07_3_solution_numbers_come_from_the_model",
                         "128 125 0.64 0.14 1.01 13.3 21 133 27 1"),
    "ex-07-4": _asserted(CH7 + "test_ex_07_4_solution_numbers_come_from_the_model",
                         "8 8.1 13.1 1.6 16 4"),
    "ex-07-5": _asserted(CH7 + "test_ex_07_5_solution_prints_what_its_comment_says", "420"),
    "ex-08-2": _asserted(CH8 + "test_ex_08_2_to_4_hand_numbers", "110 161 165 465 40 55 3 8"),
    "ex-08-3": {**_asserted(CH8 + "test_ex_08_3_solution_outages_are_the_simulated_ones",
                            "90 135 165 74 58"),
                **_asserted(CH8 + "test_ex_08_2_to_4_hand_numbers", "15")},
    "ex-08-4": _asserted(CH8 + "test_ex_08_2_to_4_hand_numbers", "18 0.11 0.5"),
    "ex-09-2": {**_asserted(CH9 + "test_ex_09_2_to_4_hand_numbers", "0 3 4 6 7 8 2 306 1 409"),
                **_asserted(CH9 + "test_ex_09_2_solution_prints_what_its_comments_say", "102 98")},
    "ex-09-3": {**_asserted(CH9 + "test_ex_09_3_solution_counts_are_the_emulators", "60,006 9"),
                **_asserted(CH9 + "test_ex_09_2_to_4_hand_numbers", "7 29 119 59")},
    "ex-09-4": _asserted(CH9 + "test_ex_09_2_to_4_hand_numbers", "160 1.5 107 2.5 82.5 50 100"),
    "ex-10-2": _asserted(CH10, "50 168 0.298 0.096 730 125.1 0.40 0.0576 252.3 4,000 60 66.67 2 "
                               "43.52 87.04 8 75 150 0.75 183.5 1.58 211.6 0.13 27.5 181.2 44 "
                               "0.437 217"),
    "ex-10-3": _asserted(CH10, "32.7 81.3 31.1 41.4 43.52 261 45 0.8"),
    "ex-12-1": _asserted(CH12, "100 3600 600 3 0.51 5"),
    "ex-12-2": _asserted(CH12, "5,000,000 1,000,000 16.67 17.67 0.0000002 3.53 7.49 2.12 0.82 1.93 "
                               "1,769 0.58 116 0.1158 1.73 0.2233 0.0233 0.05 0.84 8.33"),
    "ex-12-3": _asserted(CH12, "2 0.1 0.2 0.05 1.03 1.66667 3.53 2.8 0.82 25 0.025 0.29 3.5"),
    "ex-12-4": _asserted(CH12, "0.3 750"),
    "ex-13-3": _asserted(CH13, "16 54 17 224 8"),
    "ex-14-2": _asserted(CH14 + "test_ex_14_2_and_14_3_hand_numbers",
                         "100 30,720 30,620 10,240 0.09 921.60 20,380 0.085 1,732.30 2,653.90 "
                         "15,360 15,260 5,020 426.70 1,348.30 2,696.60 42.70 0.005 51.20 8.50"),
    "ex-14-3": _asserted(CH14 + "test_ex_14_2_and_14_3_hand_numbers",
                         "9.22 1,242 1,300 33.3 254 80 17.0 534 718 7.0 73 180"),
    "ex-l1-1": _asserted(LABS + "test_l1_fleet_numbers", "16 1 8 2 65,536"),
    "ex-l1-2": _asserted(LABS + "test_l1_fleet_numbers", "1024 6 10,240"),
    "ex-l2-3": _asserted(LABS + "test_l2_to_l4_lab_vm_defaults_and_checks", "128 22 0x55"),
    "ex-l2-4": _asserted(LABS + "test_l2_to_l4_lab_vm_defaults_and_checks", "0x22"),
    "ex-l2-5": _asserted(LABS + "test_l2_to_l4_lab_vm_defaults_and_checks", "2"),
    "ex-l3-2": _asserted(LABS + "test_l2_to_l4_lab_vm_defaults_and_checks", "16"),
    "ex-l3-3": _asserted(LABS + "test_l2_to_l4_lab_vm_defaults_and_checks", "0xab"),
    "ex-l4-1": _asserted(LABS + "test_l2_to_l4_lab_vm_defaults_and_checks", "2 3"),
    "ex-l1-5": _asserted(LABS + "test_l2_to_l4_lab_vm_defaults_and_checks", "1 128"),
    "ex-l4-4": _asserted(LABS + "test_l2_to_l4_lab_vm_defaults_and_checks", "128 80 48"),
    "ex-l4-5": _asserted(LABS + "test_l2_to_l4_lab_vm_defaults_and_checks", "25,000 100,000"),
    "ex-l5-1": _asserted(LABS + "test_l5_hand_numbers", "3 4 768 256 0.75 300"),
    "ex-l5-2": _asserted(LABS + "test_l5_hand_numbers", "0.75"),
    "ex-l5-3": _asserted(LABS + "test_l5_hand_numbers", "0.4 1.5 33"),
    "ex-l6-1": _asserted(LABS + "test_l6_hand_numbers", "4 1638 16384 655 16"),
    "ex-l6-4": _asserted(LABS + "test_l6_hand_numbers", "0.75 4"),
}


def _test_source(ref: str) -> str:
    """The source of the test function ``tests/file.py::name``."""
    path, _, name = ref.partition("::")
    file = ROOT / path
    assert file.is_file(), f"registry names {path}, which does not exist"
    tree = ast.parse(file.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name and name.startswith("test"):
            return ast.get_source_segment(file.read_text(encoding="utf-8"), node)
    raise AssertionError(f"registry names {ref}, but {path} has no test function {name}")


def mentions(source: str, number: str) -> bool:
    """True when ``source`` holds ``number`` as printed or a literal of the same value."""
    if re.search(r"(?<![\d.,])" + re.escape(number) + r"(?![\d]|,\d)", source):
        return True
    want = value(number)
    literals = re.findall(r"(?<![\w.])\d[\d_]*(?:\.\d+)?(?:[eE]-?\d+)?", source)
    return any(float(x.replace("_", "")) == want for x in literals)


def registry_problems(label: str, unsourced: list[str],
                      registry: dict[str, dict[str, str]]) -> list[str]:
    """What is wrong between a solution's unsourced numbers and its registry entry."""
    entry = registry.get(label, {})
    problems = [f"{label}: {n!r} has no source (glue it, or register the test that asserts it)"
                for n in dict.fromkeys(unsourced) if n not in entry]
    for number, ref in entry.items():
        if number not in unsourced:
            problems.append(f"{label}: registry lists {number!r}, which the solution no longer "
                            "types without a source")
            continue
        if not mentions(_test_source(ref), number):
            problems.append(f"{label}: {ref} does not mention {number!r}")
    return problems


# --- the book ----------------------------------------------------------------------------------

def _numbers(page: str) -> dict[str, list[Number]]:
    return {label: scan(exercise(page, label), body) for label, body in solutions(page)}


@pytest.mark.parametrize("page", PAGES)
def test_every_number_in_a_solution_has_a_source(page):
    problems = []
    for label, numbers in _numbers(page).items():
        unsourced = [n.text for n in numbers if n.kind == "unsourced"]
        problems += registry_problems(label, unsourced, REGISTRY)
    assert not problems, "\n".join(problems)


def test_the_registry_names_only_solutions_of_the_book():
    labels = {label for page in PAGES for label, _ in solutions(page)}
    assert set(REGISTRY) <= labels, sorted(set(REGISTRY) - labels)


# --- the rule can fail ---------------------------------------------------------------------------

MADE_UP_EXERCISE = """:label: ex-99-1
A domain with 7 vCPUs and cap 10 runs on an 8-pCPU host for 120 seconds. What share does it get?
"""

MADE_UP_SOLUTION = """The domain gets {glue:text}`ch99-share:.3f` of a pCPU over the 120 seconds
of the run (chapter 5 explains why). Xen's time slice is 30 ms {cite:p}`xen2026xen`.

With the simulator the share settles at 0.117 of a pCPU, above the cap of 10.

```python
print(simulate(7, cap=10))  # 0.117
```
"""


def test_a_typed_model_number_fails_and_sourced_numbers_pass():
    numbers = scan(MADE_UP_EXERCISE, MADE_UP_SOLUTION)
    kinds = {(n.text, n.kind) for n in numbers}
    assert ("0.117", "unsourced") in kinds                  # typed model number: caught
    assert ("120", "given") in kinds and ("10", "given") in kinds
    assert ("30", "cited") in kinds and ("5", "reference") in kinds
    assert sum(n.kind == "glued" for n in numbers) == 1
    assert [n.text for n in numbers if n.kind == "unsourced"] == ["0.117"]   # code not scanned
    problems = registry_problems("ex-99-1", ["0.117"], {})
    assert problems == ["ex-99-1: '0.117' has no source (glue it, or register the test that "
                        "asserts it)"]


def test_a_registered_number_needs_a_test_that_mentions_it():
    this = "tests/test_solution_numbers.py::test_a_typed_model_number_fails_and_sourced_numbers_pass"
    assert registry_problems("ex-99-1", ["0.117"], {"ex-99-1": {"0.117": this}}) == []
    other = "tests/test_solution_numbers.py::test_the_registry_names_only_solutions_of_the_book"
    assert registry_problems("ex-99-1", ["0.117"], {"ex-99-1": {"0.117": other}}) == [
        f"ex-99-1: {other} does not mention '0.117'"]
    with pytest.raises(AssertionError, match="no test function"):
        registry_problems("ex-99-1", ["0.117"], {"ex-99-1": {"0.117": this + "_gone"}})
    stale = registry_problems("ex-99-1", [], {"ex-99-1": {"0.117": this}})
    assert stale == ["ex-99-1: registry lists '0.117', which the solution no longer types "
                     "without a source"]


def test_a_typed_number_in_a_real_solution_is_caught():
    """The rule holds on the book's own text: ex-05-1 passes as written, and fails as soon as a
    model result is typed into it."""
    page = "chapters/05-sharing-the-cpu.ipynb"
    body = dict(solutions(page))["ex-05-1"]
    clean = [n.text for n in scan(exercise(page, "ex-05-1"), body) if n.kind == "unsourced"]
    assert registry_problems("ex-05-1", clean, REGISTRY) == []
    tampered = body + "\nOver a long run the domain settles at 0.1183 of a pCPU.\n"
    typed = [n.text for n in scan(exercise(page, "ex-05-1"), tampered) if n.kind == "unsourced"]
    assert registry_problems("ex-05-1", typed, REGISTRY) == [
        "ex-05-1: '0.1183' has no source (glue it, or register the test that asserts it)"]


def test_definitions_years_versions_and_labels_are_references():
    numbers = scan("", "One terabyte is 1,024 GB. Xen in 2003, Linux 6.6 and runc 1.1.12; see "
                       "chapter 4, slide 21 and CVE-2019-5736. The 95th percentile is 3 ms.")
    assert {n.text: n.kind for n in numbers} == {
        "1,024": "reference", "2003": "reference", "6.6": "reference", "1.1.12": "reference",
        "4": "reference", "21": "reference", "95": "reference", "3": "unsourced"}


def tally() -> dict[str, dict[str, int]]:
    """Per page, how many numbers of each kind its solutions hold (registered ones apart)."""
    counts: dict[str, dict[str, int]] = {}
    for page in PAGES:
        c: dict[str, int] = {}
        for label, numbers in _numbers(page).items():
            for n in numbers:
                kind = "registered" if n.kind == "unsourced" and n.text in REGISTRY.get(label, {}) \
                    else n.kind
                c[kind] = c.get(kind, 0) + 1
        counts[page] = c
    return counts


if __name__ == "__main__":
    kinds = ("glued", "reference", "cited", "given", "registered", "unsourced")
    print(f"{'page':44}{'numbers':>8}" + "".join(f"{k:>11}" for k in kinds))
    for page, c in tally().items():
        print(f"{page:44}{sum(c.values()):>8}" + "".join(f"{c.get(k, 0):>11}" for k in kinds))
