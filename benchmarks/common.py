"""Plumbing the benchmark scripts share: options, machine, workers, resumable results, tables.

Each script answers its own question, but all of them state the machine and the command that
made a table, time their runs in fresh single-threaded processes, keep raw results so that an
interrupted run resumes, and report means with standard errors in markdown. Doing that once,
here, keeps the tables comparable (one machine line, one quoting rule, one statistic) and lets a
fix reach every script. Nothing here imports ``ahd``, so the light scripts stay light.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

#: Environment of every measured child: one thread, so ``--jobs`` children use ``--jobs`` cores.
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
LIBRARIES = ("numpy", "numba", "ortools", "pyvrp", "elkai")


# --------------------------------------------------------------------------- machine, command


def machine_info() -> dict:
    """CPU model, usable cores and library versions: what a timing depends on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    affinity = getattr(os, "sched_getaffinity", None)
    info = {"cpu": cpu, "cores": len(affinity(0)) if affinity else os.cpu_count(),
            "python": platform.python_version()}
    for pkg in LIBRARIES:
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = "-"
    return info


def machine_line(info: dict | None = None) -> str:
    """:func:`machine_info` (this machine's unless given) as the line every table states."""
    info = info or machine_info()
    libs = ", ".join(f"{k} {info[k]}" for k in LIBRARIES)
    return f"{info['cpu']}, {info['cores']} cores; Python {info['python']}, {libs}"


def command_line(script: str, argv: Sequence[str] | None = None) -> str:
    """``python benchmarks/NAME.py ARGS``, shell-quoted: the command that remakes a table.

    Parameters
    ----------
    script
        The script's ``__file__``; it is named from the repository root, where the documented
        commands run, whatever the current folder.
    argv
        Its arguments; ``sys.argv[1:]`` by default (pass ``main``'s own when it has them).
    """
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", f"benchmarks/{Path(script).name}", *args])


def base_parser(doc: str, out: str | None, *, jobs: int | None = None, seed: bool = False,
                resume: bool = False, worker: bool = False) -> argparse.ArgumentParser:
    """A parser with the options the scripts share, so each is spelled and explained once.

    Parameters
    ----------
    doc
        The script's docstring; its first paragraph describes the script in ``--help``.
    out
        Default of ``--out`` (a :class:`~pathlib.Path`), the markdown table written.
    jobs
        Adds ``--jobs`` (parallel runs) with this default.
    seed
        Adds ``--seed`` (default 0).
    resume
        Adds the options of the scripts that keep ``OUT.raw.json`` (:class:`ResultLog`):
        ``--from-json``, ``--rerun-failed`` and ``--timeout-factor``.
    worker
        Adds the hidden ``--worker TASK`` by which a child measures one task (:func:`run_worker`).
    """
    p = argparse.ArgumentParser(description=doc.strip().split("\n\n")[0])
    p.add_argument("--out", type=Path, default=out,
                   help="markdown table to write" + (f" (default {out})" if out else ""))
    if jobs is not None:
        p.add_argument("--jobs", type=int, default=jobs, help="parallel runs; at most one per core")
    if seed:
        p.add_argument("--seed", type=int, default=0, help="solver/engine seed")
    if resume:
        p.add_argument("--from-json", action="store_true",
                       help="only re-render OUT from its raw json")
        p.add_argument("--rerun-failed", action="store_true", help="redo recorded non-ok runs")
        p.add_argument("--timeout-factor", type=float, default=3.0,
                       help="kill a run after FACTOR * time + 120 s")
    if worker:
        p.add_argument("--worker", help=argparse.SUPPRESS)
    return p


