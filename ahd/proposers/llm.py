"""The LLM proposer: prompt templates (data files) in, extracted code out, errors sent back.

One template per strategy lives in ``ahd/prompts/``; it receives the problem description, the
role's signature and documentation, and the parents' code with their credits and usage. Replies
without code are answered with the extractor's message; static and runtime errors come back
through :meth:`LLMProposer.fix`, up to the loop's retry bound.

A failed request makes a failed proposal (the round goes on with the others), except a
configuration error (:class:`~ahd.llm.LLMConfigError`: wrong key, model or URL), which
propagates: every later request would fail the same way. Every request, fix-ups included, goes
through the one client, so its budget caps all of them; :attr:`LLMProposer.stats` says how many
succeeded, failed or were refused.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from string import Template

import numpy as np

from ahd.candidate import Origin
from ahd.llm import (
    BudgetExceeded,
    CallStats,
    LLMBudget,
    LLMClient,
    LLMError,
    NoCodeError,
    extract_code,
)

from .base import Proposal, ProposalRequest


def template(name: str, own: Traversable | None = None) -> Template:
    """The prompt template ``<name>.txt`` from the task's own folder ``own``, else the shared
    one in ``ahd/prompts/``: a task replaces any shared template with problem-specific wording
    by shipping a file of the same name (``task.prompt_dir``)."""
    if own is not None and own.joinpath(f"{name}.txt").is_file():
        path = own.joinpath(f"{name}.txt")
    else:
        path = resources.files("ahd").joinpath("prompts").joinpath(f"{name}.txt")
    return Template(path.read_text("utf-8"))


class LLMProposer:
    """Proposals from any litellm model (see :class:`ahd.llm.LLMClient`)."""

    name = "llm"

    def __init__(self, client: LLMClient, task, no_code_retries: int = 1):
        self.client = client
        self.task = task
        self.no_code_retries = no_code_retries

    @property
    def stats(self) -> CallStats:
        """Outcomes of this proposer's requests so far (see :class:`ahd.llm.CallStats`)."""
        return self.client.stats()

    @property
    def budget(self) -> LLMBudget | None:
        """The caps its requests reserve from (``None``: none)."""
        return self.client.budget

    # --- prompts --------------------------------------------------------------------------

    def _template(self, name: str) -> Template:
        return template(name, self.task.prompt_dir)

    def _entry_names(self, req: ProposalRequest) -> list[str]:
        """Function names to ask for and extract: ``task.entry_points`` or the role names."""
        return [self.task.entry_points.get(role, role) for role in req.roles]

    def _entries(self, req: ProposalRequest) -> str:
        return "`, `".join(self._entry_names(req))

    def _parents(self, req: ProposalRequest) -> str:
        if not req.parents:
            seeds = self.task.seeds()[req.roles[0]]
            return f"```python\n{seeds[0].source}```"
        blocks = []
        for i, p in enumerate(req.parents, 1):
            stats = (self.task.parent_summary(p)
                     or f"credit {p.credit:.3f}, used {p.uses:.0f} times")
            blocks.append(
                f"Parent {i} ({stats}):\n"
                f"```python\n{p.candidate.source.rstrip()}\n```"
            )
        return "\n\n".join(blocks)

    def messages(self, req: ProposalRequest) -> list[dict[str, str]]:
        role_doc = "\n\n".join(self.task.role_doc(role) for role in req.roles)
        fitness = "unknown" if req.team_fitness is None else f"{req.team_fitness:.6g}"
        common = self._template("_common").substitute(
            problem=self.task.describe(), role_doc=role_doc, team_fitness=fitness
        )
        user = self._template(req.strategy).substitute(
            common=common, roles=" and ".join(req.roles), parents=self._parents(req),
            entries=self._entries(req), synergy="positive",
        )
        return [
            {"role": "system", "content": self._template("system").template.strip()},
            {"role": "user", "content": user},
        ]

    # --- proposing ------------------------------------------------------------------------

    def __call__(
        self, requests: list[ProposalRequest], rng: np.random.Generator
    ) -> list[Proposal]:
        conversations = [self.messages(req) for req in requests]
        replies = self.client.complete_many(conversations)
        out = []
        for req, conv, reply in zip(requests, conversations, replies, strict=True):
            out.append(self._settle(req, conv, reply, self.no_code_retries))
        return out

    def _origin(self, req: ProposalRequest, replies: list) -> Origin:
        ok = [r for r in replies if not isinstance(r, LLMError)]
        return Origin(
            "llm", strategy=req.strategy, template=req.strategy, model=self.client.config.model,
            tokens_in=sum(r.tokens_in for r in ok), tokens_out=sum(r.tokens_out for r in ok),
            cost_usd=sum(r.cost_usd for r in ok),
        )

    def _settle(self, req, conv, reply, retries: int, history: list | None = None) -> Proposal:
        history = (history or []) + [reply]
        if isinstance(reply, LLMError):
            failed = Proposal(req, None, self._origin(req, history), error=str(reply),
                              attempts=len(history))
            # Not the model's fault: the run's budget is spent (the loop may stop, not count it).
            failed.extra["budget_exhausted"] = isinstance(reply, BudgetExceeded)
            return failed
        conv = conv + [{"role": "assistant", "content": reply.text}]
        try:
            source = extract_code(reply.text, self._entry_names(req))
        except NoCodeError as exc:
            if retries <= 0:
                return Proposal(req, None, self._origin(req, history), error=str(exc),
                                conversation=conv, attempts=len(history))
            conv = conv + [{"role": "user", "content": str(exc)}]
            try:
                again = self.client.complete(conv)
            except LLMError as err:
                again = err
            return self._settle(req, conv, again, retries - 1, history)
        proposal = Proposal(req, source, self._origin(req, history), conversation=conv,
                            attempts=len(history))
        proposal.extra["replies"] = history
        return proposal

    def fix(self, proposal: Proposal, error: str) -> Proposal | None:
        if proposal.conversation is None:
            return None
        text = self._template("fix").substitute(error=error[:3000], entries=self._entries(
            proposal.request))
        conv = proposal.conversation + [{"role": "user", "content": text}]
        try:
            reply = self.client.complete(conv)
        except LLMError as err:
            reply = err
        history = list(proposal.extra.get("replies", []))
        return self._settle(proposal.request, conv, reply, self.no_code_retries, history)
