"""Grounding: exactly the relaxed-reachable actions, PDDL semantics kept, deterministic."""

import itertools
import os
import subprocess
import sys
import time

import pytest
from pddl_tasks import GRIPPER_DOMAIN, GRIPPER_PROBLEM, SWITCHES_DOMAIN, read_pddl

from ahd.planners import ground
from ahd.planners.errors import SearchTimeout
from ahd.planners.ground import reachable_actions
from ahd.planners.lifted import EQUALITY

ROADS_DOMAIN = """
(define (domain roads)
  (:requirements :strips :typing)
  (:types place truck)
  (:predicates (at ?t - truck ?p - place) (road ?a ?b - place))
  (:action drive :parameters (?t - truck ?a ?b - place)
    :precondition (and (at ?t ?a) (road ?a ?b))
    :effect (and (not (at ?t ?a)) (at ?t ?b))))
"""

# d-e is a separate component: nothing can ever drive there.
ROADS_PROBLEM = """
(define (problem r) (:domain roads)
  (:objects a b c d e - place t1 - truck)
  (:init (at t1 a) (road a b) (road b a) (road b c) (road c b) (road d e) (road e d))
  (:goal (at t1 c)))
"""

# r3 is "dark" (a static fact): switch-on r3 is pruned at grounding.
SWITCHES_PROBLEM = """
(define (problem s) (:domain switches)
  (:objects r1 r2 r3 - room)
  (:init (at hall) (door hall r1) (door r1 hall) (door r1 r2) (door r2 r1) (door r2 r3)
         (door r3 r2) (door r1 r1) (dark r3) (lit hall))
  (:goal (and (lit r2) (not (lit hall)))))
"""


def lifted(tmp_path, domain, problem):
    return read_pddl(tmp_path, domain, problem)


def op_names(task):
    return [task.op_name(o) for o in range(task.n_ops)]


def test_unreachable_actions_are_pruned(tmp_path):
    task = ground(lifted(tmp_path, ROADS_DOMAIN, ROADS_PROBLEM))
    assert sorted(op_names(task)) == [
        "(drive t1 a b)", "(drive t1 b a)", "(drive t1 b c)", "(drive t1 c b)",
    ]
    assert sorted(task.atoms) == [("at", "t1", "a"), ("at", "t1", "b"), ("at", "t1", "c")]
    assert ("road", "d", "e") in task.static_atoms


def test_no_op_moves_are_dropped(tmp_path):
    task = ground(lifted(tmp_path, GRIPPER_DOMAIN, GRIPPER_PROBLEM))
    raw = reachable_actions(task.lifted)
    assert ("move", ("rooma", "rooma")) in raw  # reachable, but adds what it deletes
    names = op_names(task)
    assert "(move rooma rooma)" not in names
    assert sum(n.startswith("(move") for n in names) == 2
    assert sum(n.startswith("(pick") for n in names) == 16
    assert sum(n.startswith("(drop") for n in names) == 16


def test_negative_and_equality_preconditions(tmp_path):
    task = ground(lifted(tmp_path, SWITCHES_DOMAIN, SWITCHES_PROBLEM), relevant_only=False)
    names = op_names(task)
    assert "(switch-on hall)" not in names  # (not (= ?r hall))
    assert "(switch-on r3)" not in names  # (not (dark r3)): static, decided at grounding
    assert "(walk r1 r1)" not in names  # (not (= ?from ?to))
    on_r1 = task.op_facts(names.index("(switch-on r1)"))
    idx = task.fact_index
    assert on_r1["neg"] == [idx[("lit", "r1")]]  # fluent: kept as a negative precondition
    assert on_r1["pre"] == [idx[("at", "r1")]]
    assert ("dark", "r3") in task.static_atoms and ("dark", "r3") not in idx
    assert task.goal.tolist() == [idx[("lit", "r2")]]
    assert task.goal_neg.tolist() == [idx[("lit", "hall")]]


def test_add_wins_over_delete(tmp_path):
    domain = """
    (define (domain t) (:requirements :strips)
      (:predicates (p) (q))
      (:action refresh :parameters () :precondition (q) :effect (and (not (p)) (p) (not (q)))))
    """
    problem = "(define (problem t) (:domain t) (:init (q)) (:goal (p)))"
    task = ground(lifted(tmp_path, domain, problem))
    facts = task.op_facts(0)
    assert [task.atoms[f] for f in facts["add"]] == [("p",)]
    assert [task.atoms[f] for f in facts["del"]] == [("q",)]


def test_unreachable_goal_is_detected(tmp_path):
    problem = ROADS_PROBLEM.replace("(:goal (at t1 c))", "(:goal (at t1 e))")
    task = ground(lifted(tmp_path, ROADS_DOMAIN, problem))
    assert task.unsolvable is not None and "(at t1 e)" in task.unsolvable
    static_goal = ROADS_PROBLEM.replace("(:goal (at t1 c))", "(:goal (road a c))")
    task = ground(lifted(tmp_path, ROADS_DOMAIN, static_goal))
    assert "static goal" in task.unsolvable


