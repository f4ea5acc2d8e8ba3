"""Read an API key from the environment."""

import os


def run():
    return os.environ["OPENAI_API_KEY"]
