"""Gripper (IPC 1998): a two-handed robot carries balls between rooms.

The classic tasks move every ball from one room to the other; here each ball starts in a
random room and must reach a different random room, and the robot starts in a random room,
so seeds give varied tasks while the two-room default keeps the IPC structure. Every room is
reachable from every other in one move and each hand can carry any ball, so every task is
solvable.
"""

from __future__ import annotations

import os

from ._common import RngLike, as_rng, atom, check_size, read_problem, render_problem, step

NAME = "gripper"
UNIT = "balls"
MIN_SIZE = 1

DOMAIN = """\
;; Gripper: a robot with two grippers moves balls between rooms.
;; Written for ahd.planners.domains.
(define (domain gripper)
  (:requirements :strips :typing)
  (:types room ball gripper)
  (:predicates
    (at-robby ?r - room)            ; the robot is in room ?r
    (at ?b - ball ?r - room)        ; ball ?b lies in room ?r
    (free ?g - gripper)             ; gripper ?g holds nothing
    (carry ?b - ball ?g - gripper)) ; gripper ?g holds ball ?b

  (:action move
    :parameters (?from ?to - room)
    :precondition (at-robby ?from)
    :effect (and (at-robby ?to) (not (at-robby ?from))))

  (:action pick
    :parameters (?b - ball ?r - room ?g - gripper)
    :precondition (and (at ?b ?r) (at-robby ?r) (free ?g))
    :effect (and (carry ?b ?g) (not (at ?b ?r)) (not (free ?g))))

  (:action drop
    :parameters (?b - ball ?r - room ?g - gripper)
    :precondition (and (carry ?b ?g) (at-robby ?r))
    :effect (and (at ?b ?r) (free ?g) (not (carry ?b ?g)))))
"""

DESCRIPTION = (
    "Gripper with two grippers (left/right); size = number of balls; balls start in random "
    "rooms and must reach other random rooms (2 rooms unless rooms= is given)."
)


def generate(size: int, rng: RngLike, name: str | None = None, rooms: int = 2) -> str:
    """A gripper task with ``size`` balls, deterministic given ``rng``.

    Parameters
    ----------
    size : int
        Number of balls (>= 1).
    rng : numpy.random.Generator or int
        Source of randomness (an int is used as a seed).
    name : str, optional
        Problem name; defaults to ``gripper-<size>``.
    rooms : int
        Number of rooms (>= 2, so that every ball has somewhere else to go).

    Returns
    -------
    str
        Problem PDDL text; every ball's goal room differs from its start room.
    """
    n = check_size(size, MIN_SIZE, UNIT)
    r = check_size(rooms, 2, "rooms")
    rng = as_rng(rng)
    room_names = [f"room{i + 1}" for i in range(r)]
    balls = [f"ball{i + 1}" for i in range(n)]
    start = rng.integers(0, r, size=n)
    # A uniform room other than the start: shift by 1..r-1 modulo r.
    dest = (start + rng.integers(1, r, size=n)) % r
    robot = int(rng.integers(0, r))
    init = [atom("at-robby", room_names[robot])]
    init += [atom("free", g) for g in ("left", "right")]
    init += [atom("at", b, room_names[s]) for b, s in zip(balls, start, strict=True)]
    goal = [atom("at", b, room_names[d]) for b, d in zip(balls, dest, strict=True)]
    return render_problem(
        name or f"{NAME}-{n}",
        NAME,
        [(room_names, "room"), (balls, "ball"), (["left", "right"], "gripper")],
        init,
        goal,
        comment=f"balls={n}, rooms={r}",
    )


def reference_plan(problem: str | os.PathLike[str]) -> list[str]:
    """A valid plan by domain knowledge: fill both hands, deliver, repeat.

    In each room the robot first drops what belongs there, then picks up misplaced balls
    (preferring ones bound for the same room as a ball it already carries), and moves to the
    goal room of a carried ball, or, with empty hands, to a room that still has misplaced
    balls. With two rooms and all balls in one room this is the optimal ``ceil(n/2)`` trips.

    Parameters
    ----------
    problem : str or os.PathLike
        Problem PDDL text or path.

    Returns
    -------
    list of str
        IPC-format plan lines.
    """
    facts = read_problem(problem)
    robot = next(a[1] for a in facts.init if a[0] == "at-robby")
    where = {a[1]: a[2] for a in facts.init if a[0] == "at"}  # ball -> room (on the floor)
    hands: dict[str, str | None] = {g: None for g in facts.of_type("gripper")}
    hands.update({a[2]: a[1] for a in facts.init if a[0] == "carry"})
    goal = {a[1]: a[2] for a in facts.goal if a[0] == "at"}
    plan: list[str] = []

    def misplaced_here() -> list[str]:
        return sorted(b for b, room in where.items() if room == robot and goal.get(b, room) != room)

    while True:
        for g in sorted(hands):
            b = hands[g]
            if b is not None and goal.get(b, robot) == robot:  # goal-less balls free a hand
                plan.append(step("drop", b, robot, g))
                where[b], hands[g] = robot, None
        carried_goals = {goal[b] for b in hands.values() if b is not None}
        for g in sorted(hands):
            if hands[g] is not None:
                continue
            candidates = misplaced_here()
            if not candidates:
                break
            b = min(candidates, key=lambda x: (goal[x] not in carried_goals, x))
            plan.append(step("pick", b, robot, g))
            del where[b]
            hands[g] = b
            carried_goals.add(goal[b])
        carried = sorted(b for b in hands.values() if b is not None and b in goal)
        if carried:
            target = goal[carried[0]]
        else:
            waiting = sorted(room for b, room in where.items() if goal.get(b, room) != room)
            if not waiting:
                break
            target = waiting[0]
        plan.append(step("move", robot, target))
        robot = target
    return plan
