"""How to reach a language model and how hard to try: :class:`LLMConfig`.

The configuration is checked in full when it is made (types, ranges, URL scheme, replay needing
a cache), so a typo in a run's settings fails before the first request rather than minutes into
a run. It is a plain value, made and checked (and shown, its ``repr`` hiding the key) without
any of the client's machinery.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

#: What an environment variable's name looks like (and a key does not: keys have dashes).
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_number(name: str, value: object, low: float, high: float = math.inf) -> None:
    if not _is_number(value) or not math.isfinite(value) or not low <= value <= high:
        bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f">= {low:g}"
        raise ValueError(f"LLMConfig.{name} must be a finite number {bound}, got {value!r}")


def _check_int(name: str, value: object, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"LLMConfig.{name} must be an integer >= {low}, got {value!r}")


@dataclass(frozen=True)
class LLMConfig:
    """How to reach a model and how hard to try.

    Parameters
    ----------
    model
        Any litellm model string: ``"gpt-4o-mini"``, ``"ollama/qwen2.5-coder"``,
        ``"openai/NAME"`` (with ``api_base``) for any OpenAI-compatible server.
    api_base
        Endpoint URL (``http://`` or ``https://``); ``None`` uses the provider's default.
    api_key
        ``None`` lets litellm read the provider's usual environment variable. Never shown in
        ``repr`` or error messages, never written to the cache.
    api_key_env
        Name of the environment variable holding the key (``"VLLM_KEY"``), for a server whose
        key is not in the provider's usual variable; read when the client is made. The way to
        give a key from a command line without putting the key itself there. With
        ``api_base`` and no key at all, a placeholder is sent (local servers ignore it; see
        :mod:`ahd.llm.credentials`).
    temperature, max_tokens
        Sampling settings; both are part of the cache key.
    timeout
        Seconds per HTTP request (each attempt).
    max_retries
        Retries after the first attempt, for retryable failures only (429, 5xx, timeouts,
        connection errors).
    backoff, backoff_cap
        First wait in seconds, doubled after each retry, never above ``backoff_cap``. A
        ``Retry-After`` from the server replaces the computed wait (also capped).
    concurrency
        Most requests in flight at once through one client, across all threads.
    cache_dir
        On-disk response cache (:mod:`ahd.llm.cache`); ``None`` disables it.
    replay
        Answer only from ``cache_dir``; a request not in the cache raises :class:`ReplayMiss`.
        Nothing touches the network (litellm is not imported).
    price
        ``(prompt, completion)`` USD per million tokens. Replaces litellm's price map for cost
        accounting; needed for a cost cap on a model the map has no price for (a local or
        self-hosted server, a new model), whose calls would otherwise cost nothing and never
        reach the cap.
    """

    model: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str | None = None
    temperature: float = 0.8
    max_tokens: int = 4096
    timeout: float = 120.0
    max_retries: int = 4
    backoff: float = 1.0
    backoff_cap: float = 30.0
    concurrency: int = 4
    cache_dir: Path | None = None
    replay: bool = False
    price: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"LLMConfig.model must be a non-empty string, got {self.model!r}")
        if self.api_base is not None and (
            not isinstance(self.api_base, str)
            or not self.api_base.startswith(("http://", "https://"))
        ):
            raise ValueError(
                f"LLMConfig.api_base must be an http:// or https:// URL, got {self.api_base!r}"
            )
        if self.api_key is not None and (not isinstance(self.api_key, str) or not self.api_key):
            raise ValueError("LLMConfig.api_key must be a non-empty string or None")
        if self.api_key_env is not None:
            if not isinstance(self.api_key_env, str) or not _ENV_NAME.fullmatch(self.api_key_env):
                # The value is not echoed: it may be a key given by mistake.
                raise ValueError("LLMConfig.api_key_env must name an environment variable "
                                 "(letters, digits, underscores), not hold the key")
            if self.api_key is not None:
                raise ValueError("LLMConfig takes api_key or api_key_env, not both")
        _check_number("temperature", self.temperature, 0.0, 2.0)
        _check_int("max_tokens", self.max_tokens, 1)
        _check_number("timeout", self.timeout, 0.0)
        if self.timeout <= 0:
            raise ValueError(f"LLMConfig.timeout must be positive, got {self.timeout!r}")
        _check_int("max_retries", self.max_retries, 0)
        _check_number("backoff", self.backoff, 0.0)
        _check_number("backoff_cap", self.backoff_cap, self.backoff)
        _check_int("concurrency", self.concurrency, 1)
        if self.cache_dir is not None:
            if not isinstance(self.cache_dir, (str, os.PathLike)):
                raise ValueError(f"LLMConfig.cache_dir must be a path, got {self.cache_dir!r}")
            object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        if self.price is not None:
            if not (isinstance(self.price, (tuple, list)) and len(self.price) == 2):
                raise ValueError("LLMConfig.price must be (prompt, completion) USD per million "
                                 f"tokens, got {self.price!r}")
            for name, value in zip(("prompt", "completion"), self.price, strict=True):
                _check_number(f"price ({name})", value, 0.0)
            object.__setattr__(self, "price", (float(self.price[0]), float(self.price[1])))
        if not isinstance(self.replay, bool):
            raise ValueError(f"LLMConfig.replay must be a bool, got {self.replay!r}")
        if self.replay and self.cache_dir is None:
            raise ValueError("LLMConfig.replay=True needs cache_dir: replay answers from the cache")
