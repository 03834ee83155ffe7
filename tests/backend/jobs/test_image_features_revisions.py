"""Image features follow the Hub: a dataset whose crawled sha changed is sampled again, the
others are not, and the transfer estimates made from the old features do not outlive them.

Crawl the fake Hub, extract features with a tiny random-weight CLIP, estimate; then publish a
new revision of one dataset (new sha, other images and classes) and open a gated one, crawl
again, and rerun the job and the estimates."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.jobs.crawl_job import run_crawl
from backend.jobs.estimate_transfer import estimate_from_stored_features
from backend.jobs.image_features import run_image_features
from tests.backend.jobs.feature_helpers import feature_states, local_embedder
from tests.fakehub import FakeHub
from tests.fakehub_catalog import FakeDataset, sha_of
from tests.fakehub_rows import COLORS, FakeRows, rows_dataset

SettingsFactory = Callable[..., Settings]
KEPT = ("colours/set-0", "colours/set-2")
CHANGED = "colours/set-1"
LOCKED = "colours/locked"


def _datasets() -> list[FakeDataset]:
    made = [
        rows_dataset(f"colours/set-{i}", 1000 - i, FakeRows(30, COLORS[:2]), COLORS)
        for i in range(3)
    ]
    made.append(rows_dataset(LOCKED, 10, FakeRows(30, COLORS[:2], gated=True), COLORS))
    return made


@pytest.fixture
def settings(
    fake_hub: FakeHub, hub_settings: SettingsFactory, db_url: str, clip_dir: Path
) -> Settings:
    fake_hub.datasets.clear()
    fake_hub.add(*_datasets())
    made = hub_settings(
        database_url=db_url,
        crawl_builder_fallback=False,
        clip_model=str(clip_dir),
        device="cpu",
        transfer_images_per_class=4,
        transfer_streaming_fallback=False,
    )
    assert run_crawl(made).fetched == 4
    return made


def _raw_leep(sessions: SessionFactory) -> dict[tuple[str, str], float]:
    """Every stored LEEP estimate's raw value, by (source, target)."""
    out: dict[tuple[str, str], float] = {}
    with session_scope(sessions) as s:
        for dataset_id in (*KEPT, CHANGED, LOCKED):
            for e in repository.get_transfer_evidence(s, dataset_id=dataset_id, estimator="leep"):
                assert e.raw is not None
                out[(e.source_id, e.target_id)] = e.raw
    return out


def _publish_new_revisions(fake_hub: FakeHub) -> None:
    """A new commit of CHANGED (three classes, other image bytes) and LOCKED made public."""
    old = fake_hub.datasets[CHANGED]
    assert old.viewer_rows is not None
    rows = dataclasses.replace(old.viewer_rows, label_names=COLORS, salt="v2")
    fake_hub.add(dataclasses.replace(old, sha=sha_of(CHANGED, "v2"), viewer_rows=rows))
    locked = fake_hub.datasets[LOCKED]
    assert locked.viewer_rows is not None
    opened = dataclasses.replace(locked.viewer_rows, gated=False)
    fake_hub.add(dataclasses.replace(locked, sha=sha_of(LOCKED, "v2"), viewer_rows=opened))


def test_a_new_revision_is_sampled_again_and_its_old_estimates_are_replaced(
    settings: Settings, sessions: SessionFactory, fake_hub: FakeHub
) -> None:
    first = run_image_features(settings, embedder=local_embedder(settings), sessions=sessions)
    assert (first.ready, first.unchanged, first.changed) == (3, 0, 0)
    assert first.skipped == {"gated": 1}
    before = feature_states(sessions, first.feature_model)
    assert before[CHANGED].n_classes == 2 and before[CHANGED].dataset_sha == sha_of(CHANGED)
    assert estimate_from_stored_features(settings, sessions).stored["leep"] == 3 * 2
    old_raw = _raw_leep(sessions)
    assert len(old_raw) == 6

    _publish_new_revisions(fake_hub)
    crawl = run_crawl(settings)
    assert (crawl.fetched, crawl.unchanged) == (2, 2)

    again = run_image_features(settings, embedder=local_embedder(settings), sessions=sessions)
    # Only the two new revisions were sampled; the others were not even asked for.
    assert (again.ready, again.unchanged, again.changed, again.skipped) == (2, 2, 2, {})
    assert again.images == 3 * 4 + 2 * 4 == again.embedded  # every new image is new to CLIP
    after = feature_states(sessions, first.feature_model)
    assert after[CHANGED].path != before[CHANGED].path
    assert after[CHANGED].n_classes == 3 and after[CHANGED].dataset_sha == sha_of(CHANGED, "v2")
    assert after[LOCKED].status == "ready" and after[LOCKED].dataset_sha == sha_of(LOCKED, "v2")
    for kept in KEPT:
        assert after[kept] == before[kept]  # same file, same row, not touched
        assert (settings.data_dir / str(after[kept].path)).is_file()
    # The superseded file is deleted once no row reads it; the new one is there.
    assert not (settings.data_dir / str(before[CHANGED].path)).exists()
    assert (settings.data_dir / str(after[CHANGED].path)).is_file()
    # The estimates made from CHANGED's old features went with them; the others stay.
    assert set(_raw_leep(sessions)) == {KEPT, KEPT[::-1]}

    report = estimate_from_stored_features(settings, sessions)
    assert report.stored["leep"] == 4 * 3 and set(report.scored) == {*KEPT, CHANGED, LOCKED}
    new_raw = _raw_leep(sessions)
    assert len(new_raw) == 12
    for pair in ((CHANGED, KEPT[0]), (KEPT[0], CHANGED), (CHANGED, KEPT[1]), (KEPT[1], CHANGED)):
        assert new_raw[pair] != old_raw[pair], pair  # scored from the new revision's features

    third = run_image_features(settings, embedder=local_embedder(settings), sessions=sessions)
    assert (third.ready, third.unchanged, third.changed, third.embedded) == (0, 4, 0, 0)


def test_features_of_an_unknown_revision_are_sampled_again(
    settings: Settings, sessions: SessionFactory
) -> None:
    # As an index row written before the sha was kept reads: NULL, the revision unknown.
    first = run_image_features(settings, embedder=local_embedder(settings), sessions=sessions)
    with session_scope(sessions) as s:
        row = feature_states(sessions, first.feature_model)[KEPT[0]]
        assert row.path is not None
        repository.save_image_features(
            s,
            feature_model=first.feature_model,
            item=repository.ImageFeaturesIn(
                KEPT[0], "ready", n_images=row.n_images, path=row.path, dataset_sha=None
            ),
        )
    again = run_image_features(settings, embedder=local_embedder(settings), sessions=sessions)
    assert (again.ready, again.unchanged, again.changed) == (1, 3, 1)
    assert again.embedded == 0  # the same images: CLIP's cache answers
    assert feature_states(sessions, first.feature_model)[KEPT[0]].dataset_sha == sha_of(KEPT[0])
