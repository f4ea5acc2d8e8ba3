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
- **Configuration errors stop at once.** A wrong or missing key, an unknown model, a URL
  nothing answers at (before the server has answered once) raise :class:`LLMConfigError` at
  the first request, never retried; later requests through the same client raise it too
  without being sent.
- **Local servers need no key.** With ``api_base`` and no key anywhere a placeholder is sent
  (:mod:`ahd.llm.credentials`); ``api_key_env`` names the variable of a key that is needed.
- **Hard budget caps.** With an :class:`~ahd.llm.budget.LLMBudget`, every HTTP attempt reserves
  a call and an upper bound of its tokens and cost before it is sent and is refused
  (:class:`BudgetExceeded`) if that would pass a cap, whatever the concurrency.
- **One :class:`CallRecord` per request** (answered, cached or failed) handed to ``on_call`` in
  the calling thread, so the caller can write it to its (per-thread) SQLite store; requests
  that were never sent (refused by the budget, or after a configuration error) have none.
  :meth:`LLMClient.stats` counts every outcome, so a run can tell that all calls failed.
- **A response cache and replay** (:mod:`ahd.llm.cache`): with ``replay=True`` a recorded run is
  re-run offline, answer for answer; litellm is not even imported.
- **No secrets in errors.** The API key (and key-like environment values) are redacted from every
  message, and :class:`LLMError` never chains the provider's exception, whose text may hold them.

This module holds the client itself; its parts live beside it: :mod:`ahd.llm.config`
(:class:`LLMConfig`), :mod:`ahd.llm.results` (replies, errors, call records, stats),
:mod:`ahd.llm.messages` (request validation), :mod:`ahd.llm.provider` (litellm: lazy import,
failure classification, prices), :mod:`ahd.llm.credentials` (which key is sent),
:mod:`ahd.llm.budget` (caps), :mod:`ahd.llm.errors` (messages) and :mod:`ahd.llm.redaction`
(secrets out of messages). The names callers used to import from here still can be.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Any

from ahd.llm.budget import LLMBudget, Reservation, prompt_token_bound
from ahd.llm.cache import ResponseCache, canonical_request, request_hash, request_key
from ahd.llm.config import LLMConfig
from ahd.llm.credentials import Credentials, resolve_credentials
from ahd.llm.errors import config_error, refusal, request_error, unpriced_cap
from ahd.llm.messages import Messages, check_messages
from ahd.llm.provider import (
    Failure,
    check_model,
    classify_failure,
    estimate_cost,
    import_litellm,
    reply_from,
)
from ahd.llm.redaction import known_secrets, redact
from ahd.llm.replay import cached_outcome, remember
from ahd.llm.results import (
    BudgetExceeded,
    CallRecord,
    CallStats,
    LLMConfigError,
    LLMError,
    LLMReply,
    ReplayMiss,
    Tally,
    record_of,
)

__all__ = [
    "CallRecord",
    "CallStats",
    "LLMClient",
    "LLMConfig",
    "LLMConfigError",
    "LLMError",
    "LLMReply",
    "Messages",
    "ReplayMiss",
    "redact",
]

log = logging.getLogger(__name__)

