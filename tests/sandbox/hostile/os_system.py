"""Run a shell command that creates a file."""

import os


def run(path):
    return os.system(f"touch {path}")
