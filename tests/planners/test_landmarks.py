"""Landmarks and LAMA's search: hand-worked landmarks, orderings and counts, and the refusals
(valid plans from ``ahd:lama`` on generated tasks: test_builtin_plans_validate.py)."""

from __future__ import annotations

import numpy as np
import pytest
from pddl_tasks import LINE_DOMAIN, LINE_PROBLEM
from typer.testing import CliRunner

from ahd.cli import app
from ahd.planners import ground, read_task
from ahd.planners.api import solve
from ahd.planners.competition.ahd_planner import AhdPlanner
from ahd.planners.competition.planner_base import PlannerSpecError
from ahd.planners.domains import DOMAINS
from ahd.planners.heuristics import PythonHeuristic
from ahd.planners.heuristics.landmark_count import landmark_count
from ahd.planners.landmarks import find_landmarks
from ahd.planners.reasonable_orders import mutex_pairs
from ahd.planners.search import greedy_best_first_search
from ahd.planners.state import apply_op

#: Two ways from a to d (through b or through c): only the ends are landmarks.
FORK_PROBLEM = """(define (problem fork) (:domain line)
  (:objects a b c d - place)
  (:init (at a) (link a b) (link b d) (link a c) (link c d))
  (:goal (at d)))
"""


def _task(tmp_path, problem=LINE_PROBLEM):
    (tmp_path / "domain.pddl").write_text(LINE_DOMAIN)
    (tmp_path / "p.pddl").write_text(problem)
    # Every operator kept: the paths below take ``(switch)``, which cannot help the goal.
    return ground(read_task(tmp_path / "domain.pddl", tmp_path / "p.pddl"), relevant_only=False)


#: A parcel goes from the depot to the shop in either of two trucks.
DELIVER_DOMAIN = """(define (domain deliver)
  (:requirements :strips :typing)
  (:types truck place)
  (:constants depot shop - place)
  (:predicates (at ?t - truck ?p - place) (parcel-at ?p - place) (in ?t - truck)
               (delivered))
  (:action load :parameters (?t - truck)
    :precondition (and (at ?t depot) (parcel-at depot))
    :effect (and (in ?t) (not (parcel-at depot))))
  (:action drive :parameters (?t - truck ?p ?q - place)
    :precondition (at ?t ?p) :effect (and (at ?t ?q) (not (at ?t ?p))))
  (:action deliver :parameters (?t - truck)
    :precondition (and (in ?t) (at ?t shop))
    :effect (and (delivered) (not (in ?t)))))
"""
DELIVER_PROBLEM = """(define (problem one) (:domain deliver)
  (:objects t1 t2 - truck)
  (:init (at t1 depot) (at t2 depot) (parcel-at depot))
  (:goal (delivered)))
"""


def _names(task, landmarks, ids):
    return {" | ".join(" ".join(task.atoms[f]) for f in landmarks.facts_of(int(i)))
            for i in ids}


def _orderings(task, lm, pairs):
    return {(next(iter(_names(task, lm, [i]))), next(iter(_names(task, lm, [j]))))
            for i, j in pairs}


def _before(lm):
    return [(i, int(j)) for i in range(lm.n) for j in lm.nec[lm.nec_ptr[i]:lm.nec_ptr[i + 1]]]


def test_landmarks_and_orderings_of_a_hand_worked_task(tmp_path):
    """Reaching d needs c, b (and a, where it starts); the key needs b and the key at b. The
    light is in no plan. Greedy-necessary: a right before b first holds, b before c, c
    before d, and b and the key at b before having the key (its only achiever). Going back
    from c to b does not make b's ordering after a necessary, only greedy: c needs b first."""
    task = _task(tmp_path)
    lm = find_landmarks(task)
    assert _names(task, lm, range(lm.n)) == {"at a", "at b", "at c", "at d", "key-at b",
                                             "have-key"}
    assert _names(task, lm, np.flatnonzero(lm.is_goal)) == {"at d", "have-key"}
    assert _orderings(task, lm, _before(lm)) == {
        ("at a", "at b"), ("at b", "at c"), ("at c", "at d"), ("at b", "have-key"),
        ("key-at b", "have-key")}
    natural = _orderings(task, lm, lm.natural)
    assert ("at b", "at c") in natural and ("at c", "at b") not in natural
    assert ("at a", "have-key") in natural


