"""The `task2box bench` plugin: one Typer app holding every benchmark command.

`pyproject.toml` names `bench_app` in the `task2box.cli` entry point group, and
`backend.cli.app` mounts it as `task2box bench`; `backend/` never imports this package.
Each benchmark module exports its command as a plain function, and this module registers
them at the end, so none of them imports this one back.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from benchmarks import api_cli, soak_cli, speed_cli
from benchmarks.hierarchy import cli as hierarchy_cli
from benchmarks.retrieval import cli as retrieval_cli
from benchmarks.transfer import cli as transfer_cli
from benchmarks.transfer_estimate import cli as transfer_estimate_cli

console = Console()
bench_app = typer.Typer(
    help="Benchmarks; each prints a table and can write JSON.", no_args_is_help=True
)


def bench_crawl(
    datasets: Annotated[int, typer.Option(min=1, help="Datasets the fake Hub lists.")] = 5000,
    latency_ms: Annotated[float, typer.Option(min=0, help="Delay added to every request.")] = 50,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="crawl_concurrency.")] = 8,
    viewer_fraction: Annotated[
        float, typer.Option(min=0, max=0.95, help="Share of datasets needing a viewer lookup.")
    ] = 0.25,
    quota: Annotated[
        int, typer.Option(min=0, help="Requests per window in RateLimit headers (0: none).")
    ] = 1000,
    window_s: Annotated[int, typer.Option(min=1, help="Rate-limit window, seconds.")] = 10,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
) -> None:
    """Crawl throughput against a fake Hub with latency and rate limits (target ≥ 100/s)."""
    from benchmarks.crawl import run_crawl_bench

    result = run_crawl_bench(
        datasets=datasets,
        latency_s=latency_ms / 1000,
        concurrency=concurrency,
        viewer_fraction=viewer_fraction,
        quota=quota,
        window_s=window_s,
    )
    table = Table(title="crawl throughput (fake Hub on 127.0.0.1)")
    for name in ("datasets", "latency", "conc.", "viewer", "quota", "seconds", "datasets/s"):
        table.add_column(name, justify="right")
    for name in ("requests", "retries", "429/5xx seen", "gate wait thread-s", "p50 ms"):
        table.add_column(name, justify="right")
    p50 = "-" if result.p50_latency_ms is None else f"{result.p50_latency_ms:.1f}"
    table.add_row(
        str(result.datasets),
        f"{result.latency_ms:.0f} ms",
        str(result.concurrency),
        f"{result.viewer_fraction:.0%}",
        result.quota,
        f"{result.seconds:.1f}",
        f"{result.datasets_per_s:.0f}",
        str(result.requests),
        str(result.retries),
        str(result.retryable_responses),
        f"{result.throttled_s:.1f}",
        p50,
    )
    console.print(table)
    console.print(
        f"fetched {result.fetched}, skipped {result.skipped}, failed {result.failed}; "
        f"server: {result.server}"
    )
    if json_path is not None:
        json_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")


def bench_page(
    sizes: Annotated[str, typer.Option(help="Comma-separated numbers of boxes.")] = "1000,10000",
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
    frontend: Annotated[
        list[Path] | None,
        typer.Option(
            help="A page folder to measure (repeat it to compare builds A/B in one run, "
            "interleaved per size); the repository's frontend/ by default.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    baseline: Annotated[
        list[Path] | None,
        typer.Option(
            help="A page folder served as the page was before the vendored gl2d bundle (full "
            "plotly.js from the wheel, unhashed revalidated modules), measured in the same run: "
            "e.g. main's frontend/ from `git worktree add`. Repeatable.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Map page in headless Chromium: cold, revisit and returning first render, zoom/pan frames."""
    from dataclasses import asdict

    from benchmarks.page import run_page_bench

    try:
        counts = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"sizes must be integers, got {sizes!r}") from exc
    results = run_page_bench(counts, frontend, baseline)
    table = Table(title="map page in headless Chromium (SwiftShader WebGL: CPU, no GPU)")
    compare = len({r.frontend for r in results}) > 1
    if compare:
        table.add_column("frontend")
    names = ["boxes", "cold KB", "scripts ready", "cold render", "revisit", "returning"]
    names.append("data→drawn")
    for name in (
        *names,
        "zoom p50",
        "zoom p95",
        "zoom settle",
        "pan p50",
        "pan p95",
        "names p50",
        "names p95",
    ):
        table.add_column(name, justify="right")
    for r in results:
        table.add_row(
            *([r.frontend] if compare else []),
            f"{r.boxes:,}",
            f"{r.cold_transfer_kb:,.0f}",
            *(
                "n/a" if math.isnan(v) else f"{v:.0f} ms"
                for v in (
                    r.scripts_ready_ms,
                    r.first_render_ms,
                    r.revisit_first_render_ms,
                    r.returning_first_render_ms,
                    r.data_to_render_ms,
                    r.zoom_frame_p50_ms,
                    r.zoom_frame_p95_ms,
                    r.zoom_settle_ms,
                    r.pan_frame_p50_ms,
                    r.pan_frame_p95_ms,
                    r.names_p50_ms,
                    r.names_p95_ms,
                )
            ),
        )
    console.print(table)
    if json_path is not None:
        rows = [asdict(r) for r in results]
        json_path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


