"""Built-in heuristic values on hand-computed tasks, and the Python heuristic API."""

import math

import pytest
from pddl_tasks import read_pddl

from ahd.planners import (
    HEURISTICS,
    HeuristicError,
    PythonHeuristic,
    evaluate_heuristic,
    ground,
    heuristic_from_source,
    load_heuristic,
)
from ahd.planners.heuristics import api
from ahd.planners.heuristics.base import check_value

# Init {a}. A: a -> b (deleting a), B: b -> c, E: b -> e, C: a -> c (dearer route, only with costs).
# Goal {c, e}. Unit cost: c and e both cost 2 (via b); the relaxed plan {A, B, E} (or
# {A, C, E}) has 3 actions.
CHAIN_DOMAIN = """
(define (domain chain)
  (:requirements :strips :action-costs)
  (:predicates (a) (b) (c) (e))
  (:functions (total-cost) - number)
  (:action A :parameters () :precondition (a)
    :effect (and (b) (not (a)) (increase (total-cost) 2)))
  (:action B :parameters () :precondition (b) :effect (and (c) (increase (total-cost) 1)))
  (:action E :parameters () :precondition (b) :effect (and (e) (increase (total-cost) 3)))
  (:action C :parameters () :precondition (a) :effect (and (c) (increase (total-cost) 7))))
"""

CHAIN_PROBLEM = """
(define (problem chain) (:domain chain)
  (:init (a) (= (total-cost) 0))
  (:goal (and (c) (e)))
  {metric})
"""

# hand-computed values: name -> (unit cost, with action costs)
#   unit:  cost(b)=1, cost(c)=1 via C, cost(e)=2      -> hmax 2, hadd 3, hff |{C, A, E}| = 3
#   costs: cost(b)=2, cost(c)=min(2+1, 7)=3, e=2+3=5  -> hmax 5, hadd 8, hff A+B+E = 6
EXPECTED = {
    "blind": (1, 1),
    "goalcount": (2, 2),
    "hmax": (2, 5),
    "hadd": (3, 8),
    "hff": (3, 6),
}


@pytest.fixture(params=["unit", "costs"])
def chain(request, tmp_path):
    metric = "(:metric minimize (total-cost))" if request.param == "costs" else ""
    problem = CHAIN_PROBLEM.format(metric=metric)
    return request.param, ground(read_pddl(tmp_path, CHAIN_DOMAIN, problem))


def test_registry_lists_the_builtins():
    assert list(HEURISTICS) == ["blind", "goalcount", "hmax", "hadd", "hff"]
    for name, factory in HEURISTICS.items():
        assert factory().name == name and load_heuristic(name).name == name


@pytest.mark.parametrize("name", list(HEURISTICS))
def test_hand_computed_values(chain, name):
    kind, task = chain
    expected = EXPECTED[name][0 if kind == "unit" else 1]
    assert evaluate_heuristic(name, task) == expected


@pytest.mark.parametrize("name", list(HEURISTICS))
def test_zero_at_goal_and_inf_at_dead_ends(chain, name):
    _, task = chain
    assert evaluate_heuristic(name, task, {("b",), ("c",), ("e",)}) == 0
    partial = evaluate_heuristic(name, task, {("c",)})
    assert partial > 0
    dead = evaluate_heuristic(name, task, set())  # nothing true: c, e unreachable
    if name in ("hmax", "hadd", "hff"):
        assert dead == math.inf
    else:
        assert dead < math.inf


def test_python_heuristic_sees_the_documented_task(chain):
    _, task = chain
    seen = {}

    def init(t):
        seen["init_calls"] = seen.get("init_calls", 0) + 1
        t.data["goal"] = t.goal

    def h(state, t):
        seen["state"] = state
        seen["task"] = t
        return len(t.data["goal"] - state)

    value = evaluate_heuristic(PythonHeuristic(h, init), task)
    assert value == 2 and seen["init_calls"] == 1
    assert seen["state"] == frozenset({("a",)})
    t = seen["task"]
    assert t.goal == frozenset({("c",), ("e",)}) and t.init == frozenset({("a",)})
    assert t.is_goal(frozenset({("c",), ("e",)})) and not t.is_goal(t.init)
    assert set(t.actions) == {"a", "b", "c", "e"}
    assert t.actions["b"].precondition == ("(b)",) and t.actions["b"].add_effects == ("(c)",)
    assert {op.name for op in t.operators} == {"(a)", "(b)", "(c)", "(e)"}
    first = next(op for op in t.operators if op.name == "(a)")
    assert first.applicable(t.init) and first.apply(t.init) == {("b",)}
    assert t.facts == frozenset({("a",), ("b",), ("c",), ("e",)})


