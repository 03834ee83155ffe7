"""Placing an unseen dataset with the published map's network; nothing is stored."""

from __future__ import annotations

from fastapi import APIRouter

from backend import schemas
from backend.deps import PlacerDep, SessionDep

router = APIRouter(prefix="/api", tags=["place"])


@router.post("/place", response_model=schemas.PlacePublic)
def place(
    body: schemas.PlaceRequest, session: SessionDep, placer: PlacerDep
) -> schemas.PlacePublic:
    """The predicted box of a label list (or a known dataset) and its related datasets."""
    return placer.place(session, body)
