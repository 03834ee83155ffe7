"""`task2box represent`: compute dataset feature vectors (only the stale ones)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from backend.config import get_settings

console = Console()


class Kind(StrEnum):
    label_text = "label-text"
    clip = "clip"


def represent(
    kind: Annotated[Kind, typer.Option("--kind", help="Which representation.")] = Kind.label_text,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Datasets per embedding call and commit.")
    ] = 256,
) -> None:
    """Embed every dataset whose labels (or the model) changed since its vector was stored."""
    from backend.cli._database import open_database
    from backend.db.engine import session_scope
    from backend.errors import RepresentationUnavailable
    from backend.jobs.represent import compute_representations
    from backend.representations.base import Representer

    settings = get_settings()
    factory = open_database(settings)
    representer: Representer
    if kind is Kind.clip:
        from backend.representations.clip import ClipRepresenter

        representer = ClipRepresenter.from_settings(settings)
    else:
        from backend.representations.label_text import LabelTextEmbedder, LabelTextRepresenter

        embedder = LabelTextEmbedder.from_cache_dir(settings.cache_dir)
        representer = LabelTextRepresenter(embedder, max_labels=settings.max_embedded_labels)

    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"{kind.value} vectors", total=None)

        def _progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            summary = compute_representations(
                lambda: session_scope(factory),
                representer,
                batch_size=batch_size,
                progress=_progress,
            )
        except RepresentationUnavailable as e:
            console.print(f"[red]{e}[/]")
            raise typer.Exit(code=1) from e
    console.print(
        f"{summary.kind}: computed {summary.computed}, unchanged {summary.unchanged}, "
        f"of {summary.total} datasets with labels ({summary.version})"
    )
