"""The litellm side of a request: importing it lazily, classifying its failures, its prices.

litellm takes seconds to import and is not needed at all in replay mode, so it is imported on
first use (:func:`import_litellm`). Its exceptions are sorted here into failures worth retrying
(429, 5xx, timeouts, connection errors) and failures that will not go away (a wrong key or
model name), with the wait the server asked for and a hint for the user; the client decides what
to do with them.
"""

from __future__ import annotations

import email.utils
import math
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

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
    """One failed attempt, classified."""

    kind: str
    detail: str
    status_code: int | None
    retryable: bool
    retry_after: float | None


def classify_failure(exc: BaseException) -> Failure:
    """Sort a litellm exception into retryable or not, with a one-line reason."""
    litellm = import_litellm()
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
    return Failure(type(exc).__name__, detail, status, retryable, _retry_after(exc))


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
