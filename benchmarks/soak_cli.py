"""`task2box bench soak`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def bench_soak(
    datasets: Annotated[
        int, typer.Option(min=20, max=2000, help="Datasets in the atlas before the soak.")
    ] = 300,
    crawl_datasets: Annotated[
        int, typer.Option(min=10, max=5000, help="Datasets the fake Hub lists for the crawl.")
    ] = 150,
    fit_epochs: Annotated[
        int, typer.Option(min=1, max=5000, help="Epochs of the fit that is not killed.")
    ] = 60,
    readers: Annotated[int, typer.Option(min=3, max=64, help="Concurrent readers.")] = 6,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the atlas and the logs here (default: temp).")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
) -> None:
    """Readers on /related, /boxes and /place while a crawl and two fits run, one fit killed
    with -9: requests, errors, p50/p99 and rows lost (target: 0 errors, 0 rows lost)."""
    from benchmarks.soak import SoakConfig, report_json, run_soak

    config = SoakConfig(
        datasets=datasets, crawl_datasets=crawl_datasets, fit_epochs=fit_epochs, readers=readers
    )
    report = run_soak(config, workdir)
    table = Table(title=f"soak on loopback ({report.seconds:.0f} s)")
    for name in ("endpoint", "requests", "errors", "p50 ms", "p99 ms"):
        table.add_column(name, justify="left" if name == "endpoint" else "right")
    for e in report.endpoints:
        p50 = "-" if e.p50_ms is None else f"{e.p50_ms:.1f}"
        p99 = "-" if e.p99_ms is None else f"{e.p99_ms:.1f}"
        table.add_row(e.endpoint, str(e.requests), str(e.errors), p50, p99)
    table.add_row("all", str(report.requests), str(report.errors), "", "")
    console.print(table)
    jobs = Table(title="jobs during the soak")
    for name in ("job", "status", "error"):
        jobs.add_column(name)
    for name, job in (
        ("fit killed with -9", report.killed_job),
        ("crawl", report.crawl_job),
        ("fit after it", report.fit_job),
    ):
        jobs.add_row(name, str(job.get("status")), str(job.get("error") or ""))
    console.print(jobs)
    console.print(
        f"rows lost: {report.rows_lost}; maps left training: {report.maps_left_training}; "
        f"second fit submitted with HTTP {report.fit_submit_status}"
    )
    for e in report.endpoints:
        for sample in e.error_samples:
            console.print(f"[red]{e.endpoint}: {sample}[/]")
    if json_path is not None:
        json_path.write_text(report_json(report), encoding="utf-8")
