"""The built-in proposers as registry entries (``ahd.proposers`` entry points).

A factory takes the run's task and the proposer options the CLI collected (``model``,
``api_base``, ``api_key_env``, ``replay``, ``concurrency``, ``cache_dir``, ``on_call``,
``budget``) and returns a :class:`~ahd.proposers.base.Proposer`. A plugin registers its own the
same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ahd.evolve.task import Task

from .base import Proposer


def offline(task: Task, options: Mapping[str, Any]) -> Proposer:
    """The task's own offline proposer (no network): GP suited to its role."""
    return task.offline_proposer()


def llm(task: Task, options: Mapping[str, Any]) -> Proposer:
    """Proposals from any litellm model (``--model``), cached and replayable.

    ``api_key_env`` names the environment variable holding the key (never the key itself);
    ``budget`` is an :class:`ahd.llm.LLMBudget` every request reserves from before it is sent,
    so the run's caps hold whatever the concurrency. Raises :class:`ahd.llm.LLMConfigError`
    (a ``ValueError``) when the model cannot be routed or ``api_key_env`` is unset.
    """
    from ahd.llm import LLMClient, LLMConfig

    from .llm import LLMProposer

    if not options.get("model"):
        raise ValueError("the llm proposer needs --model (any litellm model name)")
    client = LLMClient(
        LLMConfig(model=options["model"], api_base=options.get("api_base"),
                  api_key_env=options.get("api_key_env"),
                  cache_dir=options.get("cache_dir"), replay=bool(options.get("replay")),
                  concurrency=int(options.get("concurrency", 4)),
                  price=options.get("price")),
        on_call=options.get("on_call"),
        budget=options.get("budget"),
    )
    return LLMProposer(client, task)
