"""Which tasks an evaluation runs: the IPC 2023 learning-track layout, or a list of pairs.

A suite folder holds one folder per domain (``<domain>/domain.pddl``, ``training/...``,
``testing/{easy,medium,hard}/pNN.pddl``); a single domain folder (one holding
``domain.pddl``) is accepted too. A task's *key* is its problem path relative to the suite
folder (``blocksworld/testing/easy/p01.pddl``): the results store is keyed by it, and it is the
key the learning track's ``upper_bounds.json`` uses for reference plan costs, so the two meet
without a translation table.

A pair list is a text file with one ``DOMAIN_FILE PROBLEM_FILE`` per line (paths relative to
the list; ``#`` starts a comment), for tasks that are not laid out as a suite.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "REFERENCE_FILE",
    "SuiteError",
    "Task",
    "discover",
    "read_pairs",
    "reference_costs",
]

#: Reference plan costs (the IPC quality score's numerator), keyed like :attr:`Task.key`.
REFERENCE_FILE = "upper_bounds.json"


class SuiteError(ValueError):
    """A suite that cannot be read or a filter that selects nothing; meant for the user."""


@dataclass(frozen=True)
class Task:
    """One planning task of an evaluation.

    Attributes
    ----------
    key : str
        Problem path relative to the suite root (POSIX separators); unique in a suite.
    domain : str
        Domain folder name (the name reports group by).
    split : str
        ``training``, ``testing/easy``, ...: the path between the domain folder and the file;
        ``pairs`` for tasks from a pair list.
    name : str
        Problem file stem (``p01``).
    domain_file, problem_file : Path
        Absolute PDDL paths.
    """

    key: str
    domain: str
    split: str
    name: str
    domain_file: Path
    problem_file: Path


def _split_of(rel_dir: Path) -> str:
    return rel_dir.as_posix() if rel_dir.parts else "-"


def _domain_tasks(ddir: Path, root: Path) -> list[Task]:
    """Every problem file under one domain folder, in path order."""
    dfile = ddir / "domain.pddl"
    tasks = []
    for problem in sorted(ddir.rglob("*.pddl")):
        if problem == dfile or "domain" in problem.stem.lower():
            continue  # a domain file next to its problems is not a task
        rel = problem.relative_to(ddir)
        own = problem.with_name(f"{problem.stem}-domain.pddl")  # per-task domain, if any
        tasks.append(Task(
            key=problem.relative_to(root).as_posix(),
            domain=ddir.name,
            split=_split_of(rel.parent),
            name=problem.stem,
            domain_file=(own if own.is_file() else dfile).resolve(),
            problem_file=problem.resolve(),
        ))
    return tasks


def read_pairs(path: str | os.PathLike[str]) -> list[Task]:
    """Tasks from a pair list: one ``DOMAIN_FILE PROBLEM_FILE`` per line.

    Parameters
    ----------
    path : str or os.PathLike
        The list; relative paths in it are relative to its folder.

    Returns
    -------
    list of Task
        ``domain`` is the domain file's folder name, ``split`` is ``pairs`` and ``key`` the
        problem path relative to the list's folder (or absolute when outside it).

    Raises
    ------
    SuiteError
        For a malformed line or a missing file, naming the line.
    """
    listing = Path(path)
    base = listing.parent.resolve()
    tasks: list[Task] = []
    for lineno, line in enumerate(listing.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = shlex.split(text)
        if len(parts) != 2:
            raise SuiteError(f"{listing}:{lineno}: expected 'DOMAIN_FILE PROBLEM_FILE'")
        dfile, pfile = ((base / p).resolve() for p in parts)
        for f in (dfile, pfile):
            if not f.is_file():
                raise SuiteError(f"{listing}:{lineno}: {f}: no such file")
        try:
            key = pfile.relative_to(base).as_posix()
        except ValueError:
            key = pfile.as_posix()
        tasks.append(Task(key, dfile.parent.name, "pairs", pfile.stem, dfile, pfile))
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise SuiteError(f"{listing}: a problem file is listed twice")
    return tasks


def _matches(value: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def _split_selected(split: str, splits: Sequence[str]) -> bool:
    """``testing`` selects ``testing/easy`` ...; ``testing/easy`` selects only itself."""
    return any(split == s or split.startswith(s.rstrip("/") + "/") for s in splits)


def discover(
    suite: str | os.PathLike[str],
    splits: Iterable[str] | None = ("testing",),
    domains: Iterable[str] | None = None,
    tasks: Iterable[str] | None = None,
) -> list[Task]:
    """The tasks of a suite folder or pair list that pass the filters.

    Parameters
    ----------
    suite : str or os.PathLike
        A suite folder (one folder per domain), one domain folder, or a pair-list file.
    splits : iterable of str or None
        Keep tasks whose split is one of these or below one (``testing`` keeps
        ``testing/easy``); None keeps all. Ignored for pair lists.
    domains : iterable of str or None
        Domain names or shell patterns (``blocks*``).
    tasks : iterable of str or None
        Problem names (``p01``), patterns (``p0[1-5]``) or key patterns
        (``*/testing/easy/p01.pddl``).

    Returns
    -------
    list of Task
        In suite order: domain, split, name.

    Raises
    ------
    SuiteError
        When the suite does not exist, holds no domain, or the filters select nothing (a typo
        in a filter should not look like an empty, finished evaluation).
    """
    root = Path(suite)
    if root.is_file():
        found = read_pairs(root)
    elif root.is_dir():
        root = root.resolve()
        if (root / "domain.pddl").is_file():
            found = _domain_tasks(root, root.parent)
        else:
            dirs = sorted(d for d in root.iterdir() if (d / "domain.pddl").is_file())
            if not dirs:
                raise SuiteError(f"{root}: no domain folder (a folder with domain.pddl) in it")
            found = [t for d in dirs for t in _domain_tasks(d, root)]
        if splits is not None:
            wanted = [s.strip("/") for s in splits]
            found = [t for t in found if _split_selected(t.split, wanted)]
    else:
        raise SuiteError(f"{suite}: no such suite folder or pair list")
    if domains is not None:
        pats = list(domains)
        found = [t for t in found if _matches(t.domain, pats)]
    if tasks is not None:
        pats = list(tasks)
        found = [t for t in found
                 if _matches(t.name, pats) or _matches(Path(t.key).name, pats)
                 or _matches(t.key, pats)]
    if not found:
        raise SuiteError(f"{suite}: no task matches the given split/domain/task filters")
    return found


def reference_costs(suite: str | os.PathLike[str]) -> dict[str, float]:
    """Reference plan costs of a suite, keyed like :attr:`Task.key`; empty when it has none.

    The learning-track data ships ``upper_bounds.json`` (the best known cost per test task,
    the IPC quality score's numerator). Without it the quality score falls back to the best
    cost found in the evaluation itself.
    """
    root = Path(suite).resolve()
    if not root.is_dir():
        root = root.parent  # a pair list: keys are relative to its folder
    elif (root / "domain.pddl").is_file():
        root = root.parent  # one domain folder: keys start with its name
    path = root / REFERENCE_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not JSON: {exc}") from exc
    out = {}
    for key, value in raw.items():
        if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
            out[str(key)] = float(value)
    return out
