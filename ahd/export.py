"""Export a stored candidate as a self-contained, importable Python module.

The exported file is what leaves a run: a heuristic someone can read, import and use without
the store (how, the problem's plugin says: :meth:`~ahd.plugins.TaskPlugin.export_usage`).
Its header records where it came from (problem, run, candidate,
scores, parents, proposer, code hash) so a result can always be traced back to the run that
produced it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from ahd import syntax
from ahd.files import write_atomic

from .plugins import tasks
from .static_check import free_names
from .store import SplitScore, Store

#: Names an evaluation preamble may provide without the candidate importing them, with the
#: import that provides each. The exporter adds the ones a candidate uses but never binds.
PLAIN_IMPORTS: dict[str, str] = {
    "np": "import numpy as np",
    "numpy": "import numpy",
    "math": "import math",
    "numba": "import numba",
}
#: Preamble names imported with ``from MODULE import name``.
FROM_IMPORTS: dict[str, str] = {"njit": "numba", "prange": "numba"}



class ExportError(ValueError):
    """The candidate cannot be exported as a working module."""


def import_lines(source: str | Sequence[str],
                 provided: Mapping[str, str] | None = None) -> list[str]:
    """The import statements ``source`` needs for the names it uses without binding them.

    ``source`` may be several sources that will share one module (a team's members, each
    renamed under its own prefix): each is parsed alone, so a team many times the size limit
    of one candidate (:data:`ahd.syntax.MAX_SOURCE_CHARS`) is still exported. ``provided``
    maps further names the problem's evaluation namespace provides to the module they come
    from (a plugin's :meth:`~ahd.plugins.TaskPlugin.export_imports`). Raises ``SyntaxError``
    when a source does not parse.
    """
    sources = [source] if isinstance(source, str) else list(source)
    free = set().union(*(free_names(s) for s in sources))
    plain = [PLAIN_IMPORTS[name] for name in free if name in PLAIN_IMPORTS]
    from_imports: dict[str, list[str]] = {}
    for name in sorted(free & set(FROM_IMPORTS)):
        from_imports.setdefault(FROM_IMPORTS[name], []).append(name)
    rest = free - set(PLAIN_IMPORTS) - set(FROM_IMPORTS)
    for name in sorted(rest & set(provided or {})):
        from_imports.setdefault(provided[name], []).append(name)
    lines = sorted(plain)
    for module in sorted(from_imports):
        names = ", ".join(from_imports[module])
        line = f"from {module} import {names}"
        if len(line) > 100:
            body = "".join(f"    {n},\n" for n in from_imports[module])
            line = f"from {module} import (\n{body})"
        lines.append(line)
    return lines


def _one_line(value: object) -> str:
    """Header text on one comment line, whatever the proposer put in it."""
    return " ".join(str(value).split())


def _score_line(split: str, score: SplitScore | None) -> str:
    if score is None:
        return f"#   {split:<11} not evaluated"
    mean = "-" if score.mean_objective is None else f"{score.mean_objective:.6g}"
    counts = ", ".join(f"{k} {v}" for k, v in sorted(score.status_counts.items()))
    return f"#   {split:<11} {mean} over {score.n_instances} instances ({counts})"


def _split_future(source: str, tree: ast.Module) -> tuple[list[str], str]:
    """Move ``from __future__`` imports out of ``source``: they must open the module."""
    lines = source.splitlines()
    future: list[str] = []
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            future.append(ast.unparse(node))
            drop.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    if not future:
        return [], source
    return future, "\n".join(line for i, line in enumerate(lines) if i not in drop) + "\n"


def module_name(problem: str, roles: tuple[str, ...], candidate_id: int, code_hash: str) -> str:
    """File stem of an export, e.g. ``cvrp_destroy_repair_17_1a2b3c4d``."""
    safe = re.sub(r"\W", "_", problem) or "problem"
    if not safe[0].isalpha():
        safe = f"p_{safe}"
    return f"{safe}_{'_'.join(roles)}_{candidate_id}_{code_hash[:8]}"


def render_candidate(store: Store, candidate_id: int, now: datetime | None = None) -> str:
    """The text of the exported module of ``candidate_id``."""
    candidate = store.get_candidate(candidate_id)
    run = store.candidate_run(candidate_id)
    scores = store.scores(candidate_id)
    try:
        tree = syntax.parse(candidate.source)
        plugin = tasks().get(run.problem)
        imports = import_lines(candidate.source, plugin and plugin.export_imports())
    except (SyntaxError, ValueError) as exc:
        raise ExportError(f"candidate {candidate_id} does not parse: {exc}") from exc
    future, body = _split_future(candidate.source, tree)
    top_level = {
        node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }
    aliases = [
        f"{role} = {entry}  # entry point of the {role} role"
        for role, entry in candidate.entry_points.items()
        if role != entry and role not in top_level
    ]
    aliased = {line.split(" = ")[0] for line in aliases}
    name = module_name(run.problem, candidate.roles, candidate_id, candidate.code_hash)
    entries = {role: role if role in aliased else entry
               for role, entry in candidate.entry_points.items()}
    usage = (plugin.export_usage(name, entries) if plugin is not None else
             [f"(install the package that registers the problem {run.problem!r})"])
    origin = candidate.origin
    made_by = f"{origin.proposer}"
    details = [
        f"strategy {origin.strategy}" if origin.strategy else "",
        f"template {origin.template}" if origin.template else "",
        f"model {origin.model}" if origin.model else "",
        f"{origin.tokens_in} tokens in, {origin.tokens_out} out" if origin.model else "",
        f"${origin.cost_usd:.4f}" if origin.cost_usd else "",
    ]
    details = [d for d in details if d]
    if details:
        made_by += f" ({'; '.join(details)})"
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    parents = ", ".join(str(p) for p in candidate.parents) or "none"
    header = [
        "# " + "-" * 98,
        f"# Exported by ahd on {stamp}. Regenerate with: ahd export RUN_DIR {candidate_id}",
        f"# Problem: {_one_line(run.problem)}   Run: {run.id}   Candidate: {candidate_id}",
        f"# Roles: {', '.join(candidate.roles)}   Generation: {candidate.generation}"
        f"   Parents: {parents}",
        f"# Proposer: {_one_line(made_by)}",
        "# Scores (mean objective of the ok evaluations; lower is better):",
        _score_line("train", scores.get("train")),
        _score_line("validation", scores.get("validation")),
        f"# Code hash: sha256:{candidate.code_hash}",
        "#",
        "# Usage:",
        *(f"#   {line}" for line in usage),
        "# " + "-" * 98,
    ]
    parts = ["\n".join(header), ""]
    if future:
        parts += future + [""]
    if imports:
        parts += imports + ["", ""]
    parts.append(body.strip("\n"))
    if aliases:
        parts += ["", ""] + aliases
    text = "\n".join(parts) + "\n"
    try:
        compile(text, f"{name}.py", "exec")
    except SyntaxError as exc:
        message = f"exported module of candidate {candidate_id} does not compile: {exc}"
        raise ExportError(message) from exc
    return text


def export_candidate(store: Store, candidate_id: int, out_dir: str | Path = "generated") -> Path:
    """Write candidate ``candidate_id`` as an importable module under ``out_dir``.

    The module holds a provenance header, the imports the source relies on, and the source
    itself; its entry points can be passed straight to ``run_lns``. The file is written
    atomically (a partial file never appears under its final name).

    Returns
    -------
    Path
        The written file, ``out_dir/<problem>_<roles>_<id>_<hash8>.py``.
    """
    text = render_candidate(store, candidate_id)
    candidate = store.get_candidate(candidate_id)
    run = store.candidate_run(candidate_id)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / (module_name(run.problem, candidate.roles, candidate_id, candidate.code_hash)
                  + ".py")
    write_atomic(path, text, shared=True)
    return path
