"""Kill the worker that forked us."""

import os
import signal


def run():
    os.kill(os.getppid(), signal.SIGKILL)
    return "killed the parent"
