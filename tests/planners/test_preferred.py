"""Preferred operators (helpful actions of h_FF) in lazy GBFS: hand-worked tasks, fewer
expansions where helpful actions matter, and the refusals (plans that unified-planning
accepts: test_builtin_plans_validate.py)."""

from __future__ import annotations

import numpy as np
import pytest
from pddl_tasks import LINE_DOMAIN, LINE_PROBLEM
from typer.testing import CliRunner

from ahd.cli import app
from ahd.planners import ground, read_task
from ahd.planners.api import solve
from ahd.planners.domains import DOMAINS
from ahd.planners.heuristics import load_heuristic
from ahd.planners.heuristics.builtin import evaluate
from ahd.planners.heuristics.relaxed import S_MARK, clear_helpful, mark_helpful, scratch
from ahd.planners.search import greedy_best_first_search
from ahd.planners.state import apply_op


@pytest.fixture
def line(tmp_path):
    (tmp_path / "domain.pddl").write_text(LINE_DOMAIN)
    (tmp_path / "p.pddl").write_text(LINE_PROBLEM)
    return tmp_path


def _helpful(task, bits) -> tuple[float, set[str]]:
    """h_FF of ``bits`` and the names of its helpful actions."""
    S = scratch(task)
    value = evaluate(load_heuristic("hff").hid, bits, task.arrays(), S)
    mark_helpful(bits, task.arrays(), S)
    names = {task.op_name(o) for o in range(task.n_ops) if S[S_MARK][o]}
    clear_helpful(S)
    assert not S[S_MARK].any()
    return value, names


def test_helpful_actions_of_a_hand_worked_task(line):
    """From a: the relaxed plan is move(a,b), take(b), move(b,c), move(c,d) (h_FF = 4); of
    these only move(a,b) is applicable. The light is in no relaxed plan; moving back never."""
    task = ground(read_task(line / "domain.pddl", line / "p.pddl"))
    value, names = _helpful(task, task.init_bits)
    assert value == 4.0
    assert names == {"(move a b)"}
    plan = greedy_best_first_search(task, "hff", lazy=True, preferred=True).plan
    after_one = task.init_bits.copy()
    apply_op(task.init_bits, task.arrays(), plan[0], after_one)
    value, names = _helpful(task, after_one)  # at b: take the key and walk on, both helpful
    assert value == 3.0 and names == {"(take b)", "(move b c)"}


#: One sandwich for two guests, one of them gluten-intolerant: making it plain is a dead end.
#: ``{FIRST}``/``{SECOND}`` put the two ways of making it in either order.
KITCHEN_DOMAIN = """(define (domain kitchen)
  (:requirements :strips)
  (:predicates (notexist ?s) (made ?s) (gluten-free ?s) (fed) (fed-gf))
  {FIRST}
  {SECOND}
  (:action serve :parameters (?s) :precondition (made ?s) :effect (fed))
  (:action serve-gf :parameters (?s) :precondition (and (made ?s) (gluten-free ?s))
    :effect (fed-gf)))
"""
MAKE = """(:action make :parameters (?s) :precondition (notexist ?s)
    :effect (and (made ?s) (not (notexist ?s))))"""
MAKE_GF = """(:action make-gf :parameters (?s) :precondition (notexist ?s)
    :effect (and (made ?s) (gluten-free ?s) (not (notexist ?s))))"""
KITCHEN_PROBLEM = """(define (problem lunch) (:domain kitchen) (:objects s1)
  (:init (notexist s1)) (:goal (and (fed) (fed-gf))))
"""


