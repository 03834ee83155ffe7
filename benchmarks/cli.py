"""`task2box bench ...` subcommands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import benchmarks.speed_cli  # noqa: F401  (registers `bench speed`)
from backend.cli.app import bench_app

__all__ = ["bench_app"]

console = Console()


@bench_app.command("targets")
def bench_targets(
    sizes: Annotated[str, typer.Option(help="Comma-separated numbers of datasets.")] = "1000,10000",
    cosine: Annotated[float, typer.Option(min=-1, max=1, help="Cosine threshold τ.")] = 0.9,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic label sets.")] = 0,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write rows here.")] = None,
) -> None:
    """Time containment targets on synthetic Hub-like label sets (text and text+cosine)."""
    from benchmarks.targets import run

    try:
        counts = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError as e:
        raise typer.BadParameter(f"sizes must be integers, got {sizes!r}") from e
    if not counts or min(counts) < 1:
        raise typer.BadParameter(f"sizes must be positive, got {sizes!r}")
    rows = run(counts, seed=seed, cosine=cosine)
    table = Table(title=f"containment targets (τ = {cosine})")
    for name in (
        "datasets",
        "unique labels",
        "label slots",
        "pairs y>0",
        "text s",
        "pairs (+cosine)",
        "text+cosine s",
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
        )
    console.print(table)
    if json_path is not None:
        json_path.write_text(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")
