"""Answering from the response cache: replies, replayed failures and misses.

The cache (:mod:`ahd.llm.cache`) stores entries; this module decides what an entry means for a
request: a cached reply is an answer, a cached failure is replayed only in replay mode (a live
client asks again), an unusable entry is a miss, and in replay mode a miss is an error
(:class:`~ahd.llm.results.ReplayMiss`), since nothing may be sent. Writing fresh outcomes back
lives here too, so both directions of the cache contract sit side by side.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ahd.llm.cache import CachedFailure, CachedReply, CorruptEntry, ResponseCache
from ahd.llm.results import BudgetExceeded, LLMConfigError, LLMError, LLMReply, ReplayMiss

__all__ = ["cached_outcome", "remember"]

log = logging.getLogger("ahd.llm.client")


def cached_outcome(
    cache: ResponseCache, request: dict[str, Any], key: str, start: float, replay: bool,
    model: str,
) -> LLMReply | LLMError | None:
    """The cached outcome for ``key``; ``None`` means: ask the provider."""
    entry = cache.get(key)
    if isinstance(entry, CachedReply):
        return LLMReply(
            entry.text, entry.tokens_in, entry.tokens_out, entry.cost_usd,
            time.monotonic() - start, True, entry.model or model, 0, key, entry.finish_reason,
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
            f"{len(request['messages'])} messages) in {cache.root}; replay=True "
            "answers only from the cache: was the run recorded with the same model, "
            "api_base, temperature, max_tokens and prompts, in the same order?"
        )
    return None


def remember(
    cache: ResponseCache, request: dict[str, Any], key: str,
    outcome: LLMReply | LLMError | LLMConfigError,
) -> None:
    """Write a fresh outcome to the cache (failures too, so replay fails in the same place;
    not configuration errors or budget refusals, which say nothing about the request)."""
    if isinstance(outcome, (LLMConfigError, BudgetExceeded)):
        return
    try:
        if isinstance(outcome, LLMReply):
            cache.put(key, request, CachedReply(
                key, outcome.text, outcome.tokens_in, outcome.tokens_out, outcome.cost_usd,
                outcome.model, outcome.latency_s, outcome.finish_reason,
            ))
        else:
            cache.put_failure(key, request, str(outcome))
    except OSError as exc:  # a full disk must not lose an answer that was paid for
        log.warning("could not write LLM cache entry %s: %s", key, exc)
