"""Which API key a request carries: the configured one, one named by an environment variable,
the provider's usual variable, or a placeholder for a local server.

A local OpenAI-compatible server (vLLM, llama.cpp, LM Studio) ignores the key, but litellm's
``openai/`` route uses the OpenAI SDK, which refuses to send a request without one ("Missing
credentials"; litellm's documentation says to pass a fake key). So when ``api_base`` is given
and no key is available, the client sends :data:`PLACEHOLDER_KEY`, as litellm itself does for
``hosted_vllm/``. A server that does want a key then answers 401, which the client reports as a
configuration error naming :attr:`LLMConfig.api_key_env`, the way to give one: the key stays in
the environment, never on a command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ahd.llm.config import LLMConfig
from ahd.llm.provider import missing_key_variables
from ahd.llm.results import LLMConfigError

__all__ = ["PLACEHOLDER_KEY", "Credentials", "resolve_credentials"]

#: Sent to an ``api_base`` when no key is available; vLLM's documented "no key" value.
PLACEHOLDER_KEY = "EMPTY"


@dataclass(frozen=True)
class Credentials:
    """The key to pass to litellm (``None``: let litellm read the provider's variable).

    ``placeholder`` says the key is :data:`PLACEHOLDER_KEY`; ``missing`` lists the provider's
    variables that were looked for and not set (for the message if the server wants a key).
    """

    api_key: str | None = field(default=None, repr=False)
    placeholder: bool = False
    missing: tuple[str, ...] = ()


def resolve_credentials(config: LLMConfig) -> Credentials:
    """The key for ``config``'s requests.

    Order: ``config.api_key``; the variable named by ``config.api_key_env``; the provider's own
    variables (litellm reads them); with ``api_base`` and none of those, the placeholder.

    Raises
    ------
    LLMConfigError
        ``config.api_key_env`` names a variable that is unset or empty.
    """
    if config.api_key is not None:
        return Credentials(config.api_key)
    if config.api_key_env is not None:
        value = os.environ.get(config.api_key_env, "")
        if not value:
            raise LLMConfigError(
                f"{config.model}: api_key_env names {config.api_key_env}, which is not set "
                f"(or empty) in the environment [export {config.api_key_env}=... first]",
                kind="key_env",
            )
        return Credentials(value)
    missing = missing_key_variables(config.model, config.api_base)
    if config.api_base is not None and missing:
        return Credentials(PLACEHOLDER_KEY, placeholder=True, missing=missing)
    return Credentials(None, missing=missing or ())
