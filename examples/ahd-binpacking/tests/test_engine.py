"""The compiled engine: the rule of ``bins``, first/best fit by hand, and clear failures."""

from __future__ import annotations

import numpy as np
import pytest

from ahd_binpacking.engine import (
    PriorityCompileError,
    PriorityError,
    compile_priority,
    load_namespace,
    pack,
    pack_reference,
)
from ahd_binpacking.instances import weibull_instance
from ahd_binpacking.seeds import BEST_FIT_SOURCE, FIRST_FIT_SOURCE

# Capacity 10, items 5, 6, 4, 5 (checked by hand):
# first fit: 5 -> bin0 (5 left); 6 -> bin1 (4 left); 4 -> bin0, the first that fits (1 left);
#            5 fits nowhere -> bin2.                                       [0, 1, 0, 2], 3 bins
# best fit:  4 -> bin1, where it leaves 0; 5 -> bin0, where it leaves 0.   [0, 1, 1, 0], 2 bins
ITEMS = [5.0, 6.0, 4.0, 5.0]


@pytest.fixture(scope="module")
def ff():
    return compile_priority(FIRST_FIT_SOURCE)


@pytest.fixture(scope="module")
def bf():
    return compile_priority(BEST_FIT_SOURCE)


@pytest.mark.parametrize("offer_new_bin", [True, False])
def test_first_fit_and_best_fit_by_hand(ff, bf, offer_new_bin):
    first = pack(ITEMS, 10, ff, offer_new_bin)
    assert first.assignment.tolist() == [0, 1, 0, 2] and first.n_bins == 3
    best = pack(ITEMS, 10, bf, offer_new_bin)
    assert best.assignment.tolist() == [0, 1, 1, 0] and best.n_bins == 2


def test_bins_are_fitting_open_bins_in_opening_order_then_the_new_bin():
    seen = []

    def record(item, bins):
        seen.append((item, bins.tolist()))
        return -np.arange(len(bins), dtype=float)  # first fit

    pack_reference(ITEMS, 10, record)
    assert seen == [(5.0, [10.0]), (6.0, [10.0]), (4.0, [5.0, 4.0, 10.0]), (5.0, [10.0])]
    seen.clear()
    pack_reference(ITEMS, 10, record, offer_new_bin=False)
    assert seen == [(4.0, [5.0, 4.0])]  # asked only when some open bin fits


def test_choosing_the_last_entry_opens_a_new_bin():
    last = compile_priority("def priority(item, bins):\n"
                            "    return np.arange(bins.shape[0]) * 1.0\n")
    assert pack(ITEMS, 10, last).n_bins == 4  # the new bin wins every time
    # without the new-bin entry the same rule is "last fit": the newest open bin that fits
    assert pack(ITEMS, 10, last, offer_new_bin=False).assignment.tolist() == [0, 1, 1, 0]


def test_compiled_engine_matches_the_reference(ff, bf):
    inst = weibull_instance(400, 3)
    for compiled, source in ((ff, FIRST_FIT_SOURCE), (bf, BEST_FIT_SOURCE)):
        python = load_namespace(source)["priority"]
        for offer in (True, False):
            fast = pack(inst.items, inst.capacity, compiled, offer)
            slow = pack_reference(inst.items, inst.capacity, python, offer)
            assert np.array_equal(fast.assignment, slow.assignment)
    assert pack(inst.items, 100, bf).n_bins < pack(inst.items, 100, ff).n_bins + 1


def test_ties_go_to_the_first_entry():
    flat = compile_priority("def priority(item, bins):\n    return np.zeros(bins.shape[0])\n")
    assert pack(ITEMS, 10, flat).assignment.tolist() == [0, 1, 0, 2]  # = first fit


def test_helpers_and_unimported_numpy_compile():
    source = ("def gap(bins, item):\n    return bins - item\n\n"
              "def priority(item, bins):\n    return -gap(bins, item)\n")
    assert pack(ITEMS, 10, compile_priority(source)).n_bins == 2


@pytest.mark.parametrize("body, at, words", [
    ("return bins[:1] if len(bins) == 3 else -bins", 2, "returned shape (1,) for 3 bins"),
    ("return bins * np.nan if len(bins) == 3 else -bins", 2, "returned NaN at index 0 of 3"),
    ("return np.ones((bins.shape[0], 2))", 0, "returned shape (1, 2) for 1 bins"),
    ("return 1.0", 0, "returned shape () for 1 bins"),
])
def test_contract_violations_name_the_item(body, at, words):
    bad = compile_priority(f"def priority(item, bins):\n    {body}\n")
    with pytest.raises(PriorityError) as info:
        pack(ITEMS, 10, bad)
    assert f"at item {at}:" in str(info.value) and words in str(info.value)


def test_raising_priority_propagates_and_uncompilable_is_refused():
    raising = compile_priority("def priority(item, bins):\n    if item > 5:\n"
                               "        raise ValueError('too big')\n    return -bins\n")
    with pytest.raises(ValueError, match="too big"):
        pack(ITEMS, 10, raising)
    with pytest.raises(PriorityCompileError, match="numba cannot compile"):
        compile_priority("def priority(item, bins):\n    return {'a': bins}['a'] + 'x'\n")
    with pytest.raises(PriorityCompileError, match="no function 'priority'"):
        compile_priority("priority = 3\n")
