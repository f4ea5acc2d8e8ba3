"""The LLM client against a real local OpenAI-compatible server, through the real litellm stack.

Nothing is mocked: :class:`ScriptedLLMServer` (``tests/helpers/llm_server.py``) answers HTTP on
127.0.0.1 from a script, so these tests exercise litellm's request building, error mapping and
usage parsing as well as our retries, concurrency limit, cache and replay.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from pathlib import Path

import pytest
from llm_server import Reply, ScriptedLLMServer, Status

from ahd.llm import (
    CallRecord,
    LLMClient,
    LLMConfig,
    LLMConfigError,
    LLMError,
    LLMReply,
    ReplayMiss,
    ResponseCache,
)
from ahd.store import Store

ROOT = Path(__file__).resolve().parents[2]
MODEL = "openai/scripted-model"
HELLO = [{"role": "user", "content": "hello"}]
OTHER = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "other"}]
SECRET = "sk-test-Zq8vN3kLp0Xy7Rt5Wm2J"


def make_config(server: ScriptedLLMServer, **overrides) -> LLMConfig:
    """Fast retries and short timeouts, so failure paths take milliseconds."""
    settings = dict(
        model=MODEL, api_base=server.url, api_key="test", backoff=0.01, backoff_cap=0.05,
        timeout=5.0, max_retries=3,
    )
    settings.update(overrides)
    return LLMConfig(**settings)


class Recorder:
    """An ``on_call`` that keeps records and the thread each arrived in."""

    def __init__(self) -> None:
        self.records: list[CallRecord] = []
        self.threads: list[int] = []

    def __call__(self, record: CallRecord) -> None:
        self.records.append(record)
        self.threads.append(threading.get_ident())


@pytest.fixture(scope="module", autouse=True)
def _import_litellm_once():
    """Pay litellm's import (seconds) once, outside any timed assertion."""
    import litellm  # noqa: F401


# -- answers, retries, failures ---------------------------------------------------------------


def test_plain_reply_reports_tokens_and_request():
    recorder = Recorder()
    with ScriptedLLMServer([Reply("hi there", prompt_tokens=7, completion_tokens=3)]) as server:
        client = LLMClient(make_config(server, temperature=0.3, max_tokens=123), on_call=recorder)
        reply = client.complete(HELLO)
    assert reply.text == "hi there"
    assert (reply.tokens_in, reply.tokens_out) == (7, 3)
    assert reply.cost_usd == 0.0  # a model litellm has no price for
    assert reply.attempts == 1 and not reply.cached and reply.finish_reason == "stop"
    assert reply.request_hash.endswith("#0") and len(reply.request_hash) == 66
    assert reply.latency_s > 0
    body = server.requests[0]
    assert body["messages"] == HELLO
    assert (body["temperature"], body["max_tokens"]) == (0.3, 123)
    assert server.authorizations == ["Bearer test"]
    assert recorder.records == [
        CallRecord(reply.model, 7, 3, 0.0, reply.latency_s, False, "ok", None, reply.request_hash)
    ]


def test_cost_of_a_priced_model():
    with ScriptedLLMServer([Reply("x", prompt_tokens=1000, completion_tokens=500)]) as server:
        reply = LLMClient(make_config(server, model="openai/gpt-4o-mini")).complete(HELLO)
    assert reply.model == "gpt-4o-mini"
    assert reply.cost_usd > 0  # from litellm's bundled price map, no network


def test_rate_limit_is_retried():
    script = [Status(429, retry_after=0), Reply("after the limit")]
    with ScriptedLLMServer(script) as server:
        reply = LLMClient(make_config(server)).complete(HELLO)
    assert reply.text == "after the limit"
    assert reply.attempts == 2
    assert len(server.requests) == 2


def test_retry_after_is_honoured():
    script = [Status(429, retry_after=0.3), Reply("ok")]
    with ScriptedLLMServer(script) as server:
        start = time.monotonic()
        reply = LLMClient(make_config(server, backoff_cap=5.0)).complete(HELLO)
        elapsed = time.monotonic() - start
    assert reply.attempts == 2
    assert elapsed >= 0.3  # not the 0.01 s back-off


