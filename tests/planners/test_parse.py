"""PDDL reading: what is supported is read exactly, everything else is refused by name."""

import sys

import pytest
from pddl_tasks import ROADS_COST_DOMAIN, read_pddl, with_actions

from ahd.planners import PlanningInputError, read_task
from ahd.planners.lifted import Literal

# Mixed case on purpose: PDDL is case-insensitive and everything comes out lower-cased.
SWITCHES_DOMAIN = """
(define (domain Switches)
  (:requirements :strips :typing :negative-preconditions :equality)
  (:types room - place  place)
  (:constants Hall - room)
  (:predicates (at ?r - room) (lit ?r - room) (door ?a ?b - room) (dark ?r - room))
  (:action walk
    :parameters (?from ?to - room)
    :precondition (and (at ?from) (door ?from ?to) (not (= ?from ?to)))
    :effect (and (at ?to) (not (at ?from))))
  (:action switch-on
    :parameters (?r - room)
    :precondition (and (at ?r) (not (lit ?r)) (not (= ?r hall)) (not (dark ?r)))
    :effect (lit ?r))
  (:action switch-off
    :parameters (?r - room)
    :precondition (and (at ?r) (lit ?r))
    :effect (not (lit ?r))))
"""

SWITCHES_PROBLEM = """
(define (problem Two) (:domain switches)
  (:objects R1 r2 - room)
  (:init (at hall) (door hall r1) (door r1 hall) (door r1 r2) (door r2 r1) (lit hall))
  (:goal (and (lit r2) (not (lit hall)))))
"""


def read(tmp_path, domain, problem=SWITCHES_PROBLEM):
    return read_pddl(tmp_path, domain, problem, ("domain.pddl", "p.pddl"))


def test_reads_typing_constants_equality_and_negation(tmp_path):
    task = read(tmp_path, SWITCHES_DOMAIN)
    assert task.domain_name == "switches" and task.problem_name == "two"
    assert task.objects == {"hall": ("room",), "r1": ("room",), "r2": ("room",)}
    assert task.types["room"] == "place" and task.types["place"] == "object"
    assert task.predicates["door"] == ("room", "room")
    on = task.schema("switch-on")
    assert on.params == ("?r",) and on.param_types == (("room",),)
    assert Literal("lit", ("?r",), positive=False) in on.pre
    assert Literal("=", ("?r", "hall"), positive=False) in on.pre
    assert task.schema("switch-off").delete == (Literal("lit", ("?r",), positive=False),)
    assert ("door", "hall", "r1") in task.init
    assert Literal("lit", ("hall",), positive=False) in task.goal
    assert not task.use_costs


def test_syntax_error_names_file_and_line(tmp_path):
    broken = SWITCHES_DOMAIN.rstrip()[:-1]  # drop the last closing parenthesis
    with pytest.raises(PlanningInputError) as err:
        read(tmp_path, broken)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "domain.pddl") + ":")
    assert "syntax error" in message
    line = int(message.split(":")[1])
    assert line >= 10  # the file's end, where the parenthesis is missing


def test_parser_leaves_tracebacklimit_alone(tmp_path):
    before = getattr(sys, "tracebacklimit", None)
    with pytest.raises(PlanningInputError):
        read(tmp_path, "(define (domain")
    assert getattr(sys, "tracebacklimit", None) == before


UNSUPPORTED = {
    "conditional effects (when)": (
        ":conditional-effects", "(when (lit ?r) (dark ?r))"),
    "universal effects (forall)": (
        ":conditional-effects", "(forall (?x - room) (not (lit ?x)))"),
    "disjunctive conditions (or)": (
        ":disjunctive-preconditions", None),
    "existential conditions (exists)": (
        ":existential-preconditions", None),
    "numeric effect": (":numeric-fluents", "(increase (fuel) 1)"),
}

PRECONDITIONS = {
    "disjunctive conditions (or)": "(or (lit ?r) (dark ?r))",
    "existential conditions (exists)": "(exists (?x - room) (lit ?x))",
}


