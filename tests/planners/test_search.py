"""GBFS with every built-in heuristic, eager and lazy; limits; statuses; growth."""

import time

import pytest
from pddl_tasks import (
    BLOCKS_DOMAIN,
    GRIPPER_DOMAIN,
    GRIPPER_PROBLEM,
    SWITCHES_DOMAIN,
    read_pddl,
)

from ahd.planners import (
    HEURISTICS,
    PythonHeuristic,
    greedy_best_first_search,
    ground,
    simulate,
    warm_up,
)
from ahd.planners.warmup import tiny_task


def blocks_problem(init: list[str], goal: list[str]) -> str:
    """Towers written bottom to top, e.g. ``["abc", "d"]``: c on b on a, a and d on the table."""
    blocks = sorted("".join(init))
    facts = ["(arm-empty)"]
    for tower in init:
        facts.append(f"(on-table {tower[0]})")
        facts += [f"(on {x} {y})" for y, x in zip(tower, tower[1:], strict=False)]
        facts.append(f"(clear {tower[-1]})")
    goals = [f"(on {x} {y})" for tower in goal for y, x in zip(tower, tower[1:], strict=False)]
    goals += [f"(on-table {tower[0]})" for tower in goal]
    return (f"(define (problem bw) (:domain blocksworld) (:objects {' '.join(blocks)})"
            f" (:init {' '.join(facts)}) (:goal (and {' '.join(goals)})))")


# SWITCHES_DOMAIN's negative preconditions (fluent and static) and equality, a negative goal.
SWITCHES_PROBLEM = """
(define (problem s) (:domain switches)
  (:objects r1 r2 r3 - room)
  (:init (at hall) (door hall r1) (door r1 hall) (door r1 r2) (door r2 r1) (door r2 r3)
         (door r3 r2) (dark r3) (lit hall) (lit r3))
  (:goal (and (lit r2) (lit r1) (not (lit hall)) (not (lit r3)) (at r1))))
"""

TASKS = {
    "blocks4": (BLOCKS_DOMAIN, blocks_problem(["abcd"], ["dcba"])),
    "blocks5": (BLOCKS_DOMAIN, blocks_problem(["ace", "bd"], ["edcba"])),
    "blocks6": (BLOCKS_DOMAIN, blocks_problem(["fab", "ced"], ["abcdef"])),
    "gripper": (GRIPPER_DOMAIN, GRIPPER_PROBLEM),
    "switches": (SWITCHES_DOMAIN, SWITCHES_PROBLEM),
}


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    out = {}
    for name, (domain, problem) in TASKS.items():
        d = tmp_path_factory.mktemp(name)
        out[name] = ground(read_pddl(d, domain, problem, ("domain.pddl", "problem.pddl")))
    return out


def check_plan(task, outcome):
    assert outcome.status == "solved", outcome
    names = [task.op_name(o) for o in outcome.plan]
    assert simulate(task, names) == len(names)
    return names


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
@pytest.mark.parametrize("task_name", list(TASKS))
@pytest.mark.parametrize("heuristic", list(HEURISTICS))
def test_builtin_heuristics_solve(tasks, heuristic, task_name, lazy):
    task = tasks[task_name]
    outcome = greedy_best_first_search(task, heuristic, lazy=lazy, time_limit=30)
    check_plan(task, outcome)
    assert outcome.expanded >= 1 and outcome.evaluated >= outcome.expanded
    assert outcome.generated >= outcome.expanded


def test_statistics_of_a_known_search(tasks):
    eager = greedy_best_first_search(tasks["blocks4"], "goalcount")
    lazy = greedy_best_first_search(tasks["blocks4"], "goalcount", lazy=True)
    assert eager.initial_h == lazy.initial_h == 4
    assert eager.best_h == 0 and eager.dead_ends == 0
    # eager evaluates every generated new state; lazy only those taken from the open list
    assert lazy.evaluated <= lazy.generated


def test_tie_breaking_orders_are_deterministic(tasks):
    runs = [greedy_best_first_search(tasks["blocks6"], "goalcount", tie_breaking=t)
            for t in ("fifo", "fifo", "lifo")]
    assert runs[0].plan == runs[1].plan and runs[0].expanded == runs[1].expanded
    check_plan(tasks["blocks6"], runs[2])
    with pytest.raises(ValueError, match="tie_breaking"):
        greedy_best_first_search(tasks["blocks4"], "hff", tie_breaking="random")


