"""`task2box serve`: the API (and, once merged, the page) under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from backend.config import get_settings


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (each caches the maps).")
    ] = 1,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs)."""
    import uvicorn

    from backend.db import migrate
    from backend.db.engine import session_factory_for
    from backend.jobs.runner import recover_interrupted_jobs
    from backend.main import create_app

    settings = get_settings()
    migrate.upgrade(settings.database_url)
    common = {"host": host, "port": port, "access_log": False, "log_config": None}
    if workers == 1:
        uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]
        return
    # Workers are separate processes: recover interrupted jobs once, here, so that one
    # worker starting late never fails a job another worker has just begun.
    recover_interrupted_jobs(
        session_factory_for(settings.database_url), lease_s=settings.job_lease_s
    )
    uvicorn.run(
        "backend.main:create_worker_app",
        factory=True,
        workers=workers,
        **common,  # type: ignore[arg-type]
    )
