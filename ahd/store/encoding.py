"""How Python values become SQLite column values: timestamps, JSON, role lists, id chunks.

Every table module writes through these helpers, so the stored text has one format: UTC
timestamps in ISO 8601 with milliseconds, compact JSON with sorted keys (dataclasses, sets and
numpy values included), roles in canonical order, and ``IN (...)`` lists cut to a size SQLite
accepts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from typing import Any

from ..candidate import canonical_roles

#: Candidate ids per ``IN (...)`` query, well below SQLite's bound-parameter limit.
CHUNK = 500


def now() -> str:
    """The current UTC time, ISO 8601 with milliseconds: every ``created`` column."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _json_default(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):  # numpy arrays
        return obj.tolist()
    return str(obj)


def dumps(obj: Any) -> str:
    """Compact JSON with sorted keys, for the JSON columns (config, metrics, origin ...)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size``, one ``IN (...)`` query each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def roles_text(roles: Iterable[str]) -> str:
    """The ``roles`` column: the roles in canonical order, comma-separated."""
    return ",".join(canonical_roles(roles))
