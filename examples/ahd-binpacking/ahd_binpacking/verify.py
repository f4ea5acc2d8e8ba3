"""Trusted side: check what a sandbox child returns, and score it from the parent's instances.

A candidate never reports its score. The child returns, per instance, the bin of every item
(:func:`ahd_binpacking.child.run_priority`); this module checks that structure strictly
(:func:`check_child_result`, the child may be hostile), then checks the packing against the
instance the parent owns (:func:`verify_assignment`) and only then computes the bins used and
the excess over the L1 bound (:func:`excess_percent`).

What a valid assignment is
--------------------------
- one non-negative integer per item, ``assignment[0] == 0``;
- bins numbered in the order they were opened: every item's bin is at most one more than
  the largest bin number before it (so the number of bins is ``max + 1``);
- no bin holds more than its capacity (relative tolerance :data:`LOAD_RTOL`);
- with ``offer_new_bin=False`` (any fit) also: an item opens a new bin only when no open bin
  could hold it.

An assignment that fits these rules is a packing an online rule could have produced, so the
bin count computed here is a fair score whoever computed the assignment.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ahd.trust import clip, redact

from .instances import Instance

#: Keys of a child's result, exactly.
CHILD_KEYS = ("status", "error", "results", "compile_seconds")
#: Statuses a child may report: ``ok`` (compiled; see the per-instance results) or
#: ``invalid`` (the source does not compile; ``error`` says why).
CHILD_STATUSES = ("ok", "invalid")
#: Bin loads may exceed the capacity by this relative amount (rounding of decimal sizes).
LOAD_RTOL = 1e-8
#: Longest error text kept from a child.
MAX_ERROR_CHARS = 2000

_SECRET = re.compile(r"\b(sk|pk|rk|ghp|gho|xox[bap])[-_][A-Za-z0-9_-]{12,}|\b[A-Za-z0-9+_=-]{40,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class InvalidResult(ValueError):
    """A child's result that is not exactly what the child entry point returns."""


class InvalidAssignment(ValueError):
    """An assignment that is not a valid packing of the instance; the message says why."""


def clean_text(text: Any, limit: int = MAX_ERROR_CHARS) -> str:
    """Child text made safe to store and show: clipped, control characters and token-like
    strings (API keys, long base64) and the values of secret environment variables
    (:func:`ahd.trust.redact`) removed. The sandbox scrubs secrets from the child's
    environment; this is the second line of defence for what ends up in the store."""
    text = _CONTROL.sub("", str(text))
    text = _SECRET.sub("[redacted]", text)
    return redact(clip(text, limit))  # and the values of this process's secret variables


def check_child_result(value: Any, n_instances: int) -> dict:
    """Validate the structure of a child's result (it may come from hostile code).

    Returns the value itself; raises :class:`InvalidResult` naming the first problem.
    """
    if type(value) is not dict:
        raise InvalidResult(f"expected a dict, got {type(value).__name__}")
    if set(value) != set(CHILD_KEYS):
        raise InvalidResult(f"expected keys {sorted(CHILD_KEYS)}, got {sorted(map(str, value))}")
    status, error, results = value["status"], value["error"], value["results"]
    if type(status) is not str or status not in CHILD_STATUSES:
        raise InvalidResult(f"unknown status {str(status)[:40]!r}")
    if type(error) is not str:
        raise InvalidResult("error must be a string")
    seconds = value["compile_seconds"]
    if type(seconds) not in (int, float) or not 0 <= seconds < 1e6:
        raise InvalidResult("compile_seconds must be a non-negative number")
    if type(results) is not list:
        raise InvalidResult("results must be a list")
    expected = n_instances if status == "ok" else 0
    if len(results) != expected:
        raise InvalidResult(f"expected {expected} per-instance results, got {len(results)}")
    for k, entry in enumerate(results):
        if type(entry) is not tuple or len(entry) != 2:
            raise InvalidResult(f"result {k} must be a pair (assignment, error)")
        assignment, message = entry
        if type(message) is not str:
            raise InvalidResult(f"result {k}: error must be a string")
        if assignment is None:
            if not message:
                raise InvalidResult(f"result {k}: no assignment and no error")
            continue
        if message:
            raise InvalidResult(f"result {k}: an assignment must come without an error")
        if type(assignment) is not np.ndarray:
            raise InvalidResult(f"result {k}: the assignment must be a numpy array")
        if assignment.ndim != 1 or assignment.dtype.kind not in "iu":
            raise InvalidResult(f"result {k}: the assignment must be a 1-D integer array, got "
                                f"{assignment.ndim}-D {assignment.dtype}")
    return value


def verify_assignment(instance: Instance, assignment: Any, offer_new_bin: bool = True) -> int:
    """The number of bins of a valid packing of ``instance`` (see the module docstring).

    Raises
    ------
    InvalidAssignment
        Wrong length or type, bins not numbered in opening order, an overfull bin, or (any
        fit) a new bin opened while an open bin could hold the item.
    """
    a = np.asarray(assignment)
    n = instance.n_items
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise InvalidAssignment(f"expected a 1-D integer array, got {a.ndim}-D {a.dtype}")
    if a.shape[0] != n:
        raise InvalidAssignment(f"expected one bin per item ({n}), got {a.shape[0]}")
    a = a.astype(np.int64)
    if a.min() < 0:
        raise InvalidAssignment(f"negative bin number at item {int(np.argmin(a))}")
    opened_before = np.concatenate(([-1], np.maximum.accumulate(a)[:-1]))
    jumps = np.flatnonzero(a > opened_before + 1)
    if jumps.size:
        i = int(jumps[0])
        raise InvalidAssignment(f"item {i} goes to bin {int(a[i])} but only "
                                f"{int(opened_before[i]) + 1} bins were open: bins must be "
                                "numbered in the order they are opened")
    n_bins = int(a.max()) + 1
    loads = np.bincount(a, weights=instance.items, minlength=n_bins)
    limit = instance.capacity * (1 + LOAD_RTOL)
    over = np.flatnonzero(loads > limit)
    if over.size:
        b = int(over[0])
        raise InvalidAssignment(f"bin {b} holds {loads[b]:.10g}, over the capacity "
                                f"{instance.capacity:g}")
    if not offer_new_bin:
        _check_any_fit(instance, a, opened_before)
    return n_bins


def _check_any_fit(instance: Instance, a: np.ndarray, opened_before: np.ndarray) -> None:
    """Any fit: a new bin only when no open bin has room (with a margin for rounding)."""
    remaining = np.empty(int(a.max()) + 1)
    cap = instance.capacity
    margin = LOAD_RTOL * cap
    count = 0
    for i, (size, b) in enumerate(zip(instance.items.tolist(), a.tolist(), strict=True)):
        if b == count:
            if count and remaining[:count].max() >= size + margin:
                raise InvalidAssignment(f"item {i} opened bin {b} although an open bin had "
                                        "room (any fit: a new bin only when none fits)")
            remaining[count] = cap
            count += 1
        remaining[b] -= size


def excess_percent(n_bins: int, instance: Instance) -> float:
    """``100 * (n_bins - L1) / L1``: bins used above the lower bound, in percent."""
    lb = instance.lower_bound
    return 100.0 * (n_bins - lb) / lb


__all__ = [
    "CHILD_KEYS", "CHILD_STATUSES", "InvalidAssignment", "InvalidResult", "LOAD_RTOL",
    "check_child_result", "clean_text", "excess_percent", "verify_assignment",
]