def test_server_errors_exhaust_retries():
    recorder = Recorder()
    with ScriptedLLMServer([Status(500), Status(502), Status(503)]) as server:
        client = LLMClient(make_config(server, max_retries=2), on_call=recorder)
        with pytest.raises(LLMError) as info:
            client.complete(HELLO)
    err = info.value
    assert len(server.requests) == 3  # 1 + max_retries, and litellm itself retried nothing
    assert err.attempts == 3 and err.retryable and err.status_code == 503
    assert "gave up after 3 attempts" in str(err)
    [record] = recorder.records
    assert record.status == "error" and record.error == str(err)
    assert (record.tokens_in, record.tokens_out, record.cost_usd) == (0, 0, 0.0)
    assert not record.cached


def test_bad_request_is_not_retried():
    # 400 is about this request (a prompt too long), not the configuration: an LLMError.
    with ScriptedLLMServer([Status(400), Reply("never sent")]) as server:
        with pytest.raises(LLMError) as info:
            LLMClient(make_config(server)).complete(HELLO)
    assert len(server.requests) == 1
    assert info.value.attempts == 1 and not info.value.retryable
    assert info.value.status_code == 400
    assert "BadRequestError" in str(info.value) and "not retried" in str(info.value)


def test_timeout_is_retried():
    script = [Reply("too slow", delay=3.0)] + [Reply("in time")] * 3  # spares for a slow host
    with ScriptedLLMServer(script) as server:
        reply = LLMClient(make_config(server, timeout=0.5)).complete(HELLO)
    assert reply.text == "in time" and reply.attempts >= 2


def test_connection_refused_after_an_answer_is_retried_then_fails():
    # Once the server has answered, a refused connection is a restart or a blip: transient.
    server = ScriptedLLMServer([Reply("first")])
    client = LLMClient(make_config(server, max_retries=1))
    assert client.complete(HELLO).text == "first"
    server.stop()
    with pytest.raises(LLMError) as info:
        client.complete(HELLO)
    assert info.value.attempts == 2 and info.value.retryable
    assert "Connection error" in str(info.value)


def test_api_key_never_appears_in_errors():
    recorder = Recorder()
    echo = Status(401, message="Incorrect API key provided: {api_key}. Find your key at ...")
    with ScriptedLLMServer([echo]) as server:
        client = LLMClient(make_config(server, api_key=SECRET), on_call=recorder)
        with pytest.raises(LLMConfigError) as info:
            client.complete(HELLO)
    assert server.authorizations == [f"Bearer {SECRET}"]  # the server did see it
    err = info.value
    shown = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    for text in (str(err), repr(err), shown, recorder.records[0].error, repr(client)):
        assert SECRET not in text
        assert SECRET[8:20] not in text
    assert "Incorrect API key provided: ***" in str(err)
    assert err.__cause__ is None and err.__suppress_context__


def test_short_key_is_redacted_without_shredding_the_message():
    echo = Status(401, message="Incorrect API key provided: {api_key}")
    with ScriptedLLMServer([echo]) as server:
        with pytest.raises(LLMConfigError) as info:
            LLMClient(make_config(server, api_key="t")).complete(HELLO)
    assert "provided: ***" in str(info.value)
    assert "AuthenticationError" in str(info.value)


def test_api_key_from_environment_is_redacted(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "envsecret-0123456789abcdef")
    echo = Status(401, message="Incorrect API key provided: {api_key}")
    with ScriptedLLMServer([echo]) as server:
        with pytest.raises(LLMConfigError) as info:
            LLMClient(make_config(server, api_key=None)).complete(HELLO)
    assert server.authorizations == ["Bearer envsecret-0123456789abcdef"]
    assert "envsecret" not in str(info.value)


# -- concurrency ------------------------------------------------------------------------------


def test_complete_many_respects_concurrency_and_order():
    recorder = Recorder()
    requests = [[{"role": "user", "content": f"q{i}"}] for i in range(6)]
    with ScriptedLLMServer(default=lambda m: "a" + m[-1]["content"], delay=0.15) as server:
        client = LLMClient(make_config(server, concurrency=2), on_call=recorder)
        results = client.complete_many(requests)
    assert [r.text for r in results] == [f"aq{i}" for i in range(6)]
    assert server.max_in_flight == 2
    assert len(recorder.records) == 6
    assert set(recorder.threads) == {threading.get_ident()}  # on_call runs in the caller's thread


