"""``ahd evolve --model`` against a local OpenAI-compatible server: no key needed, configuration
errors stop the run at the first call, a run that never reached the model fails, and the call
budget is a hard cap whatever the concurrency (counted by the server)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from llm_server import Reply, ScriptedLLMServer, Status
from operator_sources import LLM_REPLY_PAIR as GOOD
from typer.testing import CliRunner

from ahd.cli import app

ARGS = [
    "evolve", "--problem", "cvrp", "--size", "12", "--train", "2", "--validation", "2",
    "--iterations", "60", "--offspring", "4", "--jobs", "1", "--eval-timeout", "20s",
    "--time", "10m", "--model", "openai/local-model",
]


def _evolve(run_dir, url, *extra):
    return CliRunner().invoke(app, [*ARGS, "--api-base", url, "--out", str(run_dir), *extra])


def _status(run_dir) -> str:
    with sqlite3.connect(f"file:{run_dir / 'ahd.sqlite'}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT status FROM runs").fetchone()[0]


@pytest.mark.slow
@pytest.mark.parametrize("code", [401, 404])
def test_configuration_error_stops_at_the_first_call(tmp_path, monkeypatch, code):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ScriptedLLMServer(lambda messages: Status(code, message="no such thing")) as server:
        result = _evolve(tmp_path / "run", server.url, "--rounds", "3", "--concurrency", "1")
        sent = len(server.requests)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "openai/local-model" in errors[0]
    assert "Traceback" not in result.output
    assert sent == 1
    assert _status(tmp_path / "run") == "failed"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_run_that_never_reached_the_model_fails(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    always = ScriptedLLMServer(lambda messages: Status(503, retry_after=0, message="busy"))
    with always as server:
        result = _evolve(tmp_path / "run", server.url, "--rounds", "1")
    assert result.exit_code == 2, result.output
    assert "every LLM request failed" in result.output and "Traceback" not in result.output
    assert _status(tmp_path / "run") == "failed"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_max_calls_is_never_exceeded(tmp_path, monkeypatch):
    """Replies without code make the proposer ask again, fix-ups ask more: with 4 requests in
    flight, the sixth call is still the last one the server sees. No API key is set: a local
    server needs none (litellm is sent the placeholder ``EMPTY``)."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    replies = [Reply("I would remove the farthest customers first."), Reply(GOOD)]

    def answer(messages):
        return replies[len(messages) % 2]

    with ScriptedLLMServer(answer, delay=0.3) as server:
        result = _evolve(tmp_path / "run", server.url, "--rounds", "10", "--max-calls", "6",
                         "--concurrency", "4")
        sent = len(server.requests)
        keys = set(server.authorizations)
    assert result.exit_code == 0, result.output
    assert "Missing credentials" not in result.output and keys == {"Bearer EMPTY"}
    assert _status(tmp_path / "run") == "finished"
    assert 0 < sent <= 6
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert "calls" in summary["stop"] or "budget" in summary["stop"]
