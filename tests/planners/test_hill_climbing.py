"""Enforced hill-climbing: plans unified-planning accepts, one expansion per step with a direct
heuristic, the GBFS fallback where the climb gets stuck, and ``ahd plan --search``."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ahd.cli import app
from ahd.planners import PythonHeuristic, ground, read_task, simulate
from ahd.planners.api import solve
from ahd.planners.domains import DOMAINS
from ahd.planners.search import enforced_hill_climbing, run_search
from ahd.planners.state import applicable_ops, apply_op, is_goal
from ahd.planners.validate import validate_plan

SIZES = {"blocksworld": 5, "gripper": 3, "miconic": 3, "ferry": 3}

#: a -> b is a trap (nothing leaves b); a -> c -> d reaches the goal.
TRAP_DOMAIN = """(define (domain trap)
  (:requirements :strips)
  (:predicates (at-a) (at-b) (at-c) (at-d))
  (:action ab :parameters () :precondition (at-a) :effect (and (at-b) (not (at-a))))
  (:action ac :parameters () :precondition (at-a) :effect (and (at-c) (not (at-a))))
  (:action cd :parameters () :precondition (at-c) :effect (and (at-d) (not (at-c)))))
"""
TRAP_PROBLEM = "(define (problem p) (:domain trap) (:init (at-a)) (:goal (at-d)))\n"
#: Not direct where it matters: b looks best, and h_add does not see that b is a dead end.
LURE = """def h(state, task):
    if ("at-b",) in state:
        return 0.5
    if ("at-c",) in state:
        return 1.5
    return 0 if ("at-d",) in state else 2
"""


def _files(tmp_path, name: str, size: int):
    spec = DOMAINS[name]
    domain, problem = tmp_path / f"{name}-domain.pddl", tmp_path / f"{name}-p.pddl"
    domain.write_text(spec.domain)
    problem.write_text(spec.generate(size, np.random.default_rng(5)))
    return domain, problem


@pytest.mark.parametrize("name", sorted(SIZES))
def test_ehc_plans_validate_with_unified_planning(tmp_path, name):
    domain, problem = _files(tmp_path, name, SIZES[name])
    result = solve(domain, problem, heuristic="hff", time_limit=60, search="ehc")
    assert result.status == "solved"
    check = validate_plan(domain, problem, result.plan)
    assert check.valid, check.reason
    assert check.cost == pytest.approx(result.cost)


def _perfect(task) -> dict[bytes, float]:
    """h* by backward breadth-first search over the whole (small) state space."""
    arrays, buf = task.arrays(), np.empty(task.n_ops, dtype=np.int32)
    edges: dict[bytes, list[bytes]] = {}
    seen, queue, goals = {task.init_bits.tobytes()}, deque([task.init_bits]), []
    while queue:
        x = queue.popleft()
        if is_goal(x, arrays):
            goals.append(x.tobytes())
        for o in buf[:applicable_ops(x, arrays, buf)]:
            y = np.empty_like(x)
            apply_op(x, arrays, int(o), y)
            edges.setdefault(y.tobytes(), []).append(x.tobytes())
            if y.tobytes() not in seen:
                seen.add(y.tobytes())
                queue.append(y)
    dist = {g: 0.0 for g in goals}
    queue = deque(goals)
    while queue:
        y = queue.popleft()
        for x in edges.get(y, []):
            if x not in dist:
                dist[x] = dist[y] + 1
                queue.append(x)
    return dist


def test_a_direct_heuristic_climbs_one_expansion_per_step(tmp_path):
    domain, problem = _files(tmp_path, "blocksworld", 4)
    task = ground(read_task(domain, problem))
    arrays, buf = task.arrays(), np.empty(task.n_ops, dtype=np.int32)
    by_bits = _perfect(task)
    table = {}  # h* by atoms, the form a Python heuristic sees
    queue, seen = deque([task.init_bits]), {task.init_bits.tobytes()}
    while queue:
        x = queue.popleft()
        table[task.state_atoms(x)] = by_bits[x.tobytes()]
        for o in buf[:applicable_ops(x, arrays, buf)]:
            y = np.empty_like(x)
            apply_op(x, arrays, int(o), y)
            if y.tobytes() not in seen:
                seen.add(y.tobytes())
                queue.append(y)
    out = enforced_hill_climbing(task, PythonHeuristic(lambda state, _: table[state], name="h*"))
    assert out.status == "solved"
    assert len(out.plan) == by_bits[task.init_bits.tobytes()]  # optimal
    assert out.expanded == len(out.plan) and out.extra["ehc_steps"] == len(out.plan)


@pytest.fixture
def trap(tmp_path):
    (tmp_path / "domain.pddl").write_text(TRAP_DOMAIN)
    (tmp_path / "p.pddl").write_text(TRAP_PROBLEM)
    (tmp_path / "lure.py").write_text(LURE)
    return tmp_path


def test_a_stuck_climb_falls_back_to_gbfs(trap):
    # Every operator kept: the lure leads the climb into a dead end no plan needs.
    task = ground(read_task(trap / "domain.pddl", trap / "p.pddl"), relevant_only=False)
    lure = str(trap / "lure.py")
    out = enforced_hill_climbing(task, lure, time_limit=10)
    assert out.status == "solved" and out.extra["ehc_failed"] == 1.0
    assert simulate(task, [task.op_name(o) for o in out.plan]) == 2
    stuck = enforced_hill_climbing(task, lure, time_limit=10, fallback=False)
    assert stuck.status == "unsolvable" and stuck.extra["ehc_failed"] == 1.0
    assert run_search(task, lure, "ehc", time_limit=10).plan == out.plan
    with pytest.raises(ValueError, match="search must be one of"):
        run_search(task, lure, "astar")


def test_ehc_respects_the_expansion_limit(tmp_path):
    domain, problem = _files(tmp_path, "blocksworld", 8)
    task = ground(read_task(domain, problem))
    out = enforced_hill_climbing(task, "goalcount", max_expansions=3, fallback=False)
    assert out.status in ("expansion_limit", "solved") and out.expanded <= 3 + 1


def test_plan_command_takes_search_ehc_and_refuses_bad_combinations(trap):
    runner = CliRunner()
    args = ["plan", str(trap / "domain.pddl"), str(trap / "p.pddl"), "--time", "20"]
    for heuristic in ("hadd", str(trap / "lure.py")):  # built in, and a file in a sandbox
        plan = trap / f"{Path(heuristic).stem}.plan"
        result = runner.invoke(app, [*args, "--search", "ehc", "--heuristic", heuristic,
                                     "--out", str(plan)])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("solved  cost 2")
        assert [line for line in plan.read_text().splitlines()
                if not line.startswith(";")] == ["(ac)", "(cd)"]
    for bad, words in ((["--search", "astar"], "--search must be gbfs or ehc"),
                       (["--search", "ehc", "--lazy"], "--lazy applies to gbfs")):
        result = runner.invoke(app, [*args, *bad])
        assert result.exit_code != 0 and words in result.output
        assert "Traceback" not in result.output
