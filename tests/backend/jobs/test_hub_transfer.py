"""Transfer between Hub datasets estimated from their images, end to end on loopback: crawl the
fake Hub, sample its viewer rows, embed with a tiny random-weight CLIP, estimate every pair,
fit a transfer map to the estimates, and read `/related?relation=transfer`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.config import Settings
from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.errors import InvalidStateError
from backend.jobs import image_features as job
from backend.jobs.crawl_job import run_crawl
from backend.jobs.estimate_transfer import estimate_from_stored_features
from backend.jobs.image_features import run_image_features
from backend.jobs.train import TrainRequest, run_train
from backend.main import create_app
from tests.fakehub import FakeHub
from tests.fakehub_rows import mixed_colour_datasets
from tests.transfer_settings import OFFLINE_TRANSFER

SettingsFactory = Callable[..., Settings]
DATASETS = 4


@pytest.fixture
def settings(
    fake_hub: FakeHub, hub_settings: SettingsFactory, db_url: str, clip_dir: Path
) -> Settings:
    fake_hub.datasets.clear()
    fake_hub.add(*mixed_colour_datasets(DATASETS))
    made = hub_settings(database_url=db_url, clip_model=str(clip_dir), **OFFLINE_TRANSFER)
    assert run_crawl(made).fetched == DATASETS
    return made


def test_estimates_fit_a_transfer_map_whose_lists_say_estimated(
    settings: Settings, sessions: SessionFactory
) -> None:
    with pytest.raises(InvalidStateError, match="task2box image-features"):
        estimate_from_stored_features(settings, sessions)
    embedder = job.embedder_for(settings, local_files_only=True)
    assert run_image_features(settings, embedder=embedder, sessions=sessions).ready == DATASETS
    report = estimate_from_stored_features(settings, sessions)
    pairs = DATASETS * (DATASETS - 1)
    assert len(report.scored) == DATASETS and report.stored == {
        "leep": pairs,
        "nce": pairs,
        "logme": pairs,
    }
    with session_scope(sessions) as session:
        assert repository.count_transfer_scores(session) == 0  # nothing measured was written
        leep = repository.get_transfer_estimates(session, estimator="leep")
    assert len(leep) == pairs and all(e.score >= 0 for e in leep)

    summary = run_train(settings, TrainRequest(relation="transfer", dims=(2,)), sessions=sessions)
    (outcome,) = summary.maps
    assert outcome.status == "published", outcome.error
    with session_scope(sessions) as session:
        record = repository.get_map(session, map_id=outcome.map_id)
    assert record is not None and record.params["estimator"] == "leep"
    assert record.params["estimated_pairs"] == pairs and record.params["measured_pairs"] == 0

    with TestClient(create_app(settings)) as client:
        body = client.get(
            "/api/datasets/colours/set-0/related",
            params={"relation": "transfer", "direction": "to", "k": 10},
        ).json()
    kinds = {item["id"]: item["kind"] for item in body["items"]}
    others = {f"colours/set-{i}" for i in range(1, DATASETS)}
    assert others <= set(kinds) and {kinds[i] for i in others} == {"estimated"}
    assert not any(item["measured"] for item in body["items"])


def test_the_first_run_job_samples_estimates_and_publishes_a_transfer_map(
    settings: Settings, sessions: SessionFactory
) -> None:
    from backend.jobs.factories import JobFactories
    from backend.jobs.runner import JobRunner

    params, fn = JobFactories(settings, sessions).hub_transfer(DATASETS)
    assert params["images_of"] == DATASETS
    runner = JobRunner(sessions)
    job = runner.submit("train", fn, params=params)
    assert runner.wait(job.id, 300)
    with session_scope(sessions) as session:
        final = repository.get_job(session, job_id=job.id)
        published = repository.get_published_map(session, relation="transfer")
    assert final is not None and final.status == "succeeded", final and final.error
    assert final.result["image_features"]["ready"] == DATASETS
    assert final.result["estimated"]["leep"] == DATASETS * (DATASETS - 1)
    assert published is not None and published.params["estimator"] == "leep"
