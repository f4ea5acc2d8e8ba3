"""Plan validation in a long-lived child process, one per evaluation slot.

Every plan is checked with unified-planning (:class:`ahd.planners.validate.PlanValidator`),
which shares no code with any planner under test. Importing unified-planning costs seconds and
parsing a large task tens of seconds, so a slot keeps one validator process (and it keeps the
parsed tasks it saw last) instead of paying that per plan; running it as a process, not in the
evaluator, lets a validation that hangs be killed like a planner, and keeps the evaluator from
competing for a core with the planners it times.

Protocol: one JSON request per line on stdin (``{"domain", "problem", "plan"}``), one JSON
answer per line on stdout (``{"valid", "cost", "reason"}``).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass

from ._launch import wrap

__all__ = ["ValidatorProcess", "ValidatorSlots", "Verdict", "serve"]

#: Parsed tasks a validator process keeps (several planners' plans for one task come close
#: together, as the evaluation goes task by task).
CACHE_SIZE = 4


@dataclass(frozen=True)
class Verdict:
    """A validation answer; ``valid`` None means the plan could not be checked."""

    valid: bool | None
    cost: float | None
    reason: str


def serve() -> None:
    """The child's loop: answer requests until stdin closes."""
    from ahd.planners.validate import PlanValidator

    cache: OrderedDict[tuple[str, str], PlanValidator | str] = OrderedDict()
    for line in sys.stdin:
        req = json.loads(line)
        key = (req["domain"], req["problem"])
        if key not in cache:
            try:
                cache[key] = PlanValidator(*key)
            except ValueError as exc:
                cache[key] = str(exc)
            while len(cache) > CACHE_SIZE:
                cache.popitem(last=False)
        cache.move_to_end(key)
        validator = cache[key]
        if isinstance(validator, str):
            answer = {"valid": None, "cost": None, "reason": validator}
        else:
            res = validator.validate(req["plan"])
            answer = {"valid": res.valid, "cost": res.cost, "reason": res.reason}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


class ValidatorProcess:
    """Parent side: a validator child that is started on first use and restarted after a
    timeout or a crash; it dies with the thread that started it (see :mod:`._launch`)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ, PYTHONHASHSEED="0")
        return subprocess.Popen(
            wrap([sys.executable, "-m", "ahd.planners.competition.validator"]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=env, start_new_session=True,
        )

    def validate(self, domain: str, problem: str, plan: str, timeout: float) -> Verdict:
        """Check ``plan`` (a file) for the task; never raises for a bad plan or task.

        Returns
        -------
        Verdict
            ``valid`` None when the validator failed or ran past ``timeout`` seconds (it is
            then killed and restarted for the next plan).
        """
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start()
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps({"domain": domain, "problem": problem,
                                         "plan": plan}) + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            line = proc.stdout.readline() if ready else ""
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            why = "timed out" if proc.poll() is None else f"died ({proc.returncode})"
            self.close()
            return Verdict(None, None, f"validation {why} after at most {timeout:g} s")
        answer = json.loads(line)
        return Verdict(answer["valid"], answer["cost"], answer["reason"])

    def close(self) -> None:
        """Stop the child (killed: it may be stuck in a parse)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


class ValidatorSlots:
    """One :class:`ValidatorProcess` per thread that asks for one, all closed together.

    An evaluation validates from several threads at once (its run slots); each keeps its own
    child, so a slow validation never holds up another, and the child's cache of parsed tasks
    serves the plans that thread sees.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[ValidatorProcess] = []

    def get(self) -> ValidatorProcess:
        """The calling thread's validator (started on its first validation)."""
        v = getattr(self._local, "validator", None)
        if v is None:
            v = self._local.validator = ValidatorProcess()
            with self._lock:
                self._all.append(v)
        return v

    def close(self) -> None:
        """Stop every child; a thread waiting on a validation gets its answer (none) now."""
        with self._lock:
            children = list(self._all)
        for v in children:
            v.close()


if __name__ == "__main__":
    serve()
