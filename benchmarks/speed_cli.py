"""`task2box bench speed`: trainer speed table (rich) and optional JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from benchmarks.speed import SpeedReport


def _render(report: SpeedReport, console: Console) -> None:
    table = Table(title=f"Trainer epoch time vs N ({report.device}, {report.threads} threads)")
    for col in ("N", "mode", "pairs/epoch", "steps/epoch", "ms/epoch", "peak MB"):
        table.add_column(col, justify="right")
    for r in report.epochs:
        peak = "-" if r.peak_mb is None else f"{r.peak_mb:.0f}"
        table.add_row(
            f"{r.n:,}",
            r.mode,
            f"{r.pairs_per_epoch:,}",
            str(r.steps_per_epoch),
            f"{r.epoch_s * 1e3:.1f}",
            peak,
        )
    console.print(table)
    t = report.trainer
    console.print(
        f"Trainer: {t['loss']} loss, {t['dim']}-D, hidden {tuple(t['hidden'])}, "
        f"feature rank {t['feature_rank']}, lr {t['lr']}, sampled negatives "
        f"{t['negatives_per_positive']} random + {t['hard_negatives_per_positive']} hard "
        f"per positive, {t['batch_pairs']:,} pairs per step"
    )
    if report.fit is not None:
        f = report.fit
        console.print(
            f"Sampled fit of {f.n:,} boxes in {f.dim}-D: {f.seconds:.1f} s wall, "
            f"{f.cpu_seconds:.1f} s CPU ({f.epochs} epochs), training-pair F1 {f.train_f1:.3f}"
        )
    if report.place_ms_median is not None:
        console.print(
            f"Placement of one unseen dataset (one forward pass): median "
            f"{report.place_ms_median:.2f} ms, p95 {report.place_ms_p95:.2f} ms"
        )


def speed(
    max_n: Annotated[
        int, typer.Option(help="Largest N in the epoch table (up to 100,000 on GPUs).")
    ] = 10_000,
    min_n: Annotated[int, typer.Option(help="Smallest N in the epoch table.")] = 100,
    full_batch_max_n: Annotated[
        int, typer.Option(help="Largest N also timed full-batch (N² pairs).")
    ] = 2_000,
    epochs: Annotated[int, typer.Option(min=1, help="Timed epochs per row.")] = 5,
    fit_n: Annotated[int, typer.Option(min=0, help="N of the full sampled fit; 0 skips.")] = 10_000,
    # = benchmarks.speed.LARGE_N_EPOCHS, written out: importing it here would import torch.
    fit_epochs: Annotated[int, typer.Option(min=1, help="Epochs of that fit.")] = 40,
    dim: Annotated[int, typer.Option(min=1, help="Box dimension.")] = 2,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    place_repeats: Annotated[int, typer.Option(min=1, help="Placements timed.")] = 200,
    threads: Annotated[
        int,
        typer.Option(
            min=0,
            help="torch CPU threads; 0 keeps torch's default (all cores). 1 by default: on a "
            "shared machine idle OpenMP threads spin-wait for descheduled ones (a 100-box "
            "epoch measured 24x slower with 2 threads at load 8 on 2 cores).",
        ),
    ] = 1,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
) -> None:
    """Epoch time vs N (full-batch and sampled), a 10k-box fit, and placement latency."""
    # Imported here: torch takes seconds to import and most CLI commands never need it.
    import torch

    from benchmarks.speed import DEFAULT_SIZES, large_n_config, run_speed_bench

    if threads:
        torch.set_num_threads(threads)
    sizes = [n for n in DEFAULT_SIZES if min_n <= n <= max_n]
    if max_n not in sizes and max_n >= min_n:
        sizes.append(max_n)
    config = large_n_config(dim=dim, device=device, epochs=1)
    fit_config = large_n_config(dim=dim, device=device, epochs=fit_epochs)
    console = Console()
    report = run_speed_bench(
        sizes=sizes,
        config=config,
        epochs=epochs,
        full_batch_max_n=full_batch_max_n,
        fit_n=fit_n or None,
        fit_config=fit_config,
        place_repeats=place_repeats,
        on_row=lambda line: console.log(line),
    )
    _render(report, console)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {json_out}")
