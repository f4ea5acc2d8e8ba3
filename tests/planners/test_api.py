"""The public entry points: ``solve``, the plan simulator and IPC plan files, ``ahd plan``."""

import os
import re
import subprocess
import sys

import pytest
from cli_apps import command_app
from pddl_tasks import BLOCKS_DOMAIN, ROADS_COST_DOMAIN, read_pddl, write_pddl
from typer.testing import CliRunner

from ahd.planners import (
    InvalidPlan,
    PlanningInputError,
    PlanResult,
    PythonHeuristic,
    format_plan,
    read_plan,
    read_task,
    simulate,
    solve,
    write_plan,
)
from ahd.planners.cli import register

# c on a, b on the table; goal: a on b on c
BLOCKS_PROBLEM = """
(define (problem sussman) (:domain blocksworld)
  (:objects a b c)
  (:init (arm-empty) (on-table a) (on c a) (clear c) (on-table b) (clear b))
  (:goal (and (on a b) (on b c))))
"""

ROADS_PROBLEM = """
(define (problem r) (:domain roads)
  (:objects x y z - place)
  (:init (at x) (road x y) (road y z) (= (length x y) 2) (= (length y z) 5)
         (= (total-cost) 0))
  (:goal (at z))
  (:metric minimize (total-cost)))
"""

# written without any knowledge of the planner: misplaced blocks + unmet goals
HEURISTIC_FILE = '''
def init(task):
    task.data["below"] = {g[1]: g[2] for g in task.goal if g[0] == "on"}


def h(state, task):
    below = task.data["below"]
    wrong = sum(1 for a in state if a[0] == "on" and below.get(a[1], a[2]) != a[2])
    return len(task.goal - state) + wrong
'''


@pytest.fixture
def blocks(tmp_path):
    return write_pddl(tmp_path, BLOCKS_DOMAIN, BLOCKS_PROBLEM, ("domain.pddl", "problem.pddl"))


def test_solve_returns_a_checked_plan(blocks):
    result = solve(*blocks, heuristic="hff", time_limit=30)
    assert isinstance(result, PlanResult) and result.solved
    assert result.cost == len(result.plan) == simulate(read_task(*blocks), result.plan)
    assert result.plan[0] == "(unstack c a)"
    assert result.heuristic == "hff" and result.unit_cost
    assert result.expanded > 0 and result.generated >= result.expanded
    assert result.evaluated > 0 and result.search_time >= 0 and result.ground_time > 0
    assert result.facts > 0 and result.operators > 0
    assert set(result.to_dict()) >= {"status", "plan", "cost", "expanded", "heuristic"}


def test_solve_eager_and_lazy(blocks):
    for lazy in (False, True):
        result = solve(*blocks, heuristic="hadd", lazy=lazy)
        assert result.solved and simulate(read_task(*blocks), result.plan) == result.cost


def test_python_heuristic_file_through_the_public_api(blocks, tmp_path):
    path = tmp_path / "misplaced.py"
    path.write_text(HEURISTIC_FILE)
    result = solve(*blocks, heuristic=str(path))
    assert result.solved and result.heuristic == "misplaced"
    assert simulate(read_task(*blocks), result.plan) == result.cost


def test_python_heuristic_object(blocks):
    result = solve(*blocks, heuristic=PythonHeuristic(lambda s, t: len(t.goal - s), name="gc"))
    assert result.solved and result.heuristic == "gc"


