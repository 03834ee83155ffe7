"""`task2box estimate-transfer`: transfer between datasets estimated from their image features,
then a transfer map fitted to them."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from backend.config import get_settings
from backend.vocab import TRANSFER_ESTIMATORS

console = Console()


class EstimatorOption(StrEnum):
    leep = "leep"
    nce = "nce"
    logme = "logme"


def estimate_transfer(
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help=(
                "First sample the images of at most N crawled datasets, most downloaded first "
                "(as `task2box image-features --limit N`). Without it, only stored features "
                "are read."
            ),
        ),
    ] = None,
    estimator: Annotated[
        EstimatorOption | None,
        typer.Option(help="Whose estimates the map fits. Default: T2B_TRANSFER_ESTIMATOR."),
    ] = None,
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
    measured scores plus the chosen estimator's estimates of the other pairs.

    Needs image features: pass `--limit N`, or run `task2box image-features` first.
    """
    from backend.cli._database import open_database
    from backend.cli.image_features import image_features
    from backend.cli.train import fit_and_publish
    from backend.jobs.estimate_transfer import estimate_from_stored_features
    from backend.jobs.train import TrainRequest

    settings = get_settings()
    fitted = estimator.value if estimator is not None else settings.transfer_estimator
    if limit is not None:
        image_features(limit=limit, retry_skipped=False, as_json=as_json)
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
        for name, n in sorted(report.stored.items()):
            table.add_row(f"stored: {name}", f"{n:,} pairs")
        for dataset_id, why in sorted(report.skipped.items()):
            table.add_row(f"skipped: {escape(dataset_id)}", escape(why))
        table.add_row("a map fits", fitted or "measured scores only")
        console.print(table)
    if train and report.stored:
        # The train command's own path: registered as a job, its progress, its errors.
        request = TrainRequest(
            relation="transfer", dims=tuple(settings.map_dims), epochs=epochs, estimator=fitted
        )
        fit_and_publish(settings, request, json_out=as_json)
