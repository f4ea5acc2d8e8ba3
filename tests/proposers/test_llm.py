"""The LLM proposer against a real local OpenAI-compatible server: caps, config errors, stats.

Requests go through the real litellm client to the scripted server on 127.0.0.1
(``tests/helpers/llm_server.py``), which counts what reaches it: a budget must hold across the
proposer's first requests, its no-code follow-ups and the loop's fix-up requests.
"""

from __future__ import annotations

import numpy as np
import pytest
from llm_server import Reply, ScriptedLLMServer, Status

from ahd.llm import LLMBudget, LLMConfigError
from ahd.problems.task import RoutingTask, RoutingTaskConfig
from ahd.proposers import factories
from ahd.proposers.base import Parent, ProposalRequest
from ahd.proposers.llm import LLMProposer

MODEL = "openai/scripted-model"
CODE = "```python\ndef {name}(state, rng):\n    return state\n```"


@pytest.fixture(scope="module")
def task() -> RoutingTask:
    return RoutingTask(RoutingTaskConfig(problem="cvrp"), pool=None)  # prompts need no sandbox


@pytest.fixture
def no_openai_key(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)


def requests(task: RoutingTask, n: int) -> list[ProposalRequest]:
    seeds = task.seeds()["destroy"]
    return [ProposalRequest("mutate_logic", ("destroy",), (Parent(seeds[i % len(seeds)]
                                                                  .with_id(i + 1)),))
            for i in range(n)]


def make_proposer(task, server, **options) -> LLMProposer:
    return factories.llm(task, {"model": MODEL, "api_base": server.url, **options})


def test_max_calls_holds_across_follow_ups_and_fix_ups(task, no_openai_key):
    # Every reply lacks code: each proposal asks once more (no-code retry), then the loop asks
    # for fixes; with 4 in flight at once the server must still see at most 6 requests.
    budget = LLMBudget(max_calls=6)
    rng = np.random.default_rng(0)
    with ScriptedLLMServer(default=lambda m: "I would rather not.", delay=0.05) as server:
        proposer = make_proposer(task, server, concurrency=4, budget=budget)
        proposals = proposer(requests(task, 4), rng)
        for _ in range(2):
            proposals = [proposer.fix(p, "SyntaxError") or p for p in proposals]
    assert len(server.requests) == 6
    assert budget.spent.calls == 6 and budget.exhausted == "max_calls 6 reached"
    assert all(p.source is None for p in proposals)
    refused = [p for p in proposals if p.extra.get("budget_exhausted")]
    assert refused and all("budget exhausted" in p.error for p in refused)
    stats = proposer.stats
    assert stats.http_attempts == 6 and stats.refused >= 1


def test_answers_within_the_budget_are_kept(task, no_openai_key):
    budget = LLMBudget(max_calls=2)
    with ScriptedLLMServer(default=lambda m: CODE.format(name="destroy")) as server:
        proposer = make_proposer(task, server, concurrency=4, budget=budget)
        proposals = proposer(requests(task, 4), np.random.default_rng(0))
    assert len(server.requests) == 2
    assert sum(p.source is not None for p in proposals) == 2
    assert proposer.budget is budget


def test_config_error_propagates_instead_of_failing_one_proposal(task, no_openai_key):
    with ScriptedLLMServer([Status(404, message="The model does not exist.")]) as server:
        proposer = make_proposer(task, server, concurrency=1)
        with pytest.raises(LLMConfigError, match="model or URL not found"):
            proposer(requests(task, 3), np.random.default_rng(0))
    assert len(server.requests) == 1


def test_fix_up_config_error_propagates(task, no_openai_key):
    script = [Reply(CODE.format(name="destroy")), Status(401)]
    with ScriptedLLMServer(script) as server:
        proposer = make_proposer(task, server, concurrency=1)
        (proposal,) = proposer(requests(task, 1), np.random.default_rng(0))
        assert proposal.source is not None
        with pytest.raises(LLMConfigError, match="authentication failed"):
            proposer.fix(proposal, "IndexError")


def test_stats_tell_that_every_call_failed(task, no_openai_key):
    with ScriptedLLMServer(lambda m: Status(400, message="context too long")) as server:
        proposer = make_proposer(task, server, concurrency=2)
        proposals = proposer(requests(task, 3), np.random.default_rng(0))
    assert all(p.source is None and "context too long" in p.error for p in proposals)
    stats = proposer.stats
    assert stats.all_failed and (stats.calls, stats.failed, stats.succeeded) == (3, 3, 0)
    assert "context too long" in stats.last_error


def test_factory_passes_api_key_env(task, monkeypatch, no_openai_key):
    monkeypatch.setenv("AHD_TEST_PROPOSER_KEY", "key-from-env-0123456789")
    with ScriptedLLMServer([Reply(CODE.format(name="destroy"))]) as server:
        proposer = make_proposer(task, server, api_key_env="AHD_TEST_PROPOSER_KEY")
        proposer(requests(task, 1), np.random.default_rng(0))
    assert server.authorizations == ["Bearer key-from-env-0123456789"]
    monkeypatch.delenv("AHD_TEST_PROPOSER_KEY")
    with pytest.raises(LLMConfigError, match="AHD_TEST_PROPOSER_KEY"):
        make_proposer(task, server, api_key_env="AHD_TEST_PROPOSER_KEY")
