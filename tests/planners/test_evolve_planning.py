"""Planning in ``ahd evolve``: the task protocol, the features and their proposer, the trust
boundary (hostile heuristics, forged results), the LLM prompts, and a short offline run whose
exported winner ``ahd plan`` accepts. No benchmark files: suites come from ``write_suite``."""

from __future__ import annotations

import json
import math
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from pddl_tasks import TRANSPORT_DOMAIN
from typer.testing import CliRunner

from ahd.candidate import Candidate, Origin
from ahd.cli import app
from ahd.planners import ground, heuristic_from_source, read_task
from ahd.planners.domains import DOMAINS, write_suite
from ahd.planners.evolve_task import (
    WARMUP_SPEC,
    InvalidResult,
    PlanningTask,
    PlanningTaskConfig,
    check_child_result,
    find_tasks,
    fitness,
    split_tasks,
)
from ahd.planners.features import GOALCOUNT_SOURCE, analyse, parse_terms, render
from ahd.planners.heuristics import CompiledGenome, heuristic_task, state_function
from ahd.planners.offline_proposer import PlanningOfflineProposer
from ahd.proposers.base import Parent, ProposalRequest
from ahd.sandbox import SandboxPool, SandboxResult

ROLES = ("heuristic",)


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("suite")
    write_suite(root, sorted(DOMAINS), n_train=8, n_test=1)
    return root


def config(suite: Path, domain: str = "blocksworld", **kw) -> PlanningTaskConfig:
    base = dict(domain_dir=suite / domain, n_train=3, n_validation=3, max_expansions=3000,
                time_limit=1.5, smoke_time=1.0, smoke_expansions=500, sandbox_grace=2.0)
    return PlanningTaskConfig(**{**base, **kw})


def cand(source: str, cid: int = 1) -> Candidate:
    return Candidate(source, ROLES, "planning", origin=Origin("test")).with_id(cid)


# --------------------------------------------------------------------------- pure parts


def test_fitness_counts_unsolved_tasks_first_then_expansions():
    assert fitness([], 4, 20_000) == pytest.approx(4 + math.log1p(20_000) / 100)
    assert fitness([10, 10], 4, 20_000) == pytest.approx(2 + math.log1p(10) / 100)
    # one more solved task beats any number of saved expansions
    assert fitness([20_000, 20_000, 20_000], 4, 20_000) < fitness([1, 1], 4, 20_000)
    assert fitness([5, 5], 2, 100) < fitness([50, 50], 2, 100)


def test_tasks_split_alternately_and_spread_over_sizes(suite):
    domain, files = find_tasks(suite / "blocksworld")
    assert domain.name == "domain.pddl" and [f.stem for f in files][:3] == ["p01", "p02", "p03"]
    split = split_tasks(files, 3, 2)
    assert [f.stem for f in split["train"]] == ["p01", "p05", "p07"]
    assert [f.stem for f in split["validation"]] == ["p02", "p08"]
    assert not set(split["train"]) & set(split["validation"])
    whole = split_tasks(files, 0, 0)
    assert len(whole["train"]) + len(whole["validation"]) == len(files)


def test_largest_split_validates_on_the_largest_tasks(suite):
    _, files = find_tasks(suite / "blocksworld")
    size = {f: f.stat().st_size for f in files}
    split = split_tasks(files, 2, 3, "largest")
    assert len(split["validation"]) == 3 and len(split["train"]) == 2
    assert min(size[f] for f in split["validation"]) >= max(size[f] for f in files
                                                           if f not in split["validation"])
    assert not set(split["train"]) & set(split["validation"])
    half = split_tasks(files, 0, 0, "largest")
    assert len(half["validation"]) == len(files) // 2
    assert len(half["train"]) + len(half["validation"]) == len(files)
    with pytest.raises(ValueError, match="split must be one of"):
        PlanningTaskConfig(suite / "blocksworld", split="biggest")


def test_task_folders_and_config_are_checked(tmp_path, suite):
    with pytest.raises(ValueError, match="no domain.pddl"):
        find_tasks(tmp_path)
    (tmp_path / "domain.pddl").write_text((suite / "ferry" / "domain.pddl").read_text())
    with pytest.raises(ValueError, match="at least two task files"):
        find_tasks(tmp_path)
    for bad in ({"max_expansions": 0}, {"time_limit": 0}, {"n_train": -1}):
        with pytest.raises(ValueError):
            config(suite, **bad)


