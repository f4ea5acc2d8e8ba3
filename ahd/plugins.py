"""Registries: how problems, proposers and commands reach the core without the core naming them.

A package plugs into ``ahd`` through entry points in its ``pyproject.toml``::

    [project.entry-points."ahd.tasks"]
    binpacking = "ahd_binpacking.plugin:PLUGIN"     # a TaskPlugin

    [project.entry-points."ahd.commands"]
    mycmd = "mypkg.cli:register"                      # register(app: typer.Typer) -> None

    [project.entry-points."ahd.proposers"]
    mine = "mypkg.proposer:make"                      # make(task, options) -> Proposer

The built-in applications (routing in ``ahd.problems``, planning in ``ahd.planners``) register
the same way, so ``--problem`` choices, help text, reports and exports all come from here. A
plugin that fails to load is reported once on stderr and left out; it never breaks the CLI.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ahd.evolve.task import Task
    from ahd.proposers.base import Proposer
    from ahd.store import Run, Store

TASKS_GROUP = "ahd.tasks"
COMMANDS_GROUP = "ahd.commands"
PROPOSERS_GROUP = "ahd.proposers"


class TaskPlugin(Protocol):
    """A problem ``ahd evolve --problem NAME`` can evolve heuristics for.

    The plugin is what exists before a run starts (and after it ends, for the read-only viewers):
    it turns settings into a validated config, says how sandbox workers warm up, and builds the
    :class:`~ahd.evolve.task.Task` the loop runs.
    """

    #: The ``--problem`` value.
    name: str
    #: One line for ``ahd evolve --help`` and error messages.
    summary: str
    #: ``ahd evolve`` flag -> config field, for the flags this problem reads. A flag the user
    #: sets that is not here is refused naming the problem; ``--set FIELD=VALUE`` reaches any
    #: config field.
    flags: Mapping[str, str]
    #: Whether candidates share one search (scored as a team) or run alone.
    cooperative: bool
    #: The loop settings this problem works best with (fields of
    #: :class:`~ahd.evolve.records.EvolveConfig`, e.g. ``weights``, ``pool_size``,
    #: ``offspring``); the user's ``--pool-size``/``--offspring`` override them.
    loop_defaults: Mapping[str, Any]

    def configure(self, values: Mapping[str, Any]) -> Any:
        """A validated config from field values (strings are converted); ``ValueError`` names
        the field. Stored settings of a run go through here again on ``--resume``."""

    def run_stem(self, config: Any) -> str:
        """Default run directory name stem (``runs/STEM-TIME``)."""

    def sandbox_options(self, config: Any, run_dir: Path) -> dict[str, Any]:
        """Keyword arguments of :class:`~ahd.sandbox.SandboxPool` (warm-up, shared cache)."""

    def build(self, config: Any, pool: Any) -> Task:
        """The task of one run; ``ValueError`` for input the user must fix (one line)."""

    def export_imports(self) -> Mapping[str, str]:
        """Names evaluated code may use unbound -> the module an export imports each from
        (``from MODULE import name``); numpy, math and numba names are the core's."""

    def export_usage(self, module: str, entry_points: Mapping[str, str]) -> list[str]:
        """Lines (without ``#``) telling how to use an exported module of this problem."""

    def team_picture(self, store: Store, run: Run, team: Any, timeout: float) -> Any:
        """A drawing of the team's solution for ``ahd report`` (``None``: no picture)."""

    def quick_settings(self, workdir: Path) -> dict[str, Any]:
        """Config values for a run of seconds (tests, demos); files it needs go in ``workdir``.

        The core's parametrised tests run every registered problem through ``ahd evolve``,
        ``--resume``, the viewers and the report with these settings.
        """


def _load(group: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in sorted(metadata.entry_points(group=group), key=lambda e: e.name):
        if ep.name in found:
            continue  # the first distribution wins; a duplicate would be ambiguous
        try:
            found[ep.name] = ep.load()
        except Exception as exc:  # a broken plugin must not take the CLI down with it
            print(f"warning: {group} plugin {ep.name!r} ({ep.value}) failed to load: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr)
    return found


_EXTRA: dict[str, dict[str, Any]] = {TASKS_GROUP: {}, COMMANDS_GROUP: {}, PROPOSERS_GROUP: {}}


@cache
def _installed(group: str) -> dict[str, Any]:
    return _load(group)


def reload() -> None:
    """Forget the entry points read so far (after installing a plugin in this process)."""
    _installed.cache_clear()


def registered(group: str) -> dict[str, Any]:
    """Everything registered in ``group``: installed entry points plus :func:`register`."""
    return {**_installed(group), **_EXTRA[group]}


def register(group: str, name: str, value: Any) -> None:
    """Register ``value`` under ``name`` in this process (tests, notebooks, scripts)."""
    _EXTRA[group][name] = value


def unregister(group: str, name: str) -> None:
    _EXTRA[group].pop(name, None)


def tasks() -> dict[str, TaskPlugin]:
    """The registered problems by ``--problem`` name."""
    return registered(TASKS_GROUP)


class UnknownTask(ValueError):
    pass


def task_plugin(name: str) -> TaskPlugin:
    """The plugin of ``name``; :class:`UnknownTask` lists the registered ones."""
    known = tasks()
    if name not in known:
        names = ", ".join(sorted(known)) or "none (is ahd installed? pip install -e .)"
        raise UnknownTask(f"unknown problem {name!r}; registered: {names}")
    return known[name]


def proposers() -> dict[str, Callable[[Task, Mapping[str, Any]], Proposer]]:
    """Proposer factories by ``--proposer`` name: ``make(task, options) -> Proposer``."""
    return registered(PROPOSERS_GROUP)


def commands() -> dict[str, Callable[[Any], None]]:
    """Functions that add commands to the ``ahd`` typer app."""
    return registered(COMMANDS_GROUP)
