"""Typer apps holding only the commands a ``register(app)`` function adds, for command tests."""

from __future__ import annotations

from collections.abc import Callable

import typer


def command_app(register: Callable[[typer.Typer], None]) -> typer.Typer:
    """A fresh app with the commands ``register`` adds, each invoked by its name.

    The no-op callback keeps a lone command a subcommand (``["report", RUN_DIR]``), as it is in
    ``ahd``'s own app; without one typer would make a single command the app itself.
    """
    app = typer.Typer()

    @app.callback()
    def _main() -> None:
        """Test app."""

    register(app)
    return app
