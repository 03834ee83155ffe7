"""`task2box doctor`: what works and what does not, in one table (or JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from backend.config import get_settings

console = Console()

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def doctor(
    load_model: Annotated[
        bool,
        typer.Option("--model/--no-model", help="Load the embedding model (a few seconds)."),
    ] = True,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=60, help="Seconds to wait for the Hub.")
    ] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check the database, data dir, device, embedding model, Hub and maps; exit 1 if broken."""
    from backend.doctor import run_checks

    checks = run_checks(get_settings(), load_model=load_model, hub_timeout_s=timeout)
    failed = [c.name for c in checks if c.status == "fail"]
    if as_json:
        typer.echo(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        table = Table(title="task2box doctor", show_lines=False)
        for column in ("check", "status", "summary"):
            table.add_column(column, overflow="fold")
        for check in checks:
            style = _STYLE[check.status]
            table.add_row(check.name, f"[{style}]{check.status}[/]", escape(check.summary))
        console.print(table)
        if failed:
            console.print(f"[bold red]broken:[/] {', '.join(failed)}")
    if failed:
        raise typer.Exit(code=1)
