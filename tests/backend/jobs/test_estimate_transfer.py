"""Estimating transfer from labelled features: every pair scored, bad samples skipped with
their reason, and the estimates read back beside (never over) the measured scores."""

from __future__ import annotations

import numpy as np
import pytest

from backend.db import repository
from backend.db.engine import SessionFactory, session_scope
from backend.jobs.estimate_transfer import LabelledFeatures, estimate_and_store
from tests.factories import T0

MODEL = "clip-test"


def _samples() -> list[LabelledFeatures]:
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 0.0], [0.0, 6.0, 0.0], [6.0, 6.0, 0.0]])
    fine = np.repeat(np.arange(4), 10)
    x = centres[fine] + rng.normal(scale=0.3, size=(40, 3))
    x[:, 2] = rng.uniform(-3, 3, size=40)  # varies apart from the clusters
    return [
        LabelledFeatures("fine", x, fine),
        LabelledFeatures("coarse", x, fine // 2),
        LabelledFeatures("unrelated", x, (x[:, 2] > 0).astype(int)),
        LabelledFeatures("one-class", x, np.zeros(40, dtype=int)),
        LabelledFeatures("thin", x[:5], np.arange(5)),
        LabelledFeatures("broken", np.full((4, 3), np.nan), np.array([0, 0, 1, 1])),
    ]


@pytest.fixture
def with_tasks(sessions: SessionFactory) -> SessionFactory:
    ids = [s.dataset_id for s in _samples()]
    with session_scope(sessions) as session:
        # Creates every task; one pair is measured.
        others = [("one-class", i, 0.01) for i in ids if i != "one-class"]
        scores = [("fine", "coarse", 0.02), *others]
        repository.import_transfer(session, scores=scores, imported_at=T0)
    return sessions


def test_every_pair_is_estimated_and_bad_samples_are_skipped(with_tasks: SessionFactory) -> None:
    report = estimate_and_store(with_tasks, _samples(), feature_model=MODEL, device="cpu")
    assert report.scored == ("fine", "coarse", "unrelated")
    assert report.stored == {"leep": 6, "nce": 6, "logme": 6}
    assert set(report.skipped) == {"one-class", "thin", "broken"}
    assert "fewer than 2 classes" in report.skipped["one-class"]
    assert "too few images per class" in report.skipped["thin"]
    assert "NaN" in report.skipped["broken"]
    with session_scope(with_tasks) as session:
        evidence = repository.get_transfer_evidence(session, dataset_id="coarse", estimator="leep")
    by_pair = {(e.source_id, e.target_id): e for e in evidence}
    assert by_pair[("fine", "coarse")].kind == "measured"  # its estimate stays hidden
    assert by_pair[("coarse", "fine")].kind == "estimated"
    assert by_pair[("unrelated", "coarse")].kind == "estimated"
    # Down the fine target's column, the source that knows half its split beats the one
    # whose labels ignore the clusters.
    with session_scope(with_tasks) as session:
        column = repository.get_transfer_evidence(session, dataset_id="fine")
    estimates = {(e.source_id, e.target_id, e.estimator): e for e in column}
    for estimator in ("leep", "nce", "logme"):
        better, worse = (
            estimates[("coarse", "fine", estimator)],
            estimates[("unrelated", "fine", estimator)],
        )
        assert better.score > worse.score == 0.0, estimator
        assert better.raw is not None and worse.raw is not None and better.raw > worse.raw


def test_fewer_than_two_scorable_datasets_store_nothing(with_tasks: SessionFactory) -> None:
    report = estimate_and_store(with_tasks, _samples()[:1], feature_model=MODEL, device="cpu")
    assert report.stored == {} and report.scored == ("fine",)
    with session_scope(with_tasks) as session:
        assert repository.count_transfer_estimates(session) == 0


def test_duplicate_ids_are_refused(with_tasks: SessionFactory) -> None:
    sample = _samples()[0]
    with pytest.raises(ValueError, match="once"):
        estimate_and_store(with_tasks, [sample, sample], feature_model=MODEL)
