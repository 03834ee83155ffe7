"""`task2box bench transfer`: Task2Box against the baselines on measured task-transfer scores."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from backend.config import get_settings
from benchmarks.transfer.data import TASKONOMY_KIND, TransferData
from benchmarks.transfer.features import FEATURE_SETS
from benchmarks.transfer.protocol import SETTINGS
from benchmarks.transfer.runner import BenchmarkResult, Row

ROOT = Path(__file__).resolve().parents[2]
# Read in place, never copied into the repository.
DEFAULT_TASKONOMY = ROOT.parent / "shared" / "data" / "taskonomy"
_QUICK_CASES = 2
# `--dims 2 3 5` leaves "3" and "5" as extra arguments, which `_parse_dims` reads from the
# context: whoever registers the command passes these settings.
CONTEXT_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": False}


def _parse_dims(dims: list[str], extra: list[str]) -> list[int]:
    # `--dims 2 3 5` reaches us as dims=["2"] plus extra args ["3", "5"]; `--dims 2,3,5` and
    # repeated `--dims` work too.
    values: list[int] = []
    for token in [*dims, *extra]:
        for part in token.replace(",", " ").split():
            if not part.isdigit() or not 1 <= int(part) <= 16:
                raise typer.BadParameter(f"dims must be integers in [1, 16], got {part!r}")
            values.append(int(part))
    return list(dict.fromkeys(values))


def _load(affinity: Path | None, descriptions: Path | None, kind: str) -> TransferData | None:
    """The benchmark data, or None (with a message) when the default data is absent."""
    from benchmarks.transfer.data import is_taskonomy_csv, load_csv, load_taskonomy

    if affinity is None:
        if not (DEFAULT_TASKONOMY / "affinity.csv").is_file():
            typer.echo(
                f"skipped: no --affinity given and {DEFAULT_TASKONOMY} is absent "
                "(the Taskonomy affinities are read from ../shared/data/taskonomy/)",
                err=True,
            )
            return None
        affinity = DEFAULT_TASKONOMY
    if affinity.is_dir():
        tasks = descriptions or affinity / "tasks.txt"
        return load_taskonomy(affinity / "affinity.csv", tasks, kind)
    if not affinity.is_file():
        raise typer.BadParameter(f"{affinity} does not exist")
    if is_taskonomy_csv(affinity):
        return load_taskonomy(affinity, descriptions or affinity.parent / "tasks.txt", kind)
    return load_csv(affinity, descriptions)


def _table(result: BenchmarkResult, title: str) -> Table:
    table = Table(title=title, caption="Spearman ρ, mean ± std over cases")
    for column in ("model", "loss", "dim"):
        table.add_column(column)
    for setting in SETTINGS:
        table.add_column(setting, justify="right")
    by_spec: dict[str, dict[str, Row]] = {}
    for row in result.rows:
        by_spec.setdefault(row.spec.label, {})[row.setting] = row
    for cells in by_spec.values():
        spec = next(iter(cells.values())).spec
        values = []
        for setting in SETTINGS:
            data = cells[setting].to_json() if setting in cells else None
            values.append("" if data is None else f"{data['rho_mean']:.3f} ± {data['rho_std']:.3f}")
        table.add_row(spec.model, spec.loss or "", str(spec.dim or ""), *values)
    return table


def _write_json(path: Path, payload: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def transfer(
    ctx: typer.Context,
    affinity: Annotated[
        Path | None,
        typer.Option(
            help="Taskonomy directory or affinity.csv, or a source,target,score CSV "
            "(default: ../shared/data/taskonomy/)."
        ),
    ] = None,
    descriptions: Annotated[
        Path | None,
        typer.Option(help="Task texts: tasks.txt (Taskonomy) or an id,description[,name] CSV."),
    ] = None,
    kind: Annotated[str, typer.Option(help="Taskonomy measurement kind.")] = TASKONOMY_KIND,
    features: Annotated[
        str, typer.Option(help=f"Task features: {', '.join(FEATURE_SETS)}.")
    ] = "text+id",
    dims: Annotated[
        list[str] | None, typer.Option(help="Task2Box box dimensions, e.g. --dims 2 3 5.")
    ] = None,
    losses: Annotated[
        str, typer.Option(help="Comma-separated Task2Box losses (ours, paper).")
    ] = "ours,paper",
    cases: Annotated[int, typer.Option(min=1, max=100, help="Random cases per setting.")] = 10,
    quick: Annotated[bool, typer.Option(help="2 cases at reduced epochs (for tests).")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
    seed: Annotated[int, typer.Option(help="Base seed of the splits and models.")] = 0,
    jobs: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes, one thread each (default: CPUs)."),
    ] = None,
) -> None:
    """Taskonomy transfer: Task2Box (each dim and loss) against MLP, linear and random."""
    start = time.perf_counter()
    import torch

    from backend.representations.label_text import LabelTextEmbedder
    from benchmarks.transfer.data import TransferDataError
    from benchmarks.transfer.features import text_features
    from benchmarks.transfer.runner import run_benchmark
    from benchmarks.transfer.zoo import model_specs
    from models.device import select_device

    if ctx.args and not dims:
        raise typer.BadParameter(f"unexpected arguments: {' '.join(ctx.args)}")
    if features not in FEATURE_SETS:
        raise typer.BadParameter(f"--features must be one of {FEATURE_SETS}, got {features!r}")
    box_dims = _parse_dims(dims or ["2", "3", "5"], ctx.args)
    loss_names = [loss.strip() for loss in losses.split(",") if loss.strip()]
    try:
        data = _load(affinity, descriptions, kind)
    except (TransferDataError, ValueError) as e:  # TransferInputError is a ValueError too
        raise typer.BadParameter(str(e)) from e
    if data is None:
        return
    # One torch thread per process: these fits are many small ops, where a second thread
    # mostly spins; parallelism comes from processes.
    torch.set_num_threads(1)
    n_jobs = jobs or len(os.sched_getaffinity(0))
    settings = get_settings()
    text = text_features(data.texts, LabelTextEmbedder.from_cache_dir(settings.cache_dir))
    device = str(select_device(settings.device))
    try:
        specs = model_specs(box_dims, quick=quick, device=device, losses=loss_names)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    n_cases = _QUICK_CASES if quick else cases
    console = Console(stderr=True)
    console.print(
        f"{data.name}: {data.size} tasks, {len(data)} measured pairs; {len(specs)} models x "
        f"{len(SETTINGS)} settings x {n_cases} cases on {device}, {n_jobs} worker process(es)"
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("fitting", total=len(specs) * len(SETTINGS) * n_cases)

        def advance(message: str) -> None:
            bar.update(task, advance=1, description=message)

        result = run_benchmark(
            data, text, specs, cases=n_cases, seed=seed, device=device,
            feature_set=features, jobs=n_jobs, on_fit=advance,
        )  # fmt: skip
    elapsed = time.perf_counter() - start
    result = BenchmarkResult(**{**result.__dict__, "seconds": elapsed})
    Console().print(_table(result, f"Transfer: {data.name} ({data.size} tasks, {len(data)} pairs)"))
    typer.echo(f"{elapsed:.0f} s on {device}", err=True)
    if json_out is not None:
        _write_json(json_out, result.to_json())
        typer.echo(f"wrote {json_out}", err=True)
