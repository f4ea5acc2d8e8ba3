"""Write 100 MB to stdout."""

import sys


def run():
    chunk = "x" * (1 << 20)
    for _ in range(100):
        sys.stdout.write(chunk)
    return "done"
