"""Keeping secrets out of error messages: the API key and credential-like values.

Provider errors may quote the request, headers included, and an error message ends up in logs,
the store and the proposer's prompt; everything the client raises goes through :func:`redact`
first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

#: Environment variables whose values are redacted from error text (they hold credentials).
_SECRET_ENV = re.compile(r"(API_KEY|_KEY|_TOKEN|_SECRET|PASSWORD)$", re.IGNORECASE)
#: Secrets at least this long are redacted wherever they occur, shorter ones only as whole words.
_LONG_SECRET = 8
#: Key-shaped tokens (``sk-...``, ``gsk_...``), possibly partly masked by the provider.
_KEY_LIKE = re.compile(r"\b(?:sk|pk|rk|gsk|xai|key)[-_][A-Za-z0-9_\-.*]{6,}")


def known_secrets(api_key: str | None) -> list[str]:
    """Strings to redact: the configured key and credential-like environment values."""
    found = {api_key} if api_key else set()
    for name, value in os.environ.items():
        if _SECRET_ENV.search(name) and len(value) >= _LONG_SECRET:
            found.add(value)
    return sorted(found, key=len, reverse=True)  # longest first: a key may contain another


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret, and every key-shaped token, replaced by ``***``.

    A short secret (a test key such as ``"test"``) is replaced only where it stands alone, so
    that redaction does not shred every word containing it.
    """
    for secret in secrets:
        if len(secret) >= _LONG_SECRET:
            text = text.replace(secret, "***")
        else:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    return _KEY_LIKE.sub("***", text)
