"""Plan validation with unified-planning: valid plans pass with their cost, and every kind of
broken plan fails with a reason that names the problem and the step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ahd.planners.domains import DOMAINS, read_problem
from ahd.planners.validate import PlanValidator, ValidationResult, parse_plan_lines, validate_plan

# Hand-written plans for pinned generated tasks (the fixtures assert the pins).
BW_PLAN = [
    "(unstack b1 b3)",
    "(put-down b1)",
    "(pick-up b3)",
    "(stack b3 b1)",
    "(pick-up b2)",
    "(stack b2 b3)",
]
GRIPPER_PLAN = [
    "(move room1 room2)",
    "(pick ball1 room2 left)",
    "(pick ball2 room2 right)",
    "(move room2 room1)",
    "(drop ball1 room1 left)",
    "(drop ball2 room1 right)",
    "(move room1 room2)",
    "(pick ball3 room2 left)",
    "(move room2 room1)",
    "(drop ball3 room1 left)",
]


def _task(tmp_path: Path, name: str, size: int, seed: int) -> tuple[Path, Path]:
    ddir = tmp_path / name
    ddir.mkdir(exist_ok=True)
    domain = ddir / "domain.pddl"
    domain.write_text(DOMAINS[name].domain)
    problem = ddir / f"p-{size}-{seed}.pddl"
    problem.write_text(DOMAINS[name].generate(size, np.random.default_rng(seed)))
    return domain, problem


@pytest.fixture(scope="module")
def bw(tmp_path_factory) -> PlanValidator:
    domain, problem = _task(tmp_path_factory.mktemp("bw"), "blocksworld", 3, 7)
    facts = read_problem(problem)
    # The pinned task: b1 on b3, b2 alone; goal tower b2 on b3 on b1.
    assert facts.init == {
        ("handempty",), ("ontable", "b2"), ("clear", "b2"), ("ontable", "b3"),
        ("on", "b1", "b3"), ("clear", "b1"),
    }
    assert set(facts.goal) == {("ontable", "b1"), ("on", "b3", "b1"), ("on", "b2", "b3")}
    return PlanValidator(domain, problem)


@pytest.fixture(scope="module")
def gripper(tmp_path_factory) -> PlanValidator:
    domain, problem = _task(tmp_path_factory.mktemp("gr"), "gripper", 3, 0)
    facts = read_problem(problem)
    assert ("at-robby", "room1") in facts.init
    balls = ("ball1", "ball2", "ball3")
    assert {a for a in facts.init if a[0] == "at"} == {("at", b, "room2") for b in balls}
    assert set(facts.goal) == {("at", b, "room1") for b in balls}
    return PlanValidator(domain, problem)


def test_hand_written_plans_validate(bw, gripper):
    r = bw.validate(BW_PLAN)
    assert r == ValidationResult(True, 6.0, "valid", None) and bool(r)
    r = gripper.validate(GRIPPER_PLAN)
    assert r.valid and r.cost == 10.0


def test_validate_plan_reads_files(tmp_path):
    domain, problem = _task(tmp_path, "blocksworld", 3, 7)
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text("\n".join(BW_PLAN) + "\n; cost = 6 (unit cost)\n")
    for plan in (plan_file, str(plan_file), BW_PLAN, "\n".join(BW_PLAN)):
        r = validate_plan(domain, problem, plan)
        assert r.valid and r.cost == 6.0, plan


def test_comments_case_and_blank_lines_are_ignored(bw):
    plan = ["; found by a planner", "", "(UNSTACK B1 b3)  ; first", "  (Put-Down b1)  ",
            *BW_PLAN[2:], "; cost = 6 (unit cost)"]
    assert bw.validate(plan).valid


def test_dropped_step_is_inapplicable(bw):
    r = bw.validate(BW_PLAN[:1] + BW_PLAN[2:])  # never put b1 down, so b3 cannot be picked up
    assert not r.valid and r.cost is None and r.step == 2
    assert r.reason.startswith("step 2 (pick-up b3) is inapplicable: unsatisfied preconditions")
    assert "handempty" in r.reason


def test_swapped_steps_are_inapplicable(gripper):
    plan = list(GRIPPER_PLAN)
    plan[0], plan[1] = plan[1], plan[0]  # pick before moving to the balls' room
    r = gripper.validate(plan)
    assert not r.valid and r.step == 1
    assert "step 1 (pick ball1 room2 left) is inapplicable" in r.reason
    assert "at-robby(room2)" in r.reason


def test_plan_stopping_short_misses_the_goal(bw, gripper):
    r = bw.validate(BW_PLAN[:-1])
    assert not r.valid and r.step is None
    assert r.reason == "goal not reached after 5 steps: unsatisfied goals [on(b2, b3)]"
    r = gripper.validate(GRIPPER_PLAN[:-3])
    assert r.reason == "goal not reached after 7 steps: unsatisfied goals [at(ball3, room1)]"
    assert not bw.validate([]).valid


def test_unknown_names_arity_and_types_are_reported(bw, gripper):
    r = bw.validate(["(unstack b1 b3)", "(teleport b1)"])
    assert not r.valid and r.step == 2
    assert r.reason == "step 2 (teleport b1): unknown action teleport"
    r = bw.validate(["(unstack b1 b9)"])
    assert r.step == 1 and "unknown object b9" in r.reason
    r = bw.validate(["(unstack b1)"])
    assert "wrong arity, unstack takes 2 arguments, got 1" in r.reason
    r = gripper.validate(["(move room1 ball1)"])
    assert "object ball1 of type ball does not fit parameter to of type room" in r.reason


def test_unreadable_lines_are_reported(bw):
    r = bw.validate(["(unstack b1 b3)", "put-down b1"])
    assert not r.valid and r.step == 2 and "cannot read plan line 'put-down b1'" in r.reason
    r = bw.validate(Path("/nonexistent/plan.txt"))
    assert not r.valid and r.reason.startswith("cannot read plan")


def test_underscore_spelling_of_hyphenated_names_is_accepted(bw):
    """unified-planning's PDDL writer turns '-' into '_'; plans from such output still match."""
    plan = [s.replace("put-down", "put_down").replace("pick-up", "pick_up") for s in BW_PLAN]
    assert bw.validate(plan).valid


