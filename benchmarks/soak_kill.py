"""The kill loop of ``soak.py kill``: SIGKILL ``ahd evolve`` at random moments, resume, compare.

A run's resume point is ``state.json``, written after each round; the work of a round in
progress at a kill is redone on resume. This loop checks that redoing it changes nothing: a run
killed ``--kills`` times (each time at a moment drawn uniformly over the length of an
uninterrupted run, startup included, and resumed with ``--resume``) must end with the same
candidates (id, code hash, roles, parents, generation), the same evaluations (candidate,
instance, split, context, status, objective), no duplicate evaluation, the same leaderboard and
the same summary as the uninterrupted run with the same seed and settings. A kill that lands
before the run's first row is stored leaves a store without a run; the original command
(``--out``) starts it again, as a user would.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import common
import numpy as np

from ahd.store import StoreError

DEFAULT_OUT = Path("benchmarks/results/soak_kill.md")
SETTINGS = ["--problem", "cvrp", "--size", "10", "--train", "2", "--validation", "2",
            "--iterations", "40", "--offspring", "3", "--jobs", "2", "--time", "1h"]


def add_kill_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--kills", type=int, default=20, help="SIGKILLs of the interrupted run")
    p.add_argument("--rounds", type=int, default=5, help="rounds of each run")
    p.add_argument("--overlap", action="store_true", help="proposals in flight across rounds")
    p.add_argument("--seed", type=int, default=0, help="random moments of the kills")
    p.add_argument("--work-dir", type=Path, default=Path("runs/soak-kill"),
                   help="where the two runs are kept")
    p.add_argument("--from-json", action="store_true",
                   help="only re-render OUT from its raw json")


def fingerprint(run_dir: Path) -> dict[str, Any]:
    """What must not differ between a killed-and-resumed run and an uninterrupted one."""
    from ahd.store.connection import connect_read_only

    conn = connect_read_only(run_dir / "ahd.sqlite")  # leaves no -wal/-shm files behind
    try:
        cands = [list(r) for r in conn.execute(
            "SELECT id, code_hash, roles, parents, generation FROM candidates ORDER BY id")]
        evals = [list(r) for r in conn.execute(
            "SELECT candidate_id, instance, split, context, status, objective FROM evaluations "
            "ORDER BY candidate_id, instance, split, context")]
        dups = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM evaluations GROUP BY candidate_id, instance, "
            "split, context HAVING count(*) > 1)").fetchone()[0]
        runs = [list(r) for r in conn.execute("SELECT id, status, stop_reason FROM runs")]
    finally:
        conn.close()
    from ahd.store import Store

    with Store.in_run_dir(run_dir, readonly=True) as store:
        store.open_run()
        board = [[r.candidate_id, r.mean_objective, r.n_evaluations]
                 for r in store.leaderboard(top=50)]
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("exported",):
        summary.pop(key, None)
    return {"candidates": cands, "evaluations": evals, "duplicates": dups, "runs": runs,
            "leaderboard": board, "summary": summary}


def compare(ref: dict[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """Which parts agree, and the first difference of each that does not."""
    out: dict[str, Any] = {}
    for key in ("candidates", "evaluations", "leaderboard", "summary"):
        a, b = ref[key], got[key]
        same = a == b
        first = None
        if not same and isinstance(a, list):
            first = next(([i, x, y] for i, (x, y) in enumerate(zip(a, b, strict=False))
                          if x != y),
                         [min(len(a), len(b)), len(a), len(b)])
        out[key] = {"same": same, "n_ref": len(a), "n_got": len(b), "first_difference": first}
    out["train_evaluations_same"] = ([e for e in ref["evaluations"] if e[2] == "train"]
                                     == [e for e in got["evaluations"] if e[2] == "train"])
    out["duplicates"] = got["duplicates"]
    return out


def state_round(run_dir: Path) -> int | None:
    try:
        return int(json.loads((run_dir / "state.json").read_text())["round"])
    except (OSError, ValueError, KeyError):
        return None


def has_run(run_dir: Path) -> bool:
    path = run_dir / "ahd.sqlite"
    if not path.exists():
        return False
    from ahd.store.connection import connect_read_only

    try:
        conn = connect_read_only(path)
        try:
            return conn.execute("SELECT count(*) FROM runs").fetchone()[0] > 0
        finally:
            conn.close()
    except (sqlite3.Error, StoreError):
        return False


#: A line ``ahd evolve`` prints once its sandbox workers are up (the run's work starts).
READY = "sandbox layers:"


def evolve(run_dir: Path, args: argparse.Namespace, log: Path,
           kill: tuple[str, float, float] | None = None) -> dict[str, Any]:
    """One ``ahd evolve`` process: fresh (``--out``) or resumed.

    ``kill`` is ``("startup", s, 0)``: SIGKILL ``s`` seconds after the start, or
    ``("round", s, r)``: ``s`` seconds after the saved state first reaches round ``r`` in
    this process with its workers up (a random moment of round ``r + 1``, or of validation
    after the last round), unless the process ends first.
    """
    where = ["--resume", str(run_dir)] if has_run(run_dir) else ["--out", str(run_dir)]
    overlap = ["--overlap"] if args.overlap else ["--no-overlap"]
    settings = [] if where[0] == "--resume" else [*SETTINGS, *overlap]
    cmd = [*common.ahd_command(), "evolve", *settings, "--rounds", str(args.rounds), *where]
    t0 = time.monotonic()
    ready = reached = None
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}  # kill {kill}\n")
        out.flush()
        offset = log.stat().st_size
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        killed = False
        while proc.poll() is None:
            time.sleep(0.05)
            now = time.monotonic()
            if ready is None:
                with log.open() as f:
                    f.seek(offset)
                    if READY in f.read():
                        ready = now
            if kill is not None and kill[0] == "round" and ready is not None and (
                    reached is None and (state_round(run_dir) or -1) >= kill[2]):
                reached = now
            if kill is not None and (
                    (kill[0] == "startup" and now - t0 >= kill[1])
                    or (kill[0] == "round" and reached is not None and now - reached >= kill[1])):
                os.killpg(proc.pid, signal.SIGKILL)  # the command and its sandbox workers
                killed = True
                break
        rc = proc.wait()
    return {"mode": where[0], "kill": kill, "killed": killed, "rc": rc,
            "seconds": round(time.monotonic() - t0, 1),
            "ready": None if ready is None else round(ready - t0, 1),
            "round_after": state_round(run_dir)}


def kill_loop(args: argparse.Namespace) -> int:
    out = args.out if not args.overlap else args.out.with_name(args.out.stem + "_overlap.md")
    if args.from_json:
        print(common.write_report(out, render(common.load_json(out.with_suffix(".raw.json"),
                                                               None))))
        return 0
    work = args.work_dir / ("overlap" if args.overlap else "serial")
    ref_dir, run_dir = work / "reference", work / "killed"
    work.mkdir(parents=True, exist_ok=True)
    log = work / "log.txt"
    saved = work / "reference.json"
    if not (ref_dir / "summary.json").is_file():
        if ref_dir.exists():
            raise SystemExit(f"error: {ref_dir} holds an unfinished run; remove it first")
        ref = evolve(ref_dir, args, log)
        if ref["rc"] != 0 or ref["ready"] is None:
            raise SystemExit(f"error: the reference run failed (exit {ref['rc']}); see {log}")
        saved.write_text(json.dumps(ref))
    ref = json.loads(saved.read_text())
    startup, per_round = ref["ready"], (ref["seconds"] - ref["ready"]) / (args.rounds + 1)
    if run_dir.exists():
        raise SystemExit(f"error: {run_dir} exists; remove it to start the kill loop again")
    rng = np.random.default_rng(args.seed)
    attempts: list[dict[str, Any]] = []
    # Kill i falls in round i * rounds // kills (round 0: the seeds; the last round and
    # validation are left as room, so that the run does not end before its last kill), at a
    # uniform moment of the reference's mean round time after the state
    # reached the round before it; one kill in five instead falls during startup.
    plan = [int(i * args.rounds // args.kills) - 1 for i in range(args.kills)]
    failures = 0
    while (done := sum(a["killed"] for a in attempts)) < args.kills and failures < 3:
        target = plan[done]
        kill = (("startup", float(rng.uniform(0.5, startup)), 0) if rng.random() < 0.2
                else ("round", float(rng.uniform(0.0, per_round)), target))
        attempts.append(evolve(run_dir, args, log, kill))
        a = attempts[-1]
        print(f"attempt {len(attempts)}: {a['mode']} kill={kill} killed={a['killed']} "
              f"rc={a['rc']} round={a['round_after']}", flush=True)
        if not a["killed"] and a["rc"] == 0:
            break  # it finished before its kill moment
        failures = 0 if a["killed"] else failures + 1  # a failed start is retried
    if not (run_dir / "summary.json").is_file():
        attempts.append(evolve(run_dir, args, log))
    result = compare(fingerprint(ref_dir), fingerprint(run_dir))
    raw = {"command": common.command_line(Path(__file__).with_name("soak.py").as_posix()),
           "machine": common.machine_line(), "settings": [*SETTINGS, "--rounds",
                                                         str(args.rounds)],
           "overlap": args.overlap, "reference": ref, "attempts": attempts,
           "comparison": result, "kills": args.kills}
    raw["passed"] = passed(raw, args.kills)
    common.save_json(out.with_suffix(".raw.json"), raw, indent=1)
    common.write_report(out, render(raw))
    print(render(raw))
    return 0 if raw["passed"] else 1


def passed(raw: dict[str, Any], kills: int) -> bool:
    """Identical candidates, evaluations and leaderboard, no duplicate, every kill resumed,
    and the last process finished. A start that failed without a kill (the sandbox workers
    did not start in time on a loaded machine: one line, nothing written) is retried and
    counted apart."""
    c = raw["comparison"]
    return (all(c[k]["same"] for k in ("candidates", "evaluations", "leaderboard"))
            and c["duplicates"] == 0 and raw["attempts"][-1]["rc"] == 0
            and sum(a["killed"] for a in raw["attempts"]) >= kills)


def render(raw: dict[str, Any]) -> str:
    killed = sum(a["killed"] for a in raw["attempts"])
    raw["passed"] = passed(raw, raw.get("kills", 20))
    c = raw["comparison"]
    body = [f"Settings: `ahd evolve {' '.join(raw['settings'])}`"
            f"{' --overlap' if raw['overlap'] else ' --no-overlap'}; the uninterrupted run took "
            f"{raw['reference']['seconds']} s, {raw['reference']['ready']} s of it starting "
            "its sandbox workers. The kills are spread over the rounds (round 0 scores the "
            "seeds; a kill whose moment comes after the last round falls in validation): "
            "kill i waits until the saved state "
            "reaches round i * rounds // kills - 1, then a uniform moment of the "
            "reference's mean round time; one kill in five instead falls at a uniform moment "
            "of the process's startup. Each kill is SIGKILL to the command's process group "
            "(its sandbox workers too).", "",
            f"Kills: {killed}; processes started: {len(raw['attempts'])}; failed starts "
            "(non-zero exit without a kill: on this loaded machine, sandbox workers that did "
            "not start within 120 s; one `error:` line, nothing written, retried): "
            f"{sum(1 for a in raw['attempts'] if not a['killed'] and a['rc'] != 0)}.", "",
            *common.markdown_table(["compared with the uninterrupted run", "same", "rows (ref)",
                                    "rows (killed)", "first difference"], [
                (k, "yes" if c[k]["same"] else "NO", c[k]["n_ref"], c[k]["n_got"],
                 "-" if c[k]["first_difference"] is None else
                 f"`{json.dumps(c[k]['first_difference'])[:150]}`")
                for k in ("candidates", "evaluations", "leaderboard", "summary")]), "",
            f"Training evaluations identical: {'yes' if c['train_evaluations_same'] else 'NO'}; "
            f"duplicate evaluation keys: {c['duplicates']}.", "",
            f"**{'PASS' if raw['passed'] else 'FAIL'}** ({killed}/{killed} kills resumed).", "",
            "## Attempts", "",
            *common.markdown_table(["#", "mode", "kill at", "killed", "exit", "ran (s)",
                                    "state round after"], [
                (i + 1, a["mode"], "-" if a["kill"] is None else
                 f"startup + {a['kill'][1]:.1f} s" if a["kill"][0] == "startup" else
                 f"workers up + {a['kill'][1]:.1f} s" if a["kill"][2] < 0 else
                 f"state round {a['kill'][2]} + {a['kill'][1]:.1f} s",
                 "yes" if a["killed"] else "no", a["rc"], a["seconds"], a["round_after"])
                for i, a in enumerate(raw["attempts"])])]
    title = "Kill loop: ahd evolve SIGKILLed and resumed" + (" (--overlap)" if raw["overlap"]
                                                             else "")
    return common.markdown_report(title, raw["command"], raw["machine"], body)
