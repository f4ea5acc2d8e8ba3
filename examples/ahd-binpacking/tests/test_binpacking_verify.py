"""Trusted verification rejects forged, overfull, wrong-length and malformed results."""

from __future__ import annotations

import numpy as np
import pytest

from ahd_binpacking.instances import Instance
from ahd_binpacking.verify import (
    InvalidAssignment,
    InvalidResult,
    check_child_result,
    clean_text,
    excess_percent,
    verify_assignment,
)

INST = Instance("hand", 10, [5, 6, 4, 5])


def test_valid_packings_are_counted_by_the_parent():
    assert verify_assignment(INST, np.array([0, 1, 1, 0])) == 2
    assert verify_assignment(INST, np.array([0, 1, 0, 2])) == 3
    assert INST.lower_bound == 2
    assert excess_percent(3, INST) == pytest.approx(50.0)


@pytest.mark.parametrize("assignment, words", [
    ([0, 1, 1], "one bin per item (4), got 3"),
    ([0.0, 1.0, 1.0, 0.0], "integer array"),
    ([[0, 1], [1, 0]], "1-D integer array"),
    ([0, -1, 1, 0], "negative bin number"),
    ([1, 0, 0, 1], "item 0 goes to bin 1 but only 0 bins were open"),
    ([0, 2, 1, 0], "item 1 goes to bin 2"),
    ([0, 0, 1, 1], "bin 0 holds 11, over the capacity 10"),
    ([0, 0, 0, 0], "over the capacity"),
])
def test_forged_or_overfull_assignments_are_rejected(assignment, words):
    with pytest.raises(InvalidAssignment) as info:
        verify_assignment(INST, np.array(assignment))
    assert words in str(info.value)


def test_any_fit_forbids_a_new_bin_while_one_fits():
    # item 2 (size 4) opens bin 2 although bin 0 (5 left) and bin 1 (4 left) fit
    assert verify_assignment(INST, np.array([0, 1, 2, 0])) == 3
    with pytest.raises(InvalidAssignment, match="item 2 opened bin 2"):
        verify_assignment(INST, np.array([0, 1, 2, 0]), offer_new_bin=False)
    assert verify_assignment(INST, np.array([0, 1, 1, 0]), offer_new_bin=False) == 2


def _ok(results):
    return {"status": "ok", "error": "", "results": results, "compile_seconds": 0.1}


@pytest.mark.parametrize("value, words", [
    ([1, 2], "expected a dict"),
    ({**_ok([]), "score": 0.0}, "expected keys"),
    ({**_ok([]), "status": "great"}, "unknown status"),
    (_ok([]), "expected 1 per-instance results, got 0"),
    (_ok([[np.zeros(4, dtype=np.int64), ""]]), "must be a pair"),
    (_ok([([0, 1, 1, 0], "")]), "must be a numpy array"),
    (_ok([(np.zeros((2, 2), dtype=np.int64), "")]), "1-D integer array"),
    (_ok([(np.zeros(4), "")]), "1-D integer array"),
    (_ok([(None, "")]), "no assignment and no error"),
    (_ok([(np.zeros(4, dtype=np.int64), "oops")]), "without an error"),
    ({**_ok([(None, "x")]), "compile_seconds": -1.0}, "compile_seconds"),
    ({**_ok([(None, "x")]), "error": 3}, "error must be a string"),
])
def test_malformed_child_results_are_rejected(value, words):
    with pytest.raises(InvalidResult) as info:
        check_child_result(value, 1)
    assert words in str(info.value)


def test_a_well_formed_result_passes_and_text_is_cleaned():
    value = _ok([(np.array([0, 1, 1, 0]), ""), (None, "priority raised")])
    assert check_child_result(value, 2) is value
    cleaned = clean_text("key sk-abcdefghijklmnopqrstuv and \x00bell " + "x " * 1500)
    assert "sk-abc" not in cleaned and "[redacted]" in cleaned and "\x00" not in cleaned
    assert cleaned.endswith("chars cut]")
