"""Recurse without end."""


def _down(n):
    return _down(n + 1) + 1


def run():
    return _down(0)