def test_alternative_routes_are_no_fact_landmarks_but_one_disjunctive(tmp_path):
    """d's two achievers have no precondition in common, but each needs b or c: the
    disjunction, itself reached from a either way."""
    task = _task(tmp_path, FORK_PROBLEM)
    lm = find_landmarks(task)
    assert _names(task, lm, range(lm.n)) == {"at a", "at d", "at b | at c"}
    assert _orderings(task, lm, _before(lm)) == {("at b | at c", "at d"),
                                                 ("at a", "at b | at c")}


def test_disjunctive_landmarks_of_two_trucks(tmp_path):
    """No truck is a landmark, but one of them must hold the parcel and one must be at the
    shop: two disjunctive landmarks, each ordered right before the delivery. The count
    falls by one with each step of either truck's plan."""
    (tmp_path / "domain.pddl").write_text(DELIVER_DOMAIN)
    (tmp_path / "p.pddl").write_text(DELIVER_PROBLEM)
    task = ground(read_task(tmp_path / "domain.pddl", tmp_path / "p.pddl"))
    lm = find_landmarks(task)
    assert _names(task, lm, range(lm.n)) == {
        "delivered", "parcel-at depot", "in t1 | in t2", "at t1 shop | at t2 shop"}
    assert _orderings(task, lm, _before(lm)) == {
        ("in t1 | in t2", "delivered"), ("at t1 shop | at t2 shop", "delivered"),
        ("parcel-at depot", "in t1 | in t2")}
    for truck in ("t1", "t2"):
        path = [f"(load {truck})", f"(drive {truck} depot shop)", f"(deliver {truck})"]
        assert _counts(task, path) == [3.0, 2.0, 1.0, 0.0]
    # Another truck at the shop reaches that landmark too, but the parcel is not in it.
    assert _counts(task, ["(load t1)", "(drive t2 depot shop)"]) == [3.0, 2.0, 1.0]


def _counts(task, path):
    """The landmark count along a path of operator names, each state's reached set from the
    one before (as the search keeps it per node)."""
    lm = find_landmarks(task)
    L = lm.arrays(task)
    ops = {task.op_name(o): o for o in range(task.n_ops)}
    bits, parent = task.init_bits.copy(), L[-1]
    values = []
    for name in [None, *path]:
        if name is not None:
            nxt = bits.copy()
            apply_op(bits, task.arrays(), ops[name], nxt)
            bits = nxt
        reached = np.zeros(lm.n_words, dtype=np.uint64)
        values.append(landmark_count(bits, parent, reached, L))
        parent = reached
    return values


def test_landmark_count_along_hand_worked_paths(tmp_path):
    """From a: b, c, d and the key are still to reach (4). Walking on past b without the key
    leaves b needed again (the key's achiever needs it): 3 at c, not 2."""
    task = _task(tmp_path)
    assert _counts(task, ["(move a b)", "(take b)", "(move b c)", "(move c d)"]) == [
        4.0, 3.0, 2.0, 1.0, 0.0]
    assert _counts(task, ["(move a b)", "(move b c)"]) == [4.0, 3.0, 3.0]
    assert _counts(task, ["(switch)"]) == [4.0, 4.0]


def test_a_reached_goal_made_false_again_is_counted():
    """Three landmarks (facts 0, 1, 2), 0 a goal, 1 necessarily before 2: with 0 and 1
    reached and nothing true, all three count; once 2 is true, only the goal does."""
    no_lists = (np.zeros(4, dtype=np.int64), np.zeros(0, dtype=np.int32))
    L = (np.arange(4, dtype=np.int64), np.array([0, 1, 2], dtype=np.int32),
         np.array([1, 0, 0], dtype=np.uint8),
         np.array([0, 0, 1, 1], dtype=np.int64), np.array([2], dtype=np.int32),
         *no_lists, *no_lists, np.zeros(1, dtype=np.uint64))
    parent = np.array([0b011], dtype=np.uint64)
    reached = np.zeros(1, dtype=np.uint64)
    assert landmark_count(np.zeros(1, dtype=np.uint64), parent, reached, L) == 3.0
    assert landmark_count(np.array([0b100], dtype=np.uint64), parent, reached, L) == 1.0
    assert reached[0] == 0b111


#: Three blocks on the table; the goal is the tower a on b on c.
TOWER_PROBLEM = """(define (problem tower) (:domain blocksworld) (:objects a b c)
  (:init (ontable a) (ontable b) (ontable c) (clear a) (clear b) (clear c) (handempty))
  (:goal (and (on a b) (on b c))))
"""


