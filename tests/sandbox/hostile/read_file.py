"""Copy a file that holds a secret into the result."""


def run(path):
    with open(path) as f:
        return f.read()
