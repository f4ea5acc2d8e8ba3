"""What every task's trusted side shares: record statuses, redaction, and strict type checks.

Candidate code runs only in sandbox children; whatever comes back is treated as hostile. Each
task checks the *shape* of its own results (routes, plans, bin assignments), but the words it
records them with, the way sandbox failures map onto those words, the cap on error text and the
scrubbing of secrets out of it are the same for all, and live here once.

Secrets
-------
Sandbox workers start with a scrubbed environment. As a second line of defence, every text that
comes back from a child (error messages, compile errors) has the values of this process's
secret-looking environment variables, and any other value of 16 characters or more that is not
a path, replaced by ``[redacted]`` before it is recorded, so no secret from ``os.environ``
reaches the store.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from ahd.sandbox.worker import is_secret

#: Statuses of an evaluation record. ``ok`` (verified objective), ``error`` (the candidate
#: raised or broke its contract), ``timeout`` (wall clock or CPU limit), ``crashed`` (a signal),
#: ``memory``, ``infeasible`` (the returned solution fails verification), ``invalid`` (the
#: child's result is malformed or claims a score), ``static`` (rejected before running).
RECORD_STATUSES = (
    "ok", "error", "timeout", "crashed", "memory", "infeasible", "invalid", "static",
)
#: How sandbox statuses map onto record statuses (``ok`` and ``error`` are looked into by the
#: task, which knows what its child returns).
SANDBOX_STATUS = {
    "timeout": "timeout",
    "cpu_limit": "timeout",
    "memory": "memory",
    "crashed": "crashed",
    "killed": "crashed",
    "output_limit": "error",
    "bad_result": "invalid",
    "error": "error",
}
#: A returned key containing one of these (case-insensitively) is a forged score.
SCORE_WORDS = ("cost", "objective", "score", "fitness")
#: Longest error or compile-error text kept per record.
MAX_ERROR_CHARS = 4000


class InvalidOutput(ValueError):
    """A child's result does not have the required shape; the message says where."""


def record_status(sandbox_status: str) -> str:
    """The record status of a sandbox failure (``"error"`` for anything unknown)."""
    return SANDBOX_STATUS.get(sandbox_status, "error")


def clip(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) > limit:
        return text[:limit] + f"... [{len(text) - limit} chars cut]"
    return text


def is_pathlike(value: str) -> bool:
    """Whether every ``os.pathsep`` part of ``value`` looks like a path (not redacted)."""
    return all(not part or part.startswith(("/", "~", ".")) for part in value.split(os.pathsep))


def secret_values() -> list[str]:
    """Values to keep out of records: those of secret-looking variables, and any other long
    value that is not a path (a token under an unexpected name); longest first."""
    values = {
        v
        for k, v in os.environ.items()
        if len(v) >= 4 and (is_secret(k) or (len(v) >= 16 and not is_pathlike(v)))
    }
    return sorted(values, key=len, reverse=True)


def redact(value: Any, secrets: Sequence[str] | None = None) -> Any:
    """``value`` with every secret environment value in its strings replaced."""
    secrets = secret_values() if secrets is None else secrets
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, "[redacted]")
        return value
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    return value


def clean_error(text: str, secrets: Sequence[str] | None = None) -> str:
    """Error text as it may be recorded: clipped, then redacted."""
    return redact(clip(text), secrets)


def score_like(key: str) -> bool:
    """Whether a result key looks like a score the child has no business reporting."""
    low = key.lower()
    return any(word in low for word in SCORE_WORDS)


def is_int(x: Any) -> bool:
    """A plain ``int`` (not a bool, not a numpy scalar: those must not survive unpickling)."""
    return type(x) is int


def is_real(x: Any) -> bool:
    """A plain finite ``int`` or ``float``."""
    return type(x) in (int, float) and math.isfinite(x)
