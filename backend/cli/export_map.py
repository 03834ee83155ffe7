"""`task2box export-map`: a map as one self-contained interactive HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backend.config import get_settings


def export_map(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="The HTML file to write.")],
    map_id: Annotated[
        int | None, typer.Option("--map", help="Map id; the published containment map if unset.")
    ] = None,
    top: Annotated[
        int | None, typer.Option(min=1, help="Only the N most downloaded datasets.")
    ] = None,
    color: Annotated[
        str, typer.Option(help="Colour boxes by license, size or classes (as the page does).")
    ] = "license",
) -> None:
    """Write a map as one HTML file (plotly.js inlined) that opens offline, with no server."""
    from backend.cli._database import open_database
    from backend.db.engine import session_scope
    from backend.errors import AtlasError
    from backend.serving.map_export import load_boxes, map_html

    sessions = open_database(get_settings())
    try:
        with session_scope(sessions) as session:
            boxes = load_boxes(session, map_id=map_id, top=top)
        document = map_html(boxes, color=color)
    except AtlasError as e:
        typer.echo(f"{e.code}: {e}", err=True)
        raise typer.Exit(code=1) from e
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    typer.echo(
        f"wrote {out} ({len(boxes.dataset_ids):,} datasets of map {boxes.map.id}, "
        f"{len(document.encode()) // 1024:,} KB)"
    )