def test_action_costs_give_the_metric_value(tmp_path):
    domain = tmp_path / "d.pddl"
    domain.write_text(
        """(define (domain walk) (:requirements :strips :typing :action-costs)
        (:types place)
        (:predicates (at ?p - place) (road ?a ?b - place))
        (:functions (total-cost) - number (len ?a ?b - place) - number)
        (:action go-road :parameters (?a ?b - place) :precondition (and (at ?a) (road ?a ?b))
         :effect (and (at ?b) (not (at ?a)) (increase (total-cost) (len ?a ?b)))))"""
    )
    problem = tmp_path / "p.pddl"
    problem.write_text(
        """(define (problem w) (:domain walk) (:objects a b c - place)
        (:init (at a) (road a b) (road b c) (= (len a b) 3) (= (len b c) 4) (= (total-cost) 0))
        (:goal (at c)) (:metric minimize (total-cost)))"""
    )
    r = validate_plan(domain, problem, ["(go-road a b)", "(go-road b c)"])
    assert r.valid and r.cost == 7.0
    r = validate_plan(domain, problem, ["(go-road a b)", "(go-road b a)"])
    assert not r.valid and r.step == 2 and "undefined value" in r.reason


def test_negative_preconditions_are_checked(tmp_path):
    domain, problem = _task(tmp_path, "ferry", 2, 1)
    plan = DOMAINS["ferry"].reference_plan(problem)
    assert validate_plan(domain, problem, plan).valid
    ferry_at = next(a[1] for a in read_problem(problem).init if a[0] == "at-ferry")
    r = validate_plan(domain, problem, [f"(sail {ferry_at} {ferry_at})", *plan])
    assert not r.valid and r.step == 1 and "precondition can never hold" in r.reason
    car, loc = next(a[1:] for a in read_problem(problem).init if a[0] == "at")
    if loc != ferry_at:  # boarding away from the ferry violates an ordinary precondition
        r = validate_plan(domain, problem, [f"(board {car} {loc})"])
        assert f"unsatisfied preconditions [at-ferry({loc})]" in r.reason


def test_broken_tasks_raise_instead_of_reporting_invalid_plans(tmp_path):
    domain, problem = _task(tmp_path, "gripper", 2, 0)
    broken = tmp_path / "broken.pddl"
    broken.write_text("(define (domain gripper) (:predicates (at ?x)")
    with pytest.raises(ValueError, match="unified-planning cannot read"):
        validate_plan(broken, problem, [])


def test_parse_plan_lines():
    assert parse_plan_lines(["(A b C)", "; x", "(noop)"]) == [("a", ["b", "c"]), ("noop", [])]
    assert parse_plan_lines("(a b)\n(c d)") == [("a", ["b"]), ("c", ["d"])]
    with pytest.raises(ValueError, match="step 2"):
        parse_plan_lines(["(a)", "(b (c))"])