def bench_targets(
    sizes: Annotated[str, typer.Option(help="Comma-separated numbers of datasets.")] = "1000,10000",
    cosine: Annotated[float, typer.Option(min=-1, max=1, help="Cosine threshold τ.")] = 0.9,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic label sets.")] = 0,
    set_fit: Annotated[
        str, typer.Option(help="Also time a label-set map fit at these dims ('' for none).")
    ] = "2,5",
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write rows here.")] = None,
) -> None:
    """Time containment targets on synthetic Hub-like label sets (text and text+cosine), and
    a label-set map fit on them."""
    from benchmarks.targets import run

    try:
        set_dims = tuple(int(d) for d in set_fit.split(",") if d.strip())
    except ValueError as e:
        raise typer.BadParameter(f"set-fit must be integers, got {set_fit!r}") from e

    try:
        counts = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError as e:
        raise typer.BadParameter(f"sizes must be integers, got {sizes!r}") from e
    if not counts or min(counts) < 1:
        raise typer.BadParameter(f"sizes must be positive, got {sizes!r}")
    rows = run(counts, seed=seed, cosine=cosine, set_dims=set_dims)
    table = Table(title=f"containment targets (τ = {cosine}) and label-set map fits")
    for name in (
        "datasets",
        "unique labels",
        "label slots",
        "pairs y>0",
        "text s",
        "pairs (+cosine)",
        "text+cosine s",
        *(f"set fit {d}-D s (epochs, val F1)" for d in set_dims),
    ):
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(
            f"{r.datasets:,}",
            f"{r.unique_labels:,}",
            f"{r.label_slots:,}",
            f"{r.pairs:,}",
            f"{r.text_s:.2f}",
            f"{r.cosine_pairs:,}",
            f"{r.cosine_s:.2f}",
            *(
                f"{r.set_fit_s[d]:.1f} ({r.set_epochs_run[d]}, {r.set_val_f1[d]:.2f})"
                for d in set_dims
            ),
        )
    console.print(table)
    if json_path is not None:
        json_path.write_text(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")


def bench_scale(
    datasets: Annotated[
        str, typer.Option(help="Comma-separated atlas sizes, e.g. 1000,10000,20000.")
    ] = "1000",
    device: Annotated[str, typer.Option(help="Training device: cpu, cuda or auto.")] = "cpu",
    dims: Annotated[str, typer.Option(help="Map dimensions, comma-separated.")] = "2,5",
    map_model: Annotated[str, typer.Option(help="T2B_MAP_MODEL: auto, set or vector.")] = "auto",
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the atlases here (default: a temp dir).")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
) -> None:
    """The real containment train job on Hub-like atlases: time and peak RSS per phase, each
    map's validation F1, and held-out retrieval through `/api/place`'s code."""
    import tempfile

    from benchmarks.scale import ScaleConfig, run_scale_bench

    try:
        sizes = [int(s) for s in datasets.split(",") if s.strip()]
        dim_values = tuple(int(d) for d in dims.split(",") if d.strip())
    except ValueError as e:
        raise typer.BadParameter(f"sizes and dims must be integers: {e}") from e
    if not sizes or min(sizes) < 10:
        raise typer.BadParameter(f"sizes must be at least 10, got {datasets!r}")
    if map_model not in ("auto", "set", "vector"):
        raise typer.BadParameter("map-model must be auto, set or vector")
    reports = []
    for n in sizes:
        config = ScaleConfig(datasets=n, dims=dim_values, map_model=map_model, device=device)
        with tempfile.TemporaryDirectory(prefix="t2b-bench-scale-") as tmp:
            report = run_scale_bench((workdir or Path(tmp)) / f"n{n}", config)
        reports.append(report)
        _print_scale(report)
        if json_path is not None:
            json_path.write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")


def _print_scale(report: dict[str, object]) -> None:
    title = (
        f"scale: {report['datasets']:,} datasets, {report['positive_pairs']:,} positive pairs, "
        f"{report['device']}: job {report['job_s']} s, peak RSS {report['peak_rss_gb']} GB "
        f"(estimated {report['estimated_peak_gb']} GB)"
    )
    phases = Table(title=title)
    for name in ("phase", "s", "peak RSS GB"):
        phases.add_column(name, justify="left" if name == "phase" else "right")
    for row in report["phases"]:  # type: ignore[attr-defined]
        phases.add_row(row["phase"], f"{row['seconds']:.1f}", f"{row['peak_rss_gb']:.2f}")
    console.print(phases)
    maps = Table(title="maps")
    keys = ("dim", "status", "val_f1_vector", "val_f1_set", "val_f1", "fidelity_f1")
    for name in keys:
        maps.add_column(name, justify="right")
    for row in report["maps"]:  # type: ignore[attr-defined]
        maps.add_row(*(_cell(row.get(k)) for k in keys))
    console.print(maps)
    retrieval = Table(title="retrieval (Placer.place on the published maps)")
    keys = ("map", "system", "recall@1_2plus", "sharer_above_holder",
            "unseen_ndcg_contained_in", "unseen_ndcg_contains")  # fmt: skip
    for name in keys:
        retrieval.add_column(name, justify="left" if name in ("map", "system") else "right")
    for row in report["retrieval"]:  # type: ignore[attr-defined]
        retrieval.add_row(*(_cell(row.get(k)) for k in keys))
    console.print(retrieval)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else str(value)


# In the order `task2box bench --help` lists them.
bench_app.command("api")(api_cli.bench_api)
bench_app.command("hierarchy", context_settings=hierarchy_cli.CONTEXT_SETTINGS)(
    hierarchy_cli.hierarchy
)
bench_app.command("speed")(speed_cli.speed)
bench_app.command("transfer", context_settings=transfer_cli.CONTEXT_SETTINGS)(transfer_cli.transfer)
bench_app.command("transfer-estimate")(transfer_estimate_cli.transfer_estimate)
bench_app.command("crawl")(bench_crawl)
bench_app.command("page")(bench_page)
bench_app.command("targets")(bench_targets)
bench_app.command("retrieval")(retrieval_cli.bench_retrieval)
bench_app.command("scale")(bench_scale)
bench_app.command("soak")(soak_cli.bench_soak)
