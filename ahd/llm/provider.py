"""The litellm side of a request: importing it lazily, classifying its failures, its prices.

litellm takes seconds to import and is not needed at all in replay mode, so it is imported on
first use (:func:`import_litellm`). Its exceptions are sorted here into failures worth retrying
(429, 5xx, timeouts, connection errors) and failures that will not go away (a wrong key or
model name), with the wait the server asked for and a hint for the user; the client decides what
to do with them.

litellm's exception class alone does not tell a configuration problem from a transient one: a
refused connection and a missing key both arrive as ``InternalServerError`` (HTTP 500), the
real cause sits further down the exception chain (``httpx.ConnectError``, the OpenAI SDK's
"Missing credentials"). :func:`classify_failure` reads the whole chain for that reason.
"""

from __future__ import annotations

import email.utils
import math
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ahd.llm.results import LLMError, LLMReply

# litellm downloads a model price map at import time unless told to use its bundled copy; runs
# are often offline (and must not stall on a network timeout), so the bundled map is the default.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def import_litellm() -> Any:
    """Import litellm on first use (it takes seconds) and keep it quiet."""
    import litellm

    # Otherwise every exception also prints "Give Feedback / Get Help" banners to stdout.
    litellm.suppress_debug_info = True
    return litellm


@dataclass(frozen=True)
class Failure:
    """One failed attempt, classified.

    ``config`` names a configuration problem (see :class:`~ahd.llm.results.LLMConfigError`'s
    ``kind``) or is ``None``; ``"unreachable"`` is one only until the server has answered once
    (the client decides). ``timed_out``: the server may have done (and billed) the work.
    """

    kind: str
    detail: str
    status_code: int | None
    retryable: bool
    retry_after: float | None
    config: str | None = None
    timed_out: bool = False
    cause: str = ""


#: Exception class names, anywhere in the chain, that mean "nothing answers at this URL":
#: refused connections, unknown hosts, malformed URLs (httpx, httpcore and the socket layer).
_UNREACHABLE = frozenset({
    "ConnectError", "ConnectionRefusedError", "gaierror", "UnsupportedProtocol", "InvalidURL",
})
#: litellm's message when the model string names no provider it knows.
_NO_PROVIDER = "LLM Provider NOT provided"


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes/contexts, outermost first (cycles cut)."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in out) and len(out) < 16:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _config_problem(
    exc: BaseException, status: int | None, litellm: Any
) -> tuple[str | None, str]:
    """What configuration problem ``exc`` shows, if any, and the text of its root cause (the
    outer text is often just "Connection error.")."""
    for link in _chain(exc):
        name = type(link).__name__
        if name in _UNREACHABLE:
            return "unreachable", " ".join(str(link).split()) or name
        # The OpenAI SDK raises its bare base class when it has no key to send at all.
        if (type(link).__module__.startswith("openai") and name == "OpenAIError"
                and "api_key" in str(link)):
            return "missing_key", ""
    if isinstance(exc, litellm.AuthenticationError) or status == 401:
        return "auth", ""
    if isinstance(exc, litellm.PermissionDeniedError) or status == 403:
        return "permission", ""
    if isinstance(exc, litellm.NotFoundError) or status == 404:
        return "not_found", ""
    if isinstance(exc, litellm.BadRequestError) and _NO_PROVIDER in str(exc):
        return "unknown_model", ""
    return None, ""


def classify_failure(exc: BaseException) -> Failure:
    """Sort a litellm exception into retryable or not, with a one-line reason."""
    litellm = import_litellm()
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    config, cause = _config_problem(exc, status, litellm)
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
    if config is not None and config != "unreachable":
        retryable = False
    detail = " ".join(str(exc).split())
    return Failure(type(exc).__name__, detail, status, retryable, _retry_after(exc), config,
                   isinstance(exc, litellm.Timeout), cause)


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


HINTS = {
    "AuthenticationError": "check the API key (LLMConfig.api_key or the provider's env variable)",
    "PermissionDeniedError": "the API key is not allowed to use this model",
    "NotFoundError": "check the model name and api_base",
}


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """Cost in USD of a call of that size per litellm's price map; 0.0 for an unpriced model."""
    try:
        prompt, completion = import_litellm().cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
        cost = float(prompt) + float(completion)
    except Exception:  # not in the price map (local servers): nothing to estimate
        return 0.0
    return cost if math.isfinite(cost) and cost >= 0 else 0.0


def check_model(model: str, api_base: str | None) -> str | None:
    """Why litellm cannot route ``model`` (no provider prefix it knows), else ``None``."""
    try:
        import_litellm().get_llm_provider(model=model, api_base=api_base)
    except Exception as exc:  # litellm raises BadRequestError; any failure means: cannot route
        return " ".join(str(exc).split())
    return None


def missing_key_variables(model: str, api_base: str | None) -> tuple[str, ...] | None:
    """The environment variables litellm would read the key from, when none of them is set;
    ``()`` when the provider's keys are present (or it needs none); ``None`` when litellm
    cannot tell."""
    try:
        found = import_litellm().validate_environment(model=model, api_base=api_base)
    except Exception:
        return None
    if not isinstance(found, dict):
        return None
    if found.get("keys_in_environment"):
        return ()
    return tuple(str(name) for name in found.get("missing_keys") or ())


def reply_from(
    response: Any, model: str, key: str, latency: float, attempts: int
) -> LLMReply | LLMError:
    """Turn a litellm ``ModelResponse`` into an :class:`LLMReply` (tokens from its ``usage``,
    the provider's own count)."""
    choices = getattr(response, "choices", None) or []
    if not choices:
        return LLMError(f"{model}: the provider returned no choices", attempts=attempts)
    choice = choices[0]
    message = getattr(choice, "message", None)
    text = getattr(message, "content", None) or ""
    usage = getattr(response, "usage", None)
    return LLMReply(
        text=str(text),
        tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
        tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=completion_cost(response),
        latency_s=latency,
        cached=False,
        model=str(getattr(response, "model", None) or model),
        attempts=attempts,
        request_hash=key,
        finish_reason=str(getattr(choice, "finish_reason", None) or ""),
    )


def completion_cost(response: Any) -> float:
    """Provider cost in USD per litellm's price map; 0.0 for models it does not know."""
    try:
        cost = import_litellm().completion_cost(completion_response=response)
    except Exception:  # unknown model / custom endpoint: no price, which is not an error
        return 0.0
    try:
        cost = float(cost or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return cost if math.isfinite(cost) and cost >= 0 else 0.0
