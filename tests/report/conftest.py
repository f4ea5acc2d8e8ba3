"""Runs and helpers shared by the report tests (``test_report.py``, ``test_report_browser.py``).

``synthetic_run`` writes a small run through the store API (fast); ``real_run`` is a copy of
the session's short real offline ``ahd evolve`` run (``cvrp_run``, made once per session).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from cli_apps import command_app
from operator_sources import constant_destroy

from ahd.candidate import Candidate, Origin
from ahd.commands.report_cli import register
from ahd.store import Evaluation, Store


@pytest.fixture
def report_app() -> typer.Typer:
    """``ahd``'s command line with ``report`` in it (a fresh app until ahd.cli registers it)."""
    from ahd.cli import app

    if any(cmd.name == "report" for cmd in app.registered_commands):
        return app
    return command_app(register)


@pytest.fixture
def page_text() -> Callable[[str], str]:
    """The page's visible text (tags dropped, entities decoded), for content checks."""

    def text(page: str) -> str:
        return html.unescape(re.sub(r"<[^>]+>", "", page))

    return text


@pytest.fixture
def synthetic_run() -> Callable[..., Path]:
    """:func:`build_synthetic_run`: ``synthetic_run(run_dir, llm=, finished=, state=)``."""
    return build_synthetic_run


