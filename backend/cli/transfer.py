"""`task2box import-transfer`: load measured source→target transfer scores from CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backend.config import get_settings

console = Console(stderr=True)


def _read_bounded(path: Path) -> bytes:
    from backend.transfer.csv_input import MAX_FILE_BYTES

    # One byte past the limit is enough for the parser to refuse the file by its size,
    # without ever reading a huge file into memory.
    with path.open("rb") as f:
        return f.read(MAX_FILE_BYTES + 1)


def import_transfer(
    scores: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="CSV with header source,target,score (score >= 0)."
        ),
    ],
    descriptions: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="CSV with header id,description[,name]: text features of tasks without labels.",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="Delete every stored score first (the file is the whole matrix).")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Validate and import measured transfer scores (all or nothing); then train with
    `task2box train --relation transfer`."""
    from backend.cli._database import open_database
    from backend.db.engine import session_scope
    from backend.transfer.csv_input import TransferInputError
    from backend.transfer.importer import import_transfer_csv

    factory = open_database(get_settings())
    try:
        with session_scope(factory) as session:
            report = import_transfer_csv(
                session,
                _read_bounded(scores),
                None if descriptions is None else _read_bounded(descriptions),
                replace_all=replace,
                scores_name=scores.name,
                descriptions_name=descriptions.name if descriptions else "descriptions.csv",
            )
    except TransferInputError as e:
        count = len(e.errors) + e.more
        console.print(
            f"[red]{e.name}: {count} error{'s' if count != 1 else ''}; nothing imported[/]"
        )
        for error in e.errors:
            console.print(f"  {error}", markup=False, highlight=False)
        if e.more:
            console.print(f"  … and {e.more} more")
        raise typer.Exit(code=1) from e
    if json_out:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    console.print(
        f"imported {report.rows} transfer scores; {len(report.created)} new tasks, "
        f"{report.total_scores} scores stored in all"
    )
    if report.unused_descriptions:
        console.print(
            f"{len(report.unused_descriptions)} descriptions name no task of the scores "
            f"(e.g. {report.unused_descriptions[0]!r}) and were ignored"
        )
    console.print("next: task2box train --relation transfer")
