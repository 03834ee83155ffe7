"""`task2box image-features`: sample crawled datasets' images and store their CLIP features."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from backend.config import get_settings

console = Console()


def image_features(
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Handle at most N datasets (most downloaded first)."),
    ] = None,
    retry_skipped: Annotated[
        bool, typer.Option("--retry-skipped", help="Sample again the datasets skipped before.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Sample a few images per class of each crawled dataset and store their CLIP features.

    Resumable: datasets whose features are stored for the current model are not redone,
    unless the crawl recorded a new revision (sha) of the dataset since.
    """
    from backend.cli._database import open_database
    from backend.errors import RepresentationUnavailable
    from backend.jobs.image_features import run_image_features

    settings = get_settings()
    factory = open_database(settings)
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=as_json) as bar:
        task = bar.add_task("image features", total=limit)

        def _progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            summary = run_image_features(
                settings,
                limit=limit,
                retry_skipped=retry_skipped,
                progress=_progress,
                sessions=factory,
            )
        except RepresentationUnavailable as e:
            console.print(f"[red]{e}[/]")
            raise typer.Exit(code=1) from e
    if as_json:
        typer.echo(json.dumps(summary.describe()))
        return
    table = Table(title="image features", show_header=False)
    table.add_row("feature model", summary.feature_model)
    table.add_row("ready", str(summary.ready))
    table.add_row("unchanged", str(summary.unchanged))
    table.add_row("sampled again (new revision)", str(summary.changed))
    for reason, n in sorted(summary.skipped.items()):
        table.add_row(f"skipped: {reason}", str(n))
    table.add_row("failed", str(summary.failed))
    table.add_row("images", str(summary.images))
    table.add_row("failed images", str(summary.failed_images))
    table.add_row("embedded", str(summary.embedded))
    table.add_row("seconds", f"{summary.seconds:.1f}")
    console.print(table)
