"""Budgets are hard caps: counted where requests reach the server, whatever the concurrency.

The scripted server on 127.0.0.1 (``tests/helpers/llm_server.py``) counts the requests it
received and sums the usage it reported; the client and its :class:`LLMBudget` must agree with
it, and no cap may be passed.
"""

from __future__ import annotations

import threading

import pytest
from llm_server import Reply, ScriptedLLMServer, Status

from ahd.llm import (
    BudgetExceeded,
    LLMBudget,
    LLMClient,
    LLMConfig,
    LLMConfigError,
    LLMError,
    LLMReply,
    Usage,
)
from ahd.llm.budget import prompt_token_bound
from ahd.store import Store

MODEL = "openai/scripted-model"
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module", autouse=True)
def _import_litellm_once():
    import litellm  # noqa: F401


def make_config(server: ScriptedLLMServer, **overrides) -> LLMConfig:
    settings = dict(
        model=MODEL, api_base=server.url, api_key="test", backoff=0.01, backoff_cap=0.05,
        timeout=5.0, max_retries=3, max_tokens=50,
    )
    settings.update(overrides)
    return LLMConfig(**settings)


def questions(n: int) -> list[list[dict[str, str]]]:
    return [[{"role": "user", "content": f"question {i}"}] for i in range(n)]


# -- the budget on its own --------------------------------------------------------------------


def test_reserve_settle_and_refuse():
    budget = LLMBudget(max_calls=2, max_tokens=100)
    first = budget.reserve(60, 0.0)
    with pytest.raises(BudgetExceeded, match="max_tokens 100: 60 used or reserved"):
        budget.reserve(60, 0.0)  # 60 held + 60 > 100
    budget.settle(first, 15, 0.0)
    second = budget.reserve(60, 0.0)  # 15 + 60 fits now
    budget.settle(second, 20, 0.0)
    assert budget.spent == Usage(calls=2, tokens=35, cost=0.0)
    with pytest.raises(BudgetExceeded, match="max_calls 2 reached"):
        budget.reserve(1, 0.0)
    assert budget.exhausted.startswith("max_tokens 100")  # the first refusal
    with pytest.raises(ValueError, match="settled twice"):
        budget.settle(second, 0, 0.0)


def test_spent_before_counts_against_the_caps():
    budget = LLMBudget(max_calls=6, max_cost=1.0, spent=Usage(calls=5, tokens=900, cost=0.9))
    budget.reserve(10, 0.05)
    with pytest.raises(BudgetExceeded):
        budget.reserve(0, 0.0)
    assert budget.exhausted == "max_calls 6 reached"


def test_no_caps_never_refuse_and_zero_refuses_all():
    assert LLMBudget().exhausted is None
    LLMBudget().reserve(10**9, 10**6)
    assert LLMBudget(max_calls=0).exhausted == "max_calls 0 reached"
    with pytest.raises(BudgetExceeded):
        LLMBudget(max_calls=0).reserve(0, 0.0)


@pytest.mark.parametrize(
    "caps", [{"max_calls": -1}, {"max_tokens": 1.5}, {"max_cost": float("inf")},
             {"max_calls": True}],
)
def test_bad_caps_are_rejected(caps):
    with pytest.raises(ValueError, match="LLMBudget"):
        LLMBudget(**caps)


def test_reservations_are_thread_safe():
    budget = LLMBudget(max_calls=100, max_tokens=10**6)
    granted = []

    def grab():
        for _ in range(40):
            try:
                held = budget.reserve(7, 0.0)
            except BudgetExceeded:
                continue
            granted.append(held)
            budget.settle(held, 3, 0.0)

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 100
    assert budget.spent == Usage(calls=100, tokens=300, cost=0.0)


def test_prompt_bound_is_above_the_byte_count():
    messages = [{"role": "system", "content": "é" * 10}, {"role": "user", "content": "abc"}]
    assert prompt_token_bound(messages) >= 20 + 3


# -- through the client, counted by the server ------------------------------------------------