def test_reasonable_orderings_count_a_goal_reached_too_early(tmp_path):
    """Stacking a on b first is wasted (b must be picked up to go on c): on b c, and holding
    b, are reasonably ordered before on a b, so after (stack a b) the count stays 4 (on a b
    still counts) where (stack b c) brings it to 2. The mutexes behind it come from h^2."""
    (tmp_path / "d.pddl").write_text(DOMAINS["blocksworld"].domain)
    (tmp_path / "p.pddl").write_text(TOWER_PROBLEM)
    task = ground(read_task(tmp_path / "d.pddl", tmp_path / "p.pddl"))
    fact = task.fact_index
    mutex = mutex_pairs(task)
    assert mutex[fact[("holding", "b")], fact[("on", "a", "b")]]
    assert mutex[fact[("holding", "a")], fact[("handempty",)]]
    assert not mutex[fact[("on", "a", "b")], fact[("on", "b", "c")]]
    lm = find_landmarks(task)
    pairs = [(int(lm.reas[k]), j) for j in range(lm.n)
             for k in range(lm.reas_ptr[j], lm.reas_ptr[j + 1])]
    orders = _orderings(task, lm, pairs)
    assert {("on b c", "on a b"), ("holding b", "on a b")} <= orders
    assert not any(later == "on b c" for _, later in orders)
    assert _counts(task, ["(pick-up a)", "(stack a b)"]) == [4.0, 4.0, 4.0]
    assert _counts(task, ["(pick-up b)", "(stack b c)"]) == [4.0, 5.0, 2.0]


def test_lama_search_takes_the_key_first(tmp_path):
    task = _task(tmp_path)
    out = greedy_best_first_search(task, "hff", lazy=True, preferred=True, landmarks=True)
    assert out.status == "solved"
    assert [task.op_name(o) for o in out.plan] == ["(move a b)", "(take b)", "(move b c)",
                                                   "(move c d)"]
    assert out.extra["landmarks"] == 6.0


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_landmarks_beside_another_heuristic(tmp_path, lazy):
    task = _task(tmp_path)
    out = greedy_best_first_search(task, "goalcount", lazy=lazy, landmarks=True,
                                   initial_capacity=2)  # the landmark arrays grow too
    assert out.status == "solved" and len(out.plan) == 4


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_landmarks_beside_a_python_heuristic_as_beside_its_builtin_twin(tmp_path, lazy):
    """A Python goal count alternating with the landmark count searches exactly as the
    built-in goal count does: the count is taken in the kernel either way."""
    spec = DOMAINS["gripper"]
    (tmp_path / "d.pddl").write_text(spec.domain)
    (tmp_path / "p.pddl").write_text(spec.generate(5, np.random.default_rng(2)))
    task = ground(read_task(tmp_path / "d.pddl", tmp_path / "p.pddl"))
    python = greedy_best_first_search(
        task, PythonHeuristic(lambda state, t: len(t.goal - state)), lazy=lazy, landmarks=True)
    builtin = greedy_best_first_search(task, "goalcount", lazy=lazy, landmarks=True)
    assert python.status == "solved" and python.plan == builtin.plan
    assert (python.expanded, python.evaluated) == (builtin.expanded, builtin.evaluated)
    alone = greedy_best_first_search(task, "goalcount", lazy=lazy)
    assert alone.status == "solved" and alone.expanded != builtin.expanded


def test_lama_specs_of_plan_eval(tmp_path):
    planner = AhdPlanner("lama", "ahd:lama", "lama")
    assert (planner.search, planner.config) == ("lama", "hff")
    assert AhdPlanner("x", "ahd:hff:lama", "hff:lama").search == "lama"
    with pytest.raises(PlannerSpecError, match="hff"):
        AhdPlanner("x", "ahd:goalcount:lama", "goalcount:lama")


