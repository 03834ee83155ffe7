"""What each job kind runs: request parameters → a function for the `JobRunner`.

The API's job routes get a `JobFactories` from `app.state` (tests swap it through
`dependency_overrides`), so the routes never know how a crawl or a fit is wired.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from backend import schemas
from backend.config import Settings
from backend.db.engine import SessionFactory
from backend.errors import CrawlError
from backend.jobs.runner import JobContext, JobFn
from backend.jobs.train import TrainProgress, TrainRequest, run_train
from backend.vocab import TransferEstimator

Job = tuple[dict[str, Any], JobFn]


class JobFactories:
    """Builds the job functions of this app.

    Args:
        settings: the app's settings.
        sessions: the app's session factory.
        on_map_ready: called with each new map's id before it is published (cache warm-up).
        on_map_published: called with each new map's id once it is published.
    """

    def __init__(
        self,
        settings: Settings,
        sessions: SessionFactory,
        on_map_ready: Callable[[int], None] | None = None,
        on_map_published: Callable[[int], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.on_map_ready = on_map_ready
        self.on_map_published = on_map_published

    def train_request(self, body: schemas.TrainJobRequest) -> TrainRequest:
        """The fit a `POST /api/jobs/train` body asks for (every `T2B_MAP_DIMS` by default)."""
        return TrainRequest(
            relation=body.relation,
            dims=(body.dim,) if body.dim is not None else tuple(self.settings.map_dims),
            representation=body.representation,
            epochs=body.epochs,
        )

    def train(self, request: TrainRequest, progress: TrainProgress | None = None) -> Job:
        """A fit of one map per dimension of `request`.

        Args:
            request: what to fit.
            progress: also told of progress (the CLI draws a bar); the job's own progress
                is always persisted.
        """
        params = {
            "relation": request.relation,
            "dims": list(request.dims),
            "representation": request.representation,
            "epochs": request.epochs
            or (
                self.settings.transfer_epochs
                if request.relation == "transfer"
                else self.settings.train_epochs
            ),
        }

        def run(ctx: JobContext) -> Mapping[str, Any]:
            def report(done: int, total: int | None, message: str | None) -> None:
                ctx.progress(done, total, message)
                if progress is not None:
                    progress(done, total, message)

            summary = run_train(
                self.settings,
                request,
                sessions=self.sessions,
                progress=report,
                on_ready=self.on_map_ready,
                on_published=self.on_map_published,
                job_id=ctx.job_id,
            )
            return summary.as_dict()

        return params, run

    def hub_transfer(self, limit: int | None, *, estimator: TransferEstimator | None = None) -> Job:
        """Transfer between Hub datasets from their images: image features of the `limit`
        most downloaded crawled datasets, every pair's estimates (each estimator's), then a
        transfer map fitted to `estimator`'s (default `T2B_TRANSFER_ESTIMATOR`). A train job:
        it ends in a fit, and no other fit may run beside it."""
        from backend.jobs.estimate_transfer import estimate_from_stored_features
        from backend.jobs.image_features import run_image_features

        settings = self.settings
        request = TrainRequest(
            relation="transfer", dims=tuple(settings.map_dims), estimator=estimator
        )
        params: dict[str, Any] = {
            "relation": "transfer",
            "images_of": limit,
            "estimates": True,
            "estimator": estimator or settings.transfer_estimator,
        }

        def run(ctx: JobContext) -> Mapping[str, Any]:
            def sampled(done: int, total: int) -> None:
                ctx.progress(done, total, f"image features {done}/{total}")

            features = run_image_features(
                settings, limit=limit, progress=sampled, sessions=self.sessions
            )
            ctx.progress(0, None, "estimating transfer between every pair")
            report = estimate_from_stored_features(settings, self.sessions)
            summary = run_train(
                settings,
                request,
                sessions=self.sessions,
                progress=ctx.progress,
                on_ready=self.on_map_ready,
                on_published=self.on_map_published,
                job_id=ctx.job_id,
            )
            return {
                "image_features": features.describe(),
                "estimated": report.stored,
                "skipped": report.skipped,
                **summary.as_dict(),
            }

        return params, run

    def estimate_transfer(self, body: schemas.EstimateTransferJobRequest) -> Job:
        """What `POST /api/jobs/estimate-transfer` runs: the Hub transfer job of `task2box up`
        (`hub_transfer`), for `body.limit` datasets, fitted to `body.estimator`'s estimates."""
        return self.hub_transfer(body.limit, estimator=body.estimator)

    def crawl(self, body: schemas.CrawlJobRequest) -> Job:
        """A Hub crawl of at most `body.limit` datasets (incremental, resumable)."""
        from backend.jobs.crawl_job import describe, run_crawl, stopped_early

        params: dict[str, Any] = {"limit": body.limit}

        def run(ctx: JobContext) -> Mapping[str, Any]:
            def progress(done: int, total: int | None) -> None:
                ctx.progress(done, total, f"{done} datasets")

            summary = run_crawl(
                self.settings, limit=body.limit, progress=progress, sessions=self.sessions
            )
            if summary.error:
                # A listing that broke off is a failed job: its cause must show where jobs are
                # read (the page, `GET /api/jobs`), and it is not the completed first crawl.
                raise CrawlError(stopped_early(summary))
            return describe(summary)

        return params, run
