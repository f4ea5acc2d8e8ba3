"""On-disk cache of LLM replies, which makes a run replayable with no network.

Every reply is stored under the hash of the full request (model, endpoint, messages, sampling
settings) *and* the occurrence index of that request in the client that made it: the k-th
identical request gets key ``HASH#k``. Sampling the same prompt twice is normal in evolutionary
search, and the two answers differ; keying on the request alone would replay the first answer
twice and change the run. With the occurrence index, a client that makes the same sequence of
requests gets the same sequence of answers.

Failures (after all retries) are stored too, as entries with an ``error``: a replay must fail
where the run failed, or every later answer would shift by one. A live (non-replay) client
ignores them and asks again.

The cache stores what the provider reported: tokens and cost of the original call. Whether a
cached answer counts toward a budget is the caller's decision; the client reports it with
``cached=True`` and the original ``cost_usd`` (see :class:`ahd.llm.client.CallRecord`).

Layout: ``CACHE_DIR/HH/HASH-K.json`` (``HH`` = first two hex digits, to keep directories small),
one JSON file per entry, written atomically (temporary file, then ``os.replace``), so a run killed
mid-write never leaves a half entry under the final name. An entry that is unreadable anyway
(disk trouble, hand editing) is reported as :class:`CorruptEntry` rather than raised, so the client
can treat it as a miss.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ahd.files import write_atomic

__all__ = [
    "CACHE_FORMAT",
    "CachedFailure",
    "CachedReply",
    "CorruptEntry",
    "ResponseCache",
    "request_hash",
    "request_key",
]

#: Version written into every entry; entries with another version are treated as corrupt.
CACHE_FORMAT = 1


def canonical_request(
    model: str,
    api_base: str | None,
    messages: Sequence[dict[str, str]],
    temperature: float,
    max_tokens: int,
) -> dict[str, Any]:
    """The part of a request that determines its answer, as plain JSON data.

    The API key, timeout and retry settings are deliberately absent: they change whether an
    answer arrives, not which answer.
    """
    return {
        "model": model,
        "api_base": api_base,
        "messages": [dict(m) for m in messages],
        "temperature": float(temperature),
        "max_tokens": int(max_tokens),
    }


def request_hash(request: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``request`` (sorted keys, no whitespace)."""
    data = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def request_key(digest: str, occurrence: int) -> str:
    """Cache key of the ``occurrence``-th (from 0) identical request: ``HASH#k``."""
    return f"{digest}#{occurrence}"


@dataclass(frozen=True)
class CachedReply:
    """One cached answer, with what the provider reported when it was first made."""

    key: str
    text: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    model: str
    latency_s: float
    finish_reason: str


@dataclass(frozen=True)
class CachedFailure:
    """A request that failed when it was first made (after all retries).

    Stored so that a replay fails at the same point of the run: a caller that asked again after
    a failure used up one occurrence index, and replay must use it up the same way.
    """

    key: str
    error: str


@dataclass(frozen=True)
class CorruptEntry:
    """An entry file that exists but cannot be used; ``reason`` says why, for messages."""

    path: Path
    reason: str


class ResponseCache:
    """Directory of cached replies, one JSON file per ``HASH#k`` key.

    Safe to share between threads and processes: entries are only ever created whole (atomic
    rename), and two writers of the same key write the same kind of content (last one wins).

    Parameters
    ----------
    root
        Cache directory; created on first write.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        """File that holds (or would hold) the entry for ``key``."""
        digest, _, occurrence = key.partition("#")
        if len(digest) != 64 or not occurrence.isdigit():
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / digest[:2] / f"{digest}-{occurrence}.json"

    def get(self, key: str) -> CachedReply | CachedFailure | CorruptEntry | None:
        """The entry for ``key``, a :class:`CorruptEntry`, or ``None`` when there is none."""
        path = self.path_for(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return CorruptEntry(path, f"cannot read it ({exc.strerror or exc})")
        try:
            return _parse_entry(key, json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            return CorruptEntry(path, f"it is not a valid cache entry ({exc})")

    def put(self, key: str, request: dict[str, Any], reply: CachedReply) -> Path:
        """Store ``reply`` under ``key`` atomically and return the entry's path."""
        outcome = {
            "text": reply.text,
            "tokens_in": reply.tokens_in,
            "tokens_out": reply.tokens_out,
            "cost_usd": reply.cost_usd,
            "model": reply.model,
            "latency_s": reply.latency_s,
            "finish_reason": reply.finish_reason,
        }
        return self._put(key, request, {"reply": outcome})

    def put_failure(self, key: str, request: dict[str, Any], error: str) -> Path:
        """Record that the request under ``key`` failed with ``error`` (already redacted)."""
        return self._put(key, request, {"error": error})

    def _put(self, key: str, request: dict[str, Any], outcome: dict[str, Any]) -> Path:
        path = self.path_for(key)
        entry = {
            "format": CACHE_FORMAT,
            "key": key,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "request": request,
            **outcome,
        }
        write_atomic(path, json.dumps(entry, ensure_ascii=False, indent=1).encode("utf-8"))
        return path


def _parse_entry(key: str, entry: Any) -> CachedReply | CachedFailure:
    """Validate a decoded entry; raise ValueError/KeyError/TypeError when it is unusable."""
    if not isinstance(entry, dict):
        raise TypeError("top level is not an object")
    if entry.get("format") != CACHE_FORMAT:
        raise ValueError(f"format {entry.get('format')!r}, expected {CACHE_FORMAT}")
    if entry.get("key") != key:
        raise ValueError(f"it holds key {entry.get('key')!r}")
    if "error" in entry:
        return CachedFailure(key, str(entry["error"]))
    reply = entry["reply"]
    text = reply["text"]
    if not isinstance(text, str):
        raise TypeError("reply text is not a string")
    return CachedReply(
        key=key,
        text=text,
        tokens_in=int(reply.get("tokens_in", 0)),
        tokens_out=int(reply.get("tokens_out", 0)),
        cost_usd=float(reply.get("cost_usd", 0.0)),
        model=str(reply.get("model", "")),
        latency_s=float(reply.get("latency_s", 0.0)),
        finish_reason=str(reply.get("finish_reason", "")),
    )