def test_plan_command_with_landmarks_and_its_refusals(tmp_path):
    _task(tmp_path)
    files = [str(tmp_path / "domain.pddl"), str(tmp_path / "p.pddl")]
    result = CliRunner().invoke(app, ["plan", *files, "--lazy", "--preferred", "--landmarks"])
    assert result.exit_code == 0 and result.output.startswith("solved  cost 4"), result.output
    refused = CliRunner().invoke(app, ["plan", *files, "--search", "ehc", "--landmarks"])
    assert refused.exit_code == 2 and "--landmarks needs" in refused.output
    refused = CliRunner().invoke(app, ["plan", *files, "--search", "ehc", "--seed", "1"])
    assert refused.exit_code == 2 and "--seed shuffles gbfs" in refused.output
    # A heuristic file (in its sandbox child): blind, so the landmark count does the guiding;
    # the seed reaches the child's search.
    (tmp_path / "h.py").write_text("def h(state, task):\n    return 0\n")
    result = CliRunner().invoke(app, ["plan", *files, "--lazy", "--landmarks", "--heuristic",
                                      str(tmp_path / "h.py"), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert any(line.startswith("solved") for line in result.output.splitlines())
    with pytest.raises(ValueError, match="landmark count"):
        solve(*files, search="ehc", landmarks=True)


def test_evolution_can_score_heuristics_beside_the_landmark_count(tmp_path):
    """``--set landmarks=true``: the child searches as ``ahd:FILE.py:lm`` would, with the
    task's landmarks found once by the parent and sent along."""
    from ahd.planners.evolve_child import run_heuristic
    from ahd.planners.evolve_config import PlanningTaskConfig
    from ahd.planners.features import GOALCOUNT_SOURCE

    with pytest.raises(ValueError, match="landmarks go with search gbfs"):
        PlanningTaskConfig(tmp_path, landmarks=True, search="ehc")
    task = _task(tmp_path)
    # (In this process the memory limit is the whole test worker's resident memory, which a
    # long session grows past 1 GiB: a generous one, since memory is not what is tested.)
    request = {"source": GOALCOUNT_SOURCE, "task": task, "time_limit": 30.0,
               "max_expansions": 1000, "memory_mb": 16384.0, "search": "gbfs"}
    plain = run_heuristic(request)
    with_landmarks = run_heuristic({**request, "landmarks": True})
    assert plain["status"] == with_landmarks["status"] == "solved"
    assert "landmarks" in task.__dict__  # found once, kept with the task
    assert with_landmarks["plan"] == ["(move a b)", "(take b)", "(move b c)", "(move c d)"]


def _preferred(task, path):
    """Names of the operators the landmark count prefers after ``path`` (from the initial
    state, each state's reached set from the one before)."""
    from ahd.planners.heuristics.landmark_count import mark_landmark_preferred
    from ahd.planners.state import applicable_ops

    lm = find_landmarks(task)
    L = lm.arrays(task)
    T = task.arrays()
    ops = {task.op_name(o): o for o in range(task.n_ops)}
    bits, parent = task.init_bits.copy(), L[-1]
    for name in [None, *path]:
        if name is not None:
            nxt = bits.copy()
            apply_op(bits, T, ops[name], nxt)
            bits = nxt
        reached = np.zeros(lm.n_words, dtype=np.uint64)
        landmark_count(bits, parent, reached, L)
        parent = reached
    app = np.zeros(task.n_ops, dtype=np.int32)
    k = applicable_ops(bits, T, app)
    mark = np.zeros(task.n_ops, dtype=np.uint8)
    n = mark_landmark_preferred(bits, reached, T, L, app, k, mark)
    marked = {task.op_name(o) for o in np.flatnonzero(mark)}
    assert n == len(marked)
    return marked


def test_landmark_preferred_operators_of_two_trucks(tmp_path):
    """At the start every load and every drive to the shop reaches a landmark still to
    reach; once t1 holds the parcel, either truck's drive to the shop still does (the
    disjunction is not reached), unloading nothing (the parcel's depot landmark is not
    needed again), and delivering from the shop achieves the goal."""
    (tmp_path / "domain.pddl").write_text(DELIVER_DOMAIN)
    (tmp_path / "p.pddl").write_text(DELIVER_PROBLEM)
    task = ground(read_task(tmp_path / "domain.pddl", tmp_path / "p.pddl"))
    assert _preferred(task, []) == {"(load t1)", "(load t2)", "(drive t1 depot shop)",
                                    "(drive t2 depot shop)"}
    assert _preferred(task, ["(load t1)"]) == {"(drive t1 depot shop)",
                                               "(drive t2 depot shop)"}
    assert _preferred(task, ["(load t1)", "(drive t1 depot shop)"]) == {"(deliver t1)"}
