"""Validated configuration of the LNS engine."""

from __future__ import annotations

import math
from dataclasses import dataclass

ACCEPTANCE = ("sa", "rrt")
#: Start solutions: ``auto`` takes savings from :data:`SAVINGS_MIN_CUSTOMERS` customers up.
CONSTRUCTIONS = ("auto", "savings", "insertion")
#: Decomposition modes (see :mod:`.decompose`): ``auto`` from DECOMPOSE_MIN_CUSTOMERS up.
DECOMPOSITIONS = ("auto", "on", "off")
DECOMPOSE_MIN_CUSTOMERS = 5000
#: Annealing schedules (see ``schedule``).
SCHEDULES = ("auto", "anytime", "limit")
#: ``schedule="auto"`` anneals anytime from this size up, where it was measured (X instances
#: with n > 500 at 10 s and 60 s: the same mean gaps as the limit schedule); below, the
#: earlier tables were measured with the limit schedule and have not been rerun.
ANYTIME_MIN_CUSTOMERS = 500
#: Below this size the search overtakes any start within a fraction of a second, and insertion
#: keeps every earlier figure (all measured at n <= 500 with it) as it was.
SAVINGS_MIN_CUSTOMERS = 500


@dataclass(frozen=True)
class LNSConfig:
    """Parameters of one LNS run.

    At least one of ``time_limit`` and ``iterations`` must be set; with both, whichever comes
    first stops the run, and the annealing schedule follows whichever is further along.

    Parameters
    ----------
    time_limit
        Wall-clock seconds for the search (compilation and set-up excluded).
    iterations
        Maximum number of destroy/repair iterations.
    seed
        Seeds numba's RNG (operators draw from it), so a run with an iteration limit is
        reproducible.
    acceptance
        ``"sa"`` simulated annealing or ``"rrt"`` record-to-record travel.
    start_temp, end_temp
        Annealing temperatures as multiples of the mean arc length of the initial solution.
        Scaling by the instance's own arc length makes the defaults work for unit-square and
        CVRPLIB coordinates alike (SISR's T0=100, Tf=1 on X instances are about these values).
    rrt_threshold
        Record-to-record travel: initial relative slack over the best cost, decreasing to 0.
    segment, reaction, scores
        Adaptive operator weights (Ropke & Pisinger 2006): every ``segment`` iterations each
        weight moves by ``reaction`` toward the mean score it earned; ``scores`` rewards a new
        global best, an improvement of the current solution, and an accepted worse solution.
    min_remove, max_remove, max_remove_fraction
        Destroy size is drawn uniformly between ``min_remove`` and
        ``min(max_remove, max_remove_fraction * n)`` customers.
    local_search
        Run the compiled granular local search after every repair.
    penalty_target
        Fraction of feasible candidates the capacity penalty steers toward.
    construction
        Start solution: ``"savings"`` (Clarke-Wright on the neighbour lists), ``"insertion"``
        (cheapest insertion in random order) or ``"auto"``: savings from
        :data:`SAVINGS_MIN_CUSTOMERS` customers up except on the TSP. At that size
        insertion's start costs several times the best-known value and the search spends
        much of a minute repairing it.
    decompose, sub_customers, sub_iterations, sub_seconds
        ``"on"``: after the start solution, run the LNS on sub-problems of about
        ``sub_customers`` customers in nearby routes, ``sub_iterations`` iterations each
        (``sub_seconds`` each under the ``"limit"`` schedule: 800 iterations is about what
        3 s gave on an AMD EPYC core at 6,000-20,000 customers; 2,000 made fewer, longer parts
        and ended 0.35-0.46 points worse at 60 s on all four decomposed Belgium instances),
        until
        ``time_limit`` (:mod:`.decompose`); needs a time limit, coordinates, a feasible start
        and more than one route (never the TSP). ``"auto"``:
        from :data:`DECOMPOSE_MIN_CUSTOMERS` customers up, where one iteration on the whole
        costs tens of milliseconds. ``"off"``: one LNS on the whole.
    schedule, first_epoch, reheat
        How the annealing temperature (and record-to-record travel's slack) falls.
        ``"limit"``: once, from ``start_temp`` to ``end_temp``, over the time limit or the
        iteration budget, whichever is further along. ``"anytime"``: in epochs of
        ``first_epoch`` iterations (0: ``max(1000, 2 n)``), doubling, each from the best
        solution so far, the first from ``start_temp``, later ones from ``reheat`` times it
        (in trial runs on six X instances, restarts from the full heat lost 0.05 points at
        60 s; from a tenth, none). Nothing in it depends on the clock, so a run is a prefix
        of every longer run with the same seed: with more time the result is never worse
        (the ``"limit"`` schedule cools faster under a shorter limit, and a 10 s run could
        end better than a 60 s one). ``"auto"``: anytime when only a time limit is set and
        there are at least :data:`ANYTIME_MIN_CUSTOMERS` customers; ``"limit"`` with an
        iteration budget (whose runs are reproducible already, and which evolution uses).
    """

    time_limit: float | None = None
    iterations: int | None = None
    seed: int = 0
    acceptance: str = "sa"
    start_temp: float = 0.5
    end_temp: float = 0.005
    rrt_threshold: float = 0.02
    segment: int = 100
    reaction: float = 0.1
    scores: tuple[float, float, float] = (33.0, 9.0, 13.0)
    min_remove: int = 5
    max_remove: int = 60
    max_remove_fraction: float = 0.3
    local_search: bool = True
    penalty_target: float = 0.3
    construction: str = "auto"
    decompose: str = "auto"
    sub_customers: int = 1000
    sub_seconds: float = 3.0
    sub_iterations: int = 800
    schedule: str = "auto"
    first_epoch: int = 0
    reheat: float = 0.1

    def __post_init__(self) -> None:
        if self.time_limit is None and self.iterations is None:
            raise ValueError("set time_limit or iterations (or both)")
        if self.time_limit is not None and not (self.time_limit > 0 and math.isfinite(
                self.time_limit)):
            raise ValueError(f"time_limit must be positive seconds, got {self.time_limit}")
        if self.iterations is not None and self.iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {self.iterations}")
        if self.acceptance not in ACCEPTANCE:
            raise ValueError(f"acceptance must be one of {ACCEPTANCE}, got {self.acceptance!r}")
        if not 0 < self.end_temp <= self.start_temp:
            raise ValueError("need 0 < end_temp <= start_temp")
        if not 0 <= self.rrt_threshold < 1:
            raise ValueError("rrt_threshold must be in [0, 1)")
        if self.segment < 1 or not 0 < self.reaction <= 1:
            raise ValueError("segment must be >= 1 and reaction in (0, 1]")
        if len(self.scores) != 3 or min(self.scores) < 0:
            raise ValueError("scores must be three non-negative numbers")
        if not 1 <= self.min_remove <= self.max_remove:
            raise ValueError("need 1 <= min_remove <= max_remove")
        if not 0 < self.max_remove_fraction <= 1:
            raise ValueError("max_remove_fraction must be in (0, 1]")
        if not 0 < self.penalty_target < 1:
            raise ValueError("penalty_target must be in (0, 1)")
        if self.decompose not in DECOMPOSITIONS:
            raise ValueError(
                f"decompose must be one of {DECOMPOSITIONS}, got {self.decompose!r}")
        if self.sub_iterations < 1:
            raise ValueError("sub_iterations must be >= 1")
        if self.sub_customers < 2 or not (self.sub_seconds > 0 and math.isfinite(
                self.sub_seconds)):
            raise ValueError("need sub_customers >= 2 and positive sub_seconds")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.first_epoch < 0 or not 0 < self.reheat <= 1:
            raise ValueError("need first_epoch >= 0 and reheat in (0, 1]")
        if self.construction not in CONSTRUCTIONS:
            raise ValueError(
                f"construction must be one of {CONSTRUCTIONS}, got {self.construction!r}")

    def uses_decomposition(self, n: int, has_coords: bool) -> bool:
        """Whether a run on ``n`` customers works on sub-problems (see ``decompose``)."""
        if self.decompose == "off" or self.time_limit is None or not has_coords:
            return False
        return self.decompose == "on" or n >= DECOMPOSE_MIN_CUSTOMERS

    def uses_anytime(self, n: int) -> bool:
        """Whether a run on ``n`` customers anneals in epochs of doubling length (see
        ``schedule``)."""
        if self.schedule == "auto":
            return self.iterations is None and n >= ANYTIME_MIN_CUSTOMERS
        return self.schedule == "anytime"

    def epoch_iterations(self, n: int) -> int:
        """Length of the first annealing epoch on ``n`` customers."""
        return self.first_epoch if self.first_epoch > 0 else max(1000, 2 * n)

    def uses_savings(self, n: int, max_routes: int) -> bool:
        """Whether a run on ``n`` customers and at most ``max_routes`` routes starts from
        savings (``auto`` keeps insertion for the TSP: its savings tour, built around one fixed
        city, is often the worse start)."""
        if self.construction == "auto":
            return n >= SAVINGS_MIN_CUSTOMERS and max_routes > 1
        return self.construction == "savings"
