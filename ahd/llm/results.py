"""What a request to a language model produces: a reply, an error, and a record of the call.

:class:`LLMReply` and :class:`LLMError` are what :class:`~ahd.llm.client.LLMClient` returns or
raises; :class:`CallRecord` is the one line per request (answered, cached or failed) that the
client hands to its ``on_call`` callback for the store and for budgets. They are plain values
with no dependency on litellm, so callers can handle them without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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


def record_of(outcome: LLMReply | LLMError, model: str, key: str, latency: float) -> CallRecord:
    """The :class:`CallRecord` of one outcome; ``model``, ``key`` and ``latency`` describe a
    failure, which carries none of them."""
    if isinstance(outcome, LLMReply):
        return CallRecord(
            outcome.model, outcome.tokens_in, outcome.tokens_out, outcome.cost_usd,
            outcome.latency_s, outcome.cached, "ok", None, outcome.request_hash,
        )
    return CallRecord(model, 0, 0, 0.0, latency, False, "error", str(outcome), key)
