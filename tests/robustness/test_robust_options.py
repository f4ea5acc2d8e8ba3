"""Option values out of range: every command refuses them with one line naming the option (or
the setting) and the problem, exit status 2 and no traceback, before any work starts: no
search, no sandbox worker, no run directory or output file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pddl_tasks import GRIPPER_DOMAIN, GRIPPER_PROBLEM, write_pddl
from robust_cli import Unchanged, assert_refused, invoke

#: id -> (arguments after ``solve --out OUT``, fragment of the error line)
SOLVE = {
    "bks_zero": (["--generate", "5", "--bks", "0"], "--bks must be a positive finite cost"),
    "bks_negative": (["--generate", "5", "--bks", "-3"], "--bks must be a positive"),
    "bks_nan": (["--generate", "5", "--bks", "nan"], "--bks must be a positive finite cost"),
    "seed_negative": (["--generate", "5", "--seed", "-1"], "--seed must be at least 0, got -1"),
    "time_zero": (["--generate", "5", "--time", "0"], "--time: duration must be positive"),
    "time_negative": (["--generate", "5", "--time", "-5"], "--time: duration must be positive"),
    "time_garbage": (["--generate", "5", "--time", "soon"], "--time: invalid duration 'soon'"),
    "generate_zero": (["--generate", "0"], "--generate needs at least 1 customer"),
    "generate_negative": (["--generate", "-3"], "--generate needs at least 1 customer"),
    "generate_too_large_for_memory": (["--generate", "100000000"],
                                      "--generate 100000000 is too large for this machine"),
    "iterations_negative": (["--generate", "5", "--iterations", "-1"],
                            "iterations must be >= 0, got -1"),
    "pipeline_unknown": (["--generate", "5", "--pipeline", "magic"],
                         "unknown pipeline 'magic'"),
    "acceptance_unknown": (["--generate", "5", "--acceptance", "magic"],
                           "acceptance must be one of"),
    "problem_unknown": (["--generate", "5", "--problem", "vrptw"], "unknown problem 'vrptw'"),
}

#: id -> (arguments after ``plan DOMAIN PROBLEM --out OUT``, fragment)
PLAN = {
    "memory_negative": (["--memory", "-1"], "--memory must be a positive number of MiB"),
    "memory_zero": (["--memory", "0"], "--memory must be a positive number of MiB, got 0"),
    "memory_nan": (["--memory", "nan"], "--memory must be a positive number of MiB, got nan"),
    "max_expansions_negative": (["--max-expansions", "-1"],
                                "--max-expansions must be at least 0, got -1"),
    "time_zero": (["--time", "0"], "--time: duration must be positive"),
    "time_negative": (["--time", "-2"], "--time: duration must be positive"),
    "tie_breaking_unknown": (["--tie-breaking", "random"], "--tie-breaking must be fifo or lifo"),
}
#: Heuristics that cannot be used end ``ahd plan`` with status 1 (its documented code for a
#: failing heuristic), but still before the task is parsed.
PLAN_HEURISTIC = {
    "heuristic_unknown": (["--heuristic", "nosuch"], "unknown heuristic 'nosuch'"),
    "heuristic_file_missing": (["--heuristic", "missing.py"],
                               "missing.py: no such heuristic file"),
}

#: id -> (arguments after ``plan-eval SUITE --out OUT``, fragment)
PLAN_EVAL = {
    "time_zero": (["--planner", "ahd:hff", "--time", "0"], "--time: duration must be positive"),
    "grace_negative": (["--planner", "ahd:hff", "--grace", "-1"],
                       "--grace: duration must be positive"),
    "memory_negative": (["--planner", "ahd:hff", "--memory", "-5"],
                        "--memory: invalid memory size '-5'"),
    "memory_zero": (["--planner", "ahd:hff", "--memory", "0"],
                    "--memory: memory size must be positive"),
    "jobs_zero": (["--planner", "ahd:hff", "--jobs", "0"], "--jobs must be at least 1"),
    "no_planner": ([], "give at least one --planner"),
    "planner_unknown": (["--planner", "nosuch:x"], "nosuch"),
    "split_selects_nothing": (["--planner", "ahd:hff", "--split", "nosuch"],
                              "no task matches the given split/domain/task filters"),
}

#: id -> (arguments after ``evolve --out RUN_DIR``, fragment)
EVOLVE = {
    "size_one": (["--size", "1"], "size must be at least"),
    "size_negative": (["--size", "-5"], "--size must be at least 1, got -5"),
    "train_zero": (["--train", "0"], "--train must be at least 1, got 0"),
    "validation_zero": (["--validation", "0"], "--validation must be at least 1, got 0"),
    "max_calls_negative": (["--max-calls", "-1"], "--max-calls must be at least 0, got -1"),
    "max_tokens_negative": (["--max-tokens", "-1"], "--max-tokens must be at least 0, got -1"),
    "max_cost_negative": (["--max-cost", "-1"], "--max-cost must be a finite amount of USD >= 0"),
    "max_cost_nan": (["--max-cost", "nan"], "--max-cost must be a finite amount of USD >= 0, "
                     "got nan"),
    "price_one_amount": (["--price", "1"], "--price must be PROMPT,COMPLETION in USD per "
                         "million tokens"),
    "price_negative": (["--price", "1,-2"], "--price must be PROMPT,COMPLETION"),
    "cost_cap_unpriced": (["--model", "openai/local-model", "--api-base", "http://127.0.0.1:9/v1",
                           "--max-cost", "1"], "litellm has no price for this model"),
    "max_evals_negative": (["--max-evals", "-1"], "--max-evals must be at least 0, got -1"),
    "rounds_negative": (["--rounds", "-1"], "--rounds must be at least 0, got -1"),
    "seed_negative": (["--seed", "-1"], "--seed must be at least 0, got -1"),
    "target_nan": (["--target", "nan"], "--target must be a finite objective value, got nan"),
    "target_infinite": (["--target", "-inf"], "--target must be a finite objective value"),
    "offspring_zero": (["--offspring", "0"], "--offspring must be at least 1, got 0"),
    "pool_size_zero": (["--pool-size", "0"], "--pool-size must be at least 1, got 0"),
    "iterations_zero": (["--iterations", "0"], "--iterations must be at least 1, got 0"),
    "jobs_zero": (["--jobs", "0"], "--jobs must be at least 1, got 0"),
    "concurrency_zero": (["--concurrency", "0"], "--concurrency must be at least 1, got 0"),
    "time_zero": (["--time", "0"], "duration must be positive"),
    "eval_timeout_zero": (["--eval-timeout", "0"], "duration must be positive"),
    "problem_unknown": (["--problem", "nosuch"], "unknown problem 'nosuch'"),
    "setting_unknown": (["--set", "bogus=1"], "unknown setting bogus"),
    "planning_flag_for_routing": (["--expansions", "10"],
                                  "--expansions does not apply to --problem cvrp"),
}


@pytest.mark.parametrize("case", sorted(SOLVE))
def test_solve_refuses_out_of_range_options(tmp_path, case):
    args, fragment = SOLVE[case]
    untouched = Unchanged(tmp_path)
    outcome = invoke(["solve", "--out", tmp_path / "x.sol", *args])
    assert_refused(outcome, 2, fragment)
    assert not outcome.stdout  # nothing solved, nothing printed as a result
    untouched.check()


@pytest.mark.parametrize("case", sorted(PLAN) + sorted(PLAN_HEURISTIC))
def test_plan_refuses_out_of_range_options(tmp_path, case):
    args, fragment = PLAN.get(case) or PLAN_HEURISTIC[case]
    paths = write_pddl(tmp_path, GRIPPER_DOMAIN, GRIPPER_PROBLEM)
    untouched = Unchanged(tmp_path)
    outcome = invoke(["plan", *paths, "--out", tmp_path / "plan.txt", *args])
    assert_refused(outcome, 1 if case in PLAN_HEURISTIC else 2, fragment)
    assert "expanded" not in outcome.stdout
    untouched.check()


def _suite(root: Path) -> Path:
    folder = root / "suite" / "gripper"
    (folder / "testing" / "easy").mkdir(parents=True)
    (folder / "domain.pddl").write_text(GRIPPER_DOMAIN)
    (folder / "testing" / "easy" / "p01.pddl").write_text(GRIPPER_PROBLEM)
    return root / "suite"


@pytest.mark.parametrize("case", sorted(PLAN_EVAL))
def test_plan_eval_refuses_out_of_range_options(tmp_path, case):
    args, fragment = PLAN_EVAL[case]
    suite = _suite(tmp_path)
    untouched = Unchanged(tmp_path)
    outcome = invoke(["plan-eval", suite, "--out", tmp_path / "eval", *args])
    assert_refused(outcome, 2, fragment)
    untouched.check()  # no evaluation folder


@pytest.mark.parametrize("case", sorted(EVOLVE))
def test_evolve_refuses_out_of_range_options_before_starting_workers(tmp_path, case):
    args, fragment = EVOLVE[case]
    untouched = Unchanged(tmp_path)
    outcome = invoke(["evolve", "--out", tmp_path / "run", *args])
    assert_refused(outcome, 2, fragment)
    assert "sandbox worker" not in outcome.stderr  # refused before any worker started
    untouched.check()  # no run directory


def test_evolve_refuses_negative_planning_expansions(tmp_path):
    domain = tmp_path / "domain"
    (domain / "training").mkdir(parents=True)
    (domain / "domain.pddl").write_text(GRIPPER_DOMAIN)
    for name in ("p01.pddl", "p02.pddl"):
        (domain / "training" / name).write_text(GRIPPER_PROBLEM)
    untouched = Unchanged(tmp_path)
    outcome = invoke(["evolve", "--problem", "planning", "--domain", domain, "--expansions",
                      "-1", "--out", tmp_path / "run"])
    assert_refused(outcome, 2, "--expansions must be at least 1, got -1")
    assert "sandbox worker" not in outcome.stderr
    untouched.check()