#: What one request can end in.
Outcome = LLMReply | LLMError | LLMConfigError


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
        Called once per request sent or answered from the cache (answered or failed) with its
        :class:`CallRecord`, always in the thread that called :meth:`complete` or
        :meth:`complete_many`, so it may use a per-thread resource such as
        :class:`ahd.store.Store`. An exception it raises propagates to that caller.
    budget
        Caps every HTTP attempt must reserve from before it is sent; ``None``: no caps. May be
        shared by several clients.

    Raises
    ------
    LLMConfigError
        (Not in replay mode.) litellm knows no provider for ``config.model``, or
        ``config.api_key_env`` names an unset variable.
    """

    def __init__(
        self,
        config: LLMConfig,
        on_call: Callable[[CallRecord], None] | None = None,
        budget: LLMBudget | None = None,
    ) -> None:
        self.config = config
        self.budget = budget
        self._on_call = on_call
        self._cache = ResponseCache(config.cache_dir) if config.cache_dir is not None else None
        self._slots = threading.BoundedSemaphore(config.concurrency)
        self._lock = threading.Lock()
        self._occurrences: dict[str, int] = {}
        self._tally = Tally()
        self._answered = False  # a server reply seen: a refused connection is transient now
        self._broken: LLMConfigError | None = None  # the first configuration error, if any
        self._credentials = Credentials(config.api_key)
        if not config.replay:
            import_litellm()  # import now (seconds), not inside the first request's latency
            self._check_routing()
            self._credentials = resolve_credentials(config)
        key = self._credentials.api_key
        self._secrets = known_secrets(None if self._credentials.placeholder else key)
        unpriced = None if budget is None or config.replay else unpriced_cap(
            config.model, config.price, budget.max_cost)
        if unpriced is not None:
            raise unpriced

    def __repr__(self) -> str:
        return f"LLMClient({self.config!r})"

    def _check_routing(self) -> None:
        reason = check_model(self.config.model, self.config.api_base)
        if reason is not None:
            raise LLMConfigError(
                f"{self.config.model}: {redact(reason, known_secrets(None))[:300]} [prefix the "
                "provider: e.g. openai/NAME with api_base for an OpenAI-compatible server]",
                kind="unknown_model",
            )

    def stats(self) -> CallStats:
        """Outcomes so far (a snapshot): how many requests succeeded, failed, were refused."""
        return self._tally.snapshot()

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
            The request failed for good (:class:`ReplayMiss` in replay mode with no answer,
            :class:`BudgetExceeded` when the budget did not let it out).
        LLMConfigError
            The key, model or URL is wrong: every request would fail (not retried).
        ValueError
            ``messages`` is malformed (a bug in the caller, not a provider failure).
        """
        request, key = self._prepare(messages)
        outcome, record = self._run(request, key)
        self._notify(record)
        if isinstance(outcome, (LLMError, LLMConfigError)):
            raise outcome from None
        return outcome

    def complete_many(self, requests: Sequence[Messages]) -> list[LLMReply | LLMError]:
        """Answer several requests, up to ``concurrency`` at once; results in request order.

        Failures are returned in place (not raised), so one bad request does not lose the
        others' answers. Cache keys are assigned in request order before anything runs, so a
        replay returns the same answer at the same position whatever the completion order.

        Raises
        ------
        LLMConfigError
            Once every request has finished (and been passed to ``on_call``), if any showed a
            configuration error; requests not yet sent by then were not sent.
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
        for outcome in results:
            if isinstance(outcome, LLMConfigError):
                raise outcome from None
        return [r for r in results if isinstance(r, (LLMReply, LLMError))]

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

    def _notify(self, record: CallRecord | None) -> None:
        if self._on_call is not None and record is not None:
            self._on_call(record)

    def _run(self, request: dict[str, Any], key: str) -> tuple[Outcome, CallRecord | None]:
        """Answer from the cache or the provider; never raises its failure, returns it (with
        no record when nothing was sent)."""
        start = time.monotonic()
        outcome: Outcome | None = None
        if self._cache is not None:
            outcome = cached_outcome(self._cache, request, key, start, self.config.replay,
                                     self.config.model)
        sent = True
        if outcome is None:
            outcome, attempts = self._from_provider(request, key, start)
            sent = attempts > 0
            if self._cache is not None:
                remember(self._cache, request, key, outcome)
        self._tally.count(outcome)
        if not sent:
            return outcome, None
        latency = time.monotonic() - start
        return outcome, record_of(outcome, self.config.model, key, latency)

    def _from_provider(
        self, request: dict[str, Any], key: str, start: float
    ) -> tuple[Outcome, int]:
        """Call litellm, retrying what may succeed later; return the reply or the final error,
        and the number of attempts sent."""
        cfg = self.config
        attempts = 0
        failure: Failure | None = None
        estimate = self._estimate(request)
        while True:
            with self._slots:
                broken = self._broken
                if broken is not None:  # a configuration error: nothing can succeed now
                    return LLMConfigError(str(broken), kind=broken.kind,
                                          status_code=broken.status_code), attempts
                try:
                    held = None if self.budget is None else self.budget.reserve(*estimate)
                except BudgetExceeded as refused:
                    return refusal(cfg.model, refused, failure, attempts, self._secrets), attempts
                attempts += 1
                self._tally.sent()
                try:
                    response = self._send(request)
                except Exception as exc:  # classified, never re-raised: its text may hold the key
                    failure = classify_failure(exc)
                    # A timed-out attempt may have been done (and billed): its estimate stays.
                    self._settle(held, estimate if failure.timed_out else (0, 0.0))
                else:
                    with self._lock:
                        self._answered = True
                    reply = reply_from(response, cfg.model, key, time.monotonic() - start,
                                       attempts)
                    if cfg.price is not None and isinstance(reply, LLMReply):
                        reply = replace(reply, cost_usd=self._cost(reply.tokens_in,
                                                                   reply.tokens_out))
                    self._settle(held, self._used(reply, estimate))
                    return reply, attempts
            if self._is_config(failure):
                return self._config_error(failure), attempts
            if not failure.retryable or attempts > cfg.max_retries:
                return request_error(cfg.model, failure, attempts, self._secrets), attempts
            wait = self._wait(attempts, failure.retry_after)
            log.info(
                "LLM %s: %s (attempt %d of %d), retrying in %.2f s",
                cfg.model, failure.kind, attempts, cfg.max_retries + 1, wait,
            )
            time.sleep(wait)

    # budget and configuration errors

    def _estimate(self, request: dict[str, Any]) -> tuple[int, float]:
        """Upper bounds of one attempt's tokens and cost, reserved before it is sent."""
        if self.budget is None:
            return 0, 0.0
        prompt = prompt_token_bound(request["messages"])
        tokens = prompt + self.config.max_tokens
        return tokens, self._cost(prompt, self.config.max_tokens)

    def _cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for that many tokens: the configured price, else litellm's price map."""
        if self.config.price is not None:
            per_prompt, per_completion = self.config.price
            return (prompt_tokens * per_prompt + completion_tokens * per_completion) / 1e6
        return estimate_cost(self.config.model, prompt_tokens, completion_tokens)

    @staticmethod
    def _used(reply: LLMReply | LLMError, estimate: tuple[int, float]) -> tuple[int, float]:
        """Tokens and cost of an answered attempt, from the provider's usage report; with no
        report (zero tokens, as some local servers answer), the estimate, so that a cap still
        binds."""
        if not isinstance(reply, LLMReply):
            return 0, 0.0
        tokens = reply.tokens_in + reply.tokens_out
        return (tokens, reply.cost_usd) if tokens > 0 else estimate

    def _settle(self, held: Reservation | None, used: tuple[int, float]) -> None:
        """Replace an attempt's reserved estimate by the tokens and cost it ``used``."""
        if held is not None and self.budget is not None:
            self.budget.settle(held, *used)

    def _is_config(self, failure: Failure) -> bool:
        """A configuration error; a refused connection only until the server has answered."""
        if failure.config == "unreachable":
            with self._lock:
                return not self._answered
        return failure.config is not None

    def _config_error(self, failure: Failure) -> LLMConfigError:
        error = config_error(self.config, failure, self._credentials, self._secrets)
        with self._lock:
            if self._broken is None:
                self._broken = error
        return error

    # litellm

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
        if self._credentials.api_key is not None:
            kwargs["api_key"] = self._credentials.api_key
        return import_litellm().completion(**kwargs)

    def _wait(self, attempts: int, retry_after: float | None) -> float:
        cfg = self.config
        wait = retry_after if retry_after is not None else cfg.backoff * 2.0 ** (attempts - 1)
        return min(wait, cfg.backoff_cap)
