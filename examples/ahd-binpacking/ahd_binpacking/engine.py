"""The online packing loop, compiled once, and the compilation of a candidate's ``priority``.

The rule (FunSearch's evaluator, with one entry for all the unopened bins)
---------------------------------------------------------------------------
Items arrive one at a time. For each item the engine builds ``bins``: the remaining
capacities of the open bins that can hold it, in the order the bins were opened, followed
(when ``offer_new_bin``, the default) by one entry equal to the capacity, which stands for a
new, empty bin. ``priority(item, bins)`` returns one score per entry; the item goes to the
entry with the highest score (the first of equal ones), and choosing the last entry opens a
new bin. With ``offer_new_bin=False`` (classic *any fit*) there is no such entry, priority is
only asked when some open bin fits, and a new bin is opened only when none does.

FunSearch passes one capacity entry for *every* unopened bin; one entry is enough to choose
the same bins whenever scores do not depend on how many empty entries follow (first fit,
best fit and FunSearch's published Weibull heuristic give identical packings), and it keeps
the cost of an item proportional to the open bins that fit.

Why a compiled engine with a function-typed argument
----------------------------------------------------
A candidate is compiled with :func:`numba.njit` in the sandbox child. Passing its dispatcher
to a jitted loop would specialise (recompile) the loop for every candidate, about 0.6 s. The
loop here takes ``priority`` as a first-class function of one fixed signature
(:data:`PRIORITY_SIGNATURE`), so it is compiled once per sandbox worker and every child
inherits it; each candidate only pays for its own code plus a small adapter that converts its
scores to float64 and reports a wrong length or NaN.

Python fallback
---------------
There is none in scoring: code numba cannot compile is reported as
:class:`PriorityCompileError` (the task records it as ``invalid``) rather than run 100 times
slower. :func:`pack_reference` is a plain-Python version of the same rule, for tests and for
users who want to try a function that numba refuses.
"""

from __future__ import annotations

import math
import types as pytypes
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Status codes of the compiled loop.
OK, BAD_SHAPE, NAN_SCORE = 0, 1, 2
#: An item fits a bin whose remaining capacity is at least ``item - FIT_RTOL * capacity``.
FIT_RTOL = 1e-9
#: Names a candidate may use without importing them (the child provides them).
PROVIDED_NAMES = ("np", "numpy", "math")

_ENGINE: Any = None


class PriorityCompileError(ValueError):
    """numba cannot compile the candidate (or the source does not define ``priority``)."""


class PriorityError(RuntimeError):
    """``priority`` ran but broke its contract (wrong number of scores, NaN) or raised."""


def _numba() -> Any:
    import numba

    return numba


def priority_signature() -> Any:
    """``float64[::1](float64, float64[::1])``: the type every compiled priority is given."""
    t = _numba().types
    return t.float64[::1](t.float64, t.float64[::1])


def _build_engine() -> Any:
    numba = _numba()
    t = numba.types
    fn = t.FunctionType(priority_signature())

    def pack_online(items, capacity, priority, offer_new_bin):
        n = items.shape[0]
        remaining = np.empty(n)
        assignment = np.full(n, -1, dtype=np.int64)
        fitting = np.empty(n, dtype=np.int64)
        tol = FIT_RTOL * capacity
        count = 0
        for i in range(n):
            item = items[i]
            k = 0
            for b in range(count):
                if remaining[b] >= item - tol:
                    fitting[k] = b
                    k += 1
            m = k + 1 if offer_new_bin else k
            if m == 0:
                remaining[count] = capacity - item
                assignment[i] = count
                count += 1
                continue
            bins = np.empty(m)
            for j in range(k):
                bins[j] = remaining[fitting[j]]
            if offer_new_bin:
                bins[k] = capacity
            scores = priority(item, bins)
            if scores.shape[0] != m:
                return assignment, count, BAD_SHAPE, i
            best = 0
            for j in range(m):
                if math.isnan(scores[j]):
                    return assignment, count, NAN_SCORE, i
                if scores[j] > scores[best]:
                    best = j
            if best == k:
                remaining[count] = capacity - item
                assignment[i] = count
                count += 1
            else:
                b = fitting[best]
                remaining[b] -= item
                assignment[i] = b
        return assignment, count, OK, n

    signature = (t.float64[::1], t.float64, fn, t.boolean)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaExperimentalFeatureWarning)
        return numba.njit(signature, cache=False)(pack_online)


