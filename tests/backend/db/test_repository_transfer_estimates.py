"""Estimated transfer scores: stored apart from measured ones, replaced whole, read by kind."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db import repository as repo
from backend.vocab import TRANSFER_ESTIMATORS
from models.transferability import ESTIMATORS
from tests.factories import T0

MODEL = "openai/clip-vit-base-patch32"


def _tasks(session: Session) -> None:
    # The import creates the three tasks and measures one pair.
    repo.import_transfer(session, scores=[("a", "b", 0.3), ("c", "a", 0.0)], imported_at=T0)


def test_the_vocabulary_names_the_core_s_estimators() -> None:
    assert TRANSFER_ESTIMATORS == ESTIMATORS


def test_a_measured_pair_never_lists_its_estimate(session: Session) -> None:
    _tasks(session)
    stored = repo.replace_transfer_estimates(
        session,
        estimator="leep",
        feature_model=MODEL,
        estimates=[("a", "b", 0.9, -0.1), ("b", "a", 0.002, -1.5), ("a", "c", 0.004, -0.7)],
        estimated_at=T0,
    )
    assert stored == 3 and repo.count_transfer_estimates(session) == 3
    evidence = repo.get_transfer_evidence(session, dataset_id="a")
    assert [(e.source_id, e.target_id, e.kind) for e in evidence] == [
        ("a", "b", "measured"),
        ("c", "a", "measured"),
        ("a", "c", "estimated"),
        ("b", "a", "estimated"),
    ]
    assert evidence[0].score == 0.3 and evidence[0].estimator is None
    assert (evidence[2].estimator, evidence[2].feature_model, evidence[2].raw) == (
        "leep",
        MODEL,
        -0.7,
    )
    # The measured scores themselves are untouched.
    assert [(s.source_id, s.target_id, s.score) for s in repo.get_transfer_scores(session)] == [
        ("a", "b", 0.3),
        ("c", "a", 0.0),
    ]


def test_a_set_is_replaced_whole_and_other_estimators_are_kept(session: Session) -> None:
    _tasks(session)
    for estimator in ("leep", "nce"):
        repo.replace_transfer_estimates(
            session,
            estimator=estimator,
            feature_model=MODEL,
            estimates=[("b", "c", 0.5, -0.2), ("c", "b", 0.1, -0.9)],
            estimated_at=T0,
        )
    repo.replace_transfer_estimates(
        session,
        estimator="leep",
        feature_model=MODEL,
        estimates=[("b", "c", 0.7, -0.1)],
        estimated_at=T0,
    )
    evidence = repo.get_transfer_evidence(session, dataset_id="b")
    assert [(e.source_id, e.target_id, e.estimator, e.score) for e in evidence] == [
        ("a", "b", None, 0.3),
        ("b", "c", "leep", 0.7),
        ("b", "c", "nce", 0.5),
        ("c", "b", "nce", 0.1),
    ]
    only_nce = repo.get_transfer_evidence(session, dataset_id="b", estimator="nce")
    assert [e.kind for e in only_nce] == ["measured", "estimated", "estimated"]


@pytest.mark.parametrize(
    ("estimator", "model", "estimates", "when", "message"),
    [
        ("h-score", MODEL, [("a", "b", 0.1, 0.0)], T0, "estimator must be one of"),
        ("leep", "", [("a", "b", 0.1, 0.0)], T0, "feature_model"),
        ("leep", MODEL, [("a", "a", 0.1, 0.0)], T0, "two datasets"),
        ("leep", MODEL, [("a", "b", -0.1, 0.0)], T0, "finite score >= 0"),
        ("leep", MODEL, [("a", "b", 0.1, float("nan"))], T0, "finite raw"),
        ("leep", MODEL, [("a", "x" * 201, 0.1, 0.0)], T0, "ids must be"),
        ("leep", MODEL, [("a", "b", 0.1, 0.0)], datetime(2026, 1, 1), "timezone"),
    ],
)
def test_bad_estimates_write_nothing(
    session: Session,
    estimator: str,
    model: str,
    estimates: list[tuple[str, str, float, float]],
    when: datetime,
    message: str,
) -> None:
    _tasks(session)
    with pytest.raises(ValueError, match=message):
        repo.replace_transfer_estimates(
            session,
            estimator=estimator,
            feature_model=model,
            estimates=estimates,
            estimated_at=when,
        )
    assert repo.count_transfer_estimates(session) == 0


def test_an_unknown_dataset_rolls_the_whole_set_back(session: Session) -> None:
    _tasks(session)
    kept = [("a", "c", 0.4, -0.3)]
    repo.replace_transfer_estimates(
        session, estimator="leep", feature_model=MODEL, estimates=kept, estimated_at=T0
    )
    with pytest.raises(IntegrityError):
        repo.replace_transfer_estimates(
            session,
            estimator="leep",
            feature_model=MODEL,
            estimates=[("a", "b", 0.1, 0.0), ("a", "nobody/here", 0.2, 0.0)],
            estimated_at=T0,
        )
    evidence = repo.get_transfer_evidence(session, dataset_id="c")
    assert [(e.source_id, e.target_id, e.kind) for e in evidence] == [
        ("c", "a", "measured"),
        ("a", "c", "estimated"),
    ]


def test_a_set_larger_than_one_insert_chunk_is_stored_whole_or_not_at_all(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.db.repository import _transfer_estimates

    _tasks(session)
    monkeypatch.setattr(_transfer_estimates, "INSERT_CHUNK", 2)
    pairs = [("a", "b"), ("b", "a"), ("a", "c"), ("c", "a"), ("b", "c")]
    estimates = [(s, t, float(i), -float(i)) for i, (s, t) in enumerate(pairs)]
    estimates.append(("a", "b", 9.0, -9.0))  # a later duplicate wins, across chunks
    stored = repo.replace_transfer_estimates(
        session, estimator="nce", feature_model=MODEL, estimates=estimates, estimated_at=T0
    )
    assert stored == 5
    got = {
        (e.source_id, e.target_id): e.score
        for e in repo.get_transfer_estimates(session, estimator="nce")
    }
    assert got == {
        ("a", "b"): 9.0,
        ("b", "a"): 1.0,
        ("a", "c"): 2.0,
        ("c", "a"): 3.0,
        ("b", "c"): 4.0,
    }
    # A bad id in the last chunk rolls back the chunks before it too.
    with pytest.raises(IntegrityError):
        repo.replace_transfer_estimates(
            session,
            estimator="nce",
            feature_model=MODEL,
            estimates=[*estimates[:4], ("a", "nobody/here", 0.2, 0.0)],
            estimated_at=T0,
        )
    after = repo.get_transfer_estimates(session, estimator="nce")
    assert {(e.source_id, e.target_id): e.score for e in after} == got
