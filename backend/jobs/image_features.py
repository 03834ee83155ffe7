"""The image-features job: sample each crawled dataset's images, embed them with CLIP, store.

Per dataset (most downloaded first): sample labelled images from the viewer
(`backend.crawler.sampler`), embed those not already in the content-hash cache, write the
float16 features file, then commit its index row. That commit is the only thing that makes a
dataset's features visible, and it comes after the file is complete, so a run killed at any
moment leaves no half-indexed dataset; the next run skips the datasets already indexed for
this feature model and resumes with the rest, and the images embedded before the kill come
from the cache. A dataset that cannot be sampled is indexed as `skipped` with its reason; an
unexpected error on one dataset is counted and logged, and the job goes on.

Each index row keeps the dataset's sha it was sampled at. A new Hub revision may hold other
images or labels, so a dataset whose crawled sha differs from its row's is sampled again
(`changed`), ready or skipped; replacing its features also drops the transfer estimates made
from the old ones (`repository.save_image_features`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backend.config import Settings
from backend.crawler._retry import RetryPolicy
from backend.crawler.sampler import DatasetSample, RowsSampler, SamplerConfig
from backend.db import repository
from backend.db.engine import SessionFactory, session_factory_for, session_scope
from backend.db.feature_files import (
    FeatureFileError,
    remove_features_file,
    remove_partial_files,
    write_features,
)
from backend.errors import RepresentationUnavailable
from backend.representations.clip_images import ClipImageEmbedder, feature_model
from backend.representations.embedding_cache import EmbeddingCache

log = logging.getLogger(__name__)

FeaturesProgress = Callable[[int, int], None]
"""Told `(datasets handled, datasets to handle)` after each dataset."""


@dataclass
class ImageFeaturesSummary:
    """What one run did; `ready + unchanged + sum(skipped) + failed` datasets were handled.

    `changed` of them were sampled again because the crawl recorded a new revision since
    (each also counts as ready, skipped or failed, by how that went).
    """

    feature_model: str
    ready: int = 0
    unchanged: int = 0
    changed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    images: int = 0
    failed_images: int = 0
    embedded: int = 0
    seconds: float = 0.0

    def describe(self) -> dict[str, Any]:
        """A JSON-ready dict of the summary."""
        return {
            "feature_model": self.feature_model,
            "ready": self.ready,
            "unchanged": self.unchanged,
            "changed": self.changed,
            "skipped": dict(sorted(self.skipped.items())),
            "failed": self.failed,
            "images": self.images,
            "failed_images": self.failed_images,
            "embedded": self.embedded,
            "seconds": round(self.seconds, 2),
        }


def sampler_for(settings: Settings) -> RowsSampler:
    """The sampler the settings describe (endpoints, caps, retries)."""
    return RowsSampler(
        SamplerConfig(
            viewer_endpoint=settings.viewer_endpoint,
            hub_endpoint=settings.hub_endpoint,
            token=settings.hf_token,
            timeout_s=settings.http_timeout_s,
            per_class=settings.transfer_images_per_class,
            per_dataset=settings.transfer_images_per_dataset,
            max_pages=settings.transfer_rows_pages,
            policy=RetryPolicy(settings.crawl_max_retries, base_s=settings.crawl_backoff_s),
            concurrency=settings.crawl_concurrency,
            streaming_fallback=settings.transfer_streaming_fallback,
            cache_dir=settings.cache_dir / "datasets",
        )
    )


def feature_model_for(settings: Settings) -> str:
    """The feature model the job stores with these settings: pass it to
    `repository.load_image_features` to read the features back."""
    return feature_model(settings.clip_model)


def embedder_for(settings: Settings, *, local_files_only: bool = False) -> ClipImageEmbedder:
    """CLIP's image tower with `T2B_CLIP_MODEL`, on `T2B_DEVICE`, cached under the cache dir."""
    return ClipImageEmbedder(
        settings.clip_model,
        cache=EmbeddingCache(settings.cache_dir / "image-embeddings.sqlite"),
        device=settings.device,
        batch_size=settings.image_features_batch_size,
        local_files_only=local_files_only,
    )


