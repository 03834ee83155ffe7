"""Placing an unseen dataset with the published map's network; nothing is stored."""

from __future__ import annotations

from fastapi import APIRouter, Response

from backend import schemas
from backend.api.errors import error_responses
from backend.api.responses import json_response
from backend.deps import PlacerDep, SessionFactoryDep

router = APIRouter(prefix="/api", tags=["place"])


@router.post(
    "/place", response_model=schemas.PlacePublic, responses=error_responses(404, 409, 413, 422)
)
def place(body: schemas.PlaceRequest, sessions: SessionFactoryDep, placer: PlacerDep) -> Response:
    """The predicted box of a label list (or a known dataset) and its related datasets."""
    # The session is opened here rather than by the generator dependency `SessionDep`, whose
    # exit-stack bookkeeping costs a warm placement (which never touches the database)
    # noticeably. Serialized here too, in the worker thread: returning the model would make
    # FastAPI validate it again, in a second thread-pool hop, only to write the same bytes.
    with sessions() as session:
        return json_response(placer.place(session, body))