def test_usage_totals_equal_what_the_server_reported(tmp_path):
    script = [Reply(f"a{i}", prompt_tokens=10 + i, completion_tokens=3 * i + 1) for i in range(5)]
    budget = LLMBudget()
    store = Store(tmp_path / "run.sqlite")
    try:
        with ScriptedLLMServer(script) as server:
            client = LLMClient(make_config(server, concurrency=3), budget=budget,
                               on_call=lambda r: store.record_llm_call(**r.store_fields()))
            replies = client.complete_many(questions(5))
        totals = store.llm_totals()
    finally:
        store.close()
    reported = server.reported
    assert reported["replies"] == 5
    assert sum(r.tokens_in for r in replies) == reported["prompt_tokens"] == 60
    assert sum(r.tokens_out for r in replies) == reported["completion_tokens"] == 35
    assert (totals["prompt_tokens"], totals["completion_tokens"]) == (60, 35)
    assert totals["calls"] == 5
    assert budget.spent == Usage(calls=5, tokens=95, cost=0.0)


def test_max_calls_holds_with_concurrency_and_retries():
    # Every other request first fails with 503: retries must reserve calls too.
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def responder(messages):
        content = messages[-1]["content"]
        with lock:
            seen[content] = seen.get(content, 0) + 1
            first = seen[content] == 1
        if first and content.endswith(("0", "2", "4", "6")):
            return Status(503)
        return Reply("answer")

    budget = LLMBudget(max_calls=6)
    with ScriptedLLMServer(responder, delay=0.05) as server:
        client = LLMClient(make_config(server, concurrency=4), budget=budget)
        results = client.complete_many(questions(8))
        with pytest.raises(BudgetExceeded):
            client.complete(HELLO)
    assert len(server.requests) == 6
    assert budget.spent.calls == 6 and budget.exhausted == "max_calls 6 reached"
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    answered = [r for r in results if isinstance(r, LLMReply)]
    assert refused and answered and len(refused) + len(answered) == 8
    stats = client.stats()
    assert stats.http_attempts == 6 and stats.refused == len(refused) + 1
    assert stats.succeeded == len(answered) and not stats.all_failed


def test_max_tokens_holds_sequentially_exactly():
    # Each attempt reserves bound("hello") + max_tokens and settles at the reported 15 tokens.
    estimate = prompt_token_bound(HELLO) + 50
    budget = LLMBudget(max_tokens=15 + estimate)  # room for two requests, not three
    with ScriptedLLMServer(default=lambda m: "x") as server:
        client = LLMClient(make_config(server), budget=budget)
        client.complete(HELLO)
        client.complete(HELLO)
        with pytest.raises(BudgetExceeded, match="max_tokens"):
            client.complete(HELLO)
    assert len(server.requests) == 2
    assert budget.spent.tokens == 30 == sum(server.reported[k] for k in
                                            ("prompt_tokens", "completion_tokens"))


def test_max_tokens_holds_with_concurrency():
    cap = 400
    budget = LLMBudget(max_tokens=cap)
    script = lambda m: Reply("x", prompt_tokens=20, completion_tokens=50)  # noqa: E731
    with ScriptedLLMServer(script, delay=0.05) as server:
        client = LLMClient(make_config(server, concurrency=4), budget=budget)
        for _ in range(3):
            client.complete_many(questions(6))
    reported = server.reported["prompt_tokens"] + server.reported["completion_tokens"]
    assert 0 < reported <= cap
    assert budget.spent.tokens == reported
    assert budget.exhausted is not None and "max_tokens 400" in budget.exhausted


def test_max_cost_refuses_before_sending():
    # gpt-4o-mini is priced in litellm's bundled map: 50 completion tokens cost > 1e-6 USD.
    budget = LLMBudget(max_cost=1e-6)
    with ScriptedLLMServer([Reply("never")]) as server:
        client = LLMClient(make_config(server, model="openai/gpt-4o-mini"), budget=budget)
        with pytest.raises(BudgetExceeded, match="max_cost"):
            client.complete(HELLO)
    assert server.requests == []
    assert client.stats().refused == 1 and client.stats().http_attempts == 0