def engine() -> Any:
    """The compiled loop ``(items, capacity, priority, offer_new_bin) -> (assignment, n_bins,
    status, item)``, built on first use (about 2 s) and kept for the process."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _build_engine()
    return _ENGINE


@dataclass(frozen=True)
class CompiledPriority:
    """A candidate ready for the engine: its Python function, numba dispatcher and adapter."""

    python: Callable[..., Any]
    jitted: Any
    adapter: Any


def _make_adapter(jitted: Any) -> Any:
    numba = _numba()

    def adapter(item, bins):
        raw = np.asarray(jitted(item, bins))
        m = bins.shape[0]
        if raw.size != m or raw.ndim != 1:
            return np.empty(m + 1)  # the engine reports the wrong length
        flat = np.ravel(raw)
        out = np.empty(m)
        for j in range(m):
            out[j] = flat[j]
        return out

    return numba.njit(priority_signature(), cache=False)(adapter)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # numba's typing errors put the useful part first and the call chain after.
    keep = [ln for ln in lines[:12] if not ln.startswith(("During:", "File \"<"))][:6]
    return f"{type(exc).__name__}: " + " | ".join(keep) if keep else type(exc).__name__


def load_namespace(source: str, filename: str = "<priority>") -> dict[str, Any]:
    """Execute candidate ``source`` in a fresh namespace that provides ``np``, ``numpy`` and
    ``math`` (so a candidate may omit those imports). Untrusted: call only in a sandbox child
    or on code you trust."""
    import numpy

    namespace: dict[str, Any] = {"__name__": "ahd_binpacking_candidate", "np": numpy,
                                 "numpy": numpy, "math": math}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - see docstring
    return namespace


def compile_priority(source: str, entry: str = "priority") -> CompiledPriority:
    """Compile candidate ``source``: every top-level function with ``numba.njit`` (so helper
    functions work), then ``entry`` with its adapter, eagerly.

    Raises
    ------
    PriorityCompileError
        ``entry`` is missing or not a function, or numba cannot compile it (the message
        starts with numba's own first lines). Exceptions of the module's top-level code
        propagate unchanged.
    """
    numba = _numba()
    namespace = load_namespace(source)
    func = namespace.get(entry)
    if not isinstance(func, pytypes.FunctionType):
        raise PriorityCompileError(f"the source defines no function {entry!r}")
    for name, value in list(namespace.items()):
        if isinstance(value, pytypes.FunctionType) and value.__globals__ is namespace:
            namespace[name] = numba.njit(cache=False)(value)
    jitted = namespace[entry]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adapter = _make_adapter(jitted)
    except Exception as exc:  # numba raises many types; all mean "cannot compile"
        raise PriorityCompileError(
            f"numba cannot compile {entry}(item, bins) in nopython mode: {_first_line(exc)}"
        ) from None
    return CompiledPriority(func, jitted, adapter)


@dataclass(frozen=True)
class Packing:
    """An online packing: ``assignment[i]`` is the bin of item ``i`` (bins numbered in the
    order they were opened) and ``n_bins`` how many bins it uses."""

    assignment: np.ndarray
    n_bins: int


def candidate_bins(remaining: list[float], item: float, capacity: float,
                   offer_new_bin: bool) -> tuple[list[int], np.ndarray]:
    """Indices of the open bins that fit ``item`` and the ``bins`` array priority sees."""
    tol = FIT_RTOL * capacity
    fitting = [b for b, r in enumerate(remaining) if r >= item - tol]
    values = [remaining[b] for b in fitting] + ([capacity] if offer_new_bin else [])
    return fitting, np.array(values, dtype=np.float64)


def _describe(raw: Any, m: int) -> str:
    arr = np.asarray(raw)
    if arr.ndim != 1 or arr.shape[0] != m:
        return f"returned shape {arr.shape} for {m} bins (need one score per entry of bins)"
    nan = int(np.flatnonzero(np.isnan(arr.astype(np.float64)))[0])
    return f"returned NaN at index {nan} of {m} (scores must be numbers; use -inf to rule out)"


def failure_message(items: np.ndarray, capacity: float, assignment: np.ndarray, at: int,
                    priority: Callable[..., Any], offer_new_bin: bool) -> str:
    """Replay item ``at`` (bins rebuilt from the assignment so far) and say what went wrong."""
    remaining: list[float] = []
    for size, b in zip(items[:at], assignment[:at], strict=True):
        if b == len(remaining):
            remaining.append(capacity)
        remaining[b] -= size
    _, bins = candidate_bins(remaining, float(items[at]), capacity, offer_new_bin)
    try:
        raw = priority(float(items[at]), bins.copy())
        what = _describe(raw, bins.shape[0])
    except Exception as exc:  # noqa: BLE001 - describing, not handling
        what = f"raised {type(exc).__name__}: {exc}"
    return f"priority(item={items[at]:g}, bins of length {bins.shape[0]}) at item {at}: {what}"


def pack(items: Any, capacity: float, priority: CompiledPriority | str,
         offer_new_bin: bool = True) -> Packing:
    """Pack ``items`` online with a compiled priority (or source, compiled here).

    Runs the candidate in *this* process: use it for trusted code; the task runs candidates
    only in sandbox children.

    Raises
    ------
    PriorityCompileError
        When ``priority`` is source numba cannot compile.
    PriorityError
        When it returns the wrong number of scores or NaN (the message names the item).
    """
    compiled = compile_priority(priority) if isinstance(priority, str) else priority
    arr = np.array(items, dtype=np.float64)  # a writable C-contiguous copy, as compiled
    assignment, n_bins, status, at = engine()(arr, float(capacity), compiled.adapter,
                                              bool(offer_new_bin))
    if status != OK:
        raise PriorityError(failure_message(arr, float(capacity), assignment, int(at),
                                            compiled.jitted, offer_new_bin))
    return Packing(assignment, int(n_bins))


def pack_reference(items: Any, capacity: float, priority: Callable[..., Any],
                   offer_new_bin: bool = True) -> Packing:
    """The same rule in plain Python (slow; for tests and for functions numba refuses)."""
    arr = np.asarray(items, dtype=np.float64)
    remaining: list[float] = []
    assignment = np.empty(arr.shape[0], dtype=np.int64)
    for i, item in enumerate(arr):
        fitting, bins = candidate_bins(remaining, float(item), capacity, offer_new_bin)
        if bins.shape[0] == 0:
            choice = len(fitting)
        else:
            scores = np.asarray(priority(float(item), bins.copy()), dtype=np.float64)
            if scores.shape != bins.shape or np.isnan(scores).any():
                raise PriorityError(f"priority at item {i}: {_describe(scores, bins.shape[0])}")
            choice = int(np.argmax(scores))
        if choice == len(fitting):
            remaining.append(float(capacity))
            b = len(remaining) - 1
        else:
            b = fitting[choice]
        remaining[b] -= float(item)
        assignment[i] = b
    return Packing(assignment, len(remaining))


__all__ = [
    "CompiledPriority", "FIT_RTOL", "PROVIDED_NAMES", "Packing", "PriorityCompileError",
    "PriorityError", "candidate_bins", "compile_priority", "engine", "failure_message",
    "load_namespace", "pack", "pack_reference", "priority_signature",
]
