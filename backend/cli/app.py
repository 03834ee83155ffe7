"""The `task2box` entry point. Each command lives in its own module and registers itself here."""

from __future__ import annotations

import typer

from backend.config import get_settings
from backend.logging_setup import configure_logging

app = typer.Typer(
    name="task2box",
    help="Task2Box Atlas: map Hugging Face image-classification datasets as boxes.",
    no_args_is_help=True,
    add_completion=False,
)
bench_app = typer.Typer(
    help="Benchmarks; each prints a table and can write JSON.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")


@app.callback()
def _root() -> None:
    configure_logging(get_settings().log_level)


def _register_commands() -> None:
    # Imported for their side effect of adding commands to `app` / `bench_app`.
    # Kept in one place so the command list reads top to bottom.
    import backend.cli.crawl
    import backend.cli.db
    import backend.cli.doctor
    import backend.cli.place
    import backend.cli.represent
    import backend.cli.serve
    import backend.cli.train
    import backend.cli.transfer
    import backend.cli.up  # noqa: F401
    import benchmarks.cli  # noqa: F401


def main() -> None:
    """Console-script entry point."""
    _register_commands()
    app()


if __name__ == "__main__":
    main()
