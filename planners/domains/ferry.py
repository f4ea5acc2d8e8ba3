"""Ferry: a one-car ferry shuttles cars between locations.

Semantics match the IPC 2023 learning-track ferry (typed cars and locations; ``sail`` has the
negative precondition ``(not (at-ferry ?to))`` instead of a ``not-eq`` relation), so plans and
heuristics carry over between this module's tasks and the competition's. The ferry can sail
between any two distinct locations and carry any car, so with at least two locations every
task is solvable.
"""

from __future__ import annotations

import os

from ._common import RngLike, as_rng, atom, check_size, read_problem, render_problem, step

NAME = "ferry"
UNIT = "cars"
MIN_SIZE = 1

DOMAIN = """\
;; Ferry: one ferry with room for a single car sails between locations.
;; Written for ahd.planners.domains.
(define (domain ferry)
  (:requirements :strips :typing :negative-preconditions)
  (:types car location)
  (:predicates
    (at-ferry ?l - location)       ; the ferry is docked at ?l
    (at ?c - car ?l - location)    ; car ?c stands at ?l (not aboard)
    (empty-ferry)                  ; no car is aboard
    (on ?c - car))                 ; car ?c is aboard

  (:action sail
    :parameters (?from - location ?to - location)
    :precondition (and (at-ferry ?from) (not (at-ferry ?to)))
    :effect (and (at-ferry ?to) (not (at-ferry ?from))))

  (:action board
    :parameters (?car - car ?loc - location)
    :precondition (and (at ?car ?loc) (at-ferry ?loc) (empty-ferry))
    :effect (and (on ?car) (not (at ?car ?loc)) (not (empty-ferry))))

  (:action debark
    :parameters (?car - car ?loc - location)
    :precondition (and (on ?car) (at-ferry ?loc))
    :effect (and (at ?car ?loc) (empty-ferry) (not (on ?car)))))
"""

DESCRIPTION = (
    "Ferry as in the IPC 2023 learning track (negative precondition on sail); size = number "
    "of cars; 4 + round(5 * cars / 9) locations unless locations= is given."
)


def default_locations(cars: int) -> int:
    """Locations for ``cars`` cars, fitted to the learning track (2 cars: 5, 20 cars: 15)."""
    return 4 + round(5 * cars / 9)


def generate(
    size: int, rng: RngLike, name: str | None = None, locations: int | None = None
) -> str:
    """A ferry task with ``size`` cars, deterministic given ``rng``.

    Parameters
    ----------
    size : int
        Number of cars (>= 1).
    rng : numpy.random.Generator or int
        Source of randomness (an int is used as a seed).
    name : str, optional
        Problem name; defaults to ``ferry-<size>``.
    locations : int, optional
        Number of locations (>= 2); default :func:`default_locations`.

    Returns
    -------
    str
        Problem PDDL text; each car must reach a location other than its start, the ferry
        starts empty at a random location.
    """
    n = check_size(size, MIN_SIZE, UNIT)
    k = check_size(default_locations(n) if locations is None else locations, 2, "locations")
    rng = as_rng(rng)
    locs = [f"loc{i + 1}" for i in range(k)]
    cars = [f"car{i + 1}" for i in range(n)]
    start = rng.integers(0, k, size=n)
    dest = (start + rng.integers(1, k, size=n)) % k
    ferry = int(rng.integers(0, k))
    init = [atom("empty-ferry"), atom("at-ferry", locs[ferry])]
    init += [atom("at", c, locs[s]) for c, s in zip(cars, start, strict=True)]
    goal = [atom("at", c, locs[d]) for c, d in zip(cars, dest, strict=True)]
    return render_problem(
        name or f"{NAME}-{n}",
        NAME,
        [(cars, "car"), (locs, "location")],
        init,
        goal,
        comment=f"cars={n}, locations={k}",
    )


def reference_plan(problem: str | os.PathLike[str]) -> list[str]:
    """A valid plan by domain knowledge: deliver misplaced cars one at a time.

    After each delivery the ferry takes a misplaced car at its current location if there is
    one (saving the empty trip), otherwise it sails to the next misplaced car. At most four
    steps per car.

    Parameters
    ----------
    problem : str or os.PathLike
        Problem PDDL text or path (IPC 2023 ferry files work too).

    Returns
    -------
    list of str
        IPC-format plan lines.
    """
    facts = read_problem(problem)
    ferry = next(a[1] for a in facts.init if a[0] == "at-ferry")
    where = {a[1]: a[2] for a in facts.init if a[0] == "at"}
    goal = {a[1]: a[2] for a in facts.goal if a[0] == "at"}
    plan: list[str] = []

    def sail(to: str) -> None:
        nonlocal ferry
        if to != ferry:
            plan.append(step("sail", ferry, to))
            ferry = to

    aboard = next((a[1] for a in facts.init if a[0] == "on"), None)
    if aboard is not None:
        sail(goal.get(aboard, ferry))
        plan.append(step("debark", aboard, ferry))
        where[aboard] = ferry
    while True:
        todo = sorted(c for c, loc in where.items() if c in goal and goal[c] != loc)
        if not todo:
            break
        car = next((c for c in todo if where[c] == ferry), todo[0])
        sail(where[car])
        plan.append(step("board", car, ferry))
        sail(goal[car])
        plan.append(step("debark", car, ferry))
        where[car] = ferry
    return plan