def test_check_accepts_the_seed_and_explains_bad_code(suite):
    task = PlanningTask(config(suite), pool=None)
    (seed,) = task.seeds()["heuristic"]
    assert task.check(seed.source, ROLES) == []
    assert task.check("import os\ndef h(state, task):\n    return 0\n", ROLES)[0].startswith(
        "line 1: import of 'os'")
    assert "missing entry point" in task.check("def heuristic(state, task):\n    return 0\n",
                                               ROLES)[0]
    assert "needs 2" in task.check("def h(state):\n    return 0\n", ROLES)[0]
    assert "exactly one parameter" in task.check(
        "def init(task, extra):\n    pass\n\ndef h(state, task):\n    return 0\n", ROLES)[0]
    assert task.check(seed.source, ("destroy",))
    ok = ("from ahd.planners.features import relaxed_plan_length\nimport collections\n\n"
          "def h(state, task):\n    return relaxed_plan_length(state, task)\n")
    assert task.check(ok, ROLES) == []


GOOD = {"status": "solved", "plan": ["(pick-up b1)"], "expanded": 3, "evaluated": 9,
        "search_time": 0.1, "error": "", "probe": [[2.0, 1.0, 3.0], [float("inf")]]}


@pytest.mark.parametrize("bad", [
    [], {**GOOD, "cost": 1.0}, {**GOOD, "status": "won"}, {**GOOD, "plan": "(pick-up b1)"},
    {**GOOD, "plan": [1, 2]}, {**GOOD, "expanded": -1}, {**GOOD, "expanded": 2.5},
    {**GOOD, "status": "time_limit"}, {**GOOD, "plan": None}, {**GOOD, "error": None},
    {**GOOD, "search_time": float("nan")}, {**GOOD, "probe": [[1]]},
    {**GOOD, "probe": "[[1.0]]"}, {**GOOD, "probe": [[0.0]] * 1001},
])
def test_child_results_are_checked_strictly(bad):
    assert check_child_result(dict(GOOD)) == GOOD
    with pytest.raises(InvalidResult):
        check_child_result(bad)


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_every_feature_renders_checks_and_evaluates(suite, domain):
    task = PlanningTask(config(suite, domain), pool=None)
    profile = task.profile
    assert "goals" in profile.catalogue and "relaxed(hff)" in profile.catalogue
    prep, small = task.prepared("train")[-1], task.prepared("train")[0]
    for key in profile.catalogue:
        source = render([(key, 1.0)], profile.catalogue)
        assert task.check(source, ROLES) == [], key
        assert parse_terms(source) == [(key, 1.0)]
        python = heuristic_from_source(source, compiled=False)
        value = python.bind(prep.task)(heuristic_task(prep.task).init)
        assert value >= 0 and not math.isnan(value), key
    everything = render([(k, 0.5) for k in profile.catalogue], profile.catalogue)
    from ahd.planners import greedy_best_first_search

    out = greedy_best_first_search(small.task, heuristic_from_source(everything),
                                   max_expansions=5000)
    assert out.status == "solved", out.error


def test_features_read_graphs_agents_and_carriers_off_the_domain(tmp_path):
    problem = """(define (problem t1) (:domain transport)
      (:objects a b c d - location t - vehicle p - package)
      (:init (road a b) (road b a) (road b c) (road c b) (road c d) (road d c)
             (at t a) (at p b))
      (:goal (at p d)))"""
    (tmp_path / "d.pddl").write_text(TRANSPORT_DOMAIN)
    (tmp_path / "p.pddl").write_text(problem)
    lifted = read_task(tmp_path / "d.pddl", tmp_path / "p.pddl")
    task = ground(lifted)
    profile = analyse([lifted], task.static_atoms)
    assert [g.name for g in profile.graphs] == ["road"] and profile.graphs[0].symmetric
    assert profile.agents == {"at": "vehicle"} and profile.carriers == {"at": [("in", 0, 1)]}
    state = frozenset({("at", "t", "c"), ("in", "p", "t")})
    for compiled in (False, True):
        for key, expected in (("goal_dist(at,road,u)", 2), ("agent_dist(at,road,u,min)", 1),
                              ("agent_dist(at,road,u,sum)", 1 + 3)):
            source = render([(key, 1.0)], profile.catalogue)
            h = state_function(heuristic_from_source(source, compiled=compiled), task)
            assert h(task.init_bits) == expected, (key, compiled)
        # the package in the truck at c: one drive to d plus the unload
        source = render([("goal_dist(at,road,u)", 1.0)], profile.catalogue)
        h = state_function(heuristic_from_source(source, compiled=compiled), task)
        assert h(task.pack_atoms(state)) == 2, compiled


