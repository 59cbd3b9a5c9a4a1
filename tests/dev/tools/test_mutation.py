"""`make mutation`'s bookkeeping: the equivalents file, the score, the gate."""

import pytest

from modelops_dev.tools import mutation
from modelops_dev.tools.mutation import (
    EQUIVALENTS,
    MIN_SCORE,
    PROJECT_ROOT,
    Equivalent,
    ModuleResult,
    Survivor,
    failed_gates,
    parse_equivalents,
    render,
    score,
    stale,
)

ENTRIES = """
# a comment, then two entries
spec/model: the reason
- if x < 1:
+ if x <= 1:

data/features: another reason
    - a = b
    + a = None
"""


def result(module: str, total: int, killed: int, *survivors: Survivor) -> ModuleResult:
    return ModuleResult(module, total, killed, 0, list(survivors), 1.0)


def test_equivalents_are_three_line_entries():
    assert parse_equivalents(ENTRIES) == [
        Equivalent("spec/model", "if x < 1:", "if x <= 1:", "the reason"),
        Equivalent("data/features", "a = b", "a = None", "another reason"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "spec/model reason without colon\n- a\n+ b\n",
        "nomodule: reason\n- a\n+ b\n",
        "spec/model: reason\n+ b\n- a\n",
        "spec/model: reason\n- a\n",
    ],
)
def test_a_malformed_entry_is_refused(text):
    with pytest.raises(ValueError, match="entry 1"):
        parse_equivalents(text)


def test_the_repository_equivalents_file_parses():
    assert all(entry.reason for entry in parse_equivalents((PROJECT_ROOT / EQUIVALENTS).read_text()))


def test_the_score_leaves_equivalent_survivors_out():
    equivalent = Survivor(3, "    if x < 1:", "    if x <= 1:")
    real = Survivor(9, "    y = 2", "    y = 3")
    scored = score(result("spec/model", 10, 7, equivalent, real), parse_equivalents(ENTRIES))
    assert scored.value == 7 / 9
    assert scored.survivors == [real]
    assert [s for s, _ in scored.equivalent] == [equivalent]


def test_an_entry_counts_only_for_its_own_module():
    survivor = Survivor(3, "if x < 1:", "if x <= 1:")
    scored = score(result("data/features", 4, 3, survivor), parse_equivalents(ENTRIES))
    assert scored.value == 3 / 4 and scored.survivors == [survivor]


def test_timeouts_count_as_killed_and_an_empty_module_scores_full():
    assert score(ModuleResult("spec/model", 4, 2, 1, [Survivor(1, "a", "b")], 1.0), []).value == 3 / 4
    assert score(result("spec/model", 0, 0), []).value == 1.0


def test_unused_entries_of_the_modules_run_are_reported():
    entries = parse_equivalents(ENTRIES)
    scores = [score(result("spec/model", 10, 10), entries)]
    assert stale(scores, entries) == [entries[0]]  # features was not run
    assert "match no surviving mutant" in render(scores, stale(scores, entries))


def test_the_gate_applies_to_the_gated_modules_only():
    below = [score(result("spec/model", 10, 7), []), score(result("model/metrics", 10, 1), [])]
    assert MIN_SCORE == 0.8
    assert failed_gates(below) == ["spec/model: 70.0% < 80%"]
    assert failed_gates([score(result("spec/model", 10, 8), [])]) == []


def test_the_report_lists_survivors_and_equivalents_with_their_reasons():
    entries = parse_equivalents(ENTRIES)
    scored = score(
        result("spec/model", 10, 8, Survivor(3, "if x < 1:", "if x <= 1:"), Survivor(9, "y = 2", "y = 3")),
        entries,
    )
    text = render([scored], [])
    row = next(line for line in text.splitlines() if line.startswith("spec/model "))
    assert row.split()[:6] == ["spec/model", "10", "8", "1", "1", "88.9%"]
    assert "line 9:  - y = 2" in text and "+ y = 3" in text
    assert "line 3: the reason" in text


def test_a_module_key_with_a_folder_gets_its_results_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(mutation, "PROJECT_ROOT", tmp_path)
    log = mutation._result("model/promotion", ".log")
    (tmp_path / log).write_text("written")  # the folder model/ was made on the way
    assert log.parts[-2:] == ("model", "promotion.log")


def test_the_report_columns_line_up_for_long_module_keys():
    text = render([score(result("monitoring/evaluation", 10, 10), [])], [])
    header, row = text.splitlines()[1:3]
    assert row.startswith("monitoring/evaluation ")
    assert header.index("mutants") + len("mutants") == row.index("10") + len("10")