def resumable_main(args: argparse.Namespace, worker: Callable[[dict], dict],
                   run: Callable[[argparse.Namespace], dict], render: Callable[[dict], str]) -> int:
    """``main`` of a script that keeps ``OUT.raw.json``: one child task, a re-render, or a run.

    With ``--worker`` the process is a child measuring one task; with ``--from-json`` it only
    renders the raw file again (tables are remade without rerunning anything); otherwise
    ``run(args)`` measures what the raw file lacks and returns its data. Either way the markdown
    is rendered from the raw data alone, so a resumed run and a re-render agree.
    """
    if args.worker:
        return answer(worker, args.worker)
    raw_path = args.out.with_suffix(".raw.json")
    raw = ResultLog(raw_path).raw if args.from_json else run(args)
    write_report(args.out, render(raw))
    print(f"wrote {args.out} and {raw_path}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- child processes


def answer(worker: Callable[[dict], dict], task: str) -> int:
    """Child side of :func:`run_worker`: run ``worker`` on the JSON ``task``, print the result."""
    print("RESULT " + json.dumps(worker(json.loads(task))), flush=True)
    return 0


def run_worker(script: str, task: dict, timeout: float, env: dict | None = None) -> dict:
    """Run ``python SCRIPT --worker TASK`` in a fresh single-threaded interpreter; its result.

    A fresh process per measurement keeps one run's memory, threads and numba state out of the
    next one's timing, and a crash or a hang costs one record instead of the benchmark.

    Parameters
    ----------
    script, task
        The script whose ``--worker`` runs ``task`` (JSON-able) through :func:`answer`.
    timeout
        Seconds after which the child is killed.
    env
        Added to :data:`WORKER_ENV` and the current environment.

    Returns
    -------
    dict
        The worker's result plus ``process_wall_s`` (start-up included), or
        ``{"status": "error" | "timeout", "error": why}``.
    """
    cmd = [sys.executable, str(Path(script).resolve()), "--worker", json.dumps(task)]
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **WORKER_ENV, **(env or {})})
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"killed after {timeout:.0f}s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        return {"status": "error", "error": " ".join(tail)[-500:] or f"rc {proc.returncode}"}
    out = json.loads(lines[-1][len("RESULT ") :])
    out["process_wall_s"] = round(time.perf_counter() - t, 3)
    return out


def run_parallel(script: str, tasks: Sequence[tuple[dict, Any]], jobs: int,
                 timeout_factor: float) -> Iterator[tuple[dict, Any, dict]]:
    """``(task, info, result)`` of every ``(task, info)``, as they finish, ``jobs`` at a time.

    Each task runs through :func:`run_worker`, killed after ``timeout_factor * seconds + 120``
    seconds (``--timeout-factor``), where seconds are ``task["seconds"]`` or else
    ``task["time_limit"]``; ``info`` is passed through for the caller's record.
    """
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(run_worker, script, task,
                        timeout_factor * task.get("seconds", task["time_limit"]) + 120):
            (task, info)
            for task, info in tasks
        }
        for fut in as_completed(futures):
            yield *futures[fut], fut.result()


# --------------------------------------------------------------------------- raw results


def load_json(path: Path, default: Any) -> Any:
    """The JSON in ``path``, or ``default`` when there is no such file (a first run)."""
    return json.loads(Path(path).read_text()) if Path(path).is_file() else default


def save_json(path: Path, data: Any, indent: int | None = None) -> None:
    """Write ``data`` through a temporary file and a rename: a kill never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=indent))
    os.replace(tmp, path)


class ResultLog:
    """Raw results that make a benchmark resumable: ``{"meta": {...}, "results": {key: record}}``.

    One JSON file (``OUT.raw.json``), saved whole after every record, so rerunning the same
    command skips what is recorded and ``--from-json`` re-renders without running anything.
    JSON rather than JSON lines: the raw files under ``benchmarks/results/`` are JSON and must
    stay readable by the same commands.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.raw = load_json(self.path, {})
        self.meta = self.raw.setdefault("meta", {})
        self.results = self.raw.setdefault("results", {})

    def stamp(self, script: str) -> None:
        """Record this machine and this command (each command once) and save."""
        self.meta["machine"] = machine_info()
        command = command_line(script)
        if command not in self.meta.setdefault("commands", []):
            self.meta["commands"].append(command)
        self.save()

    def todo(self, key: str, rerun_failed: bool = False) -> bool:
        """Whether ``key`` needs a run: not recorded, or failed and ``rerun_failed``."""
        old = self.results.get(key)
        return not old or (rerun_failed and old.get("status") != "ok")

    def add(self, key: str, record: dict) -> None:
        """Record one run and save at once: a crash later loses nothing already measured."""
        self.results[key] = record
        self.save()

    def save(self) -> None:
        save_json(self.path, self.raw, indent=1)


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file: ties a raw file to a team or data file even if it is moved."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def ahd_command() -> list[str]:
    """The ``ahd`` entry point of this interpreter (the script, else ``python -c``)."""
    script = Path(sys.executable).with_name("ahd")
    if script.is_file():
        return [str(script)]
    found = shutil.which("ahd")
    return [found] if found else [sys.executable, "-c", "from ahd.cli import app; app()"]


