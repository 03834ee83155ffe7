"""Running one background job in the foreground of a CLI command, as the server runs it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from backend.jobs.runner import JobFn, JobRunner


def submit_and_wait(
    runner: JobRunner,
    kind: str,
    fn: JobFn,
    *,
    params: Mapping[str, Any],
    total: int | None = None,
    console: Console,
    stopping: str,
) -> int:
    """Registers the job (so the server shows it and refuses a concurrent one of its kind),
    waits for it, and on Ctrl-C prints `stopping` and lets it stop at its next checkpoint.

    Returns:
        The job's id; its row holds the outcome.

    Raises:
        typer.Exit: 1 when a job of that kind is already running.
    """
    from backend.errors import ConflictError

    try:
        job = runner.submit(kind, fn, params=params, total=total)
    except ConflictError as e:
        console.print(f"[red]{e}[/]")
        raise typer.Exit(code=1) from e
    try:
        while not runner.wait(job.id, timeout=0.5):
            pass
    except KeyboardInterrupt:
        console.print(stopping)
        runner.shutdown(timeout=60)
    return job.id
