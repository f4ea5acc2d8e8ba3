"""CLI command groups kept out of ahd/cli.py so each stays small."""