def test_offline_proposer_edits_genomes_into_valid_distinct_code(suite):
    task = PlanningTask(config(suite), pool=None)
    proposer = PlanningOfflineProposer(task.profile.catalogue)
    rng = np.random.default_rng(0)
    (seed,) = task.seeds()["heuristic"]
    two = render([("goals", 1.0), ("chain(on)", 0.5)], task.profile.catalogue)
    parents = (Parent(seed.with_id(1)),)
    requests = [ProposalRequest("init", ROLES)] + [
        ProposalRequest(s, ROLES, parents) for s in ("mutate_params", "mutate_logic")
    ] + [ProposalRequest("mutate_params", ROLES, (Parent(cand(two, 2)),)),
         ProposalRequest("crossover", ROLES, (Parent(cand(two, 2)), parents[0]))]
    for _ in range(5):
        for prop in proposer(requests, rng):
            assert prop.source is not None, prop.error
            assert task.check(prop.source, ROLES) == []
            terms = parse_terms(prop.source)
            assert terms and max(w for _, w in terms) == 1.0
            assert prop.source != seed.source
    # a parent that is not a feature sum gets its constants calibrated
    plain = "def h(state, task):\n    return 2.5 * len(task.goal - state)\n"
    (prop,) = proposer([ProposalRequest("mutate_logic", ROLES, (Parent(cand(plain, 3)),))], rng)
    assert prop.source and "2.5" not in prop.source and prop.origin.strategy.endswith("params")


def test_llm_prompts_carry_domain_example_api_and_parent_statistics(suite):
    from ahd.proposers.llm import LLMProposer

    task = PlanningTask(config(suite), pool=None)
    task.stats[(1, "train")] = {"fitness": 1.05, "solved": 2, "n": 3, "mean_expanded": 42.0,
                                "unsolved": ["easy/p07"], "errors": []}
    proposer = LLMProposer(client=None, task=task)
    (seed,) = task.seeds()["heuristic"]
    msgs = proposer.messages(ProposalRequest("mutate_logic", ROLES, (Parent(seed.with_id(1)),)))
    system, user = msgs[0]["content"], msgs[1]["content"]
    assert "greedy best-first search" in system and "numba" not in system
    assert "(define (domain blocksworld)" in user and "smallest training task" in user
    assert "task.static_facts" in user and "relaxed_plan_length" in user
    assert "solved 2/3 training tasks" in user and "easy/p07" in user
    assert "Return the complete module defining `h`" in user
    assert "roulette" not in user
    from ahd.llm import extract_code

    reply = "Here:\n```python\ndef h(state, task):\n    return len(task.goal - state)\n```\n"
    entries = proposer._entry_names(ProposalRequest("init", ROLES))
    assert entries == ["h"] and extract_code(reply, entries).startswith("def h(")


# --------------------------------------------------------------------------- trusted parent


class StubPool:
    """Answers every request with a canned sandbox result (a hostile child's, say)."""

    def __init__(self, result: SandboxResult):
        self.result = result
        self.requests: list = []

    def submit(self, spec, args, limits):
        self.requests.append((spec, args, limits))
        future: Future = Future()
        future.set_result(self.result)
        return future


def _ok(value) -> SandboxResult:
    return SandboxResult("ok", value=value, wall_time=0.1)


