"""The ``llm_calls`` table: every request to a language model, for cost accounting.

Cached answers are recorded too (``cached=True``), so a run's totals say both what was spent
and what was reused; nothing from the environment (keys, headers) is ever written.
"""

from __future__ import annotations

from typing import Any

from .connection import StoreConnection, reads
from .encoding import now
from .records import LLMCall


class LLMCallsMixin(StoreConnection):
    """Recording LLM calls and summing their cost; part of :class:`~ahd.store.Store`."""

    def record_llm_call(
        self,
        model: str,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        cost: float = 0.0,
        latency: float | None = None,
        cached: bool = False,
        status: str = "ok",
        error: str | None = None,
        request_hash: str | None = None,
        run_id: int | None = None,
    ) -> int:
        """Record one LLM request (cached answers too, with ``cached=True``); return its id.

        ``run_id`` defaults to the current run; with no current run the call is recorded
        without one. Never pass headers, keys or environment values in ``error``.
        """
        call = LLMCall(
            model, prompt_tokens, completion_tokens, cost, latency, cached, status, error,
            request_hash,
        )
        if run_id is None and self.run is not None:
            run_id = self.run.id
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO llm_calls (run_id, model, prompt_tokens, completion_tokens, cost,"
                " latency, cached, status, error, request_hash, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id, call.model, call.prompt_tokens, call.completion_tokens, call.cost,
                    call.latency, int(call.cached), call.status, call.error, call.request_hash,
                    now(),
                ),
            )
            return int(cur.lastrowid)

    @reads
    def llm_totals(self, run_id: int | None = None) -> dict[str, float]:
        """Calls, and the tokens and cost spent on them (in a run, or in the whole store).

        ``calls`` counts every recorded request, ``cached`` those answered from the cache.
        Tokens and cost are summed over the requests sent to the provider only: a cached row
        carries what its answer cost when it was first made, which was spent (and counted)
        then, not now, so a resumed run's budget and the report do not count it twice.
        """
        query = (
            "SELECT count(*),"
            " coalesce(sum(CASE WHEN cached THEN 0 ELSE prompt_tokens END), 0),"
            " coalesce(sum(CASE WHEN cached THEN 0 ELSE completion_tokens END), 0),"
            " coalesce(sum(CASE WHEN cached THEN 0.0 ELSE cost END), 0.0),"
            " coalesce(sum(cached), 0) FROM llm_calls"
        )
        params: tuple[Any, ...] = ()
        if run_id is not None:
            query += " WHERE run_id = ?"
            params = (run_id,)
        calls, tokens_in, tokens_out, cost, cached = self.conn.execute(query, params).fetchone()
        return {
            "calls": calls, "prompt_tokens": tokens_in, "completion_tokens": tokens_out,
            "cost": cost, "cached": cached,
        }
