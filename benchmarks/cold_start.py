"""Cold and warm start of ``ahd solve`` and ``ahd plan`` on tiny inputs.

A first command after a fresh install spends most of its time in numba compiling the engine
(routing) or the search kernel and heuristics (planning); later commands load that machine
code from numba's on-disk cache. This script times the real commands, each in a fresh
process, from the shell's point of view (wall time, and the child's CPU time, which machine
load inflates much less):

- ``cold``: ``NUMBA_CACHE_DIR`` points at a new, empty folder, so nothing compiled by earlier
  runs (the ``__pycache__`` folders beside the sources included) can be reused, as after a
  fresh install; the script checks that the folder was filled;
- ``warm``: the same command again with that folder, which it must find complete (no new
  compiled code written).

Inputs: ``ahd solve --problem cvrp --generate 5 --time 1s`` and ``ahd plan`` on a generated
4-block blocksworld task with the default heuristic (hff) and a time limit long enough that a
cold start still solves it (planning counts compilation in its search time). Cold and warm runs
of both commands are interleaved, ``--repeats`` times, so that background load hits them
alike; the load average is recorded beside every timing.

Example::

    python benchmarks/cold_start.py --repeats 3 --out benchmarks/results/cold_start.md
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

OUT = Path("benchmarks/results/cold_start.md")
BLOCKS = 4


def compiled_files(cache: Path) -> tuple[int, int]:
    """Numbers of numba index (``.nbi``) and code (``.nbc``) files under ``cache``."""
    return len(list(cache.rglob("*.nbi"))), len(list(cache.rglob("*.nbc")))


#: Commands run with extra environment variables: the first-run compilation in one process,
#: as before ``problems/engine/first_run.py`` (the baseline, side by side).
ENV = {"solve, one process": {"AHD_PARALLEL_COMPILE": "0"}}


def timed(cmd: list[str], cache: Path, timeout: float, extra: dict | None = None) -> dict:
    """Run ``cmd`` with ``NUMBA_CACHE_DIR=cache``; wall and CPU seconds, load, cache files."""
    env = {**os.environ, **common.WORKER_ENV, "NUMBA_CACHE_DIR": str(cache), **(extra or {})}
    before = os.times()
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    wall = time.perf_counter() - t
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system)
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    index, code = compiled_files(cache)
    return {"wall_s": wall, "cpu_s": cpu, "load": (load0 + os.getloadavg()[0]) / 2,
            "index_files": index, "code_files": code, "output": proc.stdout.strip()}


def plan_task(folder: Path) -> tuple[Path, Path]:
    """A small blocksworld domain and problem, written under ``folder``."""
    from ahd.planners.domains import get_domain

    spec = get_domain("blocksworld")
    domain, problem = folder / "domain.pddl", folder / "p01.pddl"
    domain.write_text(spec.domain)
    problem.write_text(spec.generate(BLOCKS, 0, name="cold-start"))
    return domain, problem


def commands(ahd: list[str], folder: Path, args: argparse.Namespace) -> dict[str, list[str]]:
    """The measured command lines, by name."""
    domain, problem = plan_task(folder)
    solve = [*ahd, "solve", "--problem", "cvrp", "--generate", str(args.size),
             "--time", args.solve_time]
    return {
        "solve": solve,
        "solve, one process": solve,
        "plan": [*ahd, "plan", str(domain), str(problem), "--time", args.plan_time],
    }


def measure(cmds: dict[str, list[str]], repeats: int, timeout: float) -> dict[str, list]:
    """Cold then warm run of every command, interleaved, ``repeats`` times."""
    runs: dict[str, list] = {f"{name} {state}": [] for name in cmds for state in ("cold", "warm")}
    for r in range(repeats):
        for name, cmd in cmds.items():
            with tempfile.TemporaryDirectory(prefix="ahd-numba-cold-") as tmp:
                cache = Path(tmp)
                cold = timed(cmd, cache, timeout, ENV.get(name))
                if cold["code_files"] == 0:
                    sys.exit(f"{name}: nothing was cached in {cache}; NUMBA_CACHE_DIR unused?")
                warm = timed(cmd, cache, timeout, ENV.get(name))
                if warm["code_files"] != cold["code_files"]:
                    sys.exit(f"{name}: the warm run compiled again "
                             f"({cold['code_files']} -> {warm['code_files']} cached files)")
            runs[f"{name} cold"].append(cold)
            runs[f"{name} warm"].append(warm)
            print(f"[{r + 1}/{repeats}] {name}: cold {cold['wall_s']:.1f} s "
                  f"(cpu {cold['cpu_s']:.1f} s), warm {warm['wall_s']:.1f} s "
                  f"(cpu {warm['cpu_s']:.1f} s), load {cold['load']:.1f}",
                  file=sys.stderr, flush=True)
    return runs


def render(runs: dict[str, list], cmds: dict[str, list[str]], command: str) -> str:
    """The markdown report."""
    rows = []
    for key, records in runs.items():
        wall = common.mean_se(r["wall_s"] for r in records)
        cpu = common.mean_se(r["cpu_s"] for r in records)
        loads = [r["load"] for r in records]
        rows.append([key, len(records), f"{wall[0]:.1f} ± {wall[1]:.1f}",
                     f"{cpu[0]:.1f} ± {cpu[1]:.1f}", f"{min(loads):.1f}–{max(loads):.1f}",
                     records[-1]["code_files"]])
    shown = {name: " ".join(f"{k}={v}" for k, v in ENV.get(name, {}).items())
             + (" " if name in ENV else "")
             + shlex.join(["ahd", *(Path(a).name if a.endswith(".pddl") else a
                                    for a in cmd[cmd.index(name.split(",")[0]):])])
             for name, cmd in cmds.items()}
    body = [
        "Wall time of the whole command (interpreter start, imports, compilation or cache "
        "loading, the search, output) in a fresh process; CPU = the child's user + system "
        "time. Mean ± standard error over the repeats. *cold*: `NUMBA_CACHE_DIR` set to a new "
        "empty folder (nothing compiled earlier is reused); *warm*: the same command again "
        "with that folder. Load = 1-minute load average during the run: above the number of "
        "cores, other processes competed for the CPUs, and wall time grows with it while CPU "
        "time hardly does. Cached files = numba code files (`.nbc`, one per compiled "
        "signature) in the folder after the run. A cold `ahd solve` compiles the seed "
        "operators in a forked child while the engine compiles in the command's own process "
        "(`problems/engine/first_run.py`), so its CPU time exceeds its wall time; *solve, one "
        "process* is the same command with that turned off, compiling everything in turn.",
        "",
        *[f"- {name}: `{line}` (task: generated blocksworld, {BLOCKS} blocks)"
          if name == "plan" else f"- {name}: `{line}`" for name, line in shown.items()],
        "",
        *common.markdown_table(
            ["command", "runs", "wall s", "CPU s", "load", "cached files"], rows),
    ]
    return common.markdown_report("Cold and warm start", command, common.machine_line(), body)


def main(argv: list[str] | None = None) -> int:
    """Measure and write the report."""
    p = common.base_parser(__doc__, OUT)
    p.add_argument("--repeats", type=int, default=3, help="cold + warm pairs per command")
    p.add_argument("--size", type=int, default=5, help="customers of the solved instance")
    p.add_argument("--solve-time", default="1s", help="ahd solve --time")
    p.add_argument("--plan-time", default="300", help="ahd plan --time (covers compilation)")
    p.add_argument("--timeout", type=float, default=900.0, help="kill a command after this")
    p.add_argument("--ahd", default=None,
                   help="command that runs ahd (default: this interpreter's ahd script)")
    args = p.parse_args(argv)
    ahd = shlex.split(args.ahd) if args.ahd else common.ahd_command()
    with tempfile.TemporaryDirectory(prefix="ahd-cold-start-") as tmp:
        cmds = commands(ahd, Path(tmp), args)
        runs = measure(cmds, args.repeats, args.timeout)
    text = render(runs, cmds, common.command_line(__file__, argv))
    common.write_report(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
