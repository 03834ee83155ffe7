"""The image-features job end to end: crawl the fake Hub, sample its viewer rows on loopback,
embed with a tiny random-weight CLIP, store, load; reasons, broken images, resume, cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.jobs import image_features as job
from backend.jobs.crawl_job import run_crawl
from backend.jobs.image_features import run_image_features
from backend.representations.clip_images import ClipImageEmbedder
from tests.backend.jobs.feature_helpers import feature_states, local_embedder
from tests.fakehub import FakeHub
from tests.fakehub_rows import rows_catalog

SettingsFactory = Callable[..., Settings]
PER_CLASS = 4
REASONS = {
    "no_label_column": 1,
    "no_image_column": 1,
    "gated": 1,
    "not_found": 1,
    "rows_unavailable": 1,
    "too_few_images": 1,
}


@pytest.fixture
def settings(
    fake_hub: FakeHub, hub_settings: SettingsFactory, db_url: str, clip_dir: Path
) -> Settings:
    fake_hub.datasets.clear()
    fake_hub.add(*rows_catalog())
    made = hub_settings(
        database_url=db_url,
        crawl_builder_fallback=False,
        crawl_max_retries=1,
        clip_model=str(clip_dir),
        device="cpu",
        transfer_images_per_class=PER_CLASS,
        transfer_rows_pages=4,
        transfer_streaming_fallback=False,
        image_features_batch_size=5,
    )
    summary = run_crawl(made)
    assert summary.fetched == 8 and summary.failed == 0
    return made


def test_ready_datasets_have_features_and_skipped_ones_their_reasons(
    settings: Settings, sessions: SessionFactory, fake_hub: FakeHub
) -> None:
    summary = run_image_features(settings, embedder=local_embedder(settings), sessions=sessions)
    assert summary.feature_model == job.feature_model_for(settings)
    assert (summary.ready, summary.failed, summary.unchanged) == (2, 0, 0)
    assert summary.skipped == REASONS
    # Class 0 of rows/colors: truncated, not an image, huge; class 1: a 404.
    assert summary.failed_images == 4
    assert summary.images == 3 * PER_CLASS + 4 * PER_CLASS == summary.embedded
    states = feature_states(sessions, summary.feature_model)
    assert states["rows/colors"].failed_images == 4
    assert states["rows/down"].skip_reason == "rows_unavailable"
    assert fake_hub.requests("^/viewer/rows$")  # read through the viewer's rows API
    assert all(int(r.query["length"][0]) <= 100 for r in fake_hub.requests("^/viewer/rows$"))
    with session_scope(sessions) as s:
        loaded = repository.load_image_features(
            s, data_dir=settings.data_dir, feature_model=summary.feature_model
        )
    by_id = {f.dataset_id: f for f in loaded}
    assert sorted(by_id) == ["rows/colors", "rows/shapes"]
    colors = by_id["rows/colors"]
    assert colors.class_names == ("red", "green", "blue")
    assert colors.features.shape == (3 * PER_CLASS, 8) and colors.features.dtype == np.float32
    assert np.bincount(colors.labels).tolist() == [PER_CLASS] * 3
    assert np.bincount(by_id["rows/shapes"].labels).tolist() == [PER_CLASS] * 4
    # One colour per class: images of a class lie closer to each other than to another class.
    f, y = colors.features, colors.labels
    sims = f @ f.T
    same = sims[y[:, None] == y[None, :]].mean()
    other = sims[y[:, None] != y[None, :]].mean()
    assert same > other


def test_caps_hold_and_pages_stay_bounded(
    settings: Settings, sessions: SessionFactory, fake_hub: FakeHub
) -> None:
    capped = settings.model_copy(update={"transfer_images_per_dataset": 6})
    embedder = local_embedder(capped)
    summary = run_image_features(capped, limit=2, embedder=embedder, sessions=sessions)
    # 6 images over 3 or 4 classes: 2 per class, the classes read first.
    assert summary.ready == 2 and summary.images == 12
    with session_scope(sessions) as s:
        loaded = repository.load_image_features(
            s, data_dir=capped.data_dir, feature_model=summary.feature_model
        )
    assert [np.bincount(f.labels).tolist() for f in loaded] == [[2, 2, 2], [2, 2, 2]]
    pages = fake_hub.requests("^/viewer/rows$")
    shapes = [r for r in pages if r.query["dataset"] == ["rows/shapes"]]
    assert 1 <= len(shapes) <= capped.transfer_rows_pages


def test_a_rerun_embeds_nothing_and_a_new_index_reuses_the_cache(
    settings: Settings, sessions: SessionFactory, fake_hub: FakeHub, tmp_path: Path
) -> None:
    first = run_image_features(settings, embedder=local_embedder(settings), sessions=sessions)
    requests = len(fake_hub.log)
    again = run_image_features(settings, embedder=local_embedder(settings), sessions=sessions)
    assert (again.ready, again.unchanged, again.embedded) == (0, 8, 0)
    assert len(fake_hub.log) == requests  # nothing already indexed is fetched again
    # A fresh database (same cache): everything is sampled again but nothing re-embedded.
    fresh_db = f"sqlite:///{tmp_path / 'fresh.db'}"
    from backend.db import migrate
    from backend.db.engine import make_engine, make_session_factory

    migrate.upgrade(fresh_db)
    fresh = settings.model_copy(update={"database_url": fresh_db})
    run_crawl(fresh)
    engine = make_engine(fresh_db)
    try:
        other = run_image_features(
            fresh, embedder=local_embedder(fresh), sessions=make_session_factory(engine)
        )
    finally:
        engine.dispose()
    assert other.ready == first.ready and other.images == first.images
    assert other.embedded == 0


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the job catches it."""


