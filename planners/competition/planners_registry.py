"""The planner kinds an evaluation can run, and parsing a planner spec into a planner.

A planner is named by a spec string, ``KIND:CONFIG``, optionally prefixed by a label
(``LABEL=KIND:CONFIG``) that tables show instead of the spec:

``ahd:HEURISTIC[:SEARCH]``
    Our GBFS (:func:`ahd.planners.solve`) with a built-in heuristic (``ahd:hff``) or a
    heuristic file (``ahd:generated/blocksworld.py``). ``{domain}`` in the path is replaced
    by each task's domain, so one spec names a per-domain heuristic; domains without a file
    are skipped for that planner (reported as not run, never as failures). ``SEARCH``:
    ``eager`` (default), ``lazy``, ``lazy-pref`` (lazy GBFS with h_FF's preferred operators,
    boosted: ``ahd:hff:lazy-pref``), ``lama`` (that search with the landmark count as a second
    heuristic, LAMA's first search: ``ahd:hff:lama``, or ``ahd:lama`` for short), ``lm`` and
    ``lazy-lm`` (eager or lazy GBFS alternating the heuristic with the landmark count:
    ``ahd:generated/{domain}.py:lazy-lm``) or ``ehc`` (enforced hill-climbing).
``fd:CONFIG``
    Fast Downward as shipped in the up-fast-downward package: ``lama-first`` (the driver's
    alias), ``gbfs-ff``/``gbfs-add``/``gbfs-goalcount``/``gbfs-blind``/``lazy-ff``, any other
    driver alias, or a raw search string (``fd:eager_greedy([ff()])``).
``pyperplan:HEURISTIC[:SEARCH]``
    The pyperplan package (default search ``gbf``); it has no negative preconditions.
``cmd:TEMPLATE``
    Any program: ``{domain}``, ``{problem}``, ``{plan}``, ``{time}`` (seconds) and
    ``{memory_mb}`` are replaced in each word of the template (the three paths are appended
    when absent). It must write an IPC plan to ``{plan}`` and exit 0 when it found one.

Every planner runs in its own work folder (Fast Downward writes ``output.sas`` to its current
folder, pyperplan its plan next to the problem), so parallel runs never share a file.

Planner kinds
-------------
:data:`PLANNER_KINDS` maps each kind to its :class:`~.planner_base.Planner` subclass (one
module each: :mod:`.ahd_planner`, :mod:`.fast_downward`, :mod:`.pyperplan_planner`,
:mod:`.command_planner`). An installed package adds a kind through an entry point of the
group ``ahd.planners``::

    [project.entry-points."ahd.planners"]
    mykind = "mypkg.planner:MyPlanner"

``MyPlanner`` subclasses :class:`~.planner_base.Planner` and is constructed as
``MyPlanner(label, spec, config)`` (``mykind:CONFIG`` gives ``config == "CONFIG"``); a planner
that needs the folder relative paths are read from overrides
:meth:`~.planner_base.Planner.from_spec`, as :class:`~.ahd_planner.AhdPlanner` does. Plugins
are loaded when the first spec is parsed; one that fails to load is reported in one line on
stderr and left out, and none can replace a built-in kind.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path

from .ahd_planner import AHD_RESULT_TAG, AhdPlanner
from .command_planner import CommandPlanner
from .fast_downward import FD_CONFIGS, FastDownwardPlanner, fast_downward_paths
from .planner_base import Invocation, Limits, Outcome, Planner, PlannerSpecError
from .pyperplan_planner import PyperplanPlanner

__all__ = [
    "AHD_RESULT_TAG",
    "FD_CONFIGS",
    "KINDS",
    "PLANNERS_GROUP",
    "PLANNER_KINDS",
    "AhdPlanner",
    "CommandPlanner",
    "FastDownwardPlanner",
    "Invocation",
    "Limits",
    "Outcome",
    "Planner",
    "PlannerSpecError",
    "PyperplanPlanner",
    "fast_downward_paths",
    "installed_planners",
    "load_planner_plugins",
    "parse_planner",
    "planner_kinds",
]

#: Entry-point group through which installed packages add planner kinds.
PLANNERS_GROUP = "ahd.planners"

#: Planner kind -> its class: the built-in kinds. Code in the same process (a test, a
#: script) may add its own kinds here; installed packages use entry points instead.
PLANNER_KINDS: dict[str, type[Planner]] = {
    "ahd": AhdPlanner,
    "fd": FastDownwardPlanner,
    "pyperplan": PyperplanPlanner,
    "cmd": CommandPlanner,
}
#: The built-in kinds, in :data:`PLANNER_KINDS` order (kept for compatibility).
KINDS = tuple(PLANNER_KINDS)

_LABEL = re.compile(r"^([\w.+-]+)=(\w+:.*)$", re.S)
_KIND = re.compile(r"^\w+$")


def load_planner_plugins(entry_points: Iterable[metadata.EntryPoint] | None = None
                         ) -> dict[str, type[Planner]]:
    """Planner classes registered through entry points, by kind.

    Parameters
    ----------
    entry_points : iterable of importlib.metadata.EntryPoint, optional
        The entry points to load (default: those of the group :data:`PLANNERS_GROUP` of the
        installed packages).

    Returns
    -------
    dict
        Kind -> :class:`Planner` subclass. An entry point is left out, with a one-line
        warning on stderr, when it names a built-in kind, its name is not letters, digits
        and underscores, it repeats a kind already loaded, it fails to import, or it does
        not name a :class:`Planner` subclass.
    """
    if entry_points is None:
        entry_points = metadata.entry_points(group=PLANNERS_GROUP)
    found: dict[str, type[Planner]] = {}
    for ep in sorted(entry_points, key=lambda e: (e.name, e.value)):
        problem = None
        if ep.name in KINDS:
            problem = "a built-in planner kind cannot be replaced"
        elif not _KIND.match(ep.name):
            problem = "a planner kind must be letters, digits and underscores"
        elif ep.name in found:
            problem = "another plugin already registered this kind"
        else:
            try:
                value = ep.load()
            except Exception as exc:  # a broken plugin must not take plan-eval down with it
                problem = f"failed to load: {type(exc).__name__}: {exc}"
            else:
                if isinstance(value, type) and issubclass(value, Planner):
                    found[ep.name] = value
                    continue
                problem = f"{value!r} is not a Planner subclass"
        message = f"warning: {PLANNERS_GROUP} plugin {ep.name!r} ({ep.value}) skipped: {problem}"
        print(" ".join(message.split()), file=sys.stderr)
    return found


@cache
def installed_planners() -> dict[str, type[Planner]]:
    """The planner kinds installed packages register (loaded once per process)."""
    return load_planner_plugins()


def planner_kinds() -> dict[str, type[Planner]]:
    """Every kind a spec may name: :data:`PLANNER_KINDS`, then the installed plugins."""
    kinds = dict(PLANNER_KINDS)
    for kind, cls in installed_planners().items():
        kinds.setdefault(kind, cls)
    return kinds


def parse_planner(text: str, cwd: str | os.PathLike[str] | None = None) -> Planner:
    """A planner from its spec (see the module documentation).

    Parameters
    ----------
    text : str
        ``[LABEL=]KIND:CONFIG``.
    cwd : path, optional
        Folder that relative heuristic files are resolved against (default: the current one);
        runs start in their own work folders, so paths are made absolute here.

    Raises
    ------
    PlannerSpecError
        For an unknown kind or configuration, naming the choices.
    """
    spec = text.strip()
    m = _LABEL.match(spec)
    label, body = (m.group(1), m.group(2)) if m else (spec, spec)
    kind, sep, config = body.partition(":")
    kinds = planner_kinds()
    if not sep or not config:
        raise PlannerSpecError(f"{text!r}: write KIND:CONFIG with KIND one of {', '.join(kinds)}")
    if kind not in kinds:
        raise PlannerSpecError(f"{text!r}: unknown planner kind {kind!r}; registered kinds: "
                               f"{', '.join(kinds)}")
    base = Path(cwd) if cwd is not None else Path.cwd()
    return kinds[kind].from_spec(label, body, config, base)
