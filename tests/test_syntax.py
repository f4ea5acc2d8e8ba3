"""Bounded parsing in the parent: a size cap before any parse, and one syntax tree at a time.

A syntax tree takes about 150 times its source's memory, and Python keeps the arenas several
simultaneous trees filled; these tests pin the two rules that bound the parent's memory (see
``ahd.syntax``): the cap, and that the stager checks proposals one at a time although its
threads run proposer calls side by side.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import sys
import threading
import time

import numpy as np
import pytest

from ahd import syntax
from ahd.candidate import Origin
from ahd.evolve.pipeline import Stager
from ahd.proposers.base import Proposal, ProposalRequest
from ahd.static_check import static_check

OPERATOR = "def destroy(inst, sol, n_remove, removed):\n    return 0\n"


def padded(chars: int) -> str:
    """A valid operator of exactly ``chars`` characters (a comment pads it)."""
    return OPERATOR + "#" + "x" * (chars - len(OPERATOR) - 2) + "\n"


def test_a_source_at_the_cap_parses_and_one_over_is_refused_before_parsing():
    assert len(padded(syntax.MAX_SOURCE_CHARS)) == syntax.MAX_SOURCE_CHARS
    syntax.parse(padded(syntax.MAX_SOURCE_CHARS))
    with pytest.raises(syntax.SourceTooLarge, match="65,537 characters, over the limit"):
        syntax.parse(padded(syntax.MAX_SOURCE_CHARS + 1))
    # refused by length alone: this would be a syntax error if it were parsed
    with pytest.raises(syntax.SourceTooLarge):
        syntax.parse("def (" * syntax.MAX_SOURCE_CHARS)


def test_the_static_check_reports_an_oversized_source_in_one_line():
    problems = static_check(padded(syntax.MAX_SOURCE_CHARS + 10), {"destroy": 4})
    assert problems == [
        "the source is 65,546 characters, over the limit of 65,536 for one candidate; "
        "shorten it"]
    assert static_check(padded(syntax.MAX_SOURCE_CHARS), {"destroy": 4}) == []


class RecordingTask:
    """A task whose check records how many checks run at the same moment."""

    problem = "recording"

    def __init__(self) -> None:
        self.running = self.most = 0
        self.lock = threading.Lock()

    def check(self, source: str, roles: tuple[str, ...]) -> list[str]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)  # long enough for every thread to arrive while one checks
        with self.lock:
            self.running -= 1
        return ["recorded"]


def test_the_stager_checks_one_proposal_at_a_time_on_many_threads():
    task = RecordingTask()
    started = threading.Barrier(4, timeout=10)

    def proposer(requests, rng):
        started.wait()  # the proposer calls themselves do run side by side
        return [Proposal(req, OPERATOR + f"# {rng.integers(10**9)}\n", Origin("test"))
                for req in requests]

    stager = Stager(task, proposer, threads=4)
    try:
        requests = [ProposalRequest("init", ("destroy",)) for _ in range(4)]
        futures = stager.propose(requests, np.arange(4), frozenset())
        staged = [f.result(timeout=30) for f in futures]
    finally:
        stager.close()
    assert [s.problems for s in staged] == [["recorded"]] * 4
    assert task.most == 1


class _Finalised:
    """Cyclic garbage with a finaliser: the collector runs Python code in the middle of
    whatever allocates, which lets the interpreter switch threads inside a parse."""

    def __init__(self):
        self.me = self

    def __del__(self):
        sum(range(20))


def _parse_unlocked_until(stop: threading.Event, source: str) -> None:
    """What third-party code does from its own threads: parse without ahd's lock (3.11's
    ``traceback`` does, to place its carets). Its own failures are not ahd's to fix."""
    while not stop.is_set():
        for _ in range(20):
            _Finalised()
        with contextlib.suppress(SystemError):
            ast.parse(source)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the race is CPython 3.11's")
def test_parse_survives_a_parse_outside_the_lock_in_another_thread():
    source = "x = " + "(" * 50 + "1" + ")" * 50 + "\n" + "def f(a):\n    return [a]\n" * 200
    stop = threading.Event()
    thread = threading.Thread(target=_parse_unlocked_until, args=(stop, source), daemon=True)
    interval = sys.getswitchinterval()
    threshold = gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(50, 5, 5)
    thread.start()
    try:
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:
            for _ in range(5):
                _Finalised()
            syntax.parse(source)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
