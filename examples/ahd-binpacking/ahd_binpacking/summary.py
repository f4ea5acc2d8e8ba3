"""The end of a run: what to tell the user, what to keep in ``summary.json``, the export.

The winner is the loop's choice (the best evolved priority on the validation split, never
chosen on training). It is exported as a module under ``RUN_DIR/generated`` whose header
says where it came from; when no evolved candidate passed validation nothing is exported.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ahd.evolve.task import RunSummary

from .export import export_priority


def _pct(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.3f}%"


def summarise(task: Any, result: Any, store: Any, run_dir: Path) -> RunSummary:
    """Lines, ``summary.json`` fields and the exported winner of a finished run."""
    n_train = len(task.instances("train"))
    n_val = len(task.instances("validation"))
    lines = [f"seeds (best of first fit / best fit): training {_pct(result.seed_train)} "
             f"excess, validation {_pct(result.seed_validation)} "
             f"({n_train} + {n_val} instances)"]
    fields: dict[str, Any] = {
        "problem": task.problem, "stop": result.stop_reason, "seed_train": result.seed_train,
        "seed_validation": result.seed_validation, "exported": None,
        "offer_new_bin": task.config.offer_new_bin, "failures": dict(result.failures),
    }
    winner = result.winner
    if winner is None or winner.validation is None or not math.isfinite(winner.validation):
        lines.append("no evolved priority function passed validation; nothing exported")
        return RunSummary(lines, fields, None)
    (cid,) = winner.members[task.roles[0]]
    cand = store.get_candidate(cid)
    fields.update(winner_candidate=cid, winner_round=winner.round, winner_train=winner.fitness,
                  winner_validation=winner.validation)
    gain = None
    if result.seed_validation is not None and math.isfinite(result.seed_validation):
        gain = result.seed_validation - winner.validation
        fields["validation_gain_points"] = gain
    header = [
        f"Candidate {cid} of run {run_dir.name} (round {winner.round}), proposer "
        f"{cand.origin.proposer} ({cand.origin.strategy}), parents {list(cand.parents)}.",
        f"Mean excess over L1: training {_pct(winner.fitness)} on {n_train} instances, "
        f"validation {_pct(winner.validation)} on {n_val} (seeds: {_pct(result.seed_validation)}).",
        f"Rule: offer_new_bin={task.config.offer_new_bin}. Code hash {cand.code_hash[:16]}.",
    ]
    path = export_priority(cand.source, run_dir / "generated", header)
    fields["exported"] = str(path)
    verdict = "" if gain is None else (
        f" ({gain:+.3f} points vs the seeds)" if gain >= 0 else
        f" (WORSE than the seeds by {-gain:.3f} points)")
    lines.append(f"winner: candidate {cid} (round {winner.round}): validation "
                 f"{_pct(winner.validation)} excess{verdict}, training {_pct(winner.fitness)}")
    lines.append(f"exported: {path}")
    return RunSummary(lines, fields, path)


__all__ = ["summarise"]
