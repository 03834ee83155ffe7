"""Datasets: search, one dataset, and its related datasets in a map.

Ids hold a slash (`owner/name`), so both routes take a `:path` parameter; `/related` is
declared first so that `/api/datasets/owner/name/related` reaches it. (A dataset whose own
name is `related` is therefore only reachable as the target of the related route's
`owner`-less form; no such Hub id is known.)
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from backend import schemas
from backend.api.concurrency import run_inline_if
from backend.api.errors import error_responses
from backend.api.ids import checked_dataset_id
from backend.api.params import DatasetIdPath, NoControl, text_query
from backend.api.responses import json_response
from backend.db import repository
from backend.deps import MapStoreDep, SessionDep
from backend.errors import NotFoundError
from backend.serving import views
from backend.serving.related import answerable_from_memory, related_for_dataset
from backend.vocab import DatasetStatus

router = APIRouter(prefix="/api/datasets", tags=["datasets"])

_MAX_OFFSET = 1_000_000
_MAX_COUNT = 100_000_000
# Labels shown with one dataset; `num_labels` gives the full count.
DETAIL_LABELS = 1000


@router.get("", response_model=schemas.DatasetsPublic, responses=error_responses(422))
def list_datasets(
    session: SessionDep,
    q: Annotated[
        str | None, NoControl, text_query(max_length=200, description="Substring of id or name.")
    ] = None,
    label: Annotated[
        str | None,
        NoControl,
        text_query(
            min_length=1,
            max_length=200,
            description="A class name, matched by words after normalization (case, "
            "separators, plurals); the last word may be partial. Each hit names its matches.",
        ),
    ] = None,
    license: Annotated[str | None, NoControl, text_query(max_length=64)] = None,
    min_classes: Annotated[int | None, Query(ge=0, le=_MAX_COUNT)] = None,
    max_classes: Annotated[int | None, Query(ge=0, le=_MAX_COUNT)] = None,
    min_examples: Annotated[int | None, Query(ge=0, le=_MAX_COUNT * 100)] = None,
    max_examples: Annotated[int | None, Query(ge=0, le=_MAX_COUNT * 100)] = None,
    status: Literal[DatasetStatus, "all"] = "ok",
    limit: Annotated[int, Query(ge=1, le=schemas.MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0, le=_MAX_OFFSET)] = 0,
) -> schemas.DatasetsPublic:
    """Search datasets (most downloaded first), with filters and a total."""
    page = repository.search_datasets(
        session,
        q=q,
        license=license,
        min_classes=min_classes,
        max_classes=max_classes,
        min_examples=min_examples,
        max_examples=max_examples,
        status=None if status == "all" else status,
        label=label,
        limit=limit,
        offset=offset,
    )
    return schemas.DatasetsPublic(
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        items=[views.dataset_summary(s, page.matched_labels.get(s.id, ())) for s in page.items],
    )


@router.get(
    "/{dataset_id:path}/related",
    response_model=schemas.RelatedPublic,
    responses=error_responses(404, 409, 422),
)
async def related_datasets(
    dataset_id: DatasetIdPath,
    store: MapStoreDep,
    query: Annotated[schemas.RelatedQuery, Query()],
) -> Response:
    """The k datasets most related to this one, ranked by the direction's score."""
    dataset_id = checked_dataset_id(dataset_id)
    related = await run_inline_if(
        answerable_from_memory(store, dataset_id, query.relation, query.map_id),
        partial(
            related_for_dataset,
            store,
            dataset_id=dataset_id,
            relation=query.relation,
            direction=query.direction,
            k=query.k,
            map_id=query.map_id,
        ),
    )
    return json_response(related)


@router.get(
    "/{dataset_id:path}", response_model=schemas.DatasetPublic, responses=error_responses(404, 422)
)
def get_dataset(dataset_id: DatasetIdPath, session: SessionDep) -> schemas.DatasetPublic:
    """One dataset: metadata, its first labels and its box in each published map."""
    dataset_id = checked_dataset_id(dataset_id)
    detail = repository.get_dataset(session, dataset_id=dataset_id, max_labels=DETAIL_LABELS)
    if detail is None:
        raise NotFoundError(f"no dataset {dataset_id!r}")
    boxes = repository.get_dataset_boxes(session, dataset_id=dataset_id)
    return views.dataset_public(detail, boxes)