@pytest.mark.parametrize("order", ["plain first", "gluten-free first"])
def test_a_relaxed_plan_keeps_no_operator_another_one_covers(tmp_path, order):
    """Making the sandwich plain and making it gluten-free tie as supporters of ``made``.
    Whichever the exploration picks, the relaxed plan makes it once, gluten-free (h_FF = 3:
    make-gf, serve, serve-gf), and the plain one, a dead end, is not a helpful action."""
    first, second = (MAKE, MAKE_GF) if order == "plain first" else (MAKE_GF, MAKE)
    (tmp_path / "d.pddl").write_text(KITCHEN_DOMAIN.replace("{FIRST}", first)
                                     .replace("{SECOND}", second))
    (tmp_path / "p.pddl").write_text(KITCHEN_PROBLEM)
    task = ground(read_task(tmp_path / "d.pddl", tmp_path / "p.pddl"))
    assert _helpful(task, task.init_bits) == (3.0, {"(make-gf s1)"})
    plan = greedy_best_first_search(task, "hff", lazy=True, preferred=True).plan
    assert [task.op_name(o) for o in plan][0] == "(make-gf s1)"


def test_preferred_operators_cut_expansions_on_blocksworld(tmp_path):
    spec = DOMAINS["blocksworld"]
    domain, problem = tmp_path / "d.pddl", tmp_path / "p.pddl"
    domain.write_text(spec.domain)
    problem.write_text(spec.generate(12, np.random.default_rng(7)))
    plain = solve(domain, problem, "hff", time_limit=60, lazy=True)
    pref = solve(domain, problem, "hff", time_limit=60, lazy=True, preferred=True)
    assert plain.status == pref.status == "solved"
    assert pref.expanded * 5 < plain.expanded  # 127 against 3,970 when written


def test_preferred_operators_are_refused_where_they_do_not_exist(line):
    task = ground(read_task(line / "domain.pddl", line / "p.pddl"))
    for kw in ({"heuristic": "hff", "lazy": False}, {"heuristic": "hadd", "lazy": True}):
        with pytest.raises(ValueError, match="preferred operators need lazy"):
            greedy_best_first_search(task, preferred=True, **kw)
    with pytest.raises(ValueError, match="lazy GBFS"):
        solve(line / "domain.pddl", line / "p.pddl", "hff", preferred=True)
    runner = CliRunner()
    args = ["plan", str(line / "domain.pddl"), str(line / "p.pddl"), "--preferred"]
    result = runner.invoke(app, args)
    assert result.exit_code != 0 and "--preferred needs --lazy" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, [*args, "--lazy"])
    assert result.exit_code == 0 and result.output.startswith("solved  cost 4"), result.output


TRAYS_DOMAIN = """(define (domain trays) (:requirements :strips)
  (:predicates (notexist ?s) (made ?s) (ontray ?s ?t) (home ?c ?t) (fed ?c))
  (:action make :parameters (?s) :precondition (notexist ?s)
    :effect (and (made ?s) (not (notexist ?s))))
  (:action put :parameters (?s ?t) :precondition (made ?s) :effect (ontray ?s ?t))
  (:action serve :parameters (?s ?c ?t) :precondition (and (ontray ?s ?t) (home ?c ?t))
    :effect (and (fed ?c) (not (ontray ?s ?t)))))
"""


@pytest.mark.parametrize("objects", ["s1 s2 s3 t1 t2 t3 c1 c2 c3", "t3 t2 t1 c3 c2 c1 s3 s2 s1"])
def test_a_relaxed_plan_serves_every_goal_with_the_same_object_where_it_can(tmp_path, objects):
    """Three children, each at the table of one tray, and three sandwiches to make. Every
    sandwich on every tray costs the same in h_add, so each child's serving has three tied
    supporters. Worked by hand: one sandwich made and put on every tray serves everyone
    (make, 3 puts, 3 serves: h_FF 7); a sandwich per tray (9) is a relaxed plan too, and the one
    first-come supporters gave, with three makes among its helpful actions."""
    (tmp_path / "d.pddl").write_text(TRAYS_DOMAIN)
    (tmp_path / "p.pddl").write_text(
        f"(define (problem lunch) (:domain trays) (:objects {objects}) (:init (notexist s1)"
        " (notexist s2) (notexist s3) (home c1 t1) (home c2 t2) (home c3 t3))"
        " (:goal (and (fed c1) (fed c2) (fed c3))))")
    task = ground(read_task(tmp_path / "d.pddl", tmp_path / "p.pddl"))
    h, helpful = _helpful(task, task.init_bits)
    assert h == 7.0
    assert len([name for name in helpful if name.startswith("(make ")]) == 1
