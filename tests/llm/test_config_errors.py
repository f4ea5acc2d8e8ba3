"""Keys for local servers, and configuration errors that stop at the first request.

Against the scripted OpenAI-compatible server on 127.0.0.1 (``tests/helpers/llm_server.py``)
through the real litellm stack: a local server needs no ``OPENAI_API_KEY``; a wrong key, an
unknown model or a URL nothing answers at raise :class:`LLMConfigError` at once, never retried.
"""

from __future__ import annotations

import time

import pytest
from llm_server import Reply, ScriptedLLMServer, Status

from ahd.llm import LLMClient, LLMConfig, LLMConfigError, LLMError
from ahd.llm.credentials import PLACEHOLDER_KEY

MODEL = "openai/local-model"
HELLO = [{"role": "user", "content": "hello"}]
SECRET = "sk-test-Qw3rTy7UiOp9AsDf1GhJ"


@pytest.fixture(scope="module", autouse=True)
def _import_litellm_once():
    """Pay litellm's import (seconds) once, outside any timed assertion."""
    import litellm  # noqa: F401


@pytest.fixture
def no_openai_key(monkeypatch):
    """No OpenAI key anywhere in the environment, as on a machine serving a local model."""
    for name in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)


def make_config(url: str, **overrides) -> LLMConfig:
    """Retries with real back-off (so a retried error would take seconds), short timeouts."""
    settings = dict(model=MODEL, api_base=url, timeout=5.0, max_retries=4, backoff=1.0)
    settings.update(overrides)
    return LLMConfig(**settings)


# -- keys -------------------------------------------------------------------------------------


def test_local_server_needs_no_key(no_openai_key):
    with ScriptedLLMServer([Reply("local answer")]) as server:
        client = LLMClient(make_config(server.url))
        reply = client.complete(HELLO)
    assert reply.text == "local answer"
    assert server.authorizations == [f"Bearer {PLACEHOLDER_KEY}"]
    assert client.stats().succeeded == 1 and client.stats().failed == 0


def test_api_key_env_names_the_variable_holding_the_key(monkeypatch, no_openai_key):
    monkeypatch.setenv("AHD_TEST_SERVER_KEY", SECRET)
    with ScriptedLLMServer([Reply("ok")]) as server:
        config = make_config(server.url, api_key_env="AHD_TEST_SERVER_KEY")
        LLMClient(config).complete(HELLO)
    assert server.authorizations == [f"Bearer {SECRET}"]
    assert SECRET not in repr(config)


def test_api_key_env_unset_fails_when_the_client_is_made(monkeypatch):
    monkeypatch.delenv("AHD_TEST_UNSET_KEY", raising=False)
    config = make_config("http://127.0.0.1:9/v1", api_key_env="AHD_TEST_UNSET_KEY")
    with pytest.raises(LLMConfigError, match="AHD_TEST_UNSET_KEY, which is not set") as info:
        LLMClient(config)
    assert info.value.kind == "key_env"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", ["sk-live-abc123", "", "1ABC", "A B"])
def test_api_key_env_must_be_a_variable_name_and_is_not_echoed(value):
    with pytest.raises(ValueError, match="api_key_env must name an environment variable") as info:
        LLMConfig(model=MODEL, api_key_env=value)
    if value:
        assert value not in str(info.value)


def test_api_key_and_api_key_env_are_exclusive():
    with pytest.raises(ValueError, match="api_key or api_key_env"):
        LLMConfig(model=MODEL, api_key="k", api_key_env="SOME_KEY")


def test_a_placeholder_the_server_refuses_says_how_to_give_a_key(no_openai_key):
    with ScriptedLLMServer([Status(401, message="API key required")]) as server:
        with pytest.raises(LLMConfigError, match=r"--api-key-env NAME") as info:
            LLMClient(make_config(server.url)).complete(HELLO)
    assert "server wants an API key" in str(info.value)


