"""The chat messages a request is made of, and the check that they are well formed.

A malformed message list is a bug in the caller, not a provider failure: :func:`check_messages`
raises ``ValueError`` before anything is sent or a cache key is reserved.
"""

from __future__ import annotations

from collections.abc import Sequence

Messages = Sequence[dict[str, str]]

_ROLES = frozenset({"system", "user", "assistant"})


def check_messages(messages: Messages) -> None:
    """Raise ValueError unless ``messages`` is a non-empty list of role/content string dicts."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise ValueError("messages must be a non-empty list of {'role', 'content'} dicts")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ValueError(f"messages[{i}] must be a dict, got {type(message).__name__}")
        role, content = message.get("role"), message.get("content")
        if role not in _ROLES:
            raise ValueError(f"messages[{i}]['role'] must be one of {sorted(_ROLES)}, got {role!r}")
        if not isinstance(content, str):
            raise ValueError(f"messages[{i}]['content'] must be a string")
