"""Start a program."""

import subprocess


def run():
    return subprocess.run(["/bin/echo", "escaped"], check=True, capture_output=True).stdout
