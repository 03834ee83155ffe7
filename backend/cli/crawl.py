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
    from backend.cli._jobs import submit_and_wait
    from backend.db import repository
    from backend.db.engine import session_scope
    from backend.errors import CrawlError
    from backend.jobs.crawl_job import CrawlSummary, describe, run_crawl, stopped_early
    from backend.jobs.runner import JobContext, JobRunner

    settings = get_settings()
    factory = open_database(settings)
    # Registered as a job, so the server shows it and refuses a concurrent crawl, and a
    # crawl killed mid-way is failed by the next one instead of blocking it.
    runner = JobRunner.for_settings(factory, settings)
    done: list[CrawlSummary] = []
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=as_json) as bar:
        task = bar.add_task("crawling the Hub", total=limit)

        def work(ctx: JobContext) -> dict[str, object]:
            def _progress(handled: int, total: int | None) -> None:
                bar.update(task, completed=handled, total=total)
                ctx.progress(handled, total, f"{handled} datasets")

            summary = run_crawl(
                settings, limit=limit, full=full, progress=_progress, sessions=factory
            )
            done.append(summary)
            if summary.error:  # the job row fails with the cause, as the API's crawl does
                raise CrawlError(stopped_early(summary))
            return describe(summary)

        job_id = submit_and_wait(
            runner,
            "crawl",
            work,
            params={"limit": limit, "full": full},
            total=limit,
            console=console,
            stopping="stopping after the batch in hand…",
        )
    if not done:
        with session_scope(factory) as session:
            final = repository.get_job(session, job_id=job_id)
        cause = final.error if final and final.error else None
        cause = cause or "its failure could not be recorded in the database; see the log above"
        console.print(f"[red]crawl failed:[/] {escape(cause)}", soft_wrap=True)
        console.print("Committed batches are kept; run `task2box crawl` again to resume.")
        raise typer.Exit(code=1)
    summary = done[0]
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
