"""Write a file outside the sandbox's own directory."""


def run(path):
    with open(path, "w") as f:
        f.write("escaped")
    return path
