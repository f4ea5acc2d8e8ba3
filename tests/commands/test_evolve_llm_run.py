"""``ahd evolve --model``: a short LLM evolution through litellm against a local scripted server.

The server answers, in order: a reply without code, one with a syntax error, one with a hostile
(never-ending) operator, an HTTP 429, and a good operator; fix-up requests get the good operator.
The run must complete, record every call, admit the good operator, and replay identically from
its cache with the server stopped.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from llm_server import Reply, ScriptedLLMServer, Status
from operator_sources import LLM_REPLY_PAIR as GOOD
from typer.testing import CliRunner

from ahd.cli import app
from ahd.store import Store

NO_CODE = "I would remove the customers with the largest detour and reinsert them greedily."
SYNTAX = "```python\ndef destroy(inst, sol, n_remove, removed)\n    return 0\n```"
HOSTILE = '''```python
def destroy(inst, sol, n_remove, removed):
    x = 0
    while x >= 0:
        x = (x + 1) % 7
    return 0


def repair(inst, sol, removed, k, penalty):
    x = 0
    while x >= 0:
        x = (x + 1) % 7
```'''

ARGS = [
    "evolve", "--problem", "cvrp", "--size", "12", "--train", "2", "--validation", "2",
    "--iterations", "60", "--rounds", "1", "--offspring", "4", "--jobs", "1",
    "--concurrency", "1", "--eval-timeout", "8s", "--time", "10m",
]


def _script():
    return [Reply(NO_CODE), Reply(SYNTAX), Reply(HOSTILE), Status(429, retry_after=0),
            Reply(GOOD, prompt_tokens=900, completion_tokens=300)]


def _run(run_dir, url, *extra):
    result = CliRunner().invoke(
        app, [*ARGS, "--model", "openai/scripted", "--api-base", url, "--out", str(run_dir),
              *extra],
    )
    assert result.exit_code == 0, result.output
    return result.output


def _outcome(run_dir):
    state = json.loads((run_dir / "state.json").read_text())
    with sqlite3.connect(run_dir / "ahd.sqlite") as conn:
        cands = conn.execute("SELECT source FROM candidates ORDER BY id").fetchall()
    summary = json.loads((run_dir / "summary.json").read_text())
    return state["snapshots"], cands, {k: v for k, v in summary.items() if k != "exported"}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_llm_evolution_records_calls_admits_good_code_and_replays(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    first = tmp_path / "live"
    with ScriptedLLMServer(_script(), default=lambda messages: GOOD) as server:
        url = server.url
        output = _run(first, url)
        n_requests = len(server.requests)
    assert "exported winner" in output
    with Store.in_run_dir(first, readonly=True) as store:
        store.open_run()
        calls = store.llm_totals(store.run.id)
        # 4 first requests (the 429 is retried inside one call) + 1 re-ask for the reply with
        # no code + fix-ups of the syntax error and of the hostile operator.
        assert calls["calls"] == 7 and calls["cached"] == 0
        assert n_requests == 8  # the 429 is one more HTTP request
        assert calls["prompt_tokens"] > 0
        good = [
            cid for cid in store.candidate_ids()
            if store.get_candidate(cid).origin.proposer == "llm"
            and "best_insertion" in store.get_candidate(cid).source
        ]
        assert good, "the good operator was not stored"
        rows = store.leaderboard(top=50)
        assert any(
            row.candidate_id in good and row.status_counts.get("ok", 0) == row.n_evaluations > 0
            for row in rows
        )
        # The hostile operator was stopped by the sandbox and recorded as a timeout.
        statuses = {e.status for cid in store.candidate_ids()
                    for e in store.evaluations_for(cid) if e.instance == "smoke"}
        assert "timeout" in statuses
    # Replay: same cache, the server is gone, identical results.
    second = tmp_path / "replay"
    _run(second, url, "--replay", "--llm-cache", str(first / "llm_cache"))
    assert _outcome(second) == _outcome(first)
