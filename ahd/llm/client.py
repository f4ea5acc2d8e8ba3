"""A thin, robust LLM client over litellm: retries, concurrency limit, cost, cache and replay.

litellm gives one call for every provider (OpenAI, Anthropic, Ollama, any OpenAI-compatible
server via ``model="openai/NAME", api_base=...``). What it does not give is the policy a long
unattended evolution run needs, which lives here:

- **Our own retries.** litellm and the OpenAI SDK retry by default, invisibly; we switch that off
  (``num_retries=0``) and retry only what can succeed later (429, 5xx, timeouts, connection
  errors) with exponential back-off that honours ``Retry-After``. A wrong key or model name fails
  at once with a message that says what to fix, instead of burning minutes on retries.
- **A concurrency limit** shared by every thread using the client, so ``complete_many`` and
  callers' own threads together never exceed ``concurrency`` requests in flight.
- **One :class:`CallRecord` per request** (answered, cached or failed) handed to ``on_call`` in
  the calling thread, so the caller can write it to its (per-thread) SQLite store and enforce
  budgets.
- **A response cache and replay** (:mod:`ahd.llm.cache`): with ``replay=True`` a recorded run is
  re-run offline, answer for answer; litellm is not even imported.
- **No secrets in errors.** The API key (and key-like environment values) are redacted from every
  message, and :class:`LLMError` never chains the provider's exception, whose text may hold them.
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ahd.llm.cache import (
    CachedFailure,
    CachedReply,
    CorruptEntry,
    ResponseCache,
    canonical_request,
    request_hash,
    request_key,
)

# litellm downloads a model price map at import time unless told to use its bundled copy; runs
# are often offline (and must not stall on a network timeout), so the bundled map is the default.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__all__ = [
    "CallRecord",
    "LLMClient",
    "LLMConfig",
    "LLMError",
    "LLMReply",
    "ReplayMiss",
]

log = logging.getLogger(__name__)

Messages = Sequence[dict[str, str]]

_ROLES = frozenset({"system", "user", "assistant"})
#: Longest provider error text kept in a message; provider errors can embed whole request bodies.
_MAX_DETAIL = 600
#: Environment variables whose values are redacted from error text (they hold credentials).
_SECRET_ENV = re.compile(r"(API_KEY|_KEY|_TOKEN|_SECRET|PASSWORD)$", re.IGNORECASE)
#: Secrets at least this long are redacted wherever they occur, shorter ones only as whole words.
_LONG_SECRET = 8
#: Key-shaped tokens (``sk-...``, ``gsk_...``), possibly partly masked by the provider.
_KEY_LIKE = re.compile(r"\b(?:sk|pk|rk|gsk|xai|key)[-_][A-Za-z0-9_\-.*]{6,}")


# -- configuration ----------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_number(name: str, value: object, low: float, high: float = math.inf) -> None:
    if not _is_number(value) or not math.isfinite(value) or not low <= value <= high:
        bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f">= {low:g}"
        raise ValueError(f"LLMConfig.{name} must be a finite number {bound}, got {value!r}")


def _check_int(name: str, value: object, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"LLMConfig.{name} must be an integer >= {low}, got {value!r}")


@dataclass(frozen=True)
class LLMConfig:
    """How to reach a model and how hard to try.

    Parameters
    ----------
    model
        Any litellm model string: ``"gpt-4o-mini"``, ``"ollama/qwen2.5-coder"``,
        ``"openai/NAME"`` (with ``api_base``) for any OpenAI-compatible server.
    api_base
        Endpoint URL (``http://`` or ``https://``); ``None`` uses the provider's default.
    api_key
        ``None`` lets litellm read the provider's usual environment variable. Never shown in
        ``repr`` or error messages, never written to the cache.
    temperature, max_tokens
        Sampling settings; both are part of the cache key.
    timeout
        Seconds per HTTP request (each attempt).
    max_retries
        Retries after the first attempt, for retryable failures only (429, 5xx, timeouts,
        connection errors).
    backoff, backoff_cap
        First wait in seconds, doubled after each retry, never above ``backoff_cap``. A
        ``Retry-After`` from the server replaces the computed wait (also capped).
    concurrency
        Most requests in flight at once through one client, across all threads.
    cache_dir
        On-disk response cache (:mod:`ahd.llm.cache`); ``None`` disables it.
    replay
        Answer only from ``cache_dir``; a request not in the cache raises :class:`ReplayMiss`.
        Nothing touches the network (litellm is not imported).
    """

    model: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    temperature: float = 0.8
    max_tokens: int = 4096
    timeout: float = 120.0
    max_retries: int = 4
    backoff: float = 1.0
    backoff_cap: float = 30.0
    concurrency: int = 4
    cache_dir: Path | None = None
    replay: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"LLMConfig.model must be a non-empty string, got {self.model!r}")
        if self.api_base is not None and (
            not isinstance(self.api_base, str)
            or not self.api_base.startswith(("http://", "https://"))
        ):
            raise ValueError(
                f"LLMConfig.api_base must be an http:// or https:// URL, got {self.api_base!r}"
            )
        if self.api_key is not None and (not isinstance(self.api_key, str) or not self.api_key):
            raise ValueError("LLMConfig.api_key must be a non-empty string or None")
        _check_number("temperature", self.temperature, 0.0, 2.0)
        _check_int("max_tokens", self.max_tokens, 1)
        _check_number("timeout", self.timeout, 0.0)
        if self.timeout <= 0:
            raise ValueError(f"LLMConfig.timeout must be positive, got {self.timeout!r}")
        _check_int("max_retries", self.max_retries, 0)
        _check_number("backoff", self.backoff, 0.0)
        _check_number("backoff_cap", self.backoff_cap, self.backoff)
        _check_int("concurrency", self.concurrency, 1)
        if self.cache_dir is not None:
            if not isinstance(self.cache_dir, (str, os.PathLike)):
                raise ValueError(f"LLMConfig.cache_dir must be a path, got {self.cache_dir!r}")
            object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        if not isinstance(self.replay, bool):
            raise ValueError(f"LLMConfig.replay must be a bool, got {self.replay!r}")
        if self.replay and self.cache_dir is None:
            raise ValueError("LLMConfig.replay=True needs cache_dir: replay answers from the cache")


# -- results and errors -----------------------------------------------------------------------


@dataclass(frozen=True)
class LLMReply:
    """One answer.

    ``tokens_in``/``tokens_out``/``cost_usd`` are what the provider reported for the original
    call, also when the answer came from the cache (``cached=True``, ``attempts=0``).
    ``latency_s`` is the wall time this call took (for a cached answer, the lookup).
    ``request_hash`` is the cache key ``HASH#k``. ``finish_reason`` is the provider's
    (``"length"`` means the reply was cut off at ``max_tokens``).
    """

    text: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_s: float
    cached: bool
    model: str
    attempts: int
    request_hash: str
    finish_reason: str = ""


class LLMError(RuntimeError):
    """A request that failed for good: not retryable, or retries exhausted.

    The message says why and never contains the API key. ``attempts`` is the number of HTTP
    attempts made; ``status_code`` the last HTTP status, when there was one; ``retryable``
    whether the last failure was of a kind that might succeed later (so retries ran out).
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        status_code: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status_code = status_code
        self.retryable = retryable


class ReplayMiss(LLMError):
    """``replay=True`` and the cache has no usable answer for this request."""


@dataclass(frozen=True)
class CallRecord:
    """What one :meth:`LLMClient.complete` produced, for the store and budgets.

    Cached answers carry the original ``tokens_*`` and ``cost_usd`` with ``cached=True``: the
    money was spent once, when the answer was first made. Whether it counts again toward a
    budget (it should not for a resumed run, it may for a comparison of methods) is the
    caller's decision. Failures have ``status="error"``, zero tokens and cost, and the redacted
    ``error`` message.
    """

    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_s: float
    cached: bool
    status: str
    error: str | None
    request_hash: str

    def store_fields(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`ahd.store.Store.record_llm_call`."""
        return {
            "model": self.model,
            "prompt_tokens": self.tokens_in,
            "completion_tokens": self.tokens_out,
            "cost": self.cost_usd,
            "latency": self.latency_s,
            "cached": self.cached,
            "status": self.status,
            "error": self.error,
            "request_hash": self.request_hash,
        }


def _record_of(outcome: LLMReply | LLMError, model: str, key: str, latency: float) -> CallRecord:
    if isinstance(outcome, LLMReply):
        return CallRecord(
            outcome.model, outcome.tokens_in, outcome.tokens_out, outcome.cost_usd,
            outcome.latency_s, outcome.cached, "ok", None, outcome.request_hash,
        )
    return CallRecord(model, 0, 0, 0.0, latency, False, "error", str(outcome), key)


# -- litellm plumbing -------------------------------------------------------------------------


def _litellm() -> Any:
    """Import litellm on first use (it takes seconds) and keep it quiet."""
    import litellm

    # Otherwise every exception also prints "Give Feedback / Get Help" banners to stdout.
    litellm.suppress_debug_info = True
    return litellm


@dataclass(frozen=True)
class _Failure:
    """One failed attempt, classified."""

    kind: str
    detail: str
    status_code: int | None
    retryable: bool
    retry_after: float | None


def _classify(exc: BaseException) -> _Failure:
    """Sort a litellm exception into retryable or not, with a one-line reason."""
    litellm = _litellm()
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    fatal = (
        litellm.AuthenticationError, litellm.BadRequestError, litellm.NotFoundError,
        litellm.PermissionDeniedError, litellm.UnsupportedParamsError,
    )
    transient = (
        litellm.RateLimitError, litellm.InternalServerError, litellm.ServiceUnavailableError,
        litellm.APIConnectionError, litellm.Timeout,
    )
    if isinstance(exc, fatal):
        retryable = False
    elif isinstance(exc, transient):
        retryable = True
    else:
        retryable = status is not None and (status >= 500 or status in (408, 429))
    detail = " ".join(str(exc).split())
    return _Failure(type(exc).__name__, detail, status, retryable, _retry_after(exc))


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``Retry-After``/``retry-after-ms``), if it did."""
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    try:
        millis = headers.get("retry-after-ms")
        if millis is not None:
            return max(0.0, float(millis) / 1000.0)
        value = headers.get("retry-after")
    except (AttributeError, TypeError, ValueError):
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


_HINTS = {
    "AuthenticationError": "check the API key (LLMConfig.api_key or the provider's env variable)",
    "PermissionDeniedError": "the API key is not allowed to use this model",
    "NotFoundError": "check the model name and api_base",
}


def _secrets(api_key: str | None) -> list[str]:
    """Strings to redact: the configured key and credential-like environment values."""
    found = {api_key} if api_key else set()
    for name, value in os.environ.items():
        if _SECRET_ENV.search(name) and len(value) >= _LONG_SECRET:
            found.add(value)
    return sorted(found, key=len, reverse=True)  # longest first: a key may contain another


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret, and every key-shaped token, replaced by ``***``.

    A short secret (a test key such as ``"test"``) is replaced only where it stands alone, so
    that redaction does not shred every word containing it.
    """
    for secret in secrets:
        if len(secret) >= _LONG_SECRET:
            text = text.replace(secret, "***")
        else:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    return _KEY_LIKE.sub("***", text)


# -- the client -------------------------------------------------------------------------------


class LLMClient:
    """Send chat requests through litellm with retries, a concurrency limit, cache and replay.

    Thread-safe: one client may serve many threads; the concurrency limit and the cache's
    occurrence counters are shared among them. Replay reproduces a run when identical requests
    are made in the same relative order (different requests may interleave freely); identical
    requests racing from several threads may swap answers, :meth:`complete_many` never does.

    Parameters
    ----------
    config
        See :class:`LLMConfig`.
    on_call
        Called once per request (answered, cached or failed) with its :class:`CallRecord`,
        always in the thread that called :meth:`complete` or :meth:`complete_many`, so it may
        use a per-thread resource such as :class:`ahd.store.Store`. An exception it raises
        propagates to that caller.
    """

    def __init__(
        self, config: LLMConfig, on_call: Callable[[CallRecord], None] | None = None
    ) -> None:
        self.config = config
        self._on_call = on_call
        self._cache = ResponseCache(config.cache_dir) if config.cache_dir is not None else None
        self._slots = threading.BoundedSemaphore(config.concurrency)
        self._lock = threading.Lock()
        self._occurrences: dict[str, int] = {}
        self._secrets = _secrets(config.api_key)
        if not config.replay:
            _litellm()  # import now (seconds), not inside the first request's latency

    def __repr__(self) -> str:
        return f"LLMClient({self.config!r})"

    # public API

    def complete(self, messages: Messages) -> LLMReply:
        """Answer one chat request.

        Parameters
        ----------
        messages
            ``[{"role": "system"|"user"|"assistant", "content": str}, ...]``.

        Raises
        ------
        LLMError
            The request failed for good (:class:`ReplayMiss` in replay mode with no answer).
        ValueError
            ``messages`` is malformed (a bug in the caller, not a provider failure).
        """
        request, key = self._prepare(messages)
        outcome, record = self._run(request, key)
        self._notify(record)
        if isinstance(outcome, LLMError):
            raise outcome from None
        return outcome

    def complete_many(self, requests: Sequence[Messages]) -> list[LLMReply | LLMError]:
        """Answer several requests, up to ``concurrency`` at once; results in request order.

        Failures are returned in place (not raised), so one bad request does not lose the
        others' answers. Cache keys are assigned in request order before anything runs, so a
        replay returns the same answer at the same position whatever the completion order.
        """
        for messages in requests:  # all valid before any cache key is reserved
            _check_messages(messages)
        prepared = [self._prepare(messages) for messages in requests]
        results: list[LLMReply | LLMError | None] = [None] * len(prepared)
        if not prepared:
            return []
        workers = min(self.config.concurrency, len(prepared))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm") as pool:
            futures = {pool.submit(self._run, req, key): i for i, (req, key) in enumerate(prepared)}
            for future in as_completed(futures):
                outcome, record = future.result()
                self._notify(record)
                results[futures[future]] = outcome
        return [r for r in results if r is not None]

    # steps

    def _prepare(self, messages: Messages) -> tuple[dict[str, Any], str]:
        """Validate ``messages``, build the canonical request and reserve its cache key."""
        _check_messages(messages)
        cfg = self.config
        request = canonical_request(
            cfg.model, cfg.api_base, messages, cfg.temperature, cfg.max_tokens
        )
        digest = request_hash(request)
        with self._lock:
            occurrence = self._occurrences.get(digest, 0)
            self._occurrences[digest] = occurrence + 1
        return request, request_key(digest, occurrence)

    def _notify(self, record: CallRecord) -> None:
        if self._on_call is not None:
            self._on_call(record)

    def _run(self, request: dict[str, Any], key: str) -> tuple[LLMReply | LLMError, CallRecord]:
        """Answer from the cache or the provider; never raises LLMError, returns it."""
        start = time.monotonic()
        outcome = self._from_cache(request, key, start)
        if outcome is None:
            outcome = self._from_provider(request, key, start)
            self._remember(request, key, outcome)
        latency = time.monotonic() - start
        return outcome, _record_of(outcome, self.config.model, key, latency)

    def _from_cache(
        self, request: dict[str, Any], key: str, start: float
    ) -> LLMReply | LLMError | None:
        """The cached outcome for ``key``; ``None`` means: ask the provider."""
        if self._cache is None:
            return None
        entry = self._cache.get(key)
        replay = self.config.replay
        if isinstance(entry, CachedReply):
            return LLMReply(
                entry.text, entry.tokens_in, entry.tokens_out, entry.cost_usd,
                time.monotonic() - start, True, entry.model or self.config.model, 0, key,
                entry.finish_reason,
            )
        if isinstance(entry, CachedFailure):
            if replay:
                return LLMError(f"replayed failure of request {key}: {entry.error}")
            return None  # failures are only replayed, never reused: try again for real
        if isinstance(entry, CorruptEntry):
            message = f"cache entry {entry.path} is unusable: {entry.reason}"
            if replay:
                return ReplayMiss(f"{message}; replay=True cannot ask the model instead")
            log.warning("%s; asking the model again", message)
            return None
        if replay:
            return ReplayMiss(
                f"no cached reply for request {key} (model {request['model']!r}, "
                f"{len(request['messages'])} messages) in {self._cache.root}; replay=True "
                "answers only from the cache: was the run recorded with the same model, "
                "api_base, temperature, max_tokens and prompts, in the same order?"
            )
        return None

    def _from_provider(
        self, request: dict[str, Any], key: str, start: float
    ) -> LLMReply | LLMError:
        """Call litellm, retrying what may succeed later; return the reply or the final error."""
        cfg = self.config
        attempts = 0
        while True:
            attempts += 1
            with self._slots:
                try:
                    response = self._send(request)
                except Exception as exc:  # classified, never re-raised: its text may hold the key
                    failure = _classify(exc)
                else:
                    return self._reply(response, key, start, attempts)
            if not failure.retryable or attempts > cfg.max_retries:
                return self._error(failure, attempts)
            wait = self._wait(attempts, failure.retry_after)
            log.info(
                "LLM %s: %s (attempt %d of %d), retrying in %.2f s",
                cfg.model, failure.kind, attempts, cfg.max_retries + 1, wait,
            )
            time.sleep(wait)

    def _send(self, request: dict[str, Any]) -> Any:
        cfg = self.config
        kwargs: dict[str, Any] = {
            "model": cfg.model,
            "messages": request["messages"],
            "temperature": cfg.temperature,
            "max_tokens": cfg.max_tokens,
            "timeout": cfg.timeout,
            "num_retries": 0,  # retries are ours (see module docstring)
            "drop_params": True,  # e.g. models that reject a temperature: drop it, don't fail
        }
        if cfg.api_base is not None:
            kwargs["api_base"] = cfg.api_base
        if cfg.api_key is not None:
            kwargs["api_key"] = cfg.api_key
        return _litellm().completion(**kwargs)

    def _reply(self, response: Any, key: str, start: float, attempts: int) -> LLMReply | LLMError:
        """Turn a litellm ``ModelResponse`` into an :class:`LLMReply`."""
        choices = getattr(response, "choices", None) or []
        if not choices:
            return LLMError(f"{self.config.model}: the provider returned no choices",
                            attempts=attempts)
        choice = choices[0]
        message = getattr(choice, "message", None)
        text = getattr(message, "content", None) or ""
        usage = getattr(response, "usage", None)
        return LLMReply(
            text=str(text),
            tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
            tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=_cost(response),
            latency_s=time.monotonic() - start,
            cached=False,
            model=str(getattr(response, "model", None) or self.config.model),
            attempts=attempts,
            request_hash=key,
            finish_reason=str(getattr(choice, "finish_reason", None) or ""),
        )

    def _error(self, failure: _Failure, attempts: int) -> LLMError:
        detail = failure.detail
        if len(detail) > _MAX_DETAIL:
            detail = detail[:_MAX_DETAIL] + " ..."
        why = "gave up after" if failure.retryable else "not retried; failed after"
        message = f"{self.config.model}: {failure.kind} ({why} {attempts} attempt"
        message += f"{'s' if attempts != 1 else ''}): {detail}"
        hint = _HINTS.get(failure.kind)
        if hint:
            message += f" [{hint}]"
        return LLMError(
            redact(message, self._secrets), attempts=attempts,
            status_code=failure.status_code, retryable=failure.retryable,
        )

    def _wait(self, attempts: int, retry_after: float | None) -> float:
        cfg = self.config
        wait = retry_after if retry_after is not None else cfg.backoff * 2.0 ** (attempts - 1)
        return min(wait, cfg.backoff_cap)

    def _remember(self, request: dict[str, Any], key: str, outcome: LLMReply | LLMError) -> None:
        """Write a fresh outcome to the cache (failures too, so replay fails in the same place)."""
        if self._cache is None:
            return
        try:
            if isinstance(outcome, LLMReply):
                self._cache.put(key, request, CachedReply(
                    key, outcome.text, outcome.tokens_in, outcome.tokens_out, outcome.cost_usd,
                    outcome.model, outcome.latency_s, outcome.finish_reason,
                ))
            else:
                self._cache.put_failure(key, request, str(outcome))
        except OSError as exc:  # a full disk must not lose an answer that was paid for
            log.warning("could not write LLM cache entry %s: %s", key, exc)


def _cost(response: Any) -> float:
    """Provider cost in USD per litellm's price map; 0.0 for models it does not know."""
    try:
        cost = _litellm().completion_cost(completion_response=response)
    except Exception:  # unknown model / custom endpoint: no price, which is not an error
        return 0.0
    try:
        cost = float(cost or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return cost if math.isfinite(cost) and cost >= 0 else 0.0


def _check_messages(messages: Messages) -> None:
    """Raise ValueError unless ``messages`` is a non-empty list of role/content string dicts."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise ValueError("messages must be a non-empty list of {'role', 'content'} dicts")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ValueError(f"messages[{i}] must be a dict, got {type(message).__name__}")
        role, content = message.get("role"), message.get("content")
        if role not in _ROLES:
            raise ValueError(f"messages[{i}]['role'] must be one of {sorted(_ROLES)}, got {role!r}")
        if not isinstance(content, str):
            raise ValueError(f"messages[{i}]['content'] must be a string")
