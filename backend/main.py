"""`create_app()`: the FastAPI application, its services, middleware and routes.

Startup migrates the database to head and fails jobs whose process died (so a restart shows
an interrupted job as failed, never as running forever), then warms the published maps into
memory in the background. Shutdown asks running jobs to stop and waits for them briefly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from backend.api.errors import install_error_handlers
from backend.api.fastlane import PlaceFastLane, RelatedFastLane
from backend.api.middleware import (
    BodyLimitMiddleware,
    RequestLogMiddleware,
    WebSocketRefusalMiddleware,
)
from backend.api.router import api_router
from backend.config import Settings, get_settings
from backend.db import migrate
from backend.db.engine import session_factory_for
from backend.jobs.factories import JobFactories
from backend.jobs.runner import JobRunner, recover_interrupted_jobs
from backend.logging_setup import configure_logging
from backend.serving.boxes_payload import PayloadCache
from backend.serving.embedding import placement_embedder
from backend.serving.map_store import MapStore
from backend.serving.place import Placer
from backend.serving.samples import SampleImages
from backend.vocab import RELATIONS
from backend.web import mount_frontend

log = logging.getLogger(__name__)

# Small JSON answers are not worth a compressor's time; `/boxes` sends pre-gzipped bytes.
_GZIP_MIN_BYTES = 1024
_JOB_SHUTDOWN_WAIT_S = 10.0


def app_version() -> str:
    """The installed package version (`0.0.0+source` in an uninstalled checkout)."""
    try:
        return version("task2box-atlas")
    except PackageNotFoundError:  # running from a source checkout
        return "0.0.0+source"


def _warm(store: MapStore) -> None:
    """Loads the published maps into memory so the first readers do not wait for it."""
    try:
        for relation in RELATIONS:
            store.published(relation)
    except Exception:  # a cold cache is slower, not broken
        log.exception("warming the map cache failed")


def create_app(settings: Settings | None = None, *, recover_jobs: bool = True) -> FastAPI:
    """The application.

    Args:
        settings: defaults to `get_settings()` (the environment).
        recover_jobs: fail interrupted jobs at startup; `serve --workers N` does it once in
            the parent instead, so one worker never fails another's fresh job.
    """
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    sessions = session_factory_for(settings.database_url)
    store = MapStore(sessions)

    def warm_map(map_id: int) -> None:
        store.get(map_id)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate.upgrade(settings.database_url)
        runner: JobRunner = app.state.runner
        if recover_jobs:
            count = recover_interrupted_jobs(
                sessions, owner=runner.owner, lease_s=settings.job_lease_s
            )
            if count:
                log.warning("marked %d interrupted job(s) as failed", count)
        threading.Thread(target=_warm, args=(store,), name="warm", daemon=True).start()
        yield
        runner.shutdown(timeout=_JOB_SHUTDOWN_WAIT_S)

    app = FastAPI(
        title="Task2Box Atlas",
        version=app_version(),
        summary="Hugging Face image-classification datasets as Task2Box boxes.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.map_store = store
    app.state.payloads = PayloadCache()
    app.state.placer = Placer(
        settings, store, embedder=lambda: placement_embedder(settings.cache_dir)
    )
    app.state.samples = SampleImages(
        settings.viewer_endpoint, settings.hf_token, enabled=settings.sample_images
    )
    app.state.runner = JobRunner.for_settings(sessions, settings)
    app.state.job_factories = JobFactories(
        settings,
        sessions,
        on_map_ready=warm_map,
        on_map_published=lambda _map_id: store.forget_records(),
    )

    install_error_handlers(app)
    # Added innermost first: the log line times everything, 413s included. The fast lanes sit
    # just outside the router, so their answers get the same gzip, headers and log line.
    app.add_middleware(RelatedFastLane, store=store)
    app.add_middleware(PlaceFastLane, placer=app.state.placer)
    app.add_middleware(GZipMiddleware, minimum_size=_GZIP_MIN_BYTES, compresslevel=6)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(WebSocketRefusalMiddleware)
    app.include_router(api_router)
    # The page (and the security headers on every response) after the API routes.
    samples: SampleImages = app.state.samples
    mount_frontend(
        app,
        image_origins=(samples.asset_origin,) if samples.enabled and samples.asset_origin else (),
    )
    return app


def create_worker_app() -> FastAPI:
    """Factory for `uvicorn --workers N` (the parent process already recovered jobs)."""
    return create_app(recover_jobs=False)
