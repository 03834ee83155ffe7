"""`task2box bench hierarchy`: Task2Box against the baselines on a WordNet (or any) hierarchy."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from backend.config import get_settings
from benchmarks.hierarchy.graph import Hierarchy
from benchmarks.hierarchy.load import DEFAULT_SUBTREE
from benchmarks.hierarchy.protocol import SETTINGS
from benchmarks.hierarchy.runner import BenchmarkResult, Row

_QUICK_CASES = 2
# `--dims 2 3 5` leaves "3" and "5" as extra arguments, which `_parse_dims` reads from the
# context: whoever registers the command passes these settings.
CONTEXT_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": False}


def _load(subtree: str | None, edges: Path | None, labels: Path | None, cache: Path) -> Hierarchy:
    from benchmarks.hierarchy.generic import load_hierarchy
    from benchmarks.hierarchy.load import wordnet_hierarchy

    if (edges is None) != (labels is None):
        raise typer.BadParameter("--edges and --labels go together")
    if edges is not None and labels is not None:
        if subtree is not None:
            raise typer.BadParameter("give either --subtree or --edges/--labels, not both")
        return load_hierarchy(edges, labels)
    h, stats = wordnet_hierarchy(cache / "bench", subtree or DEFAULT_SUBTREE)
    typer.echo(
        f"WordNet subtree {h.names[0]}: {stats.synsets_in_subtree} synsets, "
        f"{stats.leaves} ImageNet classes, {stats.candidates} with >= 2 classes, "
        f"{stats.duplicate_label_sets} duplicate label sets dropped",
        err=True,
    )
    return h


def _parse_dims(dims: list[str], extra: list[str]) -> list[int]:
    # `--dims 2 3 5` reaches us as dims=["2"] plus extra args ["3", "5"]; `--dims 2,3,5` and
    # repeated `--dims` work too.
    values: list[int] = []
    for token in [*dims, *extra]:
        for part in token.replace(",", " ").split():
            if not part.isdigit() or not 1 <= int(part) <= 64:
                raise typer.BadParameter(f"dims must be integers in [1, 64], got {part!r}")
            values.append(int(part))
    return list(dict.fromkeys(values))


def _parse_models(models: str | None, known: tuple[str, ...]) -> set[str]:
    if models is None:
        return set(known)
    wanted = {m.strip() for m in models.split(",") if m.strip()}
    unknown = wanted - set(known)
    if unknown or not wanted:
        choices = ", ".join(known)
        raise typer.BadParameter(f"unknown models {sorted(unknown)}; choose from {choices}")
    return wanted


def _cell(row: Row) -> str:
    import numpy as np

    data = row.to_json()
    return f"{data['f1_mean']:.3f} ± {data['f1_std']:.3f}  [{np.mean(row.f1_edge):.2f}]"


def _table(result: BenchmarkResult, title: str) -> Table:
    table = Table(title=title, caption="F1 mean ± std over cases  [direct-edge F1]")
    for column in ("model", "loss", "dim"):
        table.add_column(column)
    for setting in SETTINGS:
        table.add_column(setting, justify="right")
    by_spec: dict[str, dict[str, Row]] = {}
    for row in result.rows:
        by_spec.setdefault(row.spec.label, {})[row.setting] = row
    for cells in by_spec.values():
        spec = next(iter(cells.values())).spec
        table.add_row(
            spec.model,
            spec.loss or "",
            str(spec.dim or ""),
            *(_cell(cells[s]) if s in cells else "" for s in SETTINGS),
        )
    return table


def _write_json(path: Path, payload: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def hierarchy(
    ctx: typer.Context,
    subtree: Annotated[
        str | None,
        typer.Option(help=f"WordNet root synset (default {DEFAULT_SUBTREE}; entity.n.01: all)."),
    ] = None,
    edges: Annotated[
        Path | None, typer.Option(help="Generic input: CSV with header parent,child.")
    ] = None,
    labels: Annotated[
        Path | None, typer.Option(help='Generic input: JSONL of {"node": ..., "labels": [...]}.')
    ] = None,
    cases: Annotated[int, typer.Option(min=1, max=100, help="Random cases per setting.")] = 10,
    dims: Annotated[
        list[str] | None, typer.Option(help="Task2Box box dimensions, e.g. --dims 2 3 5.")
    ] = None,
    quick: Annotated[bool, typer.Option(help="2 cases at reduced epochs (for tests).")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
    seed: Annotated[int, typer.Option(help="Base seed of the splits and models.")] = 0,
    jobs: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes, one thread each (default: CPUs)."),
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Cache directory (default: T2B_DATA_DIR/cache).")
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(help="Only these models, comma-separated (e.g. task2box-set,mlp)."),
    ] = None,
) -> None:
    """WordNet/ImageNet hierarchy: Task2Box (each dim, both losses) against every baseline."""
    start = time.perf_counter()
    import torch

    from backend.representations.label_text import LabelTextEmbedder
    from benchmarks.hierarchy.features import features_from_table, label_table
    from benchmarks.hierarchy.runner import run_benchmark
    from benchmarks.hierarchy.zoo import MODEL_NAMES, model_specs
    from models.device import select_device

    if ctx.args and not dims:
        raise typer.BadParameter(f"unexpected arguments: {' '.join(ctx.args)}")
    box_dims = _parse_dims(dims or ["2", "3", "5"], ctx.args)
    wanted = _parse_models(models, MODEL_NAMES)
    # One torch thread per process: these fits are many small ops, where a second thread
    # mostly spins (5x slower on a busy 2-core machine); parallelism comes from processes.
    torch.set_num_threads(1)
    n_jobs = jobs or len(os.sched_getaffinity(0))
    settings = get_settings()
    cache = cache_dir or settings.cache_dir
    h = _load(subtree, edges, labels, cache)
    emb, sets = label_table(h, LabelTextEmbedder.from_cache_dir(cache))
    x = features_from_table(emb, sets)
    device = str(select_device(settings.device))
    specs = model_specs(box_dims, quick=quick, device=device, label_sets=(emb, sets))
    # Each model keeps its seed slot in the full list, so a subset reproduces the full run.
    specs = [replace(s, slot=k) for k, s in enumerate(specs) if s.model in wanted]
    n_cases = _QUICK_CASES if quick else cases
    console = Console(stderr=True)
    # Each fit is reported by the progress bar; per-fit trainer logs would only garble it.
    logging.getLogger("models").setLevel(logging.WARNING)
    console.print(
        f"{h.size} nodes, {len(h.edges)} edges, {int(h.contained().sum())} ancestor pairs; "
        f"{len(specs)} models x {len(SETTINGS)} settings x {n_cases} cases on {device}, "
        f"{n_jobs} worker process(es)"
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("fitting", total=len(specs) * len(SETTINGS) * n_cases)

        def advance(message: str) -> None:
            bar.update(task, advance=1, description=message)

        result = run_benchmark(
            h, x, specs, cases=n_cases, seed=seed, device=device, jobs=n_jobs, on_fit=advance
        )
    result = BenchmarkResult(
        rows=result.rows,
        nodes=result.nodes,
        edges=result.edges,
        seconds=time.perf_counter() - start,
        device=result.device,
    )
    Console().print(_table(result, f"Hierarchy: {h.names[0]} ({h.size} nodes)"))
    typer.echo(f"{result.seconds:.0f} s on {device}", err=True)
    if json_out is not None:
        _write_json(json_out, result.to_json())
        typer.echo(f"wrote {json_out}", err=True)
