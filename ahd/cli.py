"""The ``ahd`` command line."""

from __future__ import annotations

import typer

from .commands.evolve_cli import register as register_evolve
from .commands.report_cli import register as register_report
from .commands.store_cli import register as register_store_commands
from .interrupts import install as install_sigterm
from .interrupts import interruptible
from .plugins import commands

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Automatic heuristic design: evolve heuristics for registered problems (routing, "
    "planning and plugins), run them, and inspect runs.",
)


@app.callback()
def _main() -> None:
    """Automatic heuristic design for routing and planning."""
    install_sigterm()  # SIGTERM stops every command as Ctrl-C does


def _register_all() -> None:
    register_store_commands(app)
    register_evolve(app)
    register_report(app)
    for name, register in sorted(commands().items()):
        try:
            register(app)
        except Exception as exc:  # a broken plugin must not take the CLI down
            typer.echo(f"warning: command plugin {name!r} failed: {type(exc).__name__}: {exc}",
                       err=True)


_register_all()
for _info in app.registered_commands:  # plugins' commands included
    if _info.callback is not None:
        _info.callback = interruptible(_info.callback)

if __name__ == "__main__":
    app()
