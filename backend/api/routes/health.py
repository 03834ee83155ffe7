"""Liveness for people, load balancers and the docker healthcheck."""

from __future__ import annotations

from fastapi import APIRouter, Response

from backend import schemas
from backend.api.responses import json_response
from backend.db import repository
from backend.deps import SessionDep
from backend.vocab import RELATIONS

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=schemas.HealthPublic,
    responses={
        503: {"model": schemas.HealthPublic, "description": "The database does not answer."}
    },
)
def healthz(session: SessionDep) -> Response:
    """Whether the database answers and which maps are published (503 if the DB is down)."""
    published = repository.probe_published_map_ids(session)
    if published is None:
        body = schemas.HealthPublic(status="unavailable", database=False, published_maps={})
        return json_response(body, status_code=503)
    drawn: dict[str, int | None] = dict.fromkeys(RELATIONS)
    for map_id, relation, _dim in published:
        if drawn.get(relation) is None:  # lowest dimension first: the one the page draws
            drawn[relation] = map_id
    status = "ok" if drawn.get("containment") is not None else "degraded"
    body = schemas.HealthPublic(status=status, database=True, published_maps=drawn)
    return json_response(body)
