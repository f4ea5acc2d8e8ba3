"""Whether a heuristic is *direct*: from every non-goal state some successor is strictly lower.

Corrêa, Pereira & Seipp's property-guided synthesis feeds states where a heuristic fails this
back to the model until it holds on sampled states: a direct heuristic lets plain
hill-climbing reach the goal, one step down at a time. This module is the trusted side of
that loop: it samples states of a ground task (along a plan, and by random walks from the
initial state), evaluates the heuristic on each and on all its successors, and reports

- the directness rate: among sampled non-goal states that are not recognisably dead ends,
  the fraction with a successor of strictly lower value;
- dead-end recognition: among sampled states that are provably dead ends (no relaxed plan
  exists, ``h_add`` is infinite), the fraction the heuristic gives an infinite value;
- counterexamples as readable atoms with the successors' values, for a fix-up prompt.

Evaluating every successor costs one heuristic call per (state, applicable operator), so
callers bound the number of states. The work is split at the trust boundary: a sandbox child
runs candidate code only in :func:`probe_values` (plain numbers out), and the parent reaches
the verdict in :func:`report_from_values`, recomputing goals, dead ends and successors itself.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .heuristics import Heuristic, state_function
from .lifted import Atom
from .state import applicable_ops, apply_op, is_goal
from .task import Task

__all__ = ["Counterexample", "DirectnessReport", "ProbeError", "check_directness", "probe_states",
           "probe_values", "report_from_values", "sample_states"]

StateFn = Callable[[np.ndarray], float]


@dataclass(frozen=True)
class Counterexample:
    """A non-goal state with no strictly lower successor."""

    atoms: tuple[Atom, ...]
    value: float
    successors: tuple[tuple[str, float], ...]  # (operator, value), lowest first

    def text(self, max_atoms: int = 40, max_successors: int = 8) -> str:
        """Readable form: the state's atoms and what each successor scores."""
        shown = " ".join("(" + " ".join(a) + ")" for a in self.atoms[:max_atoms])
        more = len(self.atoms) - max_atoms
        succ = ", ".join(f"{op} -> {_fmt(v)}" for op, v in self.successors[:max_successors])
        extra = len(self.successors) - max_successors
        return (f"state with h = {_fmt(self.value)}: {shown}"
                + (f" ... ({more} more atoms)" if more > 0 else "")
                + f"\n  successors: {succ or 'none (no applicable operator)'}"
                + (f", ... ({extra} more)" if extra > 0 else ""))


@dataclass(frozen=True)
class DirectnessReport:
    """What :func:`check_directness` found on one task's sampled states."""

    checked: int  # non-goal states that are not provable dead ends
    direct: int  # of those, with a strictly lower successor
    dead_ends: int  # sampled states that are provable dead ends
    recognised: int  # of those, given an infinite value
    counterexamples: tuple[Counterexample, ...] = field(default=())

    @property
    def rate(self) -> float:
        """Directness rate (1.0 when nothing was checked)."""
        return self.direct / self.checked if self.checked else 1.0

    @property
    def dead_end_rate(self) -> float:
        """Fraction of provable dead ends recognised (1.0 when none was sampled)."""
        return self.recognised / self.dead_ends if self.dead_ends else 1.0


def _fmt(v: float) -> str:
    return "inf" if math.isinf(v) else f"{v:g}"


def _successors(task: Task, bits: np.ndarray, buf: np.ndarray) -> list[tuple[int, np.ndarray]]:
    arrays = task.arrays()
    k = applicable_ops(bits, arrays, buf)
    out = []
    for o in buf[:k]:
        nxt = np.empty_like(bits)
        apply_op(bits, arrays, int(o), nxt)
        out.append((int(o), nxt))
    return out


def sample_states(task: Task, rng: np.random.Generator, walks: int = 10, length: int = 20,
                  plan: Sequence[int] = ()) -> list[np.ndarray]:
    """Distinct states: those along ``plan`` (operator ids from the initial state), then the
    states of ``walks`` random walks of up to ``length`` steps from the initial state."""
    buf = np.empty(max(task.n_ops, 1), dtype=np.int32)
    arrays = task.arrays()
    seen: dict[bytes, np.ndarray] = {}
    state = task.init_bits
    seen[state.tobytes()] = state
    for o in plan:
        nxt = np.empty_like(state)
        apply_op(state, arrays, int(o), nxt)
        state = nxt
        seen.setdefault(state.tobytes(), state)
    for _ in range(walks):
        state = task.init_bits
        for _ in range(length):
            k = applicable_ops(state, arrays, buf)
            if k == 0:
                break
            nxt = np.empty_like(state)
            apply_op(state, arrays, int(buf[rng.integers(k)]), nxt)
            state = nxt
            seen.setdefault(state.tobytes(), state)
    return list(seen.values())


