"""`task2box crawl`: crawl the Hub's image-classification datasets into the database."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from backend.config import get_settings

console = Console()


def crawl(
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Crawl at most N datasets.")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read datasets even when their sha is unchanged.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Crawl image-classification datasets (most downloaded first); incremental and resumable."""
    from backend.cli._database import open_database
    from backend.jobs.crawl_job import describe, run_crawl, stopped_early

    settings = get_settings()
    factory = open_database(settings)
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=as_json) as bar:
        task = bar.add_task("crawling the Hub", total=limit)

        def _progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        summary = run_crawl(settings, limit=limit, full=full, progress=_progress, sessions=factory)
    if as_json:
        typer.echo(json.dumps(describe(summary)))
    else:
        table = Table(title="crawl summary", show_header=False)
        table.add_row("hub", settings.hub_endpoint)
        table.add_row("fetched", str(summary.fetched))
        table.add_row("unchanged", str(summary.unchanged))
        for reason, n in sorted(summary.skipped.items()):
            table.add_row(f"skipped: {reason}", str(n))
        table.add_row("failed", str(summary.failed))
        if summary.stats is not None:
            table.add_row("requests", str(summary.stats.requests))
            table.add_row("retries", str(summary.stats.retries))
        table.add_row("seconds", f"{summary.seconds:.1f}")
        console.print(table)
    if summary.error:
        line = stopped_early(summary, resume="run `task2box crawl` again to resume")
        console.print(f"[red]{escape(line)}[/]", soft_wrap=True)
        raise typer.Exit(code=1)