def test_deadline_stops_grounding(tmp_path):
    lt = lifted(tmp_path, GRIPPER_DOMAIN, GRIPPER_PROBLEM)
    with pytest.raises(SearchTimeout):
        ground(lt, deadline=time.monotonic() - 1)


def _naive_reachable(lt):
    """Every typed binding of every schema, iterated to a relaxed fixpoint (slow, obvious)."""
    fluent = {lit.predicate for s in lt.schemas for lit in (*s.add, *s.delete)}
    domains = lt.objects_of_type()
    reached = set(lt.init)
    found = set()
    changed = True
    while changed:
        changed = False
        for s in lt.schemas:
            choices = [sorted({o for t in ts for o in domains[t]}) for ts in s.param_types]
            for args in itertools.product(*choices):
                b = dict(zip(s.params, args, strict=True))
                ok = True
                for lit in s.pre:
                    if lit.predicate == EQUALITY:
                        x, y = (b.get(a, a) for a in lit.args)
                        ok = (x == y) == lit.positive
                    elif lit.positive:
                        ok = lit.ground(b) in reached
                    elif lit.predicate not in fluent:
                        ok = lit.ground(b) not in lt.init
                    if not ok:
                        break
                if ok and (s.name, args) not in found:
                    found.add((s.name, args))
                    for lit in s.add:
                        if lit.ground(b) not in reached:
                            reached.add(lit.ground(b))
                            changed = True
    return found


@pytest.mark.parametrize("domain, problem", [
    (ROADS_DOMAIN, ROADS_PROBLEM),
    (GRIPPER_DOMAIN, GRIPPER_PROBLEM),
    (SWITCHES_DOMAIN, SWITCHES_PROBLEM),
])
def test_matches_naive_grounding(tmp_path, domain, problem):
    lt = lifted(tmp_path, domain, problem)
    assert set(reachable_actions(lt)) == _naive_reachable(lt)


def test_numbering_is_deterministic_across_hash_seeds(tmp_path):
    lifted(tmp_path, GRIPPER_DOMAIN, GRIPPER_PROBLEM)
    code = (
        "import sys; from ahd.planners.pddl_io import read_task; "
        "from ahd.planners.ground import ground; "
        "t = ground(read_task(sys.argv[1], sys.argv[2])); "
        "print([t.op_name(o) for o in range(t.n_ops)], t.atoms)"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "d.pddl"), str(tmp_path / "p.pddl")],
            capture_output=True, text=True, env=env, check=True,
        )
        outputs.add(out.stdout)
    assert len(outputs) == 1


# The key opens the door only while the alarm is off. Tripping the alarm adds a fact the goal
# needs false (no help); resetting it deletes one (help), and needs the light, so turning the
# light on helps too. Painting helps nothing.
ALARM_DOMAIN = """
(define (domain alarm)
  (:requirements :strips :negative-preconditions)
  (:constants r1 r2)
  (:predicates (at ?r) (link ?a ?b) (key) (open) (light) (alarm) (painted))
  (:action move :parameters (?a ?b) :precondition (and (at ?a) (link ?a ?b))
    :effect (and (at ?b) (not (at ?a))))
  (:action take-key :parameters () :precondition (at r1) :effect (key))
  (:action open-door :parameters () :precondition (and (key) (at r2) (not (alarm)))
    :effect (open))
  (:action trip :parameters () :precondition (at r2) :effect (alarm))
  (:action light-on :parameters () :precondition (at r1) :effect (light))
  (:action reset :parameters () :precondition (light) :effect (not (alarm)))
  (:action paint :parameters () :precondition (at r1) :effect (painted)))
"""
ALARM_PROBLEM = """
(define (problem a) (:domain alarm)
  (:init (at r1) (link r1 r2) (link r2 r1) (alarm))
  (:goal (open)))
"""


def test_operators_that_cannot_help_the_goal_are_dropped(tmp_path):
    lt = lifted(tmp_path, ALARM_DOMAIN, ALARM_PROBLEM)
    everything = ground(lt, relevant_only=False)
    task = ground(lt)
    assert set(op_names(everything)) - set(op_names(task)) == {"(trip)", "(paint)"}
    assert task.stats["irrelevant_operators"] == 2
    assert task.atoms == everything.atoms  # states keep every fact
    # The plan needs the chain through the negative precondition: light, reset, key, door.
    from ahd.planners.search import greedy_best_first_search
    from ahd.planners.validate import validate_plan

    out = greedy_best_first_search(task, "hff", time_limit=30)
    plan = [task.op_name(o) for o in out.plan]
    assert out.status == "solved" and {"(light-on)", "(reset)", "(open-door)"} <= set(plan)
    assert validate_plan(tmp_path / "d.pddl", tmp_path / "p.pddl", plan).valid
