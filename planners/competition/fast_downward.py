"""The ``fd:`` planner kind: Fast Downward as shipped in the up-fast-downward package.

Fast Downward is the reference planner of the IPC, so an evolved heuristic is compared with
it. The package ships the driver script and a built search binary; :func:`fast_downward_paths`
finds them (or says why it cannot), and a configuration is one of :data:`FD_CONFIGS`, any
alias or portfolio the shipped driver knows, or a raw search string.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

from .planner_base import Invocation, Limits, Outcome, Planner, PlannerSpecError, crash_outcome
from .suite import Task

__all__ = ["FD_CONFIGS", "FastDownwardPlanner", "fast_downward_paths"]

#: Named Fast Downward configurations (search options); other names go to ``--alias``.
FD_CONFIGS: dict[str, list[str]] = {
    "gbfs-ff": ["--search", "eager_greedy([ff()])"],
    "gbfs-add": ["--search", "eager_greedy([add()])"],
    "gbfs-goalcount": ["--search", "eager_greedy([goalcount()])"],
    "gbfs-blind": ["--search", "eager_greedy([blind()])"],
    "lazy-ff": ["--search", "lazy_greedy([ff()])"],
}



def fast_downward_paths() -> tuple[Path, Path] | str:
    """``(driver script, downward binary)`` of up-fast-downward, or why they are missing."""
    spec = importlib.util.find_spec("up_fast_downward")
    if spec is None or spec.origin is None:
        return "the up-fast-downward package is not installed (pip install up-fast-downward)"
    root = Path(spec.origin).parent / "downward"
    driver = root / "fast-downward.py"
    binary = root / "builds" / "release" / "bin" / "downward"
    if not driver.is_file():
        return f"up-fast-downward ships no driver at {driver}"
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return f"up-fast-downward ships no executable search binary at {binary}"
    return driver, binary


def _fd_aliases(driver: Path) -> set[str]:
    """Alias and portfolio names the shipped driver knows (read from its source)."""
    names: set[str] = set()
    aliases = driver.parent / "driver" / "aliases.py"
    if aliases.is_file():
        names |= set(re.findall(r'ALIASES\["([^"]+)"\]', aliases.read_text()))
    portfolios = driver.parent / "driver" / "portfolios"
    if portfolios.is_dir():
        names |= {p.stem.replace("_", "-") for p in portfolios.glob("*.py")}
    return names


_FD_EXPANDED = re.compile(r"Expanded (\d+) state")
#: Fast Downward exit codes (driver/returncodes.py) -> outcome status.
_FD_CODES = {10: "unsolvable", 11: "unsolvable", 12: "unsolved", 13: "unsolved",
             20: "memory", 22: "memory", 24: "memory", 21: "timeout", 23: "timeout"}


class FastDownwardPlanner(Planner):
    """Fast Downward's driver; its own limits are set too, so a search process orphaned by
    a killed driver still stops."""

    kind = "fd"

    def __init__(self, label: str, spec: str, config: str) -> None:
        super().__init__(label, spec, config)
        found = fast_downward_paths()
        self._missing = found if isinstance(found, str) else None
        if isinstance(found, str):
            self.search: list[str] = []
            return
        self.driver = found[0]
        if config in FD_CONFIGS:
            self.search = FD_CONFIGS[config]
        elif "(" in config:
            self.search = ["--search", config]
        elif config in _fd_aliases(self.driver):
            self.search = []
            self.alias = config
        else:
            known = sorted(set(FD_CONFIGS) | _fd_aliases(self.driver))
            raise PlannerSpecError(
                f"{spec}: unknown Fast Downward configuration; use a search string such as "
                f"fd:eager_greedy([ff()]) or one of {', '.join(known)}"
            )

    def unavailable(self) -> str | None:
        return self._missing

    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        plan = workdir / "plan"
        argv = [sys.executable, str(self.driver), "--plan-file", str(plan),
                "--overall-time-limit", f"{max(1, int(limits.time))}s"]
        if limits.memory_mb is not None:
            argv += ["--overall-memory-limit", f"{int(limits.memory_mb)}M"]
        if not self.search:
            argv += ["--alias", self.alias]
        argv += [str(task.domain_file), str(task.problem_file), *self.search]
        return Invocation(argv, plan, {})

    def interpret(self, returncode: int, log: str, workdir: Path) -> Outcome:
        hits = _FD_EXPANDED.findall(log)
        expanded = int(hits[-1]) if hits else None
        plans = [p for p in workdir.glob("plan*") if p.name == "plan"
                 or re.fullmatch(r"plan\.\d+", p.name)]
        if returncode in (0, 1, 2, 3) and plans:
            # anytime configurations write plan.1, plan.2, ...: the last is the best
            best = max(plans, key=lambda p: int(p.suffix[1:]) if p.suffix else 0)
            return Outcome("plan", best, expanded)
        status = _FD_CODES.get(returncode)
        if status is not None:
            return Outcome(status, None, expanded)
        return crash_outcome(returncode, log)
