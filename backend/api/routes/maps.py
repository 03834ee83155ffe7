"""Maps and their boxes (the page's one big download: cached, tagged, gzipped once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from backend import schemas
from backend.api.concurrency import run_inline_if
from backend.api.errors import error_responses
from backend.api.ids import checked_dataset_id
from backend.api.params import DatasetIdPath
from backend.db import repository
from backend.deps import MapStoreDep, PayloadCacheDep, PlacerDep, RunnerDep, SessionDep
from backend.errors import NotFoundError
from backend.serving import views
from backend.serving.boxes_payload import BoxesPayload, etag_matches
from backend.vocab import Relation

router = APIRouter(prefix="/api/maps", tags=["maps"])

MapId = Annotated[int, Path(ge=1, le=2**62)]


def _accepts_gzip(accept_encoding: str | None) -> bool:
    # The same test GZipMiddleware applies to every other response, so one client always
    # gets one encoding from this server.
    return "gzip" in (accept_encoding or "")


@router.get("", response_model=schemas.MapsPublic, responses=error_responses(422))
def list_maps(
    session: SessionDep,
    runner: RunnerDep,
    relation: Relation | None = None,
    status: schemas.MapStatus | None = None,
) -> schemas.MapsPublic:
    """Every map, newest first (published, ready, retired, training and failed ones)."""
    # A map's `training` is only as true as its job: a fit whose process died fails here.
    runner.sweep(session, kind="train")
    records = repository.list_maps(session, relation=relation, status=status)
    return schemas.MapsPublic(items=[views.map_public(r) for r in records])


@router.get("/{map_id}", response_model=schemas.MapPublic, responses=error_responses(404, 422))
def get_map(map_id: MapId, session: SessionDep, runner: RunnerDep) -> schemas.MapPublic:
    """One map's metadata and validation metrics."""
    runner.sweep(session, kind="train")
    record = repository.get_map(session, map_id=map_id)
    if record is None:
        raise NotFoundError(f"no map with id {map_id}")
    return views.map_public(record)


@router.get(
    "/{map_id}/label-points/{dataset_id:path}",
    response_model=schemas.LabelPointsPublic,
    responses=error_responses(404, 409, 422),
)
def label_points(
    map_id: MapId, dataset_id: DatasetIdPath, session: SessionDep, placer: PlacerDep
) -> schemas.LabelPointsPublic:
    """A dataset's classes as points of a label-set map (409 for a vector map)."""
    return placer.label_points(session, map_id=map_id, dataset_id=checked_dataset_id(dataset_id))


@router.get(
    "/{map_id}/boxes",
    response_model=schemas.MapBoxesPublic,
    responses={
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        **error_responses(404, 409, 422),
    },
)
async def map_boxes(
    map_id: MapId,
    store: MapStoreDep,
    payloads: PayloadCacheDep,
    if_none_match: Annotated[str | None, Header(max_length=2048)] = None,
    # A transport header every HTTP client sets on its own, not an API parameter.
    accept_encoding: Annotated[str | None, Header(max_length=1024, include_in_schema=False)] = None,
) -> Response:
    """Every box of a map as index-aligned column arrays (ETag; gzip when accepted)."""

    def payload() -> BoxesPayload:
        record = store.record(map_id)
        return payloads.get(record, store.get_record(record))

    warm = store.has_records() and store.cached(map_id) is not None
    warm = warm and payloads.cached(store.record(map_id)) is not None
    body = await run_inline_if(warm, payload)
    headers = {"ETag": body.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if etag_matches(if_none_match, body.etag):
        return Response(status_code=304, headers=headers)
    if _accepts_gzip(accept_encoding):
        headers["Content-Encoding"] = "gzip"
        return Response(body.gzipped, media_type="application/json", headers=headers)
    return Response(body.body, media_type="application/json", headers=headers)