def probe_states(task: Task, states: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[bool]]:
    """Trusted side: the non-goal states of ``states`` and whether each is a provable dead end
    (``h_add`` infinite), the form :func:`probe_values` and :func:`report_from_values` take."""
    relaxed = state_function("hadd", task)
    arrays = task.arrays()
    kept = [bits for bits in states if not is_goal(bits, arrays)]
    return kept, [math.isinf(relaxed(bits)) for bits in kept]


def probe_values(h: StateFn, task: Task, states: Sequence[np.ndarray], dead: Sequence[bool],
                 deadline: float = math.inf) -> list[list[float]]:
    """The values a check needs: per state ``[h(s)]`` for a dead end, else ``[h(s), h(s1),
    ...]`` over its successors in :func:`applicable_ops` order. Stops (returning the states
    done) once ``time.perf_counter()`` passes ``deadline`` or the heuristic raises.

    This is what a sandbox child computes with candidate code; the verdict is then reached by
    :func:`report_from_values` in the parent.
    """
    buf = np.empty(max(task.n_ops, 1), dtype=np.int32)
    out: list[list[float]] = []
    try:
        for bits, is_dead in zip(states, dead, strict=True):
            if time.perf_counter() > deadline:
                break
            row = [float(h(bits))]
            if not is_dead:
                row += [float(h(nxt)) for _, nxt in _successors(task, bits, buf)]
            out.append(row)
    except Exception:  # noqa: BLE001 - a failing heuristic ends the probe, not the search
        pass
    return out


class ProbeError(ValueError):
    """Probe values that do not fit the states they claim to score."""


def report_from_values(task: Task, states: Sequence[np.ndarray], dead: Sequence[bool],
                       values: Sequence[Sequence[float]], max_counterexamples: int = 3
                       ) -> DirectnessReport:
    """Trusted side: the report for the first ``len(values)`` states. Successors are
    recomputed here, so a value list of the wrong length raises :class:`ProbeError`."""
    if len(values) > len(states):
        raise ProbeError(f"{len(values)} value lists for {len(states)} states")
    buf = np.empty(max(task.n_ops, 1), dtype=np.int32)
    checked = direct = n_dead = recognised = 0
    examples: list[Counterexample] = []
    for bits, is_dead, row in zip(states, dead, values, strict=False):
        if not row or any(v != v for v in row):  # empty, or NaN
            raise ProbeError("a value list is empty or holds NaN")
        value = row[0]
        if is_dead:
            if len(row) != 1:
                raise ProbeError("a dead end comes with successor values")
            n_dead += 1
            recognised += math.isinf(value) and value > 0
            continue
        succ = _successors(task, bits, buf)
        if len(row) != 1 + len(succ):
            raise ProbeError(f"{len(row) - 1} successor values for {len(succ)} successors")
        checked += 1
        if any(v < value for v in row[1:]):
            direct += 1
        elif len(examples) < max_counterexamples:
            ranked = sorted(zip((o for o, _ in succ), row[1:], strict=True),
                            key=lambda item: item[1])
            examples.append(Counterexample(
                tuple(sorted(task.state_atoms(bits))), value,
                tuple((task.op_name(o), v) for o, v in ranked)))
    return DirectnessReport(checked, direct, n_dead, recognised, tuple(examples))


def check_directness(heuristic: Heuristic | str | StateFn, task: Task,
                     states: Sequence[np.ndarray], max_counterexamples: int = 3
                     ) -> DirectnessReport:
    """Directness and dead-end recognition of ``heuristic`` on ``states`` (see module doc),
    all in this process: :func:`probe_values` then :func:`report_from_values`.

    ``heuristic`` may also be a state function (:func:`state_function`), e.g. one bound
    once and reused over several calls.
    """
    h = heuristic if callable(heuristic) and not isinstance(heuristic, Heuristic) else \
        state_function(heuristic, task)
    kept, dead = probe_states(task, states)
    values = probe_values(h, task, kept, dead)
    return report_from_values(task, kept, dead, values, max_counterexamples)