def test_concurrency_limit_is_shared_by_threads():
    with ScriptedLLMServer(default=lambda m: "ok", delay=0.1) as server:
        client = LLMClient(make_config(server, concurrency=2))
        threads = [threading.Thread(target=client.complete, args=(HELLO,)) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(server.requests) == 5
    assert server.max_in_flight == 2


def test_complete_many_returns_failures_in_place():
    def responder(messages):
        content = messages[-1]["content"]
        return Status(400, message="bad prompt") if content == "bad" else Reply(content.upper())

    recorder = Recorder()
    requests = [[{"role": "user", "content": c}] for c in ("one", "bad", "two")]
    with ScriptedLLMServer(responder) as server:
        results = LLMClient(make_config(server), on_call=recorder).complete_many(requests)
    assert isinstance(results[0], LLMReply) and results[0].text == "ONE"
    assert isinstance(results[1], LLMError) and "bad prompt" in str(results[1])
    assert isinstance(results[2], LLMReply) and results[2].text == "TWO"
    assert sorted(r.status for r in recorder.records) == ["error", "ok", "ok"]


# -- cache and replay -------------------------------------------------------------------------


def test_cache_keys_repeats_apart_and_replay_needs_no_server(tmp_path):
    script = [
        Reply("first", prompt_tokens=11, completion_tokens=1),
        Reply("second", prompt_tokens=12, completion_tokens=2),
        Reply("third", prompt_tokens=13, completion_tokens=3),
    ]
    with ScriptedLLMServer(script) as server:
        client = LLMClient(make_config(server, cache_dir=tmp_path))
        live = [client.complete(HELLO), client.complete(HELLO), client.complete(OTHER)]
    assert [r.text for r in live] == ["first", "second", "third"]
    digest = live[0].request_hash.split("#")[0]
    assert [r.request_hash for r in live[:2]] == [f"{digest}#0", f"{digest}#1"]
    assert len(list(tmp_path.rglob("*.json"))) == 3

    # The server is gone: replay answers from disk, identical texts in the same order.
    recorder = Recorder()
    replay = LLMClient(make_config(server, cache_dir=tmp_path, replay=True), on_call=recorder)
    again = [replay.complete(HELLO), replay.complete(HELLO), replay.complete(OTHER)]
    assert [r.text for r in again] == ["first", "second", "third"]
    assert [(r.tokens_in, r.tokens_out) for r in again] == [(11, 1), (12, 2), (13, 3)]
    assert all(r.cached and r.attempts == 0 for r in again)
    assert [r.request_hash for r in again] == [r.request_hash for r in live]
    assert all(rec.cached and rec.status == "ok" for rec in recorder.records)
    with pytest.raises(ReplayMiss, match=r"no cached reply for request [0-9a-f]{64}#2"):
        replay.complete(HELLO)  # a third identical request was never recorded
    assert recorder.records[-1].status == "error"


def test_cache_hits_skip_the_server_and_misses_extend_it(tmp_path):
    # One server throughout: its URL (api_base) is part of the cache key.
    with ScriptedLLMServer([Reply("recorded"), Reply("fresh")]) as server:
        LLMClient(make_config(server, cache_dir=tmp_path)).complete(HELLO)
        client = LLMClient(make_config(server, cache_dir=tmp_path))
        assert client.complete(HELLO).cached
        assert len(server.requests) == 1
        second = client.complete(HELLO)
    assert second.text == "fresh" and not second.cached
    assert len(list(tmp_path.rglob("*.json"))) == 2


def test_sampling_settings_are_part_of_the_key(tmp_path):
    with ScriptedLLMServer([Reply("hot"), Reply("cold")]) as server:
        LLMClient(make_config(server, cache_dir=tmp_path, temperature=1.0)).complete(HELLO)
        cold = LLMClient(make_config(server, cache_dir=tmp_path, temperature=0.0)).complete(HELLO)
    assert cold.text == "cold" and not cold.cached


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong_key"])
def test_corrupt_entry_is_a_miss_not_a_crash(tmp_path, damage):
    with ScriptedLLMServer([Reply("original"), Reply("asked again")]) as server:
        key = LLMClient(make_config(server, cache_dir=tmp_path)).complete(HELLO).request_hash
        path = ResponseCache(tmp_path).path_for(key)
        raw = path.read_bytes()
        if damage == "truncate":
            path.write_bytes(raw[: len(raw) // 2])
        elif damage == "garbage":
            path.write_bytes(b"\xff\xfe not json")
        else:
            entry = json.loads(raw)
            entry["key"] = "0" * 64 + "#0"
            path.write_text(json.dumps(entry))

        replay = LLMClient(make_config(server, cache_dir=tmp_path, replay=True))
        with pytest.raises(ReplayMiss) as info:
            replay.complete(HELLO)
        assert str(path) in str(info.value) and "unusable" in str(info.value)
        assert len(server.requests) == 1  # replay never asked

        reply = LLMClient(make_config(server, cache_dir=tmp_path)).complete(HELLO)
    assert reply.text == "asked again" and not reply.cached
    assert json.loads(path.read_text())["reply"]["text"] == "asked again"  # repaired


def test_failures_replay_as_failures(tmp_path):
    with ScriptedLLMServer([Status(400, message="context too long"), Reply("retry ok")]) as server:
        client = LLMClient(make_config(server, cache_dir=tmp_path))
        with pytest.raises(LLMError):
            client.complete(HELLO)
        assert client.complete(HELLO).text == "retry ok"
    replay = LLMClient(make_config(server, cache_dir=tmp_path, replay=True))
    with pytest.raises(LLMError, match="replayed failure.*context too long") as info:
        replay.complete(HELLO)
    assert not isinstance(info.value, ReplayMiss)
    assert replay.complete(HELLO).text == "retry ok"


def test_cache_files_hold_no_api_key(tmp_path):
    with ScriptedLLMServer([Reply("x")]) as server:
        LLMClient(make_config(server, cache_dir=tmp_path, api_key=SECRET)).complete(HELLO)
    [path] = tmp_path.rglob("*.json")
    assert SECRET not in path.read_text()
    assert not list(tmp_path.rglob("*.tmp"))


def test_replay_does_not_import_litellm(tmp_path):
    with ScriptedLLMServer([Reply("offline answer")]) as server:
        LLMClient(make_config(server, cache_dir=tmp_path)).complete(HELLO)
    code = textwrap.dedent(
        f"""
        import sys
        from ahd.llm import LLMClient, LLMConfig
        config = LLMConfig(model={MODEL!r}, api_base={server.url!r}, cache_dir={str(tmp_path)!r},
                           replay=True)
        print(LLMClient(config).complete({HELLO!r}).text)
        assert "litellm" not in sys.modules
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "offline answer"


# -- records, store, configuration ------------------------------------------------------------


def test_records_go_into_the_store(tmp_path):
    store = Store(tmp_path / "run.sqlite")
    try:
        script = [Reply("a", prompt_tokens=5, completion_tokens=2), Status(401)]
        with ScriptedLLMServer(script) as server:
            client = LLMClient(
                make_config(server), on_call=lambda r: store.record_llm_call(**r.store_fields())
            )
            client.complete(HELLO)
            with pytest.raises(LLMConfigError):
                client.complete(OTHER)
        totals = store.llm_totals()
    finally:
        store.close()
    assert totals["calls"] == 2
    assert (totals["prompt_tokens"], totals["completion_tokens"]) == (5, 2)


@pytest.mark.parametrize(
    "overrides",
    [
        {"model": ""},
        {"api_base": "localhost:8000"},
        {"api_key": ""},
        {"temperature": -0.1},
        {"temperature": float("nan")},
        {"max_tokens": 0},
        {"max_tokens": 1.5},
        {"timeout": 0},
        {"max_retries": -1},
        {"backoff": -1},
        {"backoff": 2.0, "backoff_cap": 1.0},
        {"concurrency": 0},
        {"concurrency": True},
        {"replay": True},
    ],
)
def test_config_rejects_bad_values(overrides):
    settings = {"model": MODEL, **overrides}
    with pytest.raises(ValueError, match="LLMConfig"):
        LLMConfig(**settings)


def test_config_repr_hides_key_and_normalises_cache_dir(tmp_path):
    config = LLMConfig(model=MODEL, api_key=SECRET, cache_dir=str(tmp_path))
    assert SECRET not in repr(config)
    assert config.cache_dir == tmp_path


@pytest.mark.parametrize(
    "messages",
    [[], "hello", [{"role": "robot", "content": "x"}], [{"role": "user", "content": None}]],
)
def test_malformed_messages_are_a_value_error(messages):
    client = LLMClient(LLMConfig(model=MODEL, api_base="http://127.0.0.1:9/v1"))
    with pytest.raises(ValueError, match="messages"):
        client.complete(messages)
