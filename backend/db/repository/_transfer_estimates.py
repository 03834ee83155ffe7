"""Estimated source→target transfer scores, and every stored score of a dataset by kind.

Estimates live in their own table: replacing a set of them touches no measured score, and a
reader that merges the two (`get_transfer_evidence`) always lets the measured score of a
pair win.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from backend.db.repository._common import require_aware
from backend.db.repository._types import TransferEvidenceRecord, TransferScoreRecord
from backend.db.tables import TransferEstimate, TransferScore
from backend.records import MAX_ID_CHARS
from backend.vocab import TRANSFER_ESTIMATORS

MAX_FEATURE_MODEL_CHARS = 200
INSERT_CHUNK = 20_000


def _check(
    estimator: str, feature_model: str, estimates: Sequence[tuple[str, str, float, float]]
) -> dict[tuple[str, str], tuple[float, float]]:
    """`{(source, target): (score, raw)}`, a later duplicate winning; raises on bad input."""
    if estimator not in TRANSFER_ESTIMATORS:
        raise ValueError(
            f"estimator must be one of {', '.join(TRANSFER_ESTIMATORS)}, got {estimator!r:.40}"
        )
    if not 0 < len(feature_model) <= MAX_FEATURE_MODEL_CHARS:
        raise ValueError(
            f"feature_model must be 1..{MAX_FEATURE_MODEL_CHARS} chars, got {feature_model!r:.80}"
        )
    rows: dict[tuple[str, str], tuple[float, float]] = {}
    for source, target, score, raw in estimates:
        if source == target:
            raise ValueError(f"a transfer estimate needs two datasets, got {source!r:.80} twice")
        if not source or not target or max(len(source), len(target)) > MAX_ID_CHARS:
            raise ValueError(f"ids must be 1..{MAX_ID_CHARS} chars: {source!r:.80}→{target!r:.80}")
        if not (math.isfinite(score) and score >= 0 and math.isfinite(raw)):
            raise ValueError(
                f"estimate of {source!r:.80}→{target!r:.80} needs a finite score >= 0 and a "
                f"finite raw value, got {score} and {raw}"
            )
        rows[(source, target)] = (float(score), float(raw))
    return rows


def replace_transfer_estimates(
    session: Session,
    *,
    estimator: str,
    feature_model: str,
    estimates: Sequence[tuple[str, str, float, float]],
    estimated_at: datetime,
) -> int:
    """Replaces every estimate of `(estimator, feature_model)` by `estimates`, in ONE commit.

    Args:
        estimates: `(source, target, score, raw)`; `score` normalized per target (>= 0),
            `raw` the estimator's value. A later duplicate of a pair wins.

    Returns:
        How many estimates are stored for the set.

    Raises:
        ValueError: on an unknown estimator, a bad feature model name, a self pair, an
            over-long id, a negative or non-finite value, or a naive time; nothing is written.
        sqlalchemy.exc.IntegrityError: for an id that names no dataset (rolled back).
    """
    require_aware("estimated_at", estimated_at)
    rows = _check(estimator, feature_model, estimates)
    try:
        session.execute(
            delete(TransferEstimate).where(
                (TransferEstimate.estimator == estimator)
                & (TransferEstimate.feature_model == feature_model)
            )
        )
        pairs = list(rows.items())
        # In chunks, inside the one transaction: a Hub job stores N² estimates, and one
        # executemany of them all holds every row's parameters at once.
        for start in range(0, len(pairs), INSERT_CHUNK):
            session.execute(
                insert(TransferEstimate),
                [
                    {
                        "source_id": source,
                        "target_id": target,
                        "score": score,
                        "raw": raw,
                        "estimator": estimator,
                        "feature_model": feature_model,
                        "estimated_at": estimated_at,
                    }
                    for (source, target), (score, raw) in pairs[start : start + INSERT_CHUNK]
                ],
            )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return len(rows)


def get_transfer_estimates(
    session: Session,
    *,
    estimator: str,
    feature_model: str | None = None,
    estimated_by: datetime | None = None,
) -> list[TransferScoreRecord]:
    """One estimator's normalized estimates, as (source, target, score), by source then target.

    With `feature_model`, only that model's; otherwise the most recently estimated model's,
    so two feature models never give one pair twice. With `estimated_by`, only estimates
    stored at or before that time (what a map was fitted to).
    """
    if feature_model is None:
        latest = session.execute(
            select(TransferEstimate.feature_model)
            .where(TransferEstimate.estimator == estimator)
            .order_by(TransferEstimate.estimated_at.desc(), TransferEstimate.feature_model)
            .limit(1)
        ).scalar()
        if latest is None:
            return []
        feature_model = latest
    query = select(
        TransferEstimate.source_id, TransferEstimate.target_id, TransferEstimate.score
    ).where(
        TransferEstimate.estimator == estimator, TransferEstimate.feature_model == feature_model
    )
    if estimated_by is not None:
        require_aware("estimated_by", estimated_by)
        query = query.where(TransferEstimate.estimated_at <= estimated_by)
    rows = session.execute(query.order_by(TransferEstimate.source_id, TransferEstimate.target_id))
    return [TransferScoreRecord(r.source_id, r.target_id, r.score) for r in rows]


def count_transfer_estimates(session: Session) -> int:
    """How many estimated transfer scores are stored, over every estimator."""
    return int(session.scalar(select(func.count()).select_from(TransferEstimate)) or 0)


def get_transfer_evidence(
    session: Session, *, dataset_id: str, estimator: str | None = None
) -> list[TransferEvidenceRecord]:
    """Every stored score where `dataset_id` is the source or the target, tagged by kind.

    Measured scores come first; then estimates (of `estimator` only, if given) of the pairs
    that have no measured score, so an estimate never stands in for a measurement. Within
    each kind, by source then target (then estimator and feature model).
    """
    measured_rows = session.execute(
        select(TransferScore.source_id, TransferScore.target_id, TransferScore.score)
        .where(or_(TransferScore.source_id == dataset_id, TransferScore.target_id == dataset_id))
        .order_by(TransferScore.source_id, TransferScore.target_id)
    )
    out = [
        TransferEvidenceRecord(r.source_id, r.target_id, r.score, "measured") for r in measured_rows
    ]
    measured = {(r.source_id, r.target_id) for r in out}
    query = select(TransferEstimate).where(
        or_(TransferEstimate.source_id == dataset_id, TransferEstimate.target_id == dataset_id)
    )
    if estimator is not None:
        query = query.where(TransferEstimate.estimator == estimator)
    query = query.order_by(
        TransferEstimate.source_id,
        TransferEstimate.target_id,
        TransferEstimate.estimator,
        TransferEstimate.feature_model,
    )
    for e in session.scalars(query):
        if (e.source_id, e.target_id) not in measured:
            out.append(
                TransferEvidenceRecord(
                    e.source_id,
                    e.target_id,
                    e.score,
                    "estimated",
                    estimator=e.estimator,
                    feature_model=e.feature_model,
                    raw=e.raw,
                )
            )
    return out