def test_a_cost_cap_on_an_unpriced_model_is_refused_before_any_request():
    # a local server's model: litellm has no price, so every call would cost 0 and no cap bind
    with ScriptedLLMServer([Reply("never")]) as server:
        with pytest.raises(LLMConfigError, match="no price for this model.*--price") as info:
            LLMClient(make_config(server), budget=LLMBudget(max_cost=1.0))
    assert info.value.kind == "unpriced" and server.requests == []


def test_a_given_price_costs_the_reported_usage_and_caps_it():
    # 1 USD per million prompt and 2 per million completion tokens: 1,000 + 2x500 -> 0.002 USD
    script = [Reply("a", prompt_tokens=1000, completion_tokens=500)] * 3
    budget = LLMBudget(max_cost=0.005)
    with ScriptedLLMServer(script) as server:
        client = LLMClient(make_config(server, price=(1.0, 2.0)), budget=budget)
        first = client.complete(HELLO)
        assert first.cost_usd == pytest.approx(0.002)
        client.complete(HELLO)
        # 0.004 spent; the next reservation (prompt bound + 50 completion tokens) still fits,
        # and its reported usage brings the total to 0.006 > 0.005: nothing more is sent
        client.complete(HELLO)
        with pytest.raises(BudgetExceeded, match="max_cost"):
            client.complete(HELLO)
    assert len(server.requests) == 3
    assert budget.spent.cost == pytest.approx(0.006)


@pytest.mark.parametrize("price", [(1.0,), (-1.0, 2.0), (float("nan"), 1.0), "1,2"])
def test_bad_prices_are_rejected(price):
    with pytest.raises(ValueError, match="price"):
        LLMConfig(model=MODEL, price=price)


def test_missing_usage_is_charged_at_the_estimate():
    budget = LLMBudget(max_tokens=10_000)
    with ScriptedLLMServer([Reply("x", report_usage=False)]) as server:
        reply = LLMClient(make_config(server), budget=budget).complete(HELLO)
    assert (reply.tokens_in, reply.tokens_out) == (0, 0)
    assert budget.spent.tokens == prompt_token_bound(HELLO) + 50


def test_cache_hits_reserve_nothing(tmp_path):
    budget = LLMBudget(max_calls=1)
    with ScriptedLLMServer([Reply("recorded")]) as server:
        LLMClient(make_config(server, cache_dir=tmp_path), budget=budget).complete(HELLO)
        again = LLMClient(make_config(server, cache_dir=tmp_path), budget=budget).complete(HELLO)
    assert again.cached and len(server.requests) == 1 and budget.spent.calls == 1


def test_refused_requests_are_not_recorded_but_failed_retries_are():
    records = []
    budget = LLMBudget(max_calls=1)
    with ScriptedLLMServer([Status(503)]) as server:
        client = LLMClient(make_config(server), budget=budget, on_call=records.append)
        # Sent once, its retry refused.
        with pytest.raises(BudgetExceeded, match=r"not sent again \(after 1 failed attempt"):
            client.complete(HELLO)
        with pytest.raises(LLMError):
            client.complete(HELLO)  # never sent
    assert len(server.requests) == 1
    assert [r.status for r in records] == ["error"]


def test_a_timed_out_attempt_keeps_its_reservation():
    # The server may have done (and billed) the work: the estimate stays spent.
    budget = LLMBudget(max_tokens=10_000)
    with ScriptedLLMServer([Reply("late", delay=1.0)]) as server:
        client = LLMClient(make_config(server, timeout=0.3, max_retries=0), budget=budget)
        with pytest.raises(LLMError, match="Timeout"):
            client.complete(HELLO)
    assert budget.spent == Usage(calls=1, tokens=prompt_token_bound(HELLO) + 50, cost=0.0)
