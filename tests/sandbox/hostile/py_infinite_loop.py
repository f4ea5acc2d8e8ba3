"""A pure-Python loop that never ends: only the wall-clock kill stops it."""


def run():
    n = 0
    while True:
        n += 1