def run_image_features(
    settings: Settings,
    *,
    limit: int | None = None,
    retry_skipped: bool = False,
    progress: FeaturesProgress | None = None,
    sampler: RowsSampler | None = None,
    embedder: ClipImageEmbedder | None = None,
    sessions: SessionFactory | None = None,
) -> ImageFeaturesSummary:
    """Computes and indexes image features for the `limit` most downloaded crawled datasets.

    Args:
        settings: endpoints, caps, the data directory and the database URL.
        limit: handle at most this many datasets (most downloaded first).
        retry_skipped: sample again the datasets indexed as skipped for this model.
        progress: called with (handled, to handle) after each dataset.
        sampler: the image sampler (tests pass one with a recording sleep).
        embedder: the CLIP embedder (tests pass a tiny model).
        sessions: the session factory; defaults to the one for `settings.database_url`.

    Raises:
        ValueError: `limit` < 1.
        RepresentationUnavailable: the CLIP weights cannot be loaded (before any Hub request).
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    started = time.monotonic()
    embedder = embedder or embedder_for(settings)
    embedder.load()
    sampler = sampler or sampler_for(settings)
    factory = sessions or session_factory_for(settings.database_url)
    model = embedder.version
    embedded_before = embedder.embedded
    if removed := remove_partial_files(settings.data_dir):
        log.info("removed %d partial features files of a killed run", removed)
    with session_scope(factory) as session:
        candidates = repository.get_feature_candidates(session, limit=limit)
        states = repository.get_image_feature_states(
            session, feature_model=model, dataset_ids=[c.dataset_id for c in candidates]
        )
    summary = ImageFeaturesSummary(model)
    skipped: Counter[str] = Counter()
    for done, candidate in enumerate(candidates, start=1):
        state = states.get(candidate.dataset_id)
        changed = state is not None and state.dataset_sha != candidate.sha
        if state is not None and not changed and (state.status == "ready" or not retry_skipped):
            summary.unchanged += 1
        else:
            if changed:
                summary.changed += 1
            try:
                outcome = _one(settings, sampler, embedder, candidate, factory)
            except RepresentationUnavailable:
                raise
            except Exception:
                log.exception("image features of %s failed", candidate.dataset_id)
                summary.failed += 1
            else:
                summary.failed_images += outcome.failed_images
                if outcome.skip_reason is not None:
                    skipped[outcome.skip_reason] += 1
                else:
                    summary.ready += 1
                    summary.images += len(outcome.images)
        if progress is not None:
            progress(done, len(candidates))
    summary.skipped = dict(skipped)
    summary.embedded = embedder.embedded - embedded_before
    summary.seconds = time.monotonic() - started
    log.info("image features: %s", summary.describe())
    return summary


def _one(
    settings: Settings,
    sampler: RowsSampler,
    embedder: ClipImageEmbedder,
    candidate: repository.FeatureCandidate,
    factory: SessionFactory,
) -> DatasetSample:
    """Samples, embeds, writes and indexes one dataset; returns its sample.

    The row records the sha the candidate was read with: should the crawl record a newer one
    while the viewer is read, the next run samples the dataset once more, never less.
    """
    dataset_id = candidate.dataset_id
    sample = sampler.sample(
        dataset_id, label_column=candidate.label_column, known=embedder.is_cached
    )
    if sample.skip_reason is not None:
        item = repository.ImageFeaturesIn(
            dataset_id,
            "skipped",
            skip_reason=sample.skip_reason,
            failed_images=sample.failed_images,
            source=sample.source,
            dataset_sha=candidate.sha,
        )
    else:
        vectors = embedder.embed_by_digest([(s.sha256, s.image) for s in sample.images])
        labels = np.array([s.label for s in sample.images], dtype=np.int64)
        path = write_features(
            settings.data_dir,
            feature_model=embedder.version,
            dataset_id=dataset_id,
            features=vectors,
            labels=labels,
            class_names=sample.class_names,
        )
        item = repository.ImageFeaturesIn(
            dataset_id,
            "ready",
            n_images=len(sample.images),
            n_classes=len(set(labels.tolist())),
            failed_images=sample.failed_images,
            class_names_hash=repository.labels_hash(sample.class_names),
            path=path,
            source=sample.source,
            dataset_sha=candidate.sha,
        )
    with session_scope(factory) as session:
        superseded = repository.save_image_features(
            session, feature_model=embedder.version, item=item
        )
    if superseded is not None:
        try:
            remove_features_file(settings.data_dir, superseded)
        except (OSError, FeatureFileError) as e:  # an unread file costs disk, never a result
            log.warning("could not remove superseded features file %s: %s", superseded, e)
    return sample