def ahd_evolve(run_dir: Path, options: Sequence[str]) -> dict:
    """Run ``ahd evolve OPTIONS --out RUN_DIR``, resume it, or reuse it; its ``summary.json``.

    A finished run (``summary.json`` present) is reused and an interrupted one (a store, no
    summary) resumed, so rerunning a benchmark never pays for an evolution twice. It runs as a
    subprocess with its output on the terminal, keeping its sandbox workers and numba caches out
    of this process; a failure exits. The summary gets ``team_file``, the exported team's path
    (``None`` when the run validated none).
    """
    run_dir = Path(run_dir)
    summary = run_dir / "summary.json"
    if summary.is_file():
        print(f"evolution in {run_dir} already finished; reusing it", file=sys.stderr)
    else:
        where = "--resume" if (run_dir / "ahd.sqlite").is_file() else "--out"
        cmd = [*ahd_command(), "evolve", *options, where, str(run_dir)]
        print("running: " + shlex.join(cmd), file=sys.stderr, flush=True)
        t = time.perf_counter()
        proc = subprocess.run(cmd, check=False)
        print(f"evolution took {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        if proc.returncode != 0 or not summary.is_file():
            sys.exit(f"ahd evolve failed (exit code {proc.returncode}); see its output above")
    out = json.loads(summary.read_text())
    team = Path(out["exported"]) if out.get("exported") else None
    if team is not None and not team.is_file():
        team = run_dir / "generated" / team.name
    out["team_file"] = None if team is None else str(team)
    return out


# --------------------------------------------------------------------------- statistics


def gap(cost: Any, ref: Any) -> Any:
    """Percent by which ``cost`` exceeds ``ref`` (numbers or arrays), the gap of every table."""
    return 100 * (cost - ref) / ref


def mean_se(values: Iterable[float]) -> tuple[float, float]:
    """Mean and standard error ``std(ddof=1) / sqrt(n)``: how far a mean stands from noise."""
    v = np.asarray(list(values), dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))


def paired_gain(base: Sequence[float], new: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the per-instance gain ``100 * (base - new) / base``.

    Paired on the same instances, so their own spread cancels; positive when ``new`` costs
    less than ``base``.
    """
    b, n = np.asarray(base, dtype=float), np.asarray(new, dtype=float)
    return mean_se(100 * (b - n) / b)


def cpu_shares(records: Iterable[dict], min_wall: float = 1.0) -> list[float]:
    """CPU / wall time of each timed run longer than ``min_wall`` s: below 1, a shared core."""
    return [r["cpu_s"] / r["wall_s"] for r in records
            if r.get("wall_s", 0) > min_wall and "cpu_s" in r]


# --------------------------------------------------------------------------- markdown


def markdown_row(cells: Iterable[Any]) -> str:
    """``| a | b |``: one table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def markdown_table(header: Sequence[str], rows: Iterable[Iterable[Any]],
                   align: str | None = None) -> list[str]:
    """The lines of a markdown table.

    Parameters
    ----------
    header, rows
        Column names, and one sequence of cells per row (formatted with ``str``).
    align
        One letter per column, ``l`` or ``r``; by default the first column (a label) is
        left-aligned and the others (numbers) right-aligned.
    """
    align = align or "l" + "r" * (len(header) - 1)
    rule = "|" + "".join("---:|" if a == "r" else "---|" for a in align)
    return [markdown_row(header), rule, *(markdown_row(r) for r in rows)]


def markdown_report(title: str, commands: str | Iterable[str], machine: str | None,
                    body: Iterable[str], *, machine_first: bool = False) -> str:
    """A table's text: ``# title``, the command(s) that make it, the machine, then ``body``.

    Every table names what made it, so that it can be remade and its timings judged.

    Parameters
    ----------
    commands
        One command line or several (a resumed run lists each).
    machine
        The text after ``Machine: `` (see :func:`machine_line`); ``None`` leaves the line out.
    body
        The lines after the head.
    machine_first
        Put the machine before the commands.
    """
    cmds = [f"Command: `{c}`" for c in ([commands] if isinstance(commands, str) else commands)]
    if machine_first:
        head = [*([f"Machine: {machine}", ""] if machine else []), *cmds]
    else:
        head = [*cmds, *(["", f"Machine: {machine}"] if machine else [])]
    return "\n".join([f"# {title}", "", *head, "", *body]) + "\n"


def write_report(path: Path, text: str) -> str:
    """Write ``text`` to ``path`` (making its folder) and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text
