"""Evolved heuristics compiled: a rendered genome runs in the search kernel with the values of
its Python rendering, state by state, in every generated domain; an edited module runs as the
Python it is; h_FF terms give preferred operators; too-large tables fall back to Python."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from cli_apps import command_app
from pddl_tasks import TRANSPORT_DOMAIN, TRANSPORT_PROBLEM, read_pddl
from typer.testing import CliRunner

from ahd.planners import greedy_best_first_search, ground
from ahd.planners.cli import register
from ahd.planners.directness import sample_states
from ahd.planners.domains import DOMAINS, write_suite
from ahd.planners.evolve_export import export_heuristic
from ahd.planners.evolve_task import PlanningTask, PlanningTaskConfig
from ahd.planners.features import Feature, analyse, parse_genome, render
from ahd.planners.heuristics import (
    CompiledGenome,
    PythonHeuristic,
    heuristic_from_source,
    load_heuristic,
    state_function,
)
from ahd.planners.heuristics import genome as genome_module
from ahd.planners.heuristics.builtin import GENOME, GOALCOUNT, evaluate
from ahd.planners.heuristics.genome import compiled_genome
from ahd.planners.heuristics.relaxed import S_NPLAN
from ahd.planners.validate import validate_plan


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("genome_suite")
    write_suite(root, sorted(DOMAINS), n_train=4, n_test=1)
    return root


def planning_task(suite: Path, domain: str) -> PlanningTask:
    return PlanningTask(PlanningTaskConfig(domain_dir=suite / domain, n_train=2,
                                           n_validation=2), pool=None)


def same(a: float, b: float) -> bool:
    return a == b or (math.isinf(a) and math.isinf(b))


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_compiled_values_equal_the_python_rendering_on_sampled_states(suite, domain):
    task = planning_task(suite, domain)
    catalogue = task.profile.catalogue
    kinds = {f.kind for f in catalogue.values()}
    assert {"goals", "count", "relaxed"} <= kinds
    genomes = [[(key, 1.5)] for key in catalogue] + [[(k, 0.5) for k in catalogue]]
    checked = 0
    for prep in task.prepared("train"):
        states = sample_states(prep.task, np.random.default_rng(1), walks=6, length=25)
        for terms in genomes:
            source = render(terms, catalogue)
            compiled = heuristic_from_source(source)
            assert isinstance(compiled, CompiledGenome), terms
            python = heuristic_from_source(source, compiled=False).bind(prep.task)
            fast = state_function(compiled, prep.task)
            for bits in states:
                a, b = fast(bits), python(prep.task.state_atoms(bits))
                assert same(a, b), (terms, a, b)
                checked += 1
    assert checked > 100


def test_distances_carriers_and_agents_compile_exactly(tmp_path):
    """Transport on a one-way ring: goal and agent distances in both graph modes, packages
    in trucks, on every state of random walks."""
    lifted = read_pddl(tmp_path, TRANSPORT_DOMAIN, TRANSPORT_PROBLEM)
    task = ground(lifted)
    catalogue = analyse([lifted], task.static_atoms).catalogue
    keys = [k for k, f in catalogue.items() if f.kind in ("goal_dist", "agent_dist")]
    assert len(keys) >= 4
    states = sample_states(task, np.random.default_rng(2), walks=20, length=30)
    for terms in [[(k, 1.0)] for k in keys] + [[(k, 0.25) for k in catalogue]]:
        source = render(terms, catalogue)
        fast = state_function(heuristic_from_source(source), task)
        python = heuristic_from_source(source, compiled=False).bind(task)
        assert [fast(s) for s in states] == [python(task.state_atoms(s)) for s in states]


def test_the_same_search_as_the_python_rendering_and_a_valid_plan(suite):
    task = planning_task(suite, "gripper")
    catalogue = task.profile.catalogue
    source = render([(k, 0.5) for k in catalogue], catalogue)
    prep = task.prepared("train")[-1]
    outs = [greedy_best_first_search(prep.task, heuristic_from_source(source, compiled=c))
            for c in (True, False)]
    assert [o.status for o in outs] == ["solved", "solved"]
    assert outs[0].plan == outs[1].plan and outs[0].expanded == outs[1].expanded
    names = [prep.task.op_name(o) for o in outs[0].plan]
    assert validate_plan(prep.lifted.domain_file, prep.lifted.problem_file, names).valid


def test_only_an_unedited_rendering_compiles(suite, tmp_path):
    catalogue = planning_task(suite, "blocksworld").profile.catalogue
    source = render([("goals", 1.0), ("chain(on)", 2.0)], catalogue, "Mine")
    terms, features = parse_genome(source)
    assert terms == [("goals", 1.0), ("chain(on)", 2.0)]
    assert [f.key for f in features] == ["goals", "chain(on)"]
    edited = source.replace("def h(state, task):\n    return",
                            "def h(state, task):\n    return 1 +")
    assert edited != source and parse_genome(edited) is None
    assert isinstance(heuristic_from_source(edited), PythonHeuristic)
    tag_only = source.replace("2.0]]", "3.0]]", 1)  # the genome line no longer matches the code
    assert parse_genome(tag_only) is None
    path = export_heuristic(source, tmp_path, "blocksworld", ["Run: test"])
    assert path.read_text().startswith("# ---")  # under ahd evolve's export header
    assert isinstance(load_heuristic(str(path)), CompiledGenome)
    assert isinstance(load_heuristic(str(path), compiled=False), PythonHeuristic)


def test_preferred_operators_come_from_h_ff_with_or_without_an_h_ff_term(suite):
    task = planning_task(suite, "ferry")
    catalogue = task.profile.catalogue
    prep = task.prepared("train")[-1]
    for terms in ([("relaxed(hff)", 1.0), ("goals", 0.5)], [("goals", 1.0)]):
        genome = heuristic_from_source(render(terms, catalogue))
        out = greedy_best_first_search(prep.task, genome, lazy=True, preferred=True)
        assert out.status == "solved", terms
        names = [prep.task.op_name(o) for o in out.plan]
        assert validate_plan(prep.lifted.domain_file, prep.lifted.problem_file, names).valid
        # the relaxed plan extracted for helpful actions alone does not change h
        bits, arrays = prep.task.init_bits, prep.task.arrays()
        values = [evaluate(GENOME, bits, arrays, genome.scratch(prep.task, helpful=h))
                  for h in (False, True)]
        assert values[0] == values[1] > 0
    goals = heuristic_from_source(render([("goals", 1.0)], catalogue))
    plain, helpful = goals.scratch(prep.task), goals.scratch(prep.task, helpful=True)
    assert evaluate(GENOME, bits, arrays, helpful) == evaluate(GOALCOUNT, bits, arrays, plain)
    evaluate(GENOME, bits, arrays, plain)
    assert helpful[S_NPLAN][0] > 0 and plain[S_NPLAN][0] == 0  # a relaxed plan only if asked
    python = heuristic_from_source(render([("goals", 1.0)], catalogue), compiled=False)
    with pytest.raises(ValueError, match="preferred operators"):
        greedy_best_first_search(prep.task, python, lazy=True, preferred=True)


def test_ahd_plan_runs_an_exported_genome_with_preferred_operators(suite, tmp_path,
                                                                     monkeypatch):
    task = planning_task(suite, "ferry")
    catalogue = task.profile.catalogue
    genome = export_heuristic(render([("goals", 1.0), ("misplaced(at)", 0.5)], catalogue),
                              tmp_path / "g", "ferry", ["Run: test"])
    python = tmp_path / "python.py"
    python.write_text("def h(state, task):\n    return len(task.goal - state)\n")
    prep = task.prepared("train")[-1]
    app, runner = command_app(register), CliRunner()
    files = [prep.lifted.domain_file, prep.lifted.problem_file]

    def plan(heuristic: Path) -> str:
        result = runner.invoke(app, ["plan", *map(str, files), "--heuristic", str(heuristic),
                                     "--lazy", "--preferred", "--time", "60s"])
        return result.output

    assert plan(genome).startswith("solved")
    refused = plan(python)
    # none of a rendered genome's code runs, so it needs no sandbox child: it is searched in
    # the command's process, as a built-in is (no child start-up in its time)
    import ahd.planners.plan_child as plan_child

    def no_child(*args, **kwargs):
        raise AssertionError("a sandbox child was started")

    monkeypatch.setattr(plan_child, "solve_with_file", no_child)
    assert plan(genome).startswith("solved")
    assert refused.startswith("error") and "runs as Python: preferred operators" in refused
    assert "Traceback" not in refused


def test_distance_tables_over_the_budget_fall_back_to_python(suite, monkeypatch, tmp_path):
    task = planning_task(suite, "miconic")
    catalogue = task.profile.catalogue
    keys = [k for k, f in catalogue.items() if f.kind in ("goal_dist", "agent_dist")]
    assert keys
    source = render([(keys[0], 1.0), ("goals", 1.0)], catalogue)
    prep = task.prepared("train")[-1]
    fast = greedy_best_first_search(prep.task, heuristic_from_source(source))
    monkeypatch.setattr(genome_module, "MAX_DIST_ENTRIES", 0)
    slow = greedy_best_first_search(prep.task, heuristic_from_source(source))
    assert fast.status == slow.status == "solved" and fast.expanded == slow.expanded
    # ahd plan searches a genome file in its own process only compiled: too large, the
    # file's Python runs in a sandbox child (where the budget is the module's default again)
    path = export_heuristic(source, tmp_path, "miconic", ["Run: test"])
    import ahd.planners.heuristics.genome as genome_code

    def no_python(self):
        assert not self.source, "the file's code would run in the command's process"
        raise genome_module.GenomeTooLarge(genome_module.GenomeTooLarge.PREFIX + " 0 entries")

    monkeypatch.setattr(genome_code.CompiledGenome, "as_python", no_python)
    result = CliRunner().invoke(command_app(register), [
        "plan", prep.lifted.domain_file, prep.lifted.problem_file, "--heuristic", str(path)])
    assert result.output.startswith("solved"), result.output


def test_features_that_do_not_fit_the_task_are_an_error_not_a_crash(tmp_path):
    lifted = read_pddl(tmp_path, TRANSPORT_DOMAIN, TRANSPORT_PROBLEM)
    task = ground(lifted)
    catalogue = analyse([lifted], task.static_atoms).catalogue
    good = catalogue["goal_dist(at,road,u)"]
    bad = Feature(good.kind, good.args, tuple(
        (k, (("in", 5, 1),) if k == "carriers" else v) for k, v in good.spec))
    genome = compiled_genome("odd", [(good.key, 1.0)], [bad])
    out = greedy_best_first_search(task, genome)
    assert out.status == "error" and "do not fit this task" in out.error