def test_missing_provider_key_is_a_config_error_not_five_retries(no_openai_key):
    # No api_base, no key: the OpenAI SDK refuses before sending anything (no network).
    client = LLMClient(LLMConfig(model="gpt-4o-mini", max_retries=4, backoff=1.0))
    start = time.monotonic()
    with pytest.raises(LLMConfigError) as info:
        client.complete(HELLO)
    assert time.monotonic() - start < 5
    assert info.value.kind == "missing_key"
    assert "OPENAI_API_KEY" in str(info.value) and "api_key_env" in str(info.value)
    assert client.stats().http_attempts == 1


# -- configuration errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [(401, "auth", "authentication failed"), (403, "permission", "permission denied"),
     (404, "not_found", "model or URL not found")],
)
def test_http_config_errors_stop_at_the_first_request(code, kind, words):
    message = "The model `local-model` does not exist." if code == 404 else "no"
    with ScriptedLLMServer([Status(code, message=message)]) as server:
        client = LLMClient(make_config(server.url, api_key=SECRET))
        start = time.monotonic()
        with pytest.raises(LLMConfigError) as info:
            client.complete(HELLO)
        elapsed = time.monotonic() - start
        # Later requests are not even sent: the configuration cannot have improved.
        with pytest.raises(LLMConfigError):
            client.complete([{"role": "user", "content": "another"}])
    err = info.value
    assert len(server.requests) == 1
    assert elapsed < 5  # not retried with the 1 s back-off
    assert (err.kind, err.status_code) == (kind, code)
    text = str(err)
    assert "\n" not in text and text.startswith(f"{MODEL} at {server.url}: {words}")
    assert f"HTTP {code}" in text and SECRET not in text
    stats = client.stats()
    assert (stats.calls, stats.failed, stats.succeeded, stats.http_attempts) == (2, 2, 0, 1)
    assert stats.all_failed and stats.last_error == text


def test_connection_refused_is_a_config_error_without_retries(no_openai_key):
    server = ScriptedLLMServer()
    url = server.url
    server.stop()  # nothing listens on this port now
    client = LLMClient(make_config(url))
    start = time.monotonic()
    with pytest.raises(LLMConfigError) as info:
        client.complete(HELLO)
    assert time.monotonic() - start < 5  # four retries would take 1 + 2 + 4 + 8 s
    assert info.value.kind == "unreachable"
    assert f"{MODEL} at {url}: cannot connect" in str(info.value)
    assert "Connection refused" in str(info.value) and "is the server running?" in str(info.value)
    assert client.stats().http_attempts == 1


def test_model_litellm_cannot_route_fails_when_the_client_is_made():
    with pytest.raises(LLMConfigError, match="prefix the provider") as info:
        LLMClient(LLMConfig(model="no-such-model-xyz"))
    assert info.value.kind == "unknown_model"


def test_complete_many_raises_after_recording_what_was_sent():
    records = []
    with ScriptedLLMServer([Status(401)], delay=0.05) as server:
        client = LLMClient(make_config(server.url, api_key="k", concurrency=1),
                           on_call=records.append)
        requests = [[{"role": "user", "content": f"q{i}"}] for i in range(4)]
        with pytest.raises(LLMConfigError):
            client.complete_many(requests)
    assert len(server.requests) == 1  # the other three were never sent
    assert [r.status for r in records] == ["error"]
    assert client.stats().failed == 4


def test_transient_errors_are_still_retried():
    script = [Status(503), Status(429, retry_after=0), Reply("third time")]
    with ScriptedLLMServer(script) as server:
        reply = LLMClient(make_config(server.url, api_key="k", backoff=0.01)).complete(HELLO)
    assert reply.text == "third time" and reply.attempts == 3


def test_config_errors_are_not_cached(tmp_path):
    with ScriptedLLMServer([Status(401), Reply("with the right key")]) as server:
        with pytest.raises(LLMConfigError):
            LLMClient(make_config(server.url, api_key="k", cache_dir=tmp_path)).complete(HELLO)
        assert not list(tmp_path.rglob("*.json"))
        reply = LLMClient(make_config(server.url, api_key="k", cache_dir=tmp_path)).complete(HELLO)
    assert reply.text == "with the right key"


def test_config_error_is_not_an_llm_error():
    # Code that turns an LLMError into one failed proposal must not swallow it.
    assert not issubclass(LLMConfigError, LLMError)
    assert issubclass(LLMConfigError, ValueError)
