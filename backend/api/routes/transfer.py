"""Transfer scores: import measured ones from CSV (admin token), read what is stored, measured
and estimated (public).

The upload is the HTTP twin of `task2box import-transfer`: the same validation, the same
all-or-nothing commit. Training the transfer map is then `POST /api/jobs/train` with
`{"relation": "transfer"}`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend import schemas
from backend.api.errors import error_responses
from backend.api.ids import checked_dataset_id
from backend.db import repository
from backend.deps import AdminDep, SessionDep
from backend.transfer.importer import import_transfer_csv

router = APIRouter(prefix="/api/transfer-scores", tags=["transfer"])

_MAX_ITEMS = 5000


@router.post(
    "",
    status_code=201,
    response_model=schemas.TransferImportPublic,
    dependencies=[AdminDep],
    responses={
        **error_responses(401, 403, 413, 422),
        422: {
            "model": schemas.ErrorPublic,
            "description": "Malformed CSV, or an invalid body; `detail` lists the bad lines.",
        },
    },
)
def import_scores(
    body: schemas.TransferImportRequest, session: SessionDep
) -> schemas.TransferImportPublic:
    """Import measured source→target scores from CSV text (all or nothing)."""
    report = import_transfer_csv(session, body.scores, body.descriptions, replace_all=body.replace)
    return schemas.TransferImportPublic(**report.as_dict())


@router.get("", response_model=schemas.TransferScoresPublic, responses=error_responses(422))
def transfer_scores(
    session: SessionDep,
    dataset: Annotated[
        str | None,
        Query(
            max_length=schemas.MAX_DATASET_ID_CHARS,
            description="Also list this dataset's stored scores.",
            json_schema_extra={"pattern": schemas.DATASET_ID_PATTERN},
        ),
    ] = None,
    estimator: Annotated[
        schemas.TransferEstimator | None,
        Query(description="List only this estimator's estimates (measured scores always)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=_MAX_ITEMS)] = 1000,
) -> schemas.TransferScoresPublic:
    """How many transfer scores are imported (0: none yet) and estimated, and one dataset's
    scores, each tagged `measured` or `estimated`."""
    summary = repository.get_transfer_summary(session)
    items: list[schemas.TransferScorePublic] = []
    if dataset is not None:
        evidence = repository.get_transfer_evidence(
            session, dataset_id=checked_dataset_id(dataset), estimator=estimator
        )
        items = [
            schemas.TransferScorePublic(
                source=e.source_id,
                target=e.target_id,
                score=e.score,
                kind=e.kind,
                estimator=e.estimator,
                feature_model=e.feature_model,
                raw=e.raw,
            )
            for e in evidence[:limit]
        ]
    return schemas.TransferScoresPublic(
        scores=summary.scores,
        tasks=summary.tasks,
        imported_at=summary.imported_at,
        estimated=repository.count_transfer_estimates(session),
        items=items,
    )
