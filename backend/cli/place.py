"""`task2box place`: where an unseen label list lands (the same answer as `POST /api/place`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backend.config import get_settings

console = Console()


def _read_labels(labels: str | None, labels_file: Path | None) -> list[str] | None:
    if labels is not None and labels_file is not None:
        raise typer.BadParameter("give --labels or --labels-file, not both")
    if labels_file is not None:
        lines = labels_file.read_text("utf-8").splitlines()
        return [line.strip() for line in lines if line.strip()]
    if labels is not None:
        return [label.strip() for label in labels.split(",") if label.strip()]
    return None


def place(
    labels: Annotated[str | None, typer.Option(help="Comma-separated labels: cat,dog.")] = None,
    labels_file: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="One label per line.")
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="A dataset id in the database.")] = None,
    relation: Annotated[str, typer.Option(help="containment or transfer.")] = "containment",
    k: Annotated[int, typer.Option(min=1, max=100, help="Related datasets per direction.")] = 10,
    map_id: Annotated[int | None, typer.Option("--map", help="Map whose scores to use.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """Place an unseen dataset by its labels and list the datasets it relates to."""
    from pydantic import ValidationError

    from backend import schemas
    from backend.cli._database import open_database
    from backend.db.engine import session_scope
    from backend.errors import AtlasError
    from backend.serving.embedding import placement_embedder
    from backend.serving.map_store import MapStore
    from backend.serving.place import Placer

    settings = get_settings()
    try:
        request = schemas.PlaceRequest(
            labels=_read_labels(labels, labels_file),
            dataset_id=dataset,
            relation=relation,
            k=k,
            map=map_id,
        )
    except ValidationError as e:
        console.print(f"[red]invalid request:[/] {e.errors()[0]['msg']}")
        raise typer.Exit(code=2) from e
    sessions = open_database(settings)
    placer = Placer(
        settings, MapStore(sessions), embedder=lambda: placement_embedder(settings.cache_dir)
    )
    try:
        with session_scope(sessions) as session:
            result = placer.place(session, request)
    except AtlasError as e:
        console.print(f"[red]{e.code}:[/] {e}")
        raise typer.Exit(code=1) from e
    if json_out:
        typer.echo(result.model_dump_json())
        return
    console.print(
        f"map {result.map.id} ({result.map.dim}-D {result.map.relation}): "
        f"lo={[round(v, 3) for v in result.box.lo]} hi={[round(v, 3) for v in result.box.hi]}"
    )
    # Transfer maps read s→t as P(s ⊆ t): "contained in" lists targets, "contains" sources.
    titles = (
        ("transfers to", "transfer sources")
        if result.map.relation == "transfer"
        else ("contained in", "contains")
    )
    for title, items in zip(titles, (result.contained_in, result.contains), strict=True):
        table = Table(title=title)
        for column in ("dataset", "score", "P(A⊆B)", "P(B⊆A)", "shared labels"):
            table.add_column(column)
        if result.map.relation == "transfer":
            table.add_column("measured")
        for item in items:
            cells = [
                item.id,
                f"{item.score:.3f}",
                f"{item.p_in:.3f}",
                f"{item.p_contains:.3f}",
                ", ".join(item.shared_labels[:5]),
            ]
            if result.map.relation == "transfer":
                cells.append("" if item.measured_score is None else f"{item.measured_score:.4g}")
            table.add_row(*cells)
        console.print(table)
