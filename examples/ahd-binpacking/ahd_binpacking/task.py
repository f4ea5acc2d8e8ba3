"""Online bin packing as an evolution task: one role (``priority``), candidates scored alone.

The loop (:class:`ahd.evolve.loop.Evolution`) sees only the :class:`ahd.evolve.task.Task`
protocol; this module says what a priority function means.

Instances and splits
--------------------
``train`` and ``validation`` are generated Weibull sets (:func:`training_set`, seeds far from
the test seeds) unless the config names OR-Library files for them; ``test`` is Weibull 5k
(:func:`weibull_5k`), which the loop never asks for: the winner is chosen on ``validation``,
and only benchmarks score ``test``.

Scoring and trust
-----------------
One sandbox request per candidate and split (:func:`ahd_binpacking.child.run_priority`)
compiles the candidate once and packs every instance of the split; the child returns the bin
of every item, never a score. The parent checks the structure strictly, verifies each packing
against the instance it owns (:func:`verify_assignment`) and computes the excess itself.
``fitness`` is the mean excess in percent; any failed instance makes it ``inf`` (a priority
that breaks on one instance is broken), with the first error recorded.

Smoke test and reuse
--------------------
:meth:`BinPackingTask.smoke` packs a small instance first and, in the same child (the numba
compilation is most of the cost), the training instances. Only the small instance decides the
smoke verdict; the verified training records are kept and returned by the next
``evaluate(team, "train")`` of the same code, which halves the compilations per candidate.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ahd.candidate import Candidate, Origin
from ahd.evolve.task import RunSummary, TeamOutcome
from ahd.sandbox import SandboxLimits
from ahd.static_check import SAFE_BUILTINS, RoleSpec, static_check
from ahd.trust import record_status

from . import texts
from .child import CHILD_SPEC
from .config import BinPackingConfig
from .instances import Instance, smoke_instance, training_set, weibull_5k
from .seeds import SEEDS
from .verify import (
    InvalidAssignment,
    InvalidResult,
    check_child_result,
    clean_text,
    excess_percent,
    verify_assignment,
)

ROLE = texts.ROLE
ROLES = (ROLE,)
ENTRY = "priority"
#: Modules candidate code may import.
ALLOWED_IMPORTS = frozenset({"math", "numpy"})
#: Names candidate code may use unbound (the child provides ``np``, ``numpy`` and ``math``).
ALLOWED_NAMES = SAFE_BUILTINS | frozenset({"np", "numpy", "math", "OverflowError"})
#: Most smoke results kept for reuse by ``evaluate(team, "train")``.
REUSE_LIMIT = 2000


@dataclass
class BinPackingRecord:
    """One instance's verified outcome, in the shape the loop stores.

    ``status``: ``ok`` (a verified packing; ``objective`` is the excess in percent),
    ``error`` (priority raised, returned NaN or the wrong length), ``invalid`` (code numba
    cannot compile, or a malformed result), ``infeasible`` (an assignment that is not a valid
    packing: forged, overfull, wrong length), ``timeout``, ``memory``, ``crashed``.
    """

    instance: str
    status: str
    objective: float | None = None
    time: float | None = None
    error: str | None = None
    bins: int | None = None
    lower_bound: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)


class BinPackingTask:
    """Online bin packing as a :class:`ahd.evolve.task.Task` (see the module docstring).

    Parameters
    ----------
    config : BinPackingConfig
        Instances and limits.
    pool : SandboxPool
        Started with ``warmup=WARMUP_SPEC`` (see :meth:`ahd_binpacking.plugin.BinPackingPlugin
        .sandbox_options`), so that children inherit the compiled engine.
    """

    problem = "binpacking"
    roles = ROLES
    cooperative = False
    entry_points = {ROLE: ENTRY}
    prompt_dir = resources.files("ahd_binpacking").joinpath("prompts")

    def __init__(self, config: BinPackingConfig, pool: Any):
        self.config = config
        self.pool = pool
        self._sets: dict[str, list[Instance]] = {}
        self._smoke = smoke_instance(config.smoke_items)
        self._reuse: OrderedDict[str, list[BinPackingRecord]] = OrderedDict()
        #: (candidate id, split) -> summary of its last evaluation (for the proposers)
        self.stats: dict[tuple[int, str], dict[str, Any]] = {}
        for split in ("train", "validation"):
            self.instances(split)  # a bad file fails now, not in round 1

    # --- instances ------------------------------------------------------------------------

    def instances(self, split: str) -> list[Instance]:
        """The instances of ``split`` (``train``, ``validation`` or ``test`` = Weibull 5k)."""
        if split not in self._sets:
            c = self.config
            if split == "test":
                found = weibull_5k()
            elif split in ("train", "validation"):
                path = c.train_file if split == "train" else c.validation_file
                if path is not None:
                    from .orlib import read_orlib

                    found = read_orlib(path)
                else:
                    count = c.n_train if split == "train" else c.n_validation
                    found = training_set(split, count, c.n_items, c.seed)
            else:
                raise ValueError(f"unknown split {split!r}; expected train, validation or test")
            self._sets[split] = found
        return self._sets[split]

    def instance_names(self, split: str) -> list[str]:
        return [inst.name for inst in self.instances(split)]

    # --- texts ----------------------------------------------------------------------------

    def describe(self) -> str:
        return texts.describe(self.instances("train"), self.config.train_file is None,
                              self.config.offer_new_bin)

    def role_doc(self, role: str) -> str:
        return texts.role_doc(role, self.config.offer_new_bin)

    def parent_summary(self, parent: Any) -> str | None:
        stats = self.stats.get((parent.candidate.id, "train"))
        return texts.parent_summary(stats, parent.credit, len(self.instances("train")))

    # --- candidates -----------------------------------------------------------------------

    def seeds(self) -> dict[str, list[Candidate]]:
        """First fit and best fit."""
        return {ROLE: [Candidate(source, ROLES, self.problem,
                                 origin=Origin("seed", strategy=name))
                       for name, source in SEEDS.items()]}

    def check(self, source: str, roles: tuple[str, ...]) -> list[str]:
        """Static problems: syntax, imports (``math``, ``numpy``), names, the signature."""
        if tuple(roles) != ROLES:
            return [f"bin packing candidates fill exactly the role {ROLE!r}, not {roles}"]
        if not isinstance(source, str) or not source.strip():
            return ["the source is empty: define priority(item, bins)"]
        return static_check(source, [RoleSpec(ROLE, ("item", "bins"), ENTRY)],
                            allowed_imports=ALLOWED_IMPORTS, allowed_names=ALLOWED_NAMES)

    def offline_proposer(self) -> Any:
        from .proposer import GPProposer

        return GPProposer()

    # --- scoring --------------------------------------------------------------------------

    def _submit(self, source: str, instances: list[Instance]) -> cf.Future:
        request = {"source": source, "offer_new_bin": bool(self.config.offer_new_bin),
                   "instances": [(inst.items, inst.capacity) for inst in instances]}
        limits = SandboxLimits(wall_time=self.config.sandbox_wall,
                               memory_bytes=int(self.config.memory_mb * (1 << 20)))
        return self.pool.submit(CHILD_SPEC, (request,), limits)

    def _records(self, instances: list[Instance], result: Any) -> list[BinPackingRecord]:
        """Trusted side: check the child's answer, verify each packing, score it."""
        wall = float(result.wall_time)
        share = wall / max(1, len(instances))
        base = {"sandbox_status": result.status, "cpu_time": float(result.cpu_time)}

        def failed(status: str, error: str) -> list[BinPackingRecord]:
            text = clean_text(error)
            return [BinPackingRecord(inst.name, status, None, share, text,
                                     lower_bound=inst.lower_bound, metrics=dict(base))
                    for inst in instances]

        if result.status != "ok":
            status = record_status(result.status)
            error = result.error or result.status
            if status == "timeout":
                error = (f"no answer within {self.config.sandbox_wall:g} s for {len(instances)} "
                         f"instances: priority is far too slow or never returns ({error})")
            return failed(status, error)
        try:
            value = check_child_result(result.value, len(instances))
        except InvalidResult as exc:
            return failed("invalid", f"invalid result from the sandbox: {exc}")
        if value["status"] == "invalid":
            return failed("invalid", value["error"] or "the candidate does not compile")
        base["compile_seconds"] = float(value["compile_seconds"])
        out = []
        for inst, (assignment, message) in zip(instances, value["results"], strict=True):
            rec = BinPackingRecord(inst.name, "error", None, share, lower_bound=inst.lower_bound,
                                   metrics=dict(base))
            if assignment is None:
                rec.error = clean_text(message)
            else:
                try:
                    rec.bins = verify_assignment(inst, assignment, self.config.offer_new_bin)
                    rec.status, rec.objective = "ok", excess_percent(rec.bins, inst)
                    rec.metrics.update(bins=rec.bins, lower_bound=inst.lower_bound)
                except InvalidAssignment as exc:
                    rec.status, rec.error = "infeasible", f"invalid packing: {exc}"
            out.append(rec)
        return out

    def score(self, source: str, instances: list[Instance]) -> list[BinPackingRecord]:
        """Run ``source`` on ``instances`` in one sandbox child and verify every packing."""
        return self._records(instances, self._submit(source, instances).result())

    def _outcome(self, cand: Candidate, split: str,
                 records: list[BinPackingRecord]) -> TeamOutcome:
        ok = bool(records) and all(r.status == "ok" for r in records)
        value = sum(r.objective for r in records) / len(records) if ok else math.inf
        outcome = TeamOutcome(fitness=value, records=list(records))
        outcome.objectives = {r.instance: r.objective for r in records if r.status == "ok"}
        errors = [f"{r.instance}: {r.status}: {r.error}" for r in records if r.status != "ok"]
        if errors:
            outcome.error = errors[0]
            if cand.id is not None:
                outcome.errors[cand.id] = outcome.error
        if cand.id is not None:
            self.stats[(cand.id, split)] = {
                "fitness": value, "n": len(records), "errors": errors,
                "excess": [r.objective for r in records if r.status == "ok"],
                "bins": sum(r.bins or 0 for r in records),
                "lower_bound": sum(r.lower_bound for r in records),
            }
        return outcome

    def evaluate(self, team: dict[str, list[Candidate]], split: str) -> TeamOutcome:
        """The candidate alone on every instance of ``split``, in one sandbox child."""
        (cand,) = team[ROLE]
        records = self._reuse.pop(cand.code_hash, None) if split == "train" else None
        if records is None:
            records = self.score(cand.source, self.instances(split))
        return self._outcome(cand, split, records)

    def smoke(self, candidates: list[Candidate]) -> list[str]:
        """Each candidate on the small smoke instance (then the training instances, whose
        verified records the next ``evaluate(team, "train")`` reuses); ``""`` or the error."""
        batch = [self._smoke, *self.instances("train")]
        jobs = [self._submit(cand.source, batch) for cand in candidates]
        out = []
        for cand, job in zip(candidates, jobs, strict=True):
            first, *train = self._records(batch, job.result())
            if first.status != "ok":
                out.append(f"{first.status}: {first.error or ''}".strip())
                continue
            self._reuse[cand.code_hash] = train
            while len(self._reuse) > REUSE_LIMIT:
                self._reuse.popitem(last=False)
            out.append("")
        return out

    # --- end of a run ---------------------------------------------------------------------

    def summarise(self, result: Any, store: Any, run_dir: Path) -> RunSummary:
        from .summary import summarise

        return summarise(self, result, store, Path(run_dir))


__all__ = ["ALLOWED_IMPORTS", "BinPackingRecord", "BinPackingTask", "ENTRY", "ROLE", "ROLES"]
