"""What distinguishes one routing variant from another, and the list of variants.

Each variant folder (``cvrp/``, ``tsp/``, ``ovrp/``) defines one :class:`RoutingProblem` as
``PROBLEM``. Everything else asks that record instead of comparing names: the instance model
(capacity, fleet, open routes), the file reader and writer (``TYPE``), the generator tables, the
verifier, the OR-Tools model, the numba engine's instance record and the seed-operator pools. So
a new variant is a new folder plus one line in :data:`VARIANTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .instance import RoutingInstance

#: The variant folders, in the order listings show them. A new variant is one more name here.
VARIANTS = ("cvrp", "tsp", "ovrp")
#: The variant a run, ``ahd solve --generate`` or a report uses when none is named.
DEFAULT_PROBLEM = "cvrp"


@dataclass(frozen=True)
class SeedPools:
    """Names of the registered seed operators a variant's LNS uses by default, per role.

    A tuple per role (rather than a dict) keeps the record immutable and picklable.
    """

    destroy: tuple[str, ...]
    repair: tuple[str, ...]
    improve: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        """``{role: names}``, the shape of :data:`ahd.problems.operators.registry.DEFAULT_POOLS`."""
        return {"destroy": self.destroy, "repair": self.repair, "improve": self.improve}


@dataclass(frozen=True)
class RoutingProblem:
    """A routing variant: its texts, its constraints, its files, its generator, its seeds.

    Parameters
    ----------
    name
        The ``--problem`` value and ``RoutingInstance.kind``.
    summary
        A few words for listings (``ahd evolve --problem`` help, plugin summaries).
    description
        What the problem is, in the words a proposer (or a user) reads.
    vrplib_types
        The VRPLIB/TSPLIB ``TYPE`` values whose files this variant can read. The first is the
        ``TYPE`` it writes, and files of that ``TYPE`` are read as this variant by default;
        the others are read only when the variant is asked for (an OVRP solves a CVRP file's
        data with open routes). A ``TYPE`` a variant leaves out would drop or lack data.
    open_routes
        Vehicles end at their last customer: the return arc costs nothing. The engine, the
        verifier and the OR-Tools model all encode this as zero-cost arcs into the depot.
    capacitated
        Demands and a vehicle capacity bind (a load dimension in OR-Tools; files carry
        ``CAPACITY`` and ``DEMAND_SECTION``). Otherwise the capacity is infinite.
    single_route
        Exactly one route (TSP): a fleet of one, in the instance and in OR-Tools.
    generate
        ``generate(n, rng, **options) -> RoutingInstance``, the default generator (``rng`` a
        ``numpy.random.Generator`` or an integer seed): ``ahd solve --generate`` and the
        variant's entry in :data:`ahd.problems.generators.GENERATORS`.
    pools
        The default seed operators per role.
    spec_generate
        ``(n, seed) -> RoutingInstance`` behind ``InstanceSpec(name, n, seed)``, the instances
        of evolution runs; ``None``: ``generate``. Separate because stored runs name their
        instances after it (OVRP's are ``cvrp-uniform-...-ovrp``), so it may not change.
    ortools_constraints
        Functions ``add(model)`` that put what the flags above do not express into a freshly
        built :class:`~ahd.problems.ortools_model.OrToolsModel` (say, a time dimension),
        called after the arc costs and the load dimension are in place.
    """

    name: str
    summary: str
    description: str
    vrplib_types: tuple[str, ...]
    open_routes: bool
    capacitated: bool
    single_route: bool
    generate: Callable[..., RoutingInstance]
    pools: SeedPools
    spec_generate: Callable[[int, int], RoutingInstance] | None = None
    ortools_constraints: tuple[Callable[[Any], None], ...] = ()

    def __post_init__(self) -> None:
        if not self.vrplib_types or any(t != t.upper() for t in self.vrplib_types):
            raise ValueError(f"{self.name}: vrplib_types must be upper-case TYPE values")
        if "\n" in self.summary:
            raise ValueError(f"{self.name}: the summary must be one line")

    @property
    def vrplib_type(self) -> str:
        """The ``TYPE`` this variant's files are written with."""
        return self.vrplib_types[0]

    def build_spec(self, n: int, seed: int) -> RoutingInstance:
        """The instance ``InstanceSpec(self.name, n, seed)`` stands for."""
        make = self.spec_generate or self.generate
        return make(n, seed)


@cache
def _registry() -> dict[str, RoutingProblem]:
    found = {}
    for folder in VARIANTS:
        problem = import_module(f"{__package__}.{folder}").PROBLEM
        if not isinstance(problem, RoutingProblem) or problem.name != folder:
            raise TypeError(f"{folder}/__init__.py must define PROBLEM, a RoutingProblem "
                            f"named {folder!r}")
        found[folder] = problem
    return found


def problems() -> tuple[RoutingProblem, ...]:
    """Every registered variant, in :data:`VARIANTS` order."""
    return tuple(_registry().values())


def get_problem(name: str, what: str = "problem") -> RoutingProblem:
    """The variant called ``name``, or a ``ValueError`` (``unknown <what> ...``) listing them."""
    registry = _registry()
    if name not in registry:
        raise ValueError(f"unknown {what} {name!r}; choose one of {sorted(registry)}")
    return registry[name]


def problem_names() -> list[str]:
    """The registered variant names, sorted."""
    return sorted(_registry())


def problem_of_vrplib_type(file_type: str) -> RoutingProblem | None:
    """The variant a file of ``TYPE`` ``file_type`` is read as by default, if any."""
    for problem in problems():
        if problem.vrplib_type == file_type.upper():
            return problem
    return None
