"""Export a winning team as one self-contained module with ``DESTROY``/``REPAIR`` lists.

Each member's source is renamed under its own prefix so that several operators (each with its
own helpers and constants) live in one file; the lists can be passed straight to ``run_lns``,
to ``ahd solve --heuristic`` and to the OR-Tools pipelines.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from ahd.export import import_lines
from ahd.files import write_atomic
from ahd.proposers.gp import prefix_names
from ahd.store import Store

from .checks import state_names
from .requests import STATE_MODULE


def render_team(
    store: Store, members: dict[str, list[int]], problem: str, header: list[str]
) -> str:
    """The module text for ``members`` (role -> candidate ids)."""
    bodies: list[str] = []  # each one candidate's size at most: parsed one at a time
    lists: dict[str, list[str]] = {}
    done: dict[int, str] = {}
    for role, ids in members.items():
        for cid in ids:
            cand = store.get_candidate(cid)
            prefix = f"_c{cid}_"
            if cid not in done:
                entries = {r: f"{r}_{cid}" for r in cand.roles}
                entries = {cand.entry_points[r]: name for r, name in entries.items()}
                bodies.append(prefix_names(cand.source, prefix, entries).rstrip())
                done[cid] = prefix
            lists.setdefault(role, []).append(f"{role}_{cid}")
    body = "\n\n\n".join(bodies)
    imports = import_lines(bodies, {name: STATE_MODULE for name in state_names()})
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# " + "-" * 98, f"# Exported by ahd evolve on {stamp}."]
    lines += [f"# {h}" for h in header]
    lines += [
        "# Usage:",
        "#   from ahd.problems.engine.lns import run_lns",
        "#   run_lns(instance, config, destroy=mod.DESTROY, repair=mod.REPAIR)",
        "#   ahd solve --problem " + problem + " --instance FILE --heuristic THIS_FILE.py",
        "# " + "-" * 98,
        "",
        *imports,
        "",
        f"PROBLEM = {problem!r}",
        "",
        "",
        body,
        "",
        "",
    ]
    for role in ("destroy", "repair", "improve"):
        if role in lists:
            lines.append(f"{role.upper()} = [{', '.join(lists[role])}]")
    text = "\n".join(lines) + "\n"
    compile(text, "team.py", "exec")
    return text


def export_team(
    store: Store, members: dict[str, list[int]], problem: str, out_dir: str | Path,
    header: list[str],
) -> Path:
    """Write the team module atomically; its name carries the members' hash."""
    text = render_team(store, members, problem, header)
    digest = hashlib.sha256(repr(sorted(members.items())).encode()).hexdigest()[:8]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{problem}_team_{digest}.py"
    return write_atomic(path, text, shared=True)
