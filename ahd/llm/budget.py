"""Hard caps on what a run spends on a language model: calls, tokens and cost.

Checking the totals between rounds lets a round overshoot: with several requests in flight and
fix-up requests after them, ``--max-calls 6`` let more than six requests reach the server. A cap
that must hold is enforced where requests leave: every HTTP attempt first *reserves* one call
and an upper bound of its tokens and cost from an :class:`LLMBudget`, under a lock, and is
refused (:class:`~ahd.llm.results.BudgetExceeded`, nothing sent) when the reservation would take
a total past its cap; when the answer comes back, the reservation is *settled* with the usage
the provider reported. So, whatever the concurrency, at most ``max_calls`` attempts are sent,
and the tokens and cost used or reserved never pass their caps while the estimates are upper
bounds (see :func:`prompt_token_bound`).

Only requests sent to the provider count: a cached answer costs nothing now and reserves
nothing. The budget knows nothing of litellm; the client supplies the estimates.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from ahd.llm.results import BudgetExceeded

__all__ = ["LLMBudget", "Reservation", "Usage", "prompt_token_bound"]

#: Tokens a chat template may add around each message (role markers, separators) and around
#: the whole conversation (the assistant's header); generous, since a cap must not be passed.
_PER_MESSAGE = 8
_PER_REQUEST = 16


def prompt_token_bound(messages: Sequence[dict[str, str]]) -> int:
    """An upper bound on the prompt tokens of ``messages``, without a tokenizer.

    Byte-level tokenizers (the BPE of GPT, Llama, Qwen, Mistral...) never make a token shorter
    than one byte, so the UTF-8 length bounds the count whatever the model; the template's
    additions are bounded per message. The bound is about four times the true count for English
    text and code: it only matters near a ``max_tokens`` cap, where it errs on the safe side.
    """
    content = sum(len(str(m.get("content", "")).encode("utf-8")) for m in messages)
    return content + _PER_MESSAGE * len(messages) + _PER_REQUEST


@dataclass(frozen=True)
class Usage:
    """Calls, tokens (prompt + completion) and cost in USD."""

    calls: int = 0
    tokens: int = 0
    cost: float = 0.0


class Reservation:
    """One attempt's hold on the budget, settled exactly once by :meth:`LLMBudget.settle`."""

    __slots__ = ("cost", "settled", "tokens")

    def __init__(self, tokens: int, cost: float) -> None:
        self.tokens = tokens
        self.cost = cost
        self.settled = False


def _check_cap(name: str, value: object) -> None:
    if value is None:
        return
    if (not isinstance(value, (int, float)) or isinstance(value, bool)
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"LLMBudget.{name} must be a finite number >= 0 or None, got {value!r}")
    if name != "max_cost" and not isinstance(value, int):
        raise ValueError(f"LLMBudget.{name} must be an integer, got {value!r}")


class LLMBudget:
    """Thread-safe caps on calls, tokens and cost, enforced by reservation before sending.

    Parameters
    ----------
    max_calls, max_tokens, max_cost
        Caps on HTTP attempts sent (retries included), on prompt + completion tokens, and on
        USD; ``None`` means no cap. ``max_cost`` can only bound models litellm has a price for:
        an unpriced model (a local server) costs 0.
    spent
        What was used before this budget was made (a resumed run's totals), counted against
        the caps.

    Examples
    --------
    >>> budget = LLMBudget(max_calls=1)
    >>> held = budget.reserve(tokens=100, cost=0.0)
    >>> budget.settle(held, tokens=42, cost=0.0)
    >>> budget.spent, budget.exhausted
    (Usage(calls=1, tokens=42, cost=0.0), 'max_calls 1 reached')
    """

    def __init__(
        self,
        max_calls: int | None = None,
        max_tokens: int | None = None,
        max_cost: float | None = None,
        *,
        spent: Usage = Usage(),
    ) -> None:
        for name, value in (("max_calls", max_calls), ("max_tokens", max_tokens),
                            ("max_cost", max_cost)):
            _check_cap(name, value)
        self.max_calls = max_calls
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self._lock = threading.Lock()
        self._calls = spent.calls
        self._tokens = spent.tokens
        self._cost = float(spent.cost)
        self._held_tokens = 0
        self._held_cost = 0.0
        self._refusal: str | None = None

    def __repr__(self) -> str:
        return (f"LLMBudget(max_calls={self.max_calls}, max_tokens={self.max_tokens}, "
                f"max_cost={self.max_cost}, spent={self.spent})")

    def reserve(self, tokens: int, cost: float) -> Reservation:
        """Hold one call, ``tokens`` and ``cost`` for an attempt about to be sent.

        Raises
        ------
        BudgetExceeded
            The reservation would pass a cap; nothing is held and the request must not be sent.
        """
        with self._lock:
            reason = self._over(tokens, cost)
            if reason is not None:
                self._refusal = self._refusal or reason
                raise BudgetExceeded(f"LLM budget exhausted: {reason}; request not sent")
            self._calls += 1
            self._held_tokens += tokens
            self._held_cost += cost
            return Reservation(tokens, cost)

    def settle(self, reservation: Reservation, tokens: int, cost: float) -> None:
        """Replace ``reservation``'s estimate by what the attempt used (the call stays spent)."""
        with self._lock:
            if reservation.settled:
                raise ValueError("reservation settled twice")
            reservation.settled = True
            self._held_tokens -= reservation.tokens
            self._held_cost -= reservation.cost
            self._tokens += tokens
            self._cost += cost

    @property
    def spent(self) -> Usage:
        """Calls sent, and tokens and cost of the attempts settled so far."""
        with self._lock:
            return Usage(self._calls, self._tokens, self._cost)

    @property
    def exhausted(self) -> str | None:
        """Why no more requests can go out (a refusal happened, or every call is spent), else
        ``None``: the run's stop rule should stop on it."""
        with self._lock:
            if self._refusal is not None:
                return self._refusal
            if self.max_calls is not None and self._calls >= self.max_calls:
                return f"max_calls {self.max_calls} reached"
            return None

    def _over(self, tokens: int, cost: float) -> str | None:
        """The cap this reservation would pass, as a reason; called under the lock."""
        if self.max_calls is not None and self._calls + 1 > self.max_calls:
            return f"max_calls {self.max_calls} reached"
        used_tokens = self._tokens + self._held_tokens
        if self.max_tokens is not None and used_tokens + tokens > self.max_tokens:
            return (f"max_tokens {self.max_tokens}: {used_tokens} used or reserved, the next "
                    f"request may use up to {tokens}")
        used_cost = self._cost + self._held_cost
        if self.max_cost is not None and used_cost + cost > self.max_cost:
            return (f"max_cost {self.max_cost:g} USD: {used_cost:.4f} used or reserved, the "
                    f"next request may cost up to {cost:.4f}")
        return None
