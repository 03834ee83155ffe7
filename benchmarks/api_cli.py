"""`task2box bench api`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
_TARGET_P99_MS = 25.0
_TARGET_RATIO = 0.5


def bench_api(
    datasets: Annotated[
        int, typer.Option(min=10, max=200_000, help="Datasets in the atlas.")
    ] = 10_000,
    workers: Annotated[int, typer.Option(min=1, max=16, help="uvicorn worker processes.")] = 2,
    duration: Annotated[float, typer.Option(min=1, max=300, help="Seconds per endpoint.")] = 20,
    concurrency: Annotated[int, typer.Option(min=1, max=512, help="Concurrent clients.")] = 32,
    place_concurrency: Annotated[
        int, typer.Option(min=1, max=512, help="Concurrent clients of POST /api/place.")
    ] = 4,
    tool: Annotated[str, typer.Option(help="auto (wrk if installed), wrk or python.")] = "auto",
    log_level: Annotated[str, typer.Option(help="Server T2B_LOG_LEVEL.")] = "INFO",
    wrk_threads: Annotated[
        int,
        typer.Option(
            min=1, max=16, help="wrk threads (they share the server's cores on one machine)."
        ),
    ] = 2,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the atlas and server log here (default: temp).")
    ] = None,
    reuse: Annotated[bool, typer.Option(help="Reuse workdir/atlas.db if present.")] = False,
    neighbor_table: Annotated[
        bool,
        typer.Option(
            help="Build the maps' neighbour tables, as training does (off: rank per request)."
        ),
    ] = True,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
) -> None:
    """Serve a 10k-dataset atlas on loopback and load /healthz, /related and /boxes."""
    from benchmarks.api import ApiBenchConfig, run_api_bench

    if tool not in ("auto", "wrk", "python"):
        raise typer.BadParameter("tool must be auto, wrk or python")
    config = ApiBenchConfig(
        datasets=datasets,
        workers=workers,
        duration_s=duration,
        concurrency=concurrency,
        tool=tool,
        log_level=log_level.upper(),
        wrk_threads=wrk_threads,
        neighbor_table=neighbor_table,
        place_concurrency=place_concurrency,
    )
    with tempfile.TemporaryDirectory(prefix="t2b-bench-api-") as tmp:
        report = run_api_bench(workdir or Path(tmp), config, reuse=reuse)
    results = report["results"]
    health = next(r for r in results if r["endpoint"] == "/healthz")
    table = Table(
        title=f"API under {concurrency} clients ({place_concurrency} for /place), "
        f"{workers} worker(s), {report['tool']} "
        f"({wrk_threads} threads if wrk), "
        f"{datasets} datasets"
    )
    columns = (
        "endpoint",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "vs /healthz",
        "CPU ms",
        "busy %",
        "steal %",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for r in results:
        host = report.get("host", {}).get(r["endpoint"], {})
        table.add_row(
            r["endpoint"],
            f"{r['rps']:.0f}",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            f"{r['max_ms']:.1f}",
            str(r["errors"]),
            f"{r['rps'] / health['rps']:.0%}",
            _ms(report["server_cpu_ms_per_request"].get(r["endpoint"])),
            _pct(host.get("busy_pct")),
            _pct(host.get("steal_pct")),
        )
    console.print(table)
    console.print(
        "CPU ms: server CPU time (all worker processes) per request, from /proc. busy %: the "
        "machine's non-idle CPU share during the phase (a quiet machine runs only this "
        "benchmark); steal %: the share the hypervisor gave to other guests."
    )
    sizes = report["boxes_bytes"]
    console.print(f"/boxes body: {sizes['plain']:,} bytes, {sizes['gzip']:,} gzipped")
    related = next(r for r in results if "related" in r["endpoint"])
    place = next(r for r in results if "place" in r["endpoint"])
    ok_p99 = related["p99_ms"] <= _TARGET_P99_MS
    ok_place = place["p99_ms"] <= _TARGET_P99_MS
    ok_ratio = related["rps"] >= _TARGET_RATIO * health["rps"]
    console.print(
        f"targets: related p99 ≤ {_TARGET_P99_MS:.0f} ms: {'met' if ok_p99 else 'MISSED'}; "
        f"place p99 ≤ {_TARGET_P99_MS:.0f} ms: {'met' if ok_place else 'MISSED'}; "
        f"related ≥ {_TARGET_RATIO:.0%} of /healthz req/s: {'met' if ok_ratio else 'MISSED'}"
    )
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2), encoding="utf-8")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
