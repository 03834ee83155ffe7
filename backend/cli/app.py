"""The `task2box` entry point: the one module that puts the commands on the Typer app.

Command modules export plain functions and never import this module, so no import cycle runs
through the CLI and the command list reads top to bottom in `build_cli`. Commands that live
outside `backend/` (the benchmarks) arrive as plugins: Typer apps named in the `task2box.cli`
entry point group of an installed distribution, so `backend/` never imports them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import ParamSpec

import typer
from pydantic import ValidationError

from backend.cli import (
    crawl,
    db,
    doctor,
    estimate_transfer,
    export_map,
    image_features,
    place,
    represent,
    serve,
    train,
    transfer,
    up,
)
from backend.config import get_settings
from backend.errors import AtlasError
from backend.logging_setup import configure_logging

log = logging.getLogger(__name__)
P = ParamSpec("P")

PLUGIN_GROUP = "task2box.cli"
# The plugin a checkout of this repository provides (`benchmarks/cli.py`). Without it
# `task2box bench` still exists and says why there is nothing to run.
BENCH = "bench"
_BENCH_MISSING = (
    "no benchmark commands are installed. They come from the `benchmarks` package of a "
    "checkout of the repository, found through the task2box.cli entry point group; in a "
    "checkout, reinstall so that the entry point is registered: `pip install -e .`"
)


def _root() -> None:
    try:
        settings = get_settings()
    except ValidationError as e:
        # A bad setting is the user's to fix, not a bug: say which variable and why, one line
        # each, before any command starts (exit 2, as for a bad option).
        for line in settings_errors(e):
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(code=2) from None
    configure_logging(settings.log_level)


def settings_errors(error: ValidationError) -> list[str]:
    """One line per invalid setting, named by its environment variable, without its value.

    The value is left out because a setting may be a secret (a token, a URL with a password).
    """
    lines = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        name = "T2B_" + "_".join(str(part) for part in item["loc"]).upper()
        message = str(item["msg"])
        if item["type"] == "value_error":
            message = message.removeprefix("Value error, ")
            lines.append(message if message.startswith(name) else f"{name} {message}")
        else:
            lines.append(f"{name}: {message}")
    return lines


def build_cli(plugins: Iterable[EntryPoint] | None = None) -> typer.Typer:
    """The `task2box` app: every built-in command, then each plugin's sub-app.

    Args:
        plugins: entry points whose objects are Typer apps, each mounted under its entry
            point's name; the installed ones of `PLUGIN_GROUP` by default.
    """
    app = typer.Typer(
        name="task2box",
        help="Task2Box Atlas: map Hugging Face image-classification datasets as boxes.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.callback()(_root)
    app.command()(_one_line_errors(crawl.crawl))
    app.command()(_one_line_errors(db.migrate))
    app.command()(_one_line_errors(db.seed))
    app.command()(_one_line_errors(doctor.doctor))
    app.command("image-features")(_one_line_errors(image_features.image_features))
    app.command("export-map")(_one_line_errors(export_map.export_map))
    app.command("estimate-transfer")(_one_line_errors(estimate_transfer.estimate_transfer))
    app.command()(_one_line_errors(place.place))
    app.command()(_one_line_errors(represent.represent))
    app.command()(_one_line_errors(serve.serve))
    app.command()(_one_line_errors(train.train))
    app.command("import-transfer")(_one_line_errors(transfer.import_transfer))
    app.command()(_one_line_errors(up.up))
    mounted = _mount_plugins(app, entry_points(group=PLUGIN_GROUP) if plugins is None else plugins)
    if BENCH not in mounted:
        _explain_missing(app, BENCH, _BENCH_MISSING)
    return app


def _one_line_errors(command: Callable[P, None]) -> Callable[P, None]:
    """`command`, with the project's own errors (`AtlasError`: a full disk, a read-only
    database, a crawl that cannot go on) printed as one line and exit status 1.

    Their messages already name the cause and what to do; a traceback would bury that under
    hundreds of lines about our code. `T2B_LOG_LEVEL=DEBUG` logs the traceback too.
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except AtlasError as e:
            log.debug("%s failed", command.__name__, exc_info=True)
            typer.echo(f"error: {' '.join(str(e).split())}", err=True)
            raise typer.Exit(code=1) from None

    return run


def _mount_plugins(app: typer.Typer, plugins: Iterable[EntryPoint]) -> set[str]:
    """Adds each plugin that loads as a sub-app; returns the names mounted.

    A plugin that cannot be loaded (declared by stale metadata, its package left out of the
    install, or broken) must not take the built-in commands down with it: its name answers
    with the error instead.
    """
    mounted: set[str] = set()
    for plugin in plugins:
        if plugin.name in mounted:  # the same name from two installs: the first one wins
            continue
        try:
            sub = plugin.load()
            if not isinstance(sub, typer.Typer):
                raise TypeError(f"{plugin.value} is a {type(sub).__name__}, not a typer.Typer")
        except Exception as e:
            message = f"the {plugin.name!r} commands ({plugin.value}) cannot be loaded: {e}"
            _explain_missing(app, plugin.name, message)
            mounted.add(plugin.name)
            continue
        app.add_typer(sub, name=plugin.name)
        mounted.add(plugin.name)
    return mounted


def _explain_missing(app: typer.Typer, name: str, message: str) -> None:
    """Registers `name` as a command that takes any arguments and exits 1 with `message`."""

    def missing() -> None:
        typer.echo(message, err=True)
        raise typer.Exit(code=1)

    app.command(
        name,
        help=f"Not available here: {message}",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )(missing)


def main() -> None:
    """Console-script entry point."""
    build_cli()()


if __name__ == "__main__":
    main()