def test_heuristic_errors_become_status_error(blocks, tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("def h(state, task):\n    return state[0]\n")
    result = solve(*blocks, heuristic=str(path))
    assert result.status == "error" and "TypeError" in result.error and result.plan is None
    unknown = solve(*blocks, heuristic="nonsense")
    assert unknown.status == "error" and "unknown heuristic" in unknown.error


def test_limits_through_solve(blocks):
    assert solve(*blocks, heuristic="blind", max_expansions=1).status == "expansion_limit"
    assert solve(*blocks, time_limit=1e-9).status == "time_limit"


def test_bad_input_raises(tmp_path, blocks):
    bad = tmp_path / "bad.pddl"
    bad.write_text("(define (problem p) (:domain blocksworld) (:objects a) (:init (flying a))"
                   " (:goal (clear a)))")
    with pytest.raises(PlanningInputError, match="undefined predicate 'flying'"):
        solve(blocks[0], bad)


def test_action_costs(tmp_path):
    result = solve(*write_pddl(tmp_path, ROADS_COST_DOMAIN, ROADS_PROBLEM), heuristic="hadd")
    assert result.plan == ["(drive x y)", "(drive y z)"]
    assert result.cost == 7 and not result.unit_cost
    assert format_plan(result.plan, result.cost, result.unit_cost).endswith(
        "; cost = 7 (general cost)\n")


def test_simulate_names_the_failing_step(blocks):
    task = read_task(*blocks)
    good = ["(unstack c a)", "(putdown c)", "(pickup b)", "(stack b c)", "(pickup a)",
            "(stack a b)"]
    assert simulate(task, good) == 6
    cases = [
        (["(unstack c a)", "(pickup b)"], 2, "precondition (arm-empty) does not hold"),
        (["(fly c)"], 1, "unknown action 'fly'"),
        (["(unstack c)"], 1, "takes 2 arguments"),
        (["(unstack c zz)"], 1, "unknown object 'zz'"),
    ]
    for plan, step, message in cases:
        with pytest.raises(InvalidPlan, match=re.escape(message)) as err:
            simulate(task, plan)
        assert err.value.step == step
    with pytest.raises(InvalidPlan, match="goal not reached") as err:
        simulate(task, good[:-1])
    assert err.value.step is None


def test_simulate_checks_types_and_negative_preconditions(tmp_path):
    task = read_pddl(tmp_path, """
    (define (domain s) (:requirements :strips :typing :negative-preconditions :equality)
      (:types room lamp)
      (:predicates (lit ?r - room) (near ?r - room))
      (:action on :parameters (?r - room)
        :precondition (and (not (lit ?r)) (near ?r)) :effect (lit ?r)))""", """
    (define (problem p) (:domain s) (:objects r - room l - lamp)
      (:init (near r)) (:goal (lit r)))""")
    assert simulate(task, ["(on r)"]) == 1
    with pytest.raises(InvalidPlan, match="must be false but holds") as err:
        simulate(task, ["(on r)", "(on r)"])
    assert err.value.step == 2
    with pytest.raises(InvalidPlan, match="not of type room"):
        simulate(task, ["(on l)"])


def test_plan_files_round_trip(tmp_path):
    plan = ["(unstack c a)", "(putdown c)"]
    path = tmp_path / "plan.txt"
    write_plan(path, plan)
    text = path.read_text()
    assert text.splitlines() == ["(unstack c a)", "(putdown c)", "; cost = 2 (unit cost)"]
    assert read_plan(path) == plan


def test_search_is_independent_of_string_hashing(blocks):
    code = ("import sys; from ahd.planners import solve; r = solve(sys.argv[1], sys.argv[2],"
            " heuristic='goalcount'); print(r.expanded, r.evaluated, r.plan)")
    outputs = set()
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code, *map(str, blocks)],
                             capture_output=True, text=True, env=env, check=True)
        outputs.add(out.stdout)
    assert len(outputs) == 1


@pytest.fixture
def cli():
    app = command_app(register)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["plan", *map(str, args)])


def test_cli_solves_and_writes_the_plan(cli, blocks, tmp_path):
    out = tmp_path / "plans" / "sussman.plan"
    result = cli(*blocks, "--heuristic", "hff", "--time", "30s", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("solved  cost 6  expanded")
    lines = out.read_text().splitlines()
    assert lines[-1] == "; cost = 6 (unit cost)" and len(lines) == 7
    assert simulate(read_task(*blocks), read_plan(out)) == 6


def test_cli_lazy_and_python_heuristic(cli, blocks, tmp_path):
    path = tmp_path / "misplaced.py"
    path.write_text(HEURISTIC_FILE)
    result = cli(*blocks, "--heuristic", path, "--lazy")
    assert result.exit_code == 0 and "heuristic misplaced" in result.output


def test_cli_errors(cli, blocks, tmp_path):
    missing = cli(tmp_path / "none.pddl", blocks[1])
    assert missing.exit_code == 2 and "no such file" in missing.output
    assert len(missing.output.strip().splitlines()) == 1
    bad_time = cli(*blocks, "--time", "soon")
    assert bad_time.exit_code == 2 and "invalid duration" in bad_time.output
    broken = tmp_path / "broken.pddl"
    broken.write_text("(define (domain blocksworld")
    syntax = cli(broken, blocks[1])
    assert syntax.exit_code == 2 and str(broken) in syntax.output
    assert len(syntax.output.strip().splitlines()) == 1
    unknown = cli(*blocks, "--heuristic", "nonsense")
    assert unknown.exit_code == 1 and "unknown heuristic" in unknown.output
    limited = cli(*blocks, "--heuristic", "blind", "--max-expansions", "1")
    assert limited.exit_code == 1 and limited.output.startswith("expansion_limit")


@pytest.mark.slow
def test_the_time_limit_does_not_count_numba_compiling_the_search(tmp_path):
    """With an empty numba cache (a fresh install) the first search compiles its kernels for
    seconds; ``--time`` is the task's time, so a 2 s limit still solves a tiny task."""
    domain, problem = write_pddl(tmp_path, BLOCKS_DOMAIN, BLOCKS_PROBLEM)
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-m", "ahd", "plan", str(domain), str(problem),
                           "--heuristic", "hff", "--time", "2s"], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert proc.stdout.startswith("solved")
    assert any(cache.rglob("*.nbc"))  # it did compile: the cache was cold
    search = float(re.search(r"search ([0-9.]+)s", proc.stdout).group(1))
    assert search < 2.0