def test_parent_verifies_every_plan_it_is_given(suite):
    task = PlanningTask(config(suite), pool=None)
    prep = task.prepared("train")[-1]
    plan = DOMAINS["blocksworld"].reference_plan(prep.lifted.problem_file)
    good = {"status": "solved", "plan": plan, "expanded": 1, "evaluated": 5,
            "search_time": 0.0, "error": "", "probe": None}
    c = task.config
    rec = task._record(prep, _ok(good), c.max_expansions, c.time_limit)
    assert rec.solved and rec.status == "ok" and rec.cost == len(plan)
    assert rec.expanded == len(plan)  # a claim below the plan's length is clamped
    forged = {**good, "plan": plan[:-1]}
    rec = task._record(prep, _ok(forged), c.max_expansions, c.time_limit)
    assert rec.status == "invalid" and not rec.solved and "goal not reached" in rec.error
    rec = task._record(prep, _ok({**good, "cost": 0}), c.max_expansions, c.time_limit)
    assert rec.status == "invalid" and "invalid result" in rec.error
    rec = task._record(prep, SandboxResult("timeout", error="wall"), c.max_expansions,
                       c.time_limit)
    assert rec.status == "timeout" and "endless loop" in rec.error and rec.failed

    task.pool = StubPool(_ok(forged))
    outcome = task.evaluate({"heuristic": [cand(GOALCOUNT_SOURCE)]}, "train")
    assert not outcome.ok and outcome.fitness == fitness([], 3, c.max_expansions)
    assert {r.status for r in outcome.records} == {"invalid"}


# --------------------------------------------------------------------------- real sandbox


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(2, warmup=WARMUP_SPEC, prewarm_numba="basic") as p:
        yield p


LOOP = "def h(state, task):\n    while True:\n        pass\n"
RAISES = "def h(state, task):\n    return 1 / 0\n"
NOT_A_NUMBER = "def h(state, task):\n    return 'far'\n"
SLOW_INIT = "def init(task):\n    while True:\n        pass\n\ndef h(state, task):\n    return 0\n"
#: Forges the plan: renames every step of the (correct) plan the search finds.
FORGER = ("def init(task):\n    task._task.op_name = lambda o: '(pick-up b1)'\n\n"
          "def h(state, task):\n    return len(task.goal - state)\n")
#: Fails only on large states: some tasks solved, the others recorded with the error.
PICKY = ("def h(state, task):\n    if len(task.facts) > 60:\n"
         "        raise KeyError('too big')\n    return len(task.goal - state)\n")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_seed_smoke_and_evaluate_through_the_sandbox(suite, pool):
    task = PlanningTask(config(suite), pool)
    (seed,) = task.seeds()["heuristic"]
    seed = seed.with_id(1)
    assert task.smoke([seed]) == [""]
    outcome = task.evaluate({"heuristic": [seed]}, "train")
    assert outcome.ok and len(outcome.records) == 3
    solved = [r.expanded for r in outcome.records if r.solved]
    assert solved and outcome.fitness == pytest.approx(fitness(solved, 3, 3000))
    for rec in outcome.records:
        assert rec.status in ("ok", "timeout") and (rec.status == "ok") == rec.solved
    assert task.instance_names("train") == [r.instance for r in outcome.records]
    summary = task.parent_summary(Parent(seed, credit=-outcome.fitness))
    assert f"solved {len(solved)}/3 training tasks" in summary


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_preferred_operators_reach_the_sandboxed_search(suite, pool):
    with pytest.raises(ValueError, match="lazy and preferred go with search gbfs"):
        config(suite, search="ehc", preferred=True)
    lazy = PlanningTask(config(suite, lazy=True), pool)
    pref = PlanningTask(config(suite, preferred=True), pool)
    assert pref.config.lazy and "preferred operators" in pref.describe()
    (seed,) = pref.seeds()["heuristic"]  # goal count as a genome: compiled, so helpful
    assert isinstance(heuristic_from_source(seed.source), CompiledGenome)
    assert parse_terms(seed.source) == [("goals", 1.0)]
    expanded = {}
    for name, task in (("lazy", lazy), ("pref", pref)):
        outcome = task.evaluate({"heuristic": [seed.with_id(1)]}, "train")
        assert outcome.ok and any(r.solved for r in outcome.records), name
        expanded[name] = [r.expanded for r in outcome.records]
    # the same goal count, searched without and with h_FF's helpful actions
    assert expanded["lazy"] != expanded["pref"]


