"""Miconic (IPC 2000, STRIPS version): an elevator serves passengers between floors.

Semantics follow the IPC 2023 learning-track variant, in which boarding deletes the
passenger's ``origin`` so a served passenger cannot board again. ``(above ?f1 ?f2)`` means
``?f2`` is above ``?f1`` and is given for every ordered pair, so the lift can reach any floor
in one move. Every task is solvable: the lift can visit each origin and then each
destination.
"""

from __future__ import annotations

import os
from collections import Counter

from ._common import RngLike, as_rng, atom, check_size, read_problem, render_problem, step

NAME = "miconic"
UNIT = "passengers"
MIN_SIZE = 1

DOMAIN = """\
;; Miconic (STRIPS): one lift moves between floors, boarding passengers at their origin and
;; letting them depart at their destination. Written for ahd.planners.domains.
(define (domain miconic)
  (:requirements :strips :typing)
  (:types passenger floor)
  (:predicates
    (origin ?p - passenger ?f - floor)  ; ?p waits at ?f (deleted once ?p boards)
    (destin ?p - passenger ?f - floor)  ; ?p wants to go to ?f (static)
    (above ?f1 - floor ?f2 - floor)     ; ?f2 is higher than ?f1 (static)
    (boarded ?p - passenger)            ; ?p is in the lift
    (served ?p - passenger)             ; ?p has arrived
    (lift-at ?f - floor))               ; the lift stops at ?f

  (:action board
    :parameters (?f - floor ?p - passenger)
    :precondition (and (lift-at ?f) (origin ?p ?f))
    :effect (and (boarded ?p) (not (origin ?p ?f))))

  (:action depart
    :parameters (?f - floor ?p - passenger)
    :precondition (and (lift-at ?f) (destin ?p ?f) (boarded ?p))
    :effect (and (served ?p) (not (boarded ?p))))

  (:action up
    :parameters (?f1 - floor ?f2 - floor)
    :precondition (and (lift-at ?f1) (above ?f1 ?f2))
    :effect (and (lift-at ?f2) (not (lift-at ?f1))))

  (:action down
    :parameters (?f1 - floor ?f2 - floor)
    :precondition (and (lift-at ?f1) (above ?f2 ?f1))
    :effect (and (lift-at ?f2) (not (lift-at ?f1)))))
"""

DESCRIPTION = (
    "STRIPS miconic elevator (board/depart/up/down); size = number of passengers; "
    "2 * passengers floors (at least 3) unless floors= is given; origin != destination."
)


def generate(size: int, rng: RngLike, name: str | None = None, floors: int | None = None) -> str:
    """A miconic task with ``size`` passengers, deterministic given ``rng``.

    Parameters
    ----------
    size : int
        Number of passengers (>= 1).
    rng : numpy.random.Generator or int
        Source of randomness (an int is used as a seed).
    name : str, optional
        Problem name; defaults to ``miconic-<size>``.
    floors : int, optional
        Number of floors (>= 2); default ``max(3, 2 * size)``, the ratio of the IPC 2023
        learning-track instances.

    Returns
    -------
    str
        Problem PDDL text; ``f1`` is the lowest floor, the lift starts on a random floor.
    """
    n = check_size(size, MIN_SIZE, UNIT)
    k = check_size(max(3, 2 * n) if floors is None else floors, 2, "floors")
    rng = as_rng(rng)
    fl = [f"f{i + 1}" for i in range(k)]
    ps = [f"p{i + 1}" for i in range(n)]
    origin = rng.integers(0, k, size=n)
    destin = (origin + rng.integers(1, k, size=n)) % k  # uniform floor other than the origin
    lift = int(rng.integers(0, k))
    init = [atom("lift-at", fl[lift])]
    for p, o, d in zip(ps, origin, destin, strict=True):
        init += [atom("origin", p, fl[o]), atom("destin", p, fl[d])]
    init += [atom("above", fl[i], fl[j]) for i in range(k) for j in range(i + 1, k)]
    return render_problem(
        name or f"{NAME}-{n}",
        NAME,
        [(ps, "passenger"), (fl, "floor")],
        init,
        [atom("served", p) for p in ps],
        comment=f"passengers={n}, floors={k}",
    )


def reference_plan(problem: str | os.PathLike[str]) -> list[str]:
    """A valid plan by domain knowledge: the classic elevator sweep (SCAN).

    The lift keeps its direction while a waiting passenger or a destination of a boarded
    passenger lies ahead, stopping at the nearest such floor to let passengers depart and
    board, and reverses otherwise. That takes at most two sweeps past the first stop.

    Parameters
    ----------
    problem : str or os.PathLike
        Problem PDDL text or path (floors ordered by ``above`` facts).

    Returns
    -------
    list of str
        IPC-format plan lines.
    """
    facts = read_problem(problem)
    above = {(a[1], a[2]) for a in facts.init if a[0] == "above"}
    below_count = Counter(hi for _, hi in above)  # floors below each floor
    floors = sorted(
        {f for pair in above for f in pair} | {a[1] for a in facts.init if a[0] == "lift-at"},
        key=lambda f: (below_count[f], f),
    )
    level = {f: i for i, f in enumerate(floors)}
    lift = next(a[1] for a in facts.init if a[0] == "lift-at")
    wanted = {a[1] for a in facts.goal if a[0] == "served"}
    waiting = {a[1]: a[2] for a in facts.init if a[0] == "origin" and a[1] in wanted}
    destin = {a[1]: a[2] for a in facts.init if a[0] == "destin"}
    boarded = {a[1] for a in facts.init if a[0] == "boarded"}
    served = {a[1] for a in facts.init if a[0] == "served"}
    waiting = {p: f for p, f in waiting.items() if p not in served and p not in boarded}
    plan: list[str] = []

    def move(src: str, dst: str) -> None:
        """One move when ``above`` is transitive, else floor by floor."""
        up = level[dst] > level[src]
        name, pair = ("up", (src, dst)) if up else ("down", (dst, src))
        if pair in above:
            plan.append(step(name, src, dst))
            return
        path = floors[level[src] : level[dst] + 1] if up else floors[level[dst] : level[src] + 1]
        if not up:
            path = path[::-1]
        for a, b in zip(path, path[1:], strict=False):
            plan.append(step(name, a, b))

    going_up = True
    while True:
        for p in sorted(p for p, f in waiting.items() if f == lift):
            plan.append(step("board", lift, p))
            del waiting[p]
            boarded.add(p)
        for p in sorted(p for p in boarded if destin.get(p) == lift and p in wanted):
            plan.append(step("depart", lift, p))
            boarded.discard(p)
            served.add(p)
        targets = set(waiting.values()) | {destin[p] for p in boarded if p in wanted}
        if not targets:
            break
        ahead = [f for f in targets if (level[f] > level[lift]) == going_up]
        if not ahead:
            going_up = not going_up
            ahead = list(targets)
        nxt = min(ahead, key=lambda f: abs(level[f] - level[lift]))
        move(lift, nxt)
        lift = nxt
    return plan
