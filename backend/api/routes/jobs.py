"""Background jobs: start a crawl, a fit or the Hub transfer estimate (admin token), poll
their progress (public).

Both readers sweep dead jobs first (`JobRunner.sweep`): a job whose process was killed shows
as failed, with the reason, on the next poll, and never keeps the page's bar "running".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from backend import schemas
from backend.api.errors import error_responses
from backend.db import repository
from backend.deps import AdminDep, JobFactoriesDep, RunnerDep, SessionDep
from backend.errors import NotFoundError
from backend.serving import views

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

_MAX_LIST = 100
# 409: a job of that kind is running, or a fit is refused (over the memory budget).
_ADMIN_ERRORS = error_responses(401, 403, 409, 413, 422)


@router.post(
    "/crawl",
    status_code=202,
    response_model=schemas.JobPublic,
    dependencies=[AdminDep],
    responses=_ADMIN_ERRORS,
)
def start_crawl(
    runner: RunnerDep,
    factories: JobFactoriesDep,
    body: Annotated[schemas.CrawlJobRequest | None, Body()] = None,
) -> schemas.JobPublic:
    """Start a Hub crawl in the background (409 if one is already running)."""
    params, fn = factories.crawl(body or schemas.CrawlJobRequest())
    return views.job_public(runner.submit("crawl", fn, params=params, total=params["limit"]))


@router.post(
    "/train",
    status_code=202,
    response_model=schemas.JobPublic,
    dependencies=[AdminDep],
    responses=_ADMIN_ERRORS,
)
def start_train(
    runner: RunnerDep,
    factories: JobFactoriesDep,
    body: Annotated[schemas.TrainJobRequest | None, Body()] = None,
) -> schemas.JobPublic:
    """Fit and publish new maps in the background (409 if a fit is already running)."""
    params, fn = factories.train(factories.train_request(body or schemas.TrainJobRequest()))
    return views.job_public(runner.submit("train", fn, params=params))


@router.post(
    "/estimate-transfer",
    status_code=202,
    response_model=schemas.JobPublic,
    dependencies=[AdminDep],
    responses=_ADMIN_ERRORS,
)
def start_estimate_transfer(
    runner: RunnerDep,
    factories: JobFactoriesDep,
    body: Annotated[schemas.EstimateTransferJobRequest | None, Body()] = None,
) -> schemas.JobPublic:
    """Sample the crawled datasets' images, estimate transfer between every pair and fit a
    transfer map to the estimates, in the background; a train job (409 if a fit is running)."""
    params, fn = factories.estimate_transfer(body or schemas.EstimateTransferJobRequest())
    return views.job_public(runner.submit("train", fn, params=params))


@router.get("", response_model=schemas.JobsPublic, responses=error_responses(422))
def list_jobs(
    session: SessionDep,
    runner: RunnerDep,
    status: schemas.JobStatus | None = None,
    kind: schemas.JobKind | None = None,
    limit: Annotated[int, Query(ge=1, le=_MAX_LIST)] = 20,
) -> schemas.JobsPublic:
    """Jobs, newest first (the page polls `?status=running`)."""
    runner.sweep(session)
    jobs = repository.list_jobs(session, kind=kind, status=status, limit=limit)
    return schemas.JobsPublic(items=[views.job_public(j) for j in jobs])


@router.get("/{job_id:int}", response_model=schemas.JobPublic, responses=error_responses(404, 422))
def get_job(
    job_id: Annotated[int, Path(ge=1, le=2**62)], session: SessionDep, runner: RunnerDep
) -> schemas.JobPublic:
    """One job's status, progress, total, message and error."""
    runner.sweep(session)
    job = repository.get_job(session, job_id=job_id)
    if job is None:
        raise NotFoundError(f"no job with id {job_id}")
    return views.job_public(job)