def test_a_killed_run_leaves_no_half_indexed_dataset_and_resumes(
    settings: Settings,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_save = repository.save_image_features
    saved: list[str] = []

    def dies_on_the_second_ready(
        session: Session, *, feature_model: str, item: repository.ImageFeaturesIn
    ) -> None:
        if item.status == "ready" and any(s == "ready" for s in saved):
            raise Killed  # after the file was written, before its row is committed
        saved.append(item.status)
        real_save(session, feature_model=feature_model, item=item)

    monkeypatch.setattr(repository, "save_image_features", dies_on_the_second_ready)
    embedder = local_embedder(settings)
    with pytest.raises(Killed):
        run_image_features(settings, embedder=embedder, sessions=sessions)
    model = embedder.version
    states = feature_states(sessions, model)
    assert {k: v.status for k, v in states.items()} == {"rows/colors": "ready"}
    files = sorted((settings.data_dir / "transfer-features").rglob("*.npz"))
    assert len(files) == 2  # the second file is complete but unindexed: invisible
    assert not list((settings.data_dir / "transfer-features").rglob(".tmp-*"))
    monkeypatch.setattr(repository, "save_image_features", real_save)
    resumed = run_image_features(settings, embedder=local_embedder(settings), sessions=sessions)
    assert (resumed.unchanged, resumed.ready) == (1, 1)
    assert resumed.embedded == 0  # the killed run's embeddings came from the cache
    with session_scope(sessions) as s:
        loaded = repository.load_image_features(s, data_dir=settings.data_dir, feature_model=model)
    assert [f.dataset_id for f in loaded] == ["rows/colors", "rows/shapes"]


def test_the_streaming_fallback_fails_cleanly_offline(
    settings: Settings, sessions: SessionFactory
) -> None:
    # The fake Hub has no data files for `datasets` to stream: the dataset is skipped.
    fallback = settings.model_copy(update={"transfer_streaming_fallback": True})
    sampler = job.sampler_for(fallback)
    sample = sampler.sample("rows/down")
    assert sample.skip_reason == "rows_unavailable" and sample.images == []
    assert sample.source == "streaming"


def test_missing_weights_fail_before_any_hub_request(
    settings: Settings, sessions: SessionFactory, fake_hub: FakeHub, tmp_path: Path
) -> None:
    from backend.errors import RepresentationUnavailable

    before = len(fake_hub.log)
    embedder = ClipImageEmbedder(str(tmp_path / "none"), local_files_only=True)
    with pytest.raises(RepresentationUnavailable):
        run_image_features(settings, embedder=embedder, sessions=sessions)
    assert len(fake_hub.log) == before
    with pytest.raises(ValueError, match="limit"):
        run_image_features(settings, limit=0, sessions=sessions)
