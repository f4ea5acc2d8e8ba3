"""Blocksworld, 4-operator version (IPC 2000): pick-up, put-down, stack, unstack.

States are drawn uniformly from all configurations of ``n`` labelled blocks, the distribution
that Slaney and Thiébaux's ``bwstates`` (used for the IPC instances) samples, so training
tasks are not biased towards, e.g., tall towers. Every pair of configurations is connected
(unstack everything onto the table, then build), hence every generated task is solvable.

Note that the IPC 2023 learning-track blocksworld names its operators ``pickup``/``putdown``
and the hand predicate ``arm-empty``; this module keeps the classic hyphenated names, which
also exercises name handling in parsers and validators.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ._common import RngLike, as_rng, atom, check_size, read_problem, render_problem, step

NAME = "blocksworld"
UNIT = "blocks"
MIN_SIZE = 2

DOMAIN = """\
;; Blocksworld, 4 operators: a single arm moves one clear block at a time between the table
;; and the tops of towers. Written for ahd.planners.domains.
(define (domain blocksworld)
  (:requirements :strips)
  (:predicates
    (on ?x ?y)        ; block ?x sits directly on block ?y
    (ontable ?x)      ; block ?x sits on the table
    (clear ?x)        ; nothing is on ?x and the arm does not hold it
    (handempty)       ; the arm holds nothing
    (holding ?x))     ; the arm holds ?x

  (:action pick-up
    :parameters (?x)
    :precondition (and (clear ?x) (ontable ?x) (handempty))
    :effect (and (holding ?x)
                 (not (ontable ?x)) (not (clear ?x)) (not (handempty))))

  (:action put-down
    :parameters (?x)
    :precondition (holding ?x)
    :effect (and (ontable ?x) (clear ?x) (handempty)
                 (not (holding ?x))))

  (:action stack
    :parameters (?x ?y)
    :precondition (and (holding ?x) (clear ?y))
    :effect (and (on ?x ?y) (clear ?x) (handempty)
                 (not (holding ?x)) (not (clear ?y))))

  (:action unstack
    :parameters (?x ?y)
    :precondition (and (on ?x ?y) (clear ?x) (handempty))
    :effect (and (holding ?x) (clear ?y)
                 (not (on ?x ?y)) (not (clear ?x)) (not (handempty)))))
