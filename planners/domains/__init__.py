"""Planning domains the project writes itself, with seeded task generators.

Heuristics must be evolved and tuned on tasks the project draws itself, never on the
benchmark test sets, and the planner code must be testable without the IPC files. Each
domain module provides the domain PDDL as a string constant (``DOMAIN``), a generator
``generate(size, rng) -> str`` whose output is a pure function of the rng state, and a
``reference_plan(problem) -> list[str]`` built by domain knowledge that witnesses
solvability and gives tests a valid plan without a planner.

:func:`write_suite` lays generated tasks out like the IPC 2023 learning track
(``<domain>/domain.pddl``, ``training/easy/p01.pddl``, ``testing/{easy,medium,hard}/p01.pddl``)
so code written for that benchmark runs unchanged on project-made suites.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import blocksworld, ferry, gripper, miconic
from ._common import ProblemFacts, RngLike, as_rng, read_problem

__all__ = [
    "DOMAINS",
    "DIFFICULTIES",
    "DomainSpec",
    "ProblemFacts",
    "get_domain",
    "read_problem",
    "split_sizes",
    "write_suite",
]

SizeRange = tuple[int, int]
DIFFICULTIES = ("easy", "medium", "hard")


@dataclass(frozen=True)
class DomainSpec:
    """A registered domain: its PDDL, generator, reference plans and split size ranges.

    Attributes
    ----------
    name : str
        Registry key and PDDL domain name.
    domain : str
        Domain PDDL text.
    generator : callable
        ``generator(size, rng, name=None) -> str``, problem PDDL text.
    description : str
        One line on the variant and what ``size`` counts.
    unit : str
        What ``size`` counts (``"blocks"``, ``"cars"``, ...).
    min_size : int
        Smallest size the generator accepts.
    train, validation : tuple of int
        Inclusive size ranges for training and validation tasks; validation overlaps
        training in size on purpose (it checks generalisation over seeds, the test
        difficulties check generalisation over size).
    test : mapping of str to tuple of int
        Inclusive size ranges for the ``easy``/``medium``/``hard`` test difficulties, scaled
        like the IPC 2023 learning track (easy roughly its easy range).
    reference_plan : callable or None
        ``reference_plan(problem_text_or_path) -> list[str]``, a valid, non-optimal plan.
    """

    name: str
    domain: str
    generator: Callable[..., str]
    description: str
    unit: str
    min_size: int
    train: SizeRange
    validation: SizeRange
    test: Mapping[str, SizeRange] = field(default_factory=dict)
    reference_plan: Callable[[str | os.PathLike[str]], list[str]] | None = None

    def generate(self, size: int, rng: RngLike, name: str | None = None) -> str:
        """Problem PDDL text for one task (see the domain module's ``generate``)."""
        return self.generator(size, as_rng(rng), name=name)

    def sizes(self, split: str) -> SizeRange:
        """Inclusive size range of a split: ``train``, ``validation``, ``easy``, ``medium``
        or ``hard``."""
        if split == "train":
            return self.train
        if split == "validation":
            return self.validation
        if split in self.test:
            return self.test[split]
        raise KeyError(f"unknown split {split!r}; use train, validation or {sorted(self.test)}")


def _spec(module, train: SizeRange, validation: SizeRange, test: Mapping[str, SizeRange]):
    return DomainSpec(
        name=module.NAME,
        domain=module.DOMAIN,
        generator=module.generate,
        description=module.DESCRIPTION,
        unit=module.UNIT,
        min_size=module.MIN_SIZE,
        train=train,
        validation=validation,
        test=dict(test),
        reference_plan=module.reference_plan,
    )


DOMAINS: dict[str, DomainSpec] = {
    s.name: s
    for s in (
        _spec(blocksworld, (2, 20), (5, 25), {"easy": (5, 30), "medium": (35, 100),
                                             "hard": (110, 300)}),
        _spec(ferry, (1, 20), (2, 20), {"easy": (2, 20), "medium": (25, 100),
                                        "hard": (110, 300)}),
        _spec(gripper, (1, 20), (4, 24), {"easy": (4, 30), "medium": (35, 100),
                                          "hard": (110, 300)}),
        _spec(miconic, (1, 10), (1, 10), {"easy": (1, 10), "medium": (12, 50),
                                          "hard": (60, 150)}),
    )
}


def get_domain(name: str) -> DomainSpec:
    """The registered domain ``name`` (case-insensitive), with the known names on failure."""
    try:
        return DOMAINS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown domain {name!r}; known: {', '.join(sorted(DOMAINS))}") from None


def split_sizes(size_range: SizeRange, n: int) -> list[int]:
    """``n`` sizes rising evenly over an inclusive range, as IPC suites order p01, p02, ...

    Parameters
    ----------
    size_range : tuple of int
        ``(lo, hi)``, inclusive.
    n : int
        Number of tasks; sizes repeat when ``n`` exceeds the range's width.
    """
    lo, hi = size_range
    if n <= 0:
        return []
    if n == 1:
        return [lo]
    return [int(round(x)) for x in np.linspace(lo, hi, n)]


def _task_rng(seed: int, domain: str, folder: str, index: int) -> np.random.Generator:
    """Independent stream per file: changing one count or domain leaves other files intact."""
    tag = zlib.crc32(f"{domain}/{folder}".encode())
    return np.random.default_rng([seed, tag, index])


def write_suite(
    out_dir: str | os.PathLike[str],
    domains: Iterable[str] | None = None,
    n_train: int = 20,
    n_test: int = 10,
    seed: int = 0,
    difficulties: Iterable[str] = ("easy",),
    n_validation: int = 0,
    train_subdir: str | None = "easy",
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write generated tasks in the IPC 2023 learning-track layout.

    Layout per domain (``train_subdir="easy"``, the layout of the learning-track files)::

        out_dir/<domain>/domain.pddl
        out_dir/<domain>/training/easy/p01.pddl ...       sizes rise over spec.train
        out_dir/<domain>/validation/easy/p01.pddl ...     only if n_validation > 0
        out_dir/<domain>/testing/<difficulty>/p01.pddl ...

    ``train_subdir=None`` writes ``training/p01.pddl`` (and ``validation/p01.pddl``) directly.
    ``out_dir/suite.json`` records each file's size and seed (entries of domains written
    earlier into the same ``out_dir`` are kept). Every file is a pure
    function of ``(seed, domain, folder, index, count)``.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Root of the suite; created if missing.
    domains : iterable of str, optional
        Registered domain names; default all of :data:`DOMAINS`.
    n_train, n_test, n_validation : int
        Tasks per training folder, per test difficulty, and in the validation folder.
    seed : int
        Non-negative suite seed.
    difficulties : iterable of str
        Test difficulties to write, from ``easy``, ``medium``, ``hard``.
    train_subdir : str or None
        Sub-folder of ``training``/``validation``; None for a flat folder.
    overwrite : bool
        Replace ``.pddl`` files of an existing domain folder; otherwise an existing non-empty
        domain folder is an error (stale files from a larger earlier suite would otherwise
        silently join the new one).

    Returns
    -------
    dict of str to Path
        Domain name to its folder.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    names = sorted(DOMAINS) if domains is None else [get_domain(d).name for d in domains]
    diffs = list(difficulties)
    for d in diffs:
        if d not in DIFFICULTIES:
            raise ValueError(f"unknown difficulty {d!r}; use {', '.join(DIFFICULTIES)}")
    root = Path(out_dir)
    manifest: dict = {"generator": "ahd.planners.domains", "tasks": {}}
    out: dict[str, Path] = {}
    for name in names:
        spec = DOMAINS[name]
        ddir = root / name
        if ddir.exists() and any(ddir.iterdir()):
            if not overwrite:
                raise FileExistsError(f"{ddir} is not empty; pass overwrite=True to replace it")
            for old in sorted(ddir.rglob("*.pddl")):
                old.unlink()
        ddir.mkdir(parents=True, exist_ok=True)
        (ddir / "domain.pddl").write_text(spec.domain)
        sub = (train_subdir,) if train_subdir else ()
        jobs = [(Path("training", *sub), "train", n_train)]
        if n_validation > 0:
            jobs.append((Path("validation", *sub), "validation", n_validation))
        jobs += [(Path("testing", d), d, n_test) for d in diffs]
        for folder, split, count in jobs:
            fdir = ddir / folder
            fdir.mkdir(parents=True, exist_ok=True)
            width = max(2, len(str(count)))
            for i, size in enumerate(split_sizes(spec.sizes(split), count), start=1):
                pname = f"p{i:0{width}d}"
                rng = _task_rng(int(seed), name, folder.as_posix(), i)
                text = spec.generate(size, rng, name=f"{name}-{split}-{pname}")
                header = (
                    f";; ahd.planners.domains.write_suite: domain={name}, "
                    f"folder={folder.as_posix()}, index={i}, seed={seed}\n"
                )
                (fdir / f"{pname}.pddl").write_text(header + text)
                rel = f"{name}/{folder.as_posix()}/{pname}.pddl"
                manifest["tasks"][rel] = {"size": size, "unit": spec.unit, "seed": int(seed)}
        out[name] = ddir
    suite_file = root / "suite.json"
    if suite_file.exists():
        old = json.loads(suite_file.read_text()).get("tasks", {})
        kept = {k: v for k, v in old.items() if k.split("/")[0] not in out}
        manifest["tasks"] = {**kept, **manifest["tasks"]}
    suite_file.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return out
