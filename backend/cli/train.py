"""`task2box train`: fit and publish maps (the same job `POST /api/jobs/train` runs)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from backend.config import Settings, get_settings

if TYPE_CHECKING:
    from backend.jobs.train import TrainRequest

console = Console(stderr=True)


class RelationOption(StrEnum):
    containment = "containment"
    transfer = "transfer"


class RepresentationOption(StrEnum):
    label_text = "label-text"
    clip = "clip"


def train(
    relation: Annotated[
        RelationOption, typer.Option(help="Which relation the map embeds.")
    ] = RelationOption.containment,
    dim: Annotated[
        list[int] | None,
        typer.Option(min=1, max=16, help="Box dimension; repeatable. Default: T2B_MAP_DIMS."),
    ] = None,
    representation: Annotated[
        RepresentationOption, typer.Option(help="Dataset features.")
    ] = RepresentationOption.label_text,
    epochs: Annotated[
        int | None, typer.Option(min=1, max=100_000, help="Default: T2B_TRAIN_EPOCHS.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Fit maps from the datasets in the database and publish them (one transaction each)."""
    from backend.jobs.train import TrainRequest

    settings = get_settings()
    request = TrainRequest(
        relation=relation.value,
        dims=tuple(dim) if dim else tuple(settings.map_dims),
        representation=representation.value,
        epochs=epochs,
    )
    fit_and_publish(settings, request, json_out=json_out)


def fit_and_publish(settings: Settings, request: TrainRequest, *, json_out: bool = False) -> None:
    """Runs one train job in this process, as the server would (registered, so a concurrent
    fit is refused), with a progress bar; prints what it published.

    Raises:
        typer.Exit: 1 when another fit is running or this one fails.
    """
    from backend.cli._database import open_database
    from backend.cli._jobs import submit_and_wait
    from backend.db import repository
    from backend.db.engine import session_scope
    from backend.jobs.factories import JobFactories
    from backend.jobs.runner import JobRunner

    factory = open_database(settings)
    runner = JobRunner.for_settings(factory, settings)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=json_out) as bar:
        task = bar.add_task("training", total=None)

        def show(done: int, total: int | None, message: str | None) -> None:
            bar.update(task, completed=done, total=total, description=message or "training")

        params, fn = JobFactories(settings, factory).train(request, progress=show)
        job_id = submit_and_wait(
            runner,
            "train",
            fn,
            params=params,
            console=console,
            stopping="stopping at the next epoch…",
        )
    with session_scope(factory) as session:
        final = repository.get_job(session, job_id=job_id)
    assert final is not None
    if final.status != "succeeded":
        # No error stored: the database refused to record the failure too (the log says why).
        reason = final.error or "its failure could not be recorded in the database; see above"
        console.print(f"[red]training failed:[/] {escape(reason)}", soft_wrap=True)
        raise typer.Exit(code=1)
    if json_out:
        typer.echo(json.dumps(final.result, indent=2))
        return
    for outcome in final.result.get("maps", []):
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(outcome["metrics"].items()))
        console.print(f"published {outcome['dim']}-D map {outcome['map_id']}: {metrics}")