def test_growing_the_arrays_changes_nothing(tasks):
    small = greedy_best_first_search(tasks["blocks6"], "blind", initial_capacity=1)
    large = greedy_best_first_search(tasks["blocks6"], "blind", initial_capacity=1 << 16)
    assert small.plan == large.plan and small.expanded == large.expanded > 100
    lazy_small = greedy_best_first_search(tasks["blocks5"], "hff", lazy=True,
                                          initial_capacity=1)
    check_plan(tasks["blocks5"], lazy_small)


def test_python_heuristic_matches_builtin_goalcount(tasks):
    task = tasks["gripper"]

    def h(state, t):
        return len(t.goal - state)

    python = greedy_best_first_search(task, PythonHeuristic(h, name="gc"))
    builtin = greedy_best_first_search(task, "goalcount")
    assert python.plan == builtin.plan
    assert (python.expanded, python.evaluated) == (builtin.expanded, builtin.evaluated)
    lazy = greedy_best_first_search(task, PythonHeuristic(h), lazy=True)
    check_plan(task, lazy)


def test_expansion_limit(tasks):
    outcome = greedy_best_first_search(tasks["blocks6"], "blind", max_expansions=10)
    assert outcome.status == "expansion_limit" and outcome.expanded == 10
    assert outcome.plan is None


def test_time_limit_with_a_slow_heuristic(tasks):
    def slow(state, t):
        time.sleep(0.002)
        return 1

    start = time.monotonic()
    outcome = greedy_best_first_search(tasks["blocks6"], PythonHeuristic(slow), time_limit=0.3)
    assert outcome.status == "time_limit"
    assert time.monotonic() - start < 2.0


def test_time_limit_with_a_compiled_heuristic(tasks):
    outcome = greedy_best_first_search(tasks["blocks6"], "blind", time_limit=1e-9)
    assert outcome.status == "time_limit"


def test_memory_limit(tasks):
    outcome = greedy_best_first_search(tasks["blocks6"], "blind", memory_limit_mb=1)
    assert outcome.status == "memory_limit"


def test_exhausted_open_list_is_unsolvable(tmp_path):
    # (on a a) is relaxed-reachable (stack a a grounds) but no real state has it.
    problem = blocks_problem(["ab", "c"], ["cb"]).replace("(:goal (and", "(:goal (and (on a a)")
    task = ground(read_pddl(tmp_path, BLOCKS_DOMAIN, problem))
    assert task.unsolvable is None
    for lazy in (False, True):
        outcome = greedy_best_first_search(task, "hff", lazy=lazy)
        assert outcome.status == "unsolvable" and outcome.expanded > 10


def test_unreachable_goal_needs_no_search(tmp_path):
    problem = GRIPPER_PROBLEM.replace("(at b4 roomb)", "(carry b4 b4)")
    task = ground(read_pddl(tmp_path, GRIPPER_DOMAIN, problem))
    outcome = greedy_best_first_search(task, "hff")
    assert outcome.status == "unsolvable" and outcome.expanded == 0


def test_dead_end_everywhere_is_unsolvable(tasks):
    outcome = greedy_best_first_search(tasks["blocks4"], PythonHeuristic(
        lambda s, t: float("inf")))
    assert outcome.status == "unsolvable" and outcome.dead_ends == 1


@pytest.mark.parametrize("lazy", [False, True])
def test_failing_heuristic_is_an_error(tasks, lazy):
    calls = []

    def h(state, t):
        calls.append(1)
        if len(calls) > 3:
            raise ZeroDivisionError("boom")
        return 1

    outcome = greedy_best_first_search(tasks["blocks5"], PythonHeuristic(h), lazy=lazy)
    assert outcome.status == "error"
    assert "ZeroDivisionError: boom" in outcome.error
    bad_value = greedy_best_first_search(tasks["blocks5"], PythonHeuristic(lambda s, t: "x"))
    assert bad_value.status == "error" and "must return an int or float" in bad_value.error
    bad_init = PythonHeuristic(lambda s, t: 0, init=lambda t: t.nope)
    failed = greedy_best_first_search(tasks["blocks5"], bad_init)
    assert failed.status == "error" and failed.error.startswith("init raised AttributeError")


def test_goal_already_true(tmp_path):
    task = ground(read_pddl(tmp_path, BLOCKS_DOMAIN, blocks_problem(["ab"], ["ab"])))
    outcome = greedy_best_first_search(task, "hff")
    assert outcome.status == "solved" and outcome.plan == [] and outcome.expanded == 0


def test_warm_up_task_is_solvable():
    warm_up()
    task = ground(tiny_task())
    outcome = greedy_best_first_search(task, "hff")
    assert check_plan(task, outcome) == ["(step p q)", "(step q r)"]