"""

DESCRIPTION = (
    "4-operator blocksworld (pick-up/put-down/stack/unstack, handempty); size = number of "
    "blocks; initial and goal configurations uniform over all states, goal fully specified."
)


def _log_lah(n: int, k: int) -> float:
    """log of the Lah number L(n, k): ways to arrange n labelled blocks into k towers."""
    return (
        math.lgamma(n) - math.lgamma(k) - math.lgamma(n - k + 1)  # C(n-1, k-1)
        + math.lgamma(n + 1) - math.lgamma(k + 1)  # n! / k!
    )


def random_state(n: int, rng: np.random.Generator) -> list[list[int]]:
    """A uniformly random configuration of blocks ``0..n-1`` as towers listed bottom to top.

    Why uniform over states: the number of towers ``k`` is drawn with probability
    proportional to the number of states with ``k`` towers (a Lah number); given ``k``, a
    random permutation cut at ``k - 1`` random places yields each ``k``-tower state exactly
    ``k!`` times, so every state is equally likely.
    """
    logw = np.array([_log_lah(n, k) for k in range(1, n + 1)])
    p = np.exp(logw - logw.max())
    p /= p.sum()
    k = int(rng.choice(n, p=p)) + 1
    perm = [int(b) for b in rng.permutation(n)]
    cuts = sorted(int(c) + 1 for c in rng.choice(n - 1, size=k - 1, replace=False)) if k > 1 else []
    bounds = [0, *cuts, n]
    return [perm[bounds[i] : bounds[i + 1]] for i in range(k)]


def _canonical(towers: list[list[int]]) -> frozenset[tuple[int, ...]]:
    return frozenset(tuple(t) for t in towers)


def _state_atoms(towers: list[list[int]], names: list[str], with_clear: bool) -> list[str]:
    atoms: list[str] = []
    for tower in sorted(towers, key=lambda t: t[0]):
        atoms.append(atom("ontable", names[tower[0]]))
        for below, above in zip(tower, tower[1:], strict=False):
            atoms.append(atom("on", names[above], names[below]))
        if with_clear:
            atoms.append(atom("clear", names[tower[-1]]))
    return atoms


def generate(size: int, rng: RngLike, name: str | None = None) -> str:
    """A blocksworld task with ``size`` blocks, deterministic given ``rng``.

    Parameters
    ----------
    size : int
        Number of blocks (>= 2; one block has a single state, so no non-trivial task).
    rng : numpy.random.Generator or int
        Source of randomness (an int is used as a seed).
    name : str, optional
        Problem name; defaults to ``blocksworld-<size>``.

    Returns
    -------
    str
        Problem PDDL text. The goal differs from the initial state and fixes every block's
        position (``on``/``ontable`` for all blocks).
    """
    n = check_size(size, MIN_SIZE, UNIT)
    rng = as_rng(rng)
    names = [f"b{i + 1}" for i in range(n)]
    init = random_state(n, rng)
    goal = random_state(n, rng)
    while _canonical(goal) == _canonical(init):  # n >= 2 has >= 3 states: ends quickly
        goal = random_state(n, rng)
    return render_problem(
        name or f"{NAME}-{n}",
        NAME,
        [(names, None)],
        ["(handempty)", *_state_atoms(init, names, with_clear=True)],
        _state_atoms(goal, names, with_clear=False),
        comment=f"blocks={n}",
    )


def reference_plan(problem: str | os.PathLike[str]) -> list[str]:
    """A valid (not optimal) plan built by domain knowledge: at most 4 steps per block.

    Blocks whose whole tower below already matches the goal stay put; every other block is
    unstacked to the table, then goal towers are built bottom-up. This is the classic
    "put misplaced blocks on the table" strategy, within a factor 2 of optimal.

    Parameters
    ----------
    problem : str or os.PathLike
        Problem PDDL text or path; the initial state must have the hand empty.

    Returns
    -------
    list of str
        IPC-format plan lines such as ``"(unstack b3 b1)"``.
    """
    facts = read_problem(problem)
    if ("handempty",) not in facts.init:
        raise ValueError("reference_plan expects an initial state with (handempty)")
    below: dict[str, str] = {}  # block -> block it is on, or "table"
    for a in facts.init:
        if a[0] == "on":
            below[a[1]] = a[2]
        elif a[0] == "ontable":
            below[a[1]] = "table"
    goal_below: dict[str, str] = {}
    for a in facts.goal:
        if a[0] == "on":
            goal_below[a[1]] = a[2]
        elif a[0] == "ontable":
            goal_below[a[1]] = "table"
    above = {v: k for k, v in below.items() if v != "table"}

    memo: dict[str, bool] = {}

    def placed(b: str) -> bool:
        """In its final position: its support is its goal support (or it has no goal
        support and is on the table) and that support is itself placed."""
        if b not in memo:
            want = goal_below.get(b, "table")
            memo[b] = below[b] == want and (want == "table" or placed(want))
        return memo[b]

    plan: list[str] = []
    # Phase 1: clear every misplaced block onto the table, top of each tower first.
    for bottom in sorted(b for b, s in below.items() if s == "table"):
        tower = [bottom]
        while tower[-1] in above:
            tower.append(above[tower[-1]])
        first_bad = next((i for i, b in enumerate(tower) if not placed(b)), None)
        if first_bad is None:
            continue
        for i in range(len(tower) - 1, max(first_bad, 1) - 1, -1):
            plan.append(step("unstack", tower[i], tower[i - 1]))
            plan.append(step("put-down", tower[i]))
            below[tower[i]] = "table"
    memo.clear()
    # Phase 2: build goal towers bottom-up; every unplaced block is now clear on the table.
    todo = {b for b in goal_below if not placed(b)}
    while todo:
        ready = sorted(b for b in todo if goal_below[b] == "table" or placed(goal_below[b]))
        if not ready:
            raise ValueError("goal configuration is cyclic or inconsistent")
        for b in ready:
            dest = goal_below[b]
            if dest != "table":  # table-goal blocks are already on the table
                plan.append(step("pick-up", b))
                plan.append(step("stack", b, dest))
            below[b] = dest
            memo.clear()
            todo.discard(b)
    return plan
