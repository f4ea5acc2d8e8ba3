"""The messages of failed requests: what went wrong, what to fix, never the key.

A failed request becomes an :class:`~ahd.llm.results.LLMError` (this request failed; the run
may go on) or an :class:`~ahd.llm.results.LLMConfigError` (nothing will work until the user
fixes the key, model or URL). Both messages are one line, trimmed (provider errors can quote
whole request bodies) and redacted.
"""

from __future__ import annotations

from collections.abc import Sequence

from ahd.llm.config import LLMConfig
from ahd.llm.credentials import Credentials
from ahd.llm.provider import HINTS, Failure, estimate_cost
from ahd.llm.redaction import redact
from ahd.llm.results import BudgetExceeded, LLMConfigError, LLMError

__all__ = ["config_error", "refusal", "request_error", "unpriced_cap"]

#: Longest provider error text kept in a message; provider errors can embed whole request bodies.
_MAX_DETAIL = 600
#: Shorter for a configuration error, whose own words say what is wrong.
_MAX_CONFIG_DETAIL = 300

_CAUSES = {
    "auth": "authentication failed",
    "permission": "permission denied",
    "missing_key": "no API key to send",
    "not_found": "model or URL not found",
    "unknown_model": "litellm knows no provider for this model name",
    "unreachable": "cannot connect",
}
_KEY_ENV = "name the environment variable holding the key with api_key_env (--api-key-env NAME)"


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def request_error(
    model: str, failure: Failure, attempts: int, secrets: Sequence[str]
) -> LLMError:
    """The :class:`LLMError` of a request whose last attempt failed with ``failure``."""
    why = "gave up after" if failure.retryable else "not retried; failed after"
    message = f"{model}: {failure.kind} ({why} {attempts} attempt"
    message += f"{'s' if attempts != 1 else ''}): {_trim(failure.detail, _MAX_DETAIL)}"
    hint = HINTS.get(failure.kind)
    if hint:
        message += f" [{hint}]"
    return LLMError(
        redact(message, secrets), attempts=attempts,
        status_code=failure.status_code, retryable=failure.retryable,
    )


def _hint(kind: str, config: LLMConfig, credentials: Credentials) -> str:
    if kind == "auth" and credentials.placeholder:
        return f"the server wants an API key: {_KEY_ENV}"
    if kind == "auth":
        return f"check the API key; to use another one, {_KEY_ENV}"
    if kind == "missing_key":
        where = " or ".join(credentials.missing) or "the provider's key variable"
        return f"set {where}, or {_KEY_ENV}"
    if kind == "permission":
        return "the API key is not allowed to use this model"
    if kind == "not_found":
        return ("check the model name and api_base (an OpenAI-compatible server's URL usually "
                "ends in /v1)")
    if kind == "unknown_model":
        return "prefix the provider: e.g. openai/NAME with api_base for an OpenAI-compatible server"
    if config.api_base is not None:
        return "check api_base (scheme, host, port): is the server running?"
    return "check the network connection"


def config_error(
    config: LLMConfig, failure: Failure, credentials: Credentials, secrets: Sequence[str]
) -> LLMConfigError:
    """The one-line :class:`LLMConfigError` for a configuration ``failure``."""
    kind = failure.config or "unreachable"
    where = config.model if config.api_base is None else f"{config.model} at {config.api_base}"
    cause = _CAUSES.get(kind, kind)
    detail = failure.cause or failure.detail
    status = f"HTTP {failure.status_code}: " if kind not in ("unreachable", "missing_key") and (
        failure.status_code is not None) else ""
    message = (f"{where}: {cause} ({status}{_trim(detail, _MAX_CONFIG_DETAIL)}) "
               f"[{_hint(kind, config, credentials)}]")
    status_code = None if kind in ("unreachable", "missing_key") else failure.status_code
    return LLMConfigError(redact(message, secrets), kind=kind, status_code=status_code)


def refusal(
    model: str, refused: BudgetExceeded, failure: Failure | None, attempts: int,
    secrets: Sequence[str],
) -> BudgetExceeded:
    """The :class:`BudgetExceeded` of a request, saying which failed attempts went before."""
    message = f"{model}: {refused}"
    if failure is not None:
        message += f" again (after {attempts} failed attempt{'s' if attempts != 1 else ''}: "
        message += f"{failure.kind})"
    return BudgetExceeded(redact(message, secrets), attempts=attempts)


def unpriced_cap(model: str, price: tuple[float, float] | None,
                 max_cost: float | None) -> LLMConfigError | None:
    """The error for a cost cap that cannot bind: ``max_cost`` on a model with neither a
    given ``price`` nor one in litellm's map (a local server's model costs 0 a call, so the
    cap would never be reached); ``None`` when the cap can bind or there is none."""
    if max_cost is None or price is not None or estimate_cost(model, 1000, 1000) > 0.0:
        return None
    return LLMConfigError(
        f"{model}: litellm has no price for this model, so a cost cap (max_cost "
        f"{max_cost:g} USD) cannot limit it; give its price (--price PROMPT,COMPLETION in USD "
        "per million tokens), or cap it with --max-tokens or --max-calls", kind="unpriced")
