"""Fork until something gives."""

import os


def run():
    children = []
    while True:
        pid = os.fork()
        if pid == 0:
            continue  # the child forks too
        children.append(pid)
