"""Credit assignment inside a cooperative team.

G-LNS scores an operator by the reward it accumulated, so an operator that the adaptive
selection picks often scores high whatever it contributes, and its pair "synergy" never removes
each partner's own effect. Here an operator's credit is the improvement it took part in *per
use*, relative to the mean gain per use of its pool on the same instance (1.0 = average), with
a prior of :data:`PRIOR_USES` average uses so that a rarely chosen operator is not judged on a
handful of lucky iterations. Pair synergy is the residual of an additive model: the pair's gain
per use minus what the two operators' own effects predict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: Pseudo-uses at the pool's mean gain added to every operator's record (shrinkage).
PRIOR_USES = 20.0


def _instance_means(
    usage: Mapping[int, Sequence[tuple[float, float]]], members: Sequence[int]
) -> list[float]:
    n = max((len(usage.get(m, ())) for m in members), default=0)
    means = []
    for i in range(n):
        uses = sum(usage[m][i][0] for m in members if len(usage.get(m, ())) > i)
        gain = sum(usage[m][i][1] for m in members if len(usage.get(m, ())) > i)
        means.append(gain / uses if uses > 0 else 0.0)
    return means


def credits(
    usage: Mapping[int, Sequence[tuple[float, float]]], members: Sequence[int]
) -> dict[int, float]:
    """Marginal credit of each member of one pool (see module docstring)."""
    means = _instance_means(usage, members)
    out: dict[int, float] = {}
    for m in members:
        rows = usage.get(m, ())
        values = []
        for i, (uses, gain) in enumerate(rows):
            mean = means[i] if i < len(means) else 0.0
            if mean <= 0:
                continue
            values.append((gain + PRIOR_USES * mean) / (uses + PRIOR_USES) / mean)
        out[m] = sum(values) / len(values) if values else 1.0
    return out


def synergy(
    pairs: Mapping[tuple[int, int], Sequence[tuple[float, float]]],
    usage: Mapping[int, Sequence[tuple[float, float]]],
    destroy: Sequence[int],
    repair: Sequence[int],
) -> dict[tuple[int, int], float]:
    """Interaction of each destroy/repair pair after removing each one's own effect.

    For instance i: ``g(d,r) - g(d) - g(r) + g`` in units of the mean gain per use ``g``, where
    ``g(x)`` is gain per use; shrunk towards 0 with :data:`PRIOR_USES` like the credits.
    """
    means = _instance_means(usage, destroy)
    out: dict[tuple[int, int], float] = {}
    for (d, r), rows in pairs.items():
        values = []
        for i, (uses, gain) in enumerate(rows):
            mean = means[i] if i < len(means) else 0.0
            if mean <= 0 or uses <= 0:
                continue
            own_d = _per_use(usage.get(d, ()), i)
            own_r = _per_use(usage.get(r, ()), i)
            residual = gain / uses - own_d - own_r + mean
            values.append(residual / mean * uses / (uses + PRIOR_USES))
        out[(d, r)] = sum(values) / len(values) if values else 0.0
    return out


def _per_use(rows: Sequence[tuple[float, float]], i: int) -> float:
    if i >= len(rows) or rows[i][0] <= 0:
        return 0.0
    return rows[i][1] / rows[i][0]
