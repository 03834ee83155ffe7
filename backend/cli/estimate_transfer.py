"""`task2box estimate-transfer`: transfer between datasets estimated from their image features,
then a transfer map fitted to them."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from backend.config import get_settings
from backend.vocab import TRANSFER_ESTIMATORS

console = Console()


def estimate_transfer(
    train: Annotated[
        bool,
        typer.Option("--train/--no-train", help="Fit and publish a transfer map afterwards."),
    ] = True,
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help="Epochs of the map fit.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Score every ordered pair of datasets with stored image features (LEEP, NCE and LogME),
    store the estimates beside (never over) measured scores, and fit the transfer map to
    measured scores plus `T2B_TRANSFER_ESTIMATOR`'s estimates of the other pairs.

    Run `task2box image-features` first.
    """
    from backend.cli._database import open_database
    from backend.cli.train import RelationOption
    from backend.cli.train import train as train_maps
    from backend.jobs.estimate_transfer import estimate_from_stored_features

    settings = get_settings()
    factory = open_database(settings)
    report = estimate_from_stored_features(settings, factory, estimators=TRANSFER_ESTIMATORS)
    if as_json:
        summary = {
            "scored": list(report.scored),
            "stored": report.stored,
            "skipped": report.skipped,
        }
        typer.echo(json.dumps(summary))
    else:
        table = Table(title="transfer estimates", show_header=False)
        table.add_row("datasets scored", f"{len(report.scored):,}")
        for estimator, n in sorted(report.stored.items()):
            table.add_row(f"stored: {estimator}", f"{n:,} pairs")
        for dataset_id, why in sorted(report.skipped.items()):
            table.add_row(f"skipped: {escape(dataset_id)}", escape(why))
        table.add_row("a map fits", settings.transfer_estimator or "measured scores only")
        console.print(table)
    if train and report.stored:
        # The train command's own path: registered as a job, its progress, its errors.
        train_maps(relation=RelationOption.transfer, epochs=epochs, json_out=as_json)
