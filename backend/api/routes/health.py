"""Liveness for people, load balancers and the docker healthcheck."""

from __future__ import annotations

from fastapi import APIRouter, Response

from backend import schemas
from backend.db import repository
from backend.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=schemas.HealthPublic)
def healthz(session: SessionDep, response: Response) -> schemas.HealthPublic:
    """Whether the database answers and which maps are published (503 if the DB is down)."""
    if not repository.ping(session):
        response.status_code = 503
        return schemas.HealthPublic(status="unavailable", database=False, published_maps={})
    drawn: dict[str, int | None] = dict.fromkeys(repository.RELATIONS)
    for map_id, relation, _dim in repository.get_published_map_ids(session):
        if drawn.get(relation) is None:  # lowest dimension first: the one the page draws
            drawn[relation] = map_id
    status = "ok" if drawn.get("containment") is not None else "degraded"
    return schemas.HealthPublic(status=status, database=True, published_maps=drawn)
