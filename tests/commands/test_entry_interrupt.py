"""Ctrl-C at any moment of ``ahd``'s start-up ends it without a traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

#: ``python -m ahd``, announcing that the interpreter's own start-up (``site``, ``.pth`` files
#: of installed packages) is over: a signal there is Python's business, not ahd's, and on a
#: loaded machine 0.1 s can still be inside it.
ENTRY = ("import sys; from ahd.__main__ import main; print('started', flush=True); "
         "sys.argv[0] = 'ahd'; main()")


@pytest.mark.parametrize("after", [0.0, 0.1, 0.3, 0.6, 1.0])
def test_ctrl_c_during_startup_prints_no_traceback(after, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "evolve", "--problem", "cvrp", "--size", "15",
         "--train", "2", "--validation", "2", "--rounds", "1", "--out", str(tmp_path / "r")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in out + err, err
    assert proc.returncode == 130, (proc.returncode, err)
    lines = err.strip().splitlines()
    assert lines and "interrupted (Ctrl-C)" in lines[-1], (proc.returncode, out, err)


#: An interrupt raised inside a C callback, where Python can only print it and carry on: it
#: happens when Ctrl-C lands while numba hands a compiled object to llvmlite's cache.
SWALLOWED = """
import ctypes, sys, time
from ahd.interrupts import Terminated, install
install()
def callback():
    raise Terminated() if sys.argv[1] == "SIGTERM" else KeyboardInterrupt()
ctypes.CFUNCTYPE(None)(callback)()
try:
    time.sleep(10)
    print("interrupt lost")
except KeyboardInterrupt as exc:
    print(type(exc).__name__)
"""


@pytest.mark.parametrize(("signal_name", "raised"), [("SIGINT", "KeyboardInterrupt"),
                                                     ("SIGTERM", "Terminated")])
def test_an_interrupt_swallowed_by_a_c_callback_is_delivered_again(signal_name, raised):
    done = subprocess.run([sys.executable, "-c", SWALLOWED, signal_name],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == raised, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


#: An interrupt that code on the way caught and dropped (a library's bare ``except:``), then a
#: command starting: it must stop, not run.
DROPPED = """
import os, signal, sys, time
from ahd.interrupts import install, interruptible
install()
try:
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    time.sleep(10)
except KeyboardInterrupt:
    pass
import typer
try:
    interruptible(lambda: print("the command ran"))()
except typer.Exit as exc:  # as typer's app ends a command
    sys.exit(exc.exit_code)
"""


@pytest.mark.parametrize(("name", "status", "word"),
                         [("SIGINT", 130, "Ctrl-C"), ("SIGTERM", 143, "SIGTERM")])
def test_an_interrupt_dropped_during_startup_stops_the_command(name, status, word):
    proc = subprocess.run([sys.executable, "-c", DROPPED, name], capture_output=True, text=True,
                          timeout=60)
    assert "the command ran" not in proc.stdout
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert proc.stderr.strip().splitlines() == [f"error: interrupted ({word})"]