@pytest.fixture
def real_run(cvrp_run, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the session's real offline run (``cvrp_run`` in tests/conftest.py: two
    rounds, the second resumed), so a test may write its report there; and the first
    command's output (its progress lines, rounds 0 and 1: the resumed command's ``evals``
    counter also counts the validation that the resume discarded and redid)."""
    run_dir = tmp_path / "real-run"
    shutil.copytree(cvrp_run.resumed, run_dir, symlinks=True)
    return run_dir, cvrp_run.round1_output


# ----------------------------------------------------------------------------- synthetic runs


def _code(role: str, value: int) -> str:
    if role == "destroy":
        return constant_destroy(value)
    if role == "repair":
        return f"def repair(inst, sol, removed, k, penalty):\n    x = {value}\n"
    return f"def {role}(state):\n    return {value}\n"


def _team(store: Store, members: dict[str, list[int]], instances: dict[str, float],
          split: str, context: str, round_: int) -> None:
    rows = []
    for instance, objective in instances.items():
        for role, ids in members.items():
            for cid in ids:
                rows.append(Evaluation(cid, instance, split, "ok", objective, 0.1, None,
                                       {"round": round_, "role": role}, context))
    store.add_evaluations(rows)


def build_synthetic_run(run_dir: Path, *, llm: bool = True, finished: bool = True,
                  state: bool = True) -> Path:
    """A small CVRP run written through the store API: 3 rounds, failures, LLM calls.

    Round 0 scores the seeds (1, 2 destroy; 3, 4 repair) at 11; round 1 adds destroy 5
    (team 10, validated 20.5 and the winner), a statically invalid 6 and a crashing 7; round 2
    adds repair 8 and the joint 9 (team 10.5). Evaluations per round: 2, 6, 10.
    """
    store = Store.in_run_dir(run_dir)
    task = {"problem": "cvrp", "size": 12, "n_train": 2, "n_validation": 2, "iterations": 50,
            "seed": 0, "time_cap": 20.0, "instances_dir": None}
    model = "gpt-4o-mini" if llm else None
    store.create_run("cvrp", {"task": task, "model": model}, seed=0)

    def add(role: str, value: int, origin: Origin, parents=(), generation=0, roles=None) -> int:
        roles = roles or (role,)
        source = "\n".join(_code(r, value + i) for i, r in enumerate(roles))
        cand = Candidate(source, roles, "cvrp", parents, origin, generation=generation)
        return store.add_candidate(cand)[0]

    def call(cost: float, cached: bool = False, status: str = "ok") -> None:
        if llm:
            store.record_llm_call(model, 100, 50, cost, 0.5, cached, status)
        time.sleep(0.005)

    seeds = [add("destroy", 1, Origin("seed", "d1")), add("destroy", 2, Origin("seed", "d2")),
             add("repair", 3, Origin("seed", "r1")), add("repair", 4, Origin("seed", "r2"))]
    assert seeds == [1, 2, 3, 4]
    train = ("cvrp-uniform-n12-s1000", "cvrp-uniform-n12-s1001")
    team0 = {"destroy": [1, 2], "repair": [3, 4]}
    _team(store, team0, dict(zip(train, (10.0, 12.0), strict=True)), "train", "team:0", 0)
    time.sleep(0.005)
    llm_origin = Origin("llm", "mutate_logic", "mutate_logic.txt", model or "", 100, 50, 0.01)
    call(0.01)
    assert add("destroy", 5, llm_origin, (1, 2), 1) == 5
    call(0.02)
    assert add("destroy", 6, llm_origin, (1,), 1) == 6
    call(0.0, status="error")
    assert add("destroy", 7, llm_origin, (2,), 1) == 7
    store.add_evaluations([
        Evaluation(6, "smoke", "train", "invalid", error="static: name 'os' is not allowed",
                   metrics={"round": 1}, context="smoke:1"),
        Evaluation(7, "smoke", "train", "error", error="ZeroDivisionError: division by zero\n"
                   "  File candidate.py, line 2", metrics={"round": 1}, context="smoke:1"),
    ])
    team1 = {"destroy": [1, 2, 5], "repair": [3, 4]}
    _team(store, team1, dict(zip(train, (9.0, 11.0), strict=True)), "train", "team:1", 1)
    time.sleep(0.005)
    call(0.03)
    assert add("repair", 8, llm_origin, (3,), 2) == 8
    call(0.03, cached=True)  # the cost it had when first made: not spent again
    assert add("destroy", 9, Origin("llm", "joint"), (5, 8), 2, ("destroy", "repair")) == 9
    team2 = {"destroy": [1, 5, 9], "repair": [3, 8, 9]}
    _team(store, team2, dict(zip(train, (9.5, 11.5), strict=True)), "train", "team:2", 2)
    val = ("cvrp-uniform-n12-s2000", "cvrp-uniform-n12-s2001")
    _team(store, team0, dict(zip(val, (20.0, 22.0), strict=True)), "validation",
          "team:validation", 3)
    _team(store, team1, dict(zip(val, (19.5, 21.5), strict=True)), "validation",
          "team:validation", 3)
    if finished:
        store.set_run_status("finished")
    store.close()
    snapshots = [
        {"round": 0, "members": team0, "fitness": 11.0, "validation": None},
        {"round": 1, "members": team1, "fitness": 10.0, "validation": 20.5},
        {"round": 2, "members": team2, "fitness": 10.5, "validation": 21.0},
    ]
    if state:
        (run_dir / "state.json").write_text(json.dumps({
            "round": 2, "population": {"destroy": [1, 5, 9], "repair": [3, 8, 9]},
            "credit": {"1": 0.8, "3": 1.0, "5": 1.4, "8": 1.1, "9": 0.7},
            "uses": {"1": 30.0, "3": 25.0, "5": 40.0, "8": 20.0, "9": 10.0},
            "synergy": [], "snapshots": snapshots, "seed_train": 11.0,
            "failures": {"static": 1, "smoke": 1, "proposer": 1},
            "spent": {"calls": 5, "tokens": 750, "cost": 0.06, "evaluations": 14,
                      "seconds": 3.0, "rounds": 2, "best": 10.0},
        }))
    if finished:
        (run_dir / "summary.json").write_text(json.dumps({
            "seed_train": 11.0, "seed_validation": 21.0, "failures": {"static": 1},
            "stop": "budget reached: rounds 2 of 2", "winner_round": 1, "winner_train": 10.0,
            "winner_validation": 20.5, "winner_members": team1,
        }))
    return run_dir