@pytest.mark.parametrize("construct", sorted(UNSUPPORTED))
def test_unsupported_construct_is_named(tmp_path, construct):
    requirement, effect = UNSUPPORTED[construct]
    precondition = PRECONDITIONS.get(construct, "(at ?r)")
    domain = f"""
    (define (domain switches)
      (:requirements :strips :typing {requirement})
      (:types room)
      (:predicates (at ?r - room) (lit ?r - room) (dark ?r - room))
      {"(:functions (fuel) - number)" if "numeric" in requirement else ""}
      (:action act :parameters (?r - room)
        :precondition {precondition}
        :effect {effect or "(lit ?r)"}))
    """
    problem = """(define (problem p) (:domain switches) (:objects a - room)
                 (:init (at a)) (:goal (lit a)))"""
    with pytest.raises(PlanningInputError) as err:
        read(tmp_path, domain, problem)
    message = str(err.value)
    assert str(tmp_path / "domain.pddl") in message
    assert construct in message
    assert "action 'act'" in message


def test_derived_predicates_refused(tmp_path):
    domain = """
    (define (domain d) (:requirements :strips :derived-predicates)
      (:predicates (p ?x) (q ?x))
      (:derived (q ?x) (p ?x))
      (:action a :parameters (?x) :precondition (q ?x) :effect (not (p ?x))))
    """
    problem = "(define (problem p) (:domain d) (:objects o) (:init (p o)) (:goal (not (p o))))"
    with pytest.raises(PlanningInputError, match="derived predicates"):
        read(tmp_path, domain, problem)


@pytest.mark.parametrize(
    "precondition, expected",
    [
        ("(and (at ?r) (shiny ?r))", "undefined predicate 'shiny'"),
        ("(and (at ?r ?r))", "'at' takes 1 arguments, got 2"),
        ("(and (at ?q))", "unknown variable '?q'"),
    ],
)
def test_checks_the_parser_misses(tmp_path, precondition, expected):
    domain = SWITCHES_DOMAIN.replace("(and (at ?r) (lit ?r))", precondition)
    with pytest.raises(PlanningInputError, match="action 'switch-off'") as err:
        read(tmp_path, domain)
    assert expected in str(err.value)


def test_problem_errors_name_the_problem_file(tmp_path):
    bad_object = SWITCHES_PROBLEM.replace("(lit hall))\n", "(lit hall) (lit r9))\n")
    with pytest.raises(PlanningInputError, match="unknown object 'r9'") as err:
        read(tmp_path, SWITCHES_DOMAIN, bad_object)
    assert str(tmp_path / "p.pddl") in str(err.value)
    other = SWITCHES_PROBLEM.replace("(:domain switches)", "(:domain gripper)")
    with pytest.raises(PlanningInputError, match="problem is for domain 'gripper'"):
        read(tmp_path, SWITCHES_DOMAIN, other)


def test_missing_file(tmp_path):
    with pytest.raises(PlanningInputError, match="cannot read domain file"):
        read_task(tmp_path / "nope.pddl", tmp_path / "nope2.pddl")


# Roads with a second, fixed-cost action.
COST_DOMAIN = with_actions(ROADS_COST_DOMAIN, """(:action teleport :parameters (?a ?b - place)
    :precondition (at ?a)
    :effect (and (not (at ?a)) (at ?b) (increase (total-cost) 10)))""")

COST_PROBLEM = """
(define (problem r) (:domain roads)
  (:objects x y z - place)
  (:init (at x) (road x y) (road y z) (= (length x y) 2) (= (length y z) 3)
         (= (total-cost) 0))
  (:goal (at z))
  (:metric minimize (total-cost)))
"""


def test_action_costs_under_a_metric(tmp_path):
    task = read(tmp_path, COST_DOMAIN, COST_PROBLEM)
    assert task.use_costs
    assert task.functions[("length", "x", "y")] == 2.0
    drive = task.schema("drive")
    assert drive.cost.function == "length" and drive.cost.args == ("?a", "?b")
    assert task.action_cost(drive, {"?a": "y", "?b": "z"}) == 3.0
    assert task.action_cost(task.schema("teleport"), {}) == 10.0
    unit = read(tmp_path, COST_DOMAIN, COST_PROBLEM.replace("(:metric minimize (total-cost))",
                                                            ""))
    assert not unit.use_costs and unit.action_cost(drive, {}) == 1.0


def test_metric_other_than_total_cost_is_refused(tmp_path):
    problem = COST_PROBLEM.replace("(:metric minimize (total-cost))",
                                   "(:metric maximize (total-cost))")
    with pytest.raises(PlanningInputError, match="only minimize total-cost"):
        read(tmp_path, COST_DOMAIN, problem)
