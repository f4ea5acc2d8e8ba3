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

This module holds the client itself; its parts live beside it: :mod:`ahd.llm.config`
(:class:`LLMConfig`), :mod:`ahd.llm.results` (replies, errors, call records),
:mod:`ahd.llm.messages` (request validation), :mod:`ahd.llm.provider` (litellm: lazy import,
failure classification, prices) and :mod:`ahd.llm.redaction` (secrets out of messages). The
names callers used to import from here still can be.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
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
from ahd.llm.config import LLMConfig
from ahd.llm.messages import Messages, check_messages
from ahd.llm.provider import HINTS, Failure, classify_failure, completion_cost, import_litellm
from ahd.llm.redaction import known_secrets, redact
from ahd.llm.results import CallRecord, LLMError, LLMReply, ReplayMiss, record_of

__all__ = [
    "CallRecord",
    "LLMClient",
    "LLMConfig",
    "LLMError",
    "LLMReply",
    "Messages",
    "ReplayMiss",
    "redact",
]

log = logging.getLogger(__name__)

#: Longest provider error text kept in a message; provider errors can embed whole request bodies.
_MAX_DETAIL = 600


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
        self._secrets = known_secrets(config.api_key)
        if not config.replay:
            import_litellm()  # import now (seconds), not inside the first request's latency

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
            check_messages(messages)
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
        check_messages(messages)
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
        return outcome, record_of(outcome, self.config.model, key, latency)

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
                    failure = classify_failure(exc)
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
        return import_litellm().completion(**kwargs)

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
            cost_usd=completion_cost(response),
            latency_s=time.monotonic() - start,
            cached=False,
            model=str(getattr(response, "model", None) or self.config.model),
            attempts=attempts,
            request_hash=key,
            finish_reason=str(getattr(choice, "finish_reason", None) or ""),
        )

    def _error(self, failure: Failure, attempts: int) -> LLMError:
        detail = failure.detail
        if len(detail) > _MAX_DETAIL:
            detail = detail[:_MAX_DETAIL] + " ..."
        why = "gave up after" if failure.retryable else "not retried; failed after"
        message = f"{self.config.model}: {failure.kind} ({why} {attempts} attempt"
        message += f"{'s' if attempts != 1 else ''}): {detail}"
        hint = HINTS.get(failure.kind)
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