CONSTANT = "def h(state, task):\n    return 0\n"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_directness_is_judged_in_the_parent_and_reaches_fitness_and_prompts(suite, pool):
    task = PlanningTask(config(suite, directness_states=8, directness_fix=0.5), pool)
    (seed,) = task.seeds()["heuristic"]
    seed = seed.with_id(1)
    outcome = task.evaluate({"heuristic": [seed]}, "train")
    rate = task.stats[(1, "train")]["directness"]
    assert 0 < rate <= 1  # goal count is direct on some blocksworld states
    solved = [r.expanded for r in outcome.records if r.solved]
    assert outcome.fitness == pytest.approx(fitness(solved, 3, 3000, rate))
    assert outcome.fitness > fitness(solved, 3, 3000) or rate == 1
    assert all(r.metrics["directness_states"] >= 1 for r in outcome.records)
    summary = task.parent_summary(Parent(seed, credit=-outcome.fitness))
    assert f"directness {rate:.0%}" in summary
    # a constant is never direct: the smoke run sends it back with a counterexample
    (message,) = task.smoke([cand(CONSTANT, 2)])
    assert message.startswith("error: not direct enough: 0% of the sampled states")
    assert "state with h = 0: (" in message and "successors: (" in message
    assert task.smoke([seed]) == [""] or rate < 0.5


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_hostile_heuristics_are_contained_and_reported(suite, pool):
    task = PlanningTask(config(suite), pool)
    errors = task.smoke([cand(s, i) for i, s in
                         enumerate((LOOP, RAISES, NOT_A_NUMBER, SLOW_INIT, FORGER), 1)])
    assert errors[0].startswith("timeout:") and "endless loop" in errors[0]
    assert errors[1].startswith("error:") and "ZeroDivisionError" in errors[1]
    assert errors[1].count("heuristic.py, line 2") == 1
    assert errors[2].startswith("error:") and "must return an int or float" in errors[2]
    assert errors[3].startswith("timeout:")
    assert errors[4].startswith("invalid:") and "failed the check" in errors[4]

    outcome = task.evaluate({"heuristic": [cand(PICKY, 7)]}, "train")
    statuses = [r.status for r in outcome.records]
    assert "error" in statuses and "ok" in statuses and outcome.ok
    bad = next(r for r in outcome.records if r.status == "error")
    assert "KeyError" in bad.error and not bad.solved
    assert task.stats[(7, "train")]["errors"]
    outcome = task.evaluate({"heuristic": [cand(RAISES, 8)]}, "train")
    assert not outcome.ok and "ZeroDivisionError" in outcome.error
    assert outcome.errors == {8: outcome.error}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_offline_evolve_exports_a_heuristic_that_ahd_plan_accepts(suite, tmp_path):
    run_dir = tmp_path / "run"
    args = ["evolve", "--problem", "planning", "--domain", str(suite / "blocksworld"),
            "--rounds", "1", "--train", "3", "--validation", "3", "--offspring", "2",
            "--jobs", "2", "--expansions", "3000", "--task-time", "1.5s", "--out", str(run_dir)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["validation_tasks"] == 3 and summary["seed_validation_solved"] is not None
    exported = Path(summary["exported"])
    assert exported.parent == run_dir / "generated"
    text = exported.read_text()
    assert "def h(state, task)" in text and "Held-out tasks solved" in text
    assert "\n# ahd-search: eager\n" in text  # what ahd plan-eval runs it with
    problem = suite / "blocksworld" / "training" / "easy" / "p02.pddl"
    planned = CliRunner().invoke(app, ["plan", str(suite / "blocksworld" / "domain.pddl"),
                                       str(problem), "--heuristic", str(exported),
                                       "--time", "20"])
    assert planned.exit_code == 0, planned.output
    assert planned.output.startswith("solved")


def test_evolve_planning_refuses_bad_options(tmp_path, suite):
    runner = CliRunner()
    bad = runner.invoke(app, ["evolve", "--problem", "planning", "--out", str(tmp_path / "a")])
    assert bad.exit_code == 2 and "needs --domain" in bad.output
    bad = runner.invoke(app, ["evolve", "--problem", "planning", "--domain", str(tmp_path),
                              "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2 and "no domain.pddl" in bad.output
    bad = runner.invoke(app, ["evolve", "--problem", "planning", "--domain",
                              str(suite / "ferry"), "--task-time", "soon"])
    assert bad.exit_code == 2
    bad = runner.invoke(app, ["evolve", "--domain", str(suite / "ferry")])
    assert bad.exit_code == 2 and "--domain does not apply to --problem cvrp" in bad.output


# --------------------------------------------------------------------------- LLM proposer

LLM_GOOD = '''Misplaced blocks matter more than unmet goals.

```python
def init(task):
    task.data["goal_on"] = {g[1]: g[2] for g in task.goal if g[0] == "on"}


def h(state, task):
    goal_on = task.data["goal_on"]
    wrong = sum(1 for a in state if a[0] == "on" and goal_on.get(a[1]) != a[2])
    return len(task.goal - state) + 2 * wrong
```
'''
LLM_LOOPING = "```python\ndef h(state, task):\n    while True:\n        pass\n```"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_llm_planning_run_prompts_with_the_domain_and_admits_fixed_code(suite, tmp_path,
                                                                       monkeypatch):
    from llm_server import Reply, ScriptedLLMServer

    from ahd.store import Store

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")

    def answer(messages):  # the fix-up of the endless loop gets a variant of the good code
        fixing = "Your code failed" in messages[-1]["content"]
        return LLM_GOOD.replace("2 * wrong", "3 * wrong") if fixing else LLM_GOOD

    run_dir = tmp_path / "llm"
    with ScriptedLLMServer([Reply(LLM_LOOPING)], default=answer) as server:
        result = CliRunner().invoke(app, [
            "evolve", "--problem", "planning", "--domain", str(suite / "blocksworld"),
            "--rounds", "1", "--offspring", "2", "--jobs", "2", "--concurrency", "1",
            "--train", "3", "--validation", "3", "--expansions", "3000", "--task-time", "1.5s",
            "--model", "openai/scripted", "--api-base", server.url, "--out", str(run_dir),
        ])
        requests = list(server.requests)
    assert result.exit_code == 0, result.output
    system, user = (m["content"] for m in requests[0]["messages"])
    assert "greedy best-first search" in system and "(define (domain blocksworld)" in user
    assert "task.static_facts" in user and "defining `h`" in user
    fixes = [r for r in requests if "Your code failed" in r["messages"][-1]["content"]]
    assert fixes and "timeout" in fixes[0]["messages"][-1]["content"]
    with Store.in_run_dir(run_dir, readonly=True) as store:
        store.open_run()
        llm = [store.get_candidate(c) for c in store.candidate_ids()
               if store.get_candidate(c).origin.proposer == "llm"]
        scored = [c for c in llm if "goal_on" in c.source and any(
            e.status == "ok" for e in store.evaluations_for(c.id) if e.split == "train")]
        assert len(scored) == 2  # the good reply and the fixed endless loop


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_counterexamples_of_a_heuristic_that_is_not_direct_reach_the_fix_prompt(
        suite, tmp_path, monkeypatch):
    from llm_server import Reply, ScriptedLLMServer

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    with ScriptedLLMServer([Reply(f"```python\n{CONSTANT}```")], default=LLM_GOOD) as server:
        result = CliRunner().invoke(app, [
            "evolve", "--problem", "planning", "--domain", str(suite / "blocksworld"),
            "--rounds", "1", "--offspring", "1", "--jobs", "2", "--concurrency", "1",
            "--train", "2", "--validation", "2", "--expansions", "2000", "--task-time", "1s",
            "--set", "directness_states=6", "--set", "directness_fix=0.2",
            "--model", "openai/scripted", "--api-base", server.url, "--out",
            str(tmp_path / "run"),
        ])
        requests = list(server.requests)
    assert result.exit_code == 0, result.output
    fixes = [r["messages"][-1]["content"] for r in requests
             if "Your code failed" in r["messages"][-1]["content"]]
    assert "Directness counts too" in requests[0]["messages"][-1]["content"]
    assert fixes and "not direct enough: 0%" in fixes[0]
    assert "state with h = 0: (" in fixes[0] and "successors: (" in fixes[0]
