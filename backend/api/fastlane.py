"""A fast lane for the hottest request, a warm `GET /api/datasets/{id}/related`.

Why: on a 2-core host, FastAPI's per-request machinery (route matching over every route,
dependency solving, query validation) cost about as much CPU as the ranking itself, and under
32 concurrent clients that CPU is latency. This pure-ASGI lane answers only requests that are
unambiguously well-formed and answerable from the in-memory map, and hands *everything else*
to the FastAPI route unchanged: unusual or repeated parameters, anything invalid, cold maps,
unknown datasets and every error. The FastAPI route stays the documented (OpenAPI) and
reference implementation; both call the same `related_for_dataset`, and a differential test
checks that the lane's answers are byte-identical to the route's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from backend import schemas
from backend.api.ids import checked_dataset_id
from backend.errors import AtlasError
from backend.serving.map_store import MapStore
from backend.serving.related import answerable_from_memory, related_for_dataset

_PREFIX: Final = "/api/datasets/"
_SUFFIX: Final = "/related"
_RELATIONS: Final = frozenset({"containment", "transfer"})
_DIRECTIONS: Final = frozenset({"contained_in", "contains", "to", "from"})
# Only canonical decimal integers: anything FastAPI might read differently ("010", "+1",
# " 1", "1e1") goes to the route.
_K: Final = re.compile(r"[1-9][0-9]{0,2}")
_MAP_ID: Final = re.compile(r"[1-9][0-9]{0,17}")
_MAX_QUERY_BYTES: Final = 512


@dataclass(frozen=True, slots=True)
class RelatedQuery:
    """The `/related` query parameters, as the route would read them."""

    relation: str = "containment"
    direction: str | None = None
    k: int = 10
    map_id: int | None = None


def parse_related_query(query: bytes) -> RelatedQuery | None:
    """`relation`, `direction`, `k` and `map` from a query string, or None when the lane
    should not answer: an unknown or repeated key, an invalid value, or an odd encoding."""
    if len(query) > _MAX_QUERY_BYTES:
        return None
    try:
        pairs = parse_qsl(query.decode("ascii"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            return None
        params[key] = value
    if not params.keys() <= {"relation", "direction", "k", "map"}:
        return None
    relation = params.get("relation", "containment")
    direction = params.get("direction")
    k = params.get("k", "10")
    map_id = params.get("map")
    if relation not in _RELATIONS or (direction is not None and direction not in _DIRECTIONS):
        return None
    if not _K.fullmatch(k) or int(k) > schemas.MAX_K:
        return None
    if map_id is not None and not _MAP_ID.fullmatch(map_id):
        return None
    return RelatedQuery(relation, direction, int(k), int(map_id) if map_id is not None else None)


class RelatedFastLane:
    """Answers warm, well-formed `/related` GETs in the event loop; passes the rest on."""

    def __init__(self, app: ASGIApp, store: MapStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self._answer(scope) if scope["type"] == "http" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _answer(self, scope: Scope) -> bytes | None:
        path: str = scope["path"]
        if (
            scope["method"] != "GET"
            or scope.get("root_path")
            or not path.startswith(_PREFIX)
            or not path.endswith(_SUFFIX)
        ):
            return None
        query = parse_related_query(scope.get("query_string", b""))
        if query is None:
            return None
        try:
            dataset_id = checked_dataset_id(path[len(_PREFIX) : -len(_SUFFIX)])
            if not answerable_from_memory(self.store, dataset_id, query.relation, query.map_id):
                return None
            related = related_for_dataset(
                self.store,
                dataset_id=dataset_id,
                relation=query.relation,
                direction=query.direction,
                k=query.k,
                map_id=query.map_id,
            )
        except AtlasError:  # the route gives the error its documented shape
            return None
        return related.model_dump_json().encode()
