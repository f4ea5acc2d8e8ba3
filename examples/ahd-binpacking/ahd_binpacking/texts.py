"""What a proposer reads: the problem description, the role's contract, a parent's record.

The LLM proposer fills its templates (``ahd_binpacking/prompts/*.txt``) with these texts, so
they state exactly what the engine does (:mod:`ahd_binpacking.engine`) and how a candidate
is scored (:mod:`ahd_binpacking.verify`), in the terms a heuristic designer needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .instances import Instance
from .seeds import BEST_FIT_SOURCE

ROLE = "priority"

_BINS_NEW = (
    "the remaining capacities of the open bins that can hold the item (remaining >= item), "
    "in the order the bins were opened (index 0 is the oldest), followed by ONE last entry "
    "equal to the full bin capacity, which stands for opening a new, empty bin. Choosing "
    "the last entry opens a new bin even when open bins fit; it is never absent, so "
    "len(bins) >= 1 and bins[-1] is the capacity"
)
_BINS_ANY = (
    "the remaining capacities of the open bins that can hold the item (remaining >= item), "
    "in the order the bins were opened (index 0 is the oldest); len(bins) >= 1. You are only "
    "asked when some open bin fits: a new bin is opened (without asking) when none does"
)


def _describe_set(instances: Sequence[Instance]) -> str:
    sizes = sorted({inst.n_items for inst in instances})
    caps = sorted({inst.capacity for inst in instances})
    size_text = "/".join(str(s) for s in sizes[:4]) + ("..." if len(sizes) > 4 else "")
    cap_text = "/".join(f"{c:g}" for c in caps[:4])
    return f"{len(instances)} instances of {size_text} items, bin capacity {cap_text}"


def describe(train: Sequence[Instance], generated: bool, offer_new_bin: bool) -> str:
    """The problem, the training data and the score, for the proposer."""
    data = _describe_set(train)
    if generated:
        data += (" (item sizes round(45 * Weibull(shape 3)) clipped to [1, 100], mean about "
                 "40, so a bin holds 2-3 items; the same distribution as FunSearch's Weibull "
                 "benchmark)")
    rule = ("The item may also open a new bin at any time (the last entry of `bins`)."
            if offer_new_bin else
            "A new bin is opened only when no open bin can hold the item (any fit).")
    return (
        "Online one-dimensional bin packing. Items arrive one at a time and must be placed "
        "at once, never moved; bins are never closed. For every item, a priority function "
        "scores the candidate bins and the item goes into the bin with the highest score. "
        f"{rule}\n\n"
        f"Training data: {data}. "
        "Score of an instance: the excess over the lower bound, 100 * (bins used - L1) / L1 "
        "with L1 = ceil(sum of item sizes / capacity); fitness = mean excess in percent over "
        "the training instances, lower is better. "
        + ("First fit scores about 4.4% and best fit about 4.1% on this distribution; the "
           "best published heuristics reach below 1%. " if generated else "")
        + "The best candidates are then compared on held-out instances of the same kind.\n\n"
        "Useful facts: once an item is placed, the gap it leaves in its bin (bins - item) "
        "can only be filled by later items no larger than the gap; a gap of exactly 0 closes "
        "a bin perfectly, while small items are rare under this distribution."
    )


def role_doc(role: str, offer_new_bin: bool) -> str:
    """Signature and contract of the ``priority`` role."""
    if role != ROLE:
        raise KeyError(f"bin packing has one role, {ROLE!r}, not {role!r}")
    bins = _BINS_NEW if offer_new_bin else _BINS_ANY
    return (
        "Write `def priority(item, bins):` returning one score per entry of `bins`.\n\n"
        "- `item` (float): the size of the arriving item, > 0.\n"
        f"- `bins` (numpy float64 1-D array, a fresh copy per call): {bins}.\n"
        "- Return a 1-D numpy array of len(bins) numbers. The item goes to the entry with the "
        "highest score (the first of equal scores). NaN is an error (the candidate fails); "
        "-inf and inf are allowed. A wrong length is an error.\n"
        "- The capacity is not passed; the training bins have capacity 100.\n\n"
        "Your module is compiled with numba.njit (nopython mode) in a sandbox: numpy array "
        "operations, math functions and explicit loops are fine (loops are fast); every "
        "top-level function of the module is compiled too, so helper functions may be "
        "used; no Python objects numba cannot type (classes, mixed-type dicts, string "
        "formatting), no global mutable state. Code numba cannot compile is rejected, not "
        "run in Python. The function is called once per item (thousands of times per "
        "instance), so keep it linear in len(bins).\n\n"
        "Allowed imports: numpy (as np) and math (both are available even without an "
        "import). No files, printing, randomness or network.\n\n"
        "Example (best fit):\n```python\n" + BEST_FIT_SOURCE.rstrip() + "\n```"
    )


def parent_summary(stats: dict[str, Any] | None, credit: float, n_train: int) -> str | None:
    """A parent's training record in the words of the problem (``stats`` from the task);
    ``None`` when nothing is known (the proposer then shows credit and uses)."""
    if stats is None:  # e.g. after --resume: the credit is minus the training fitness
        if credit > 0:  # the loop's "not scored yet"; an excess is never negative
            return None
        fitness = -float(credit)
        if fitness != fitness or fitness == float("inf"):
            return "failed on the training instances"
        return f"mean excess {fitness:.3f}% over {n_train} training instances"
    if stats["errors"]:
        return "failed: " + stats["errors"][0][:300]
    per = ", ".join(f"{x:.2f}" for x in stats["excess"][:8])
    return (f"mean excess {stats['fitness']:.3f}% over {stats['n']} training instances "
            f"(per instance: {per}%), {stats['bins']} bins in total vs lower bound "
            f"{stats['lower_bound']}")


__all__ = ["ROLE", "describe", "parent_summary", "role_doc"]
