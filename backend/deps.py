"""FastAPI dependency providers and their `Annotated` aliases.

Everything a route needs comes from here, read off `app.state` (set up by `create_app`), so
tests swap any of them with `app.dependency_overrides[provider] = ...`. The trivial providers
are `async` on purpose: FastAPI runs sync dependencies in its thread pool, and a thread hop
per provider per request is measurable at thousands of requests per second.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncGenerator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.db.engine import SessionFactory
from backend.errors import AuthenticationError, ForbiddenError
from backend.jobs.factories import JobFactories
from backend.jobs.runner import JobRunner
from backend.serving.boxes_payload import PayloadCache
from backend.serving.map_store import MapStore
from backend.serving.place import Placer
from backend.serving.samples import SampleImages


async def get_settings(request: Request) -> Settings:
    """The app's settings (those `create_app` was given)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session_factory(request: Request) -> SessionFactory:
    """The app's session factory (jobs open their own sessions from it)."""
    factory: SessionFactory = request.app.state.sessions
    return factory


SessionFactoryDep = Annotated[SessionFactory, Depends(get_session_factory)]


async def get_session(factory: SessionFactoryDep) -> AsyncGenerator[Session, None]:
    """One session per request, closed (and rolled back if unfinished) afterwards.

    `async` so that FastAPI does not spend two thread-pool hops per request on it: making a
    `Session` does no I/O (it connects on first use, in the endpoint's worker thread), and
    closing one only hands its connection back to the pool.
    """
    session = factory()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_map_store(request: Request) -> MapStore:
    """The in-memory cache of map arrays."""
    store: MapStore = request.app.state.map_store
    return store


MapStoreDep = Annotated[MapStore, Depends(get_map_store)]


async def get_payloads(request: Request) -> PayloadCache:
    """The cache of ready-to-send `/boxes` bodies."""
    payloads: PayloadCache = request.app.state.payloads
    return payloads


PayloadCacheDep = Annotated[PayloadCache, Depends(get_payloads)]


async def get_placer(request: Request) -> Placer:
    """The service that places unseen datasets."""
    placer: Placer = request.app.state.placer
    return placer


PlacerDep = Annotated[Placer, Depends(get_placer)]


async def get_samples(request: Request) -> SampleImages:
    """Sample images of datasets, from the dataset viewer."""
    samples: SampleImages = request.app.state.samples
    return samples


SamplesDep = Annotated[SampleImages, Depends(get_samples)]


async def get_runner(request: Request) -> JobRunner:
    """The background job runner of this process."""
    runner: JobRunner = request.app.state.runner
    return runner


RunnerDep = Annotated[JobRunner, Depends(get_runner)]


async def get_job_factories(request: Request) -> JobFactories:
    """What each job kind runs (tests override this to run stand-in jobs)."""
    factories: JobFactories = request.app.state.job_factories
    return factories


JobFactoriesDep = Annotated[JobFactories, Depends(get_job_factories)]


# Declared as an HTTP bearer scheme so that the OpenAPI schema says how the admin routes
# authenticate (and clients and contract tests send the token as a credential, not as a
# free-form header). `auto_error=False`: the errors below keep the API's own error shape.
_admin_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="adminToken",
    description="`Authorization: Bearer <T2B_ADMIN_TOKEN>`; the endpoints are off (403) "
    "while no token is configured.",
)


async def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_bearer)] = None,
) -> None:
    """Admits only `Authorization: Bearer $T2B_ADMIN_TOKEN`.

    Raises:
        ForbiddenError: if no admin token is configured (the endpoints are off).
        AuthenticationError: if the header is missing or the token is wrong.
    """
    if settings.admin_token is None:
        raise ForbiddenError(
            "job endpoints are off because no admin token is configured; "
            "set T2B_ADMIN_TOKEN to enable them"
        )
    token = credentials.credentials if credentials is not None else ""
    # compare_digest takes time independent of where the strings differ, so the token
    # cannot be guessed byte by byte from response times.
    valid = hmac.compare_digest(token.strip().encode(), settings.admin_token.encode())
    if credentials is None or not valid:
        raise AuthenticationError("send 'Authorization: Bearer <T2B_ADMIN_TOKEN>'")


AdminDep = Depends(require_admin)