def test_typed_task_view(tmp_path):
    lifted = read_pddl(tmp_path, """
    (define (domain roads) (:requirements :strips :typing)
      (:types city - place  truck)
      (:predicates (at ?t - truck ?p - place) (road ?a ?b - place))
      (:action drive :parameters (?t - truck ?a ?b - place)
        :precondition (and (at ?t ?a) (road ?a ?b))
        :effect (and (not (at ?t ?a)) (at ?t ?b))))""", """
    (define (problem r) (:domain roads) (:objects x y - city depot - place t - truck)
      (:init (at t x) (road x y) (road y depot)) (:goal (at t depot)))""")
    view = api.heuristic_task(ground(lifted))
    assert view.objects == {"depot": "place", "t": "truck", "x": "city", "y": "city"}
    assert view.types["city"] == "place" and view.types["object"] is None
    assert view.objects_of("place") == ("depot", "x", "y")
    assert view.objects_of("city") == ("x", "y")
    assert view.predicates == {"at": ("truck", "place"), "road": ("place", "place")}
    assert view.static_facts == {("road", "x", "y"), ("road", "y", "depot")}
    assert view.actions["drive"].parameters == (("?t", "truck"), ("?a", "place"),
                                                 ("?b", "place"))
    assert view.init == {("at", "t", "x")}


def test_api_docstring_documents_every_attribute():
    doc = api.__doc__
    view_attrs = [a for a in api.HeuristicTask.__dataclass_fields__ if not a.startswith("_")]
    for attr in [*view_attrs, "operators", "objects_of", "is_goal"]:
        assert f"task.{attr}" in doc, attr
        assert hasattr(api.HeuristicTask, attr) or attr in view_attrs


def test_load_from_file_and_source(tmp_path, chain):
    _, task = chain
    path = tmp_path / "goals.py"
    path.write_text("def init(task):\n    task.data['n'] = len(task.goal)\n\n"
                    "def h(state, task):\n    return task.data['n'] - len(task.goal & state)\n")
    heuristic = load_heuristic(str(path))
    assert isinstance(heuristic, PythonHeuristic) and heuristic.name == "goals"
    assert evaluate_heuristic(heuristic, task) == 2
    from_source = heuristic_from_source(path.read_text(), name="goals")
    assert evaluate_heuristic(from_source, task) == 2


@pytest.mark.parametrize("spec, message", [
    ("hffff", "unknown heuristic 'hffff'"),
    ("missing.py", "no such heuristic file"),
])
def test_load_errors(spec, message):
    with pytest.raises(HeuristicError, match=message):
        load_heuristic(spec)


def test_bad_heuristic_files_name_file_and_line(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def h(state, task):\n    return 1 +\n")
    with pytest.raises(HeuristicError, match="broken.py") as err:
        load_heuristic(str(broken))
    assert "SyntaxError" in str(err.value) and "line 2" in str(err.value)
    no_h = tmp_path / "no_h.py"
    no_h.write_text("def g(state, task):\n    return 0\n")
    with pytest.raises(HeuristicError, match="defines no function h"):
        load_heuristic(str(no_h))


def test_raising_heuristic_reports_its_line(chain):
    _, task = chain
    code = "def h(state, task):\n    x = 1\n    return state['a']\n"
    heuristic = heuristic_from_source(code, filename="mine.py")
    with pytest.raises(HeuristicError) as err:
        evaluate_heuristic(heuristic, task)
    assert "TypeError" in str(err.value) and "mine.py, line 3" in str(err.value)


@pytest.mark.parametrize("value", [None, "3", float("nan"), True, [1]])
def test_non_numbers_are_rejected(value):
    with pytest.raises(HeuristicError):
        check_value(value)


def test_numbers_are_accepted():
    import numpy as np

    assert check_value(3) == 3.0 and check_value(np.int64(2)) == 2.0
    assert check_value(float("inf")) == math.inf and check_value(np.float32(0.5)) == 0.5
