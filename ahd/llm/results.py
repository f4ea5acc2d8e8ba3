"""What a request to a language model produces: a reply, an error, and a record of the call.

:class:`LLMReply` and :class:`LLMError` are what :class:`~ahd.llm.client.LLMClient` returns or
raises; :class:`CallRecord` is the one line per request (answered, cached or failed) that the
client hands to its ``on_call`` callback for the store. :class:`LLMConfigError` is the failure
no retry and no other request can cure (wrong key, model or URL), which must stop a run rather
than be counted as one more failed proposal; :class:`BudgetExceeded` is a request the budget did
not let out; :class:`CallStats` counts outcomes so a run can tell "every call failed" from
"some did". They are plain values with no dependency on litellm, so callers can handle them
without importing it.
"""

from __future__ import annotations

import dataclasses
import threading
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


class BudgetExceeded(LLMError):
    """The request was not sent (or not sent again): its reservation would pass a budget cap.

    Returned in place by :meth:`~ahd.llm.client.LLMClient.complete_many` like any failed
    request, so answers already paid for are kept; the run learns that the budget is spent from
    :attr:`ahd.llm.budget.LLMBudget.exhausted`. ``attempts`` counts the attempts that were sent
    before the refusal (0 when the request never left).
    """


class LLMConfigError(ValueError):
    """The model cannot be reached as configured: wrong or missing key, unknown model, a URL
    nothing answers at.

    Not an :class:`LLMError`: code that treats a failed request as one bad proposal (and goes
    on) must not swallow it, because every later request would fail the same way. It is a
    ``ValueError`` (bad input the user must fix), raised at the first request that shows it
    and never retried; the message is one line naming the model, the URL and the cause, with
    the key redacted.

    Attributes
    ----------
    kind
        ``"auth"``, ``"permission"``, ``"missing_key"``, ``"not_found"``, ``"unknown_model"``,
        ``"unreachable"``, ``"key_env"`` (``api_key_env`` names an unset variable) or
        ``"unpriced"`` (a cost cap on a model with no known price).
    status_code
        The HTTP status that showed it, when there was one.
    """

    def __init__(self, message: str, *, kind: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code


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


@dataclass(frozen=True)
class CallStats:
    """Outcomes of the requests one client handled, counted per request (not per attempt).

    ``calls`` = ``succeeded`` + ``failed`` + ``refused``. ``succeeded`` includes ``cached``
    answers. ``failed`` counts requests that ended in an error, configuration errors included;
    ``refused`` those the budget kept from being sent at all. ``http_attempts`` counts the HTTP
    requests actually sent, retries included (what a provider bills and a budget caps).
    ``last_error`` is the latest failure's message (redacted), to say *why* a run got nothing.
    """

    calls: int = 0
    succeeded: int = 0
    cached: int = 0
    failed: int = 0
    refused: int = 0
    http_attempts: int = 0
    last_error: str | None = None

    @property
    def all_failed(self) -> bool:
        """Requests failed and none was answered: the run learned nothing from the model."""
        return self.failed > 0 and self.succeeded == 0


class Tally:
    """Thread-safe counting of request outcomes into :class:`CallStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = CallStats()

    def snapshot(self) -> CallStats:
        with self._lock:
            return self._stats

    def sent(self) -> None:
        """One more HTTP attempt went out."""
        with self._lock:
            self._stats = dataclasses.replace(
                self._stats, http_attempts=self._stats.http_attempts + 1
            )

    def count(self, outcome: LLMReply | LLMError | LLMConfigError) -> None:
        """One request ended with ``outcome``."""
        with self._lock:
            s = self._stats
            if isinstance(outcome, LLMReply):
                s = dataclasses.replace(s, succeeded=s.succeeded + 1,
                                        cached=s.cached + int(outcome.cached))
            elif isinstance(outcome, BudgetExceeded):
                s = dataclasses.replace(s, refused=s.refused + 1, last_error=str(outcome))
            else:
                s = dataclasses.replace(s, failed=s.failed + 1, last_error=str(outcome))
            self._stats = dataclasses.replace(s, calls=s.calls + 1)


def record_of(
    outcome: LLMReply | LLMError | LLMConfigError, model: str, key: str, latency: float
) -> CallRecord:
    """The :class:`CallRecord` of one outcome; ``model``, ``key`` and ``latency`` describe a
    failure, which carries none of them."""
    if isinstance(outcome, LLMReply):
        return CallRecord(
            outcome.model, outcome.tokens_in, outcome.tokens_out, outcome.cost_usd,
            outcome.latency_s, outcome.cached, "ok", None, outcome.request_hash,
        )
    return CallRecord(model, 0, 0, 0.0, latency, False, "error", str(outcome), key)
