"""Fast lanes for the hottest requests: a warm `GET /api/datasets/{id}/related`, and a warm
`POST /api/place` of a label list.

Why: on a 2-core host, FastAPI's per-request machinery (route matching over every route,
dependency solving, query validation, the thread-pool hop of a sync route) cost about as much
CPU as the ranking itself, and under concurrent clients that CPU is latency. Each pure-ASGI
lane answers only requests that are unambiguously well-formed and answerable from memory, and
hands *everything else* to the FastAPI route unchanged: unusual or repeated parameters,
anything invalid, cold maps or embeddings, unknown datasets and every error. The FastAPI
routes stay the documented (OpenAPI) and reference implementations; each lane calls the same
function as its route, and differential tests check that the lanes' answers are
byte-identical to the routes'.
"""

from __future__ import annotations

import json
import re
from typing import Final
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import schemas
from backend.api.ids import checked_dataset_id
from backend.errors import AtlasError
from backend.serving.map_store import MapStore
from backend.serving.place import Placer
from backend.serving.related import answerable_from_memory, related_for_dataset
from backend.vocab import DIRECTIONS, RELATIONS

_PREFIX: Final = "/api/datasets/"
_SUFFIX: Final = "/related"
_RELATIONS: Final[frozenset[str]] = frozenset(RELATIONS)
_DIRECTIONS: Final[frozenset[str]] = frozenset(DIRECTIONS)
# Only canonical decimal integers: anything FastAPI might read differently ("010", "+1",
# " 1", "1e1") goes to the route.
_K: Final = re.compile(r"[1-9][0-9]{0,2}")
_MAP_ID: Final = re.compile(r"[1-9][0-9]{0,17}")
_MAX_QUERY_BYTES: Final = 512
_PLACE_PATH: Final = "/api/place"
_JSON: Final = b"application/json"


def parse_related_query(query: bytes) -> schemas.RelatedQuery | None:
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
    # Only canonical integers here; the model then applies the route's own rules.
    if "k" in params and not _K.fullmatch(params["k"]):
        return None
    if "map" in params and not _MAP_ID.fullmatch(params["map"]):
        return None
    try:
        return schemas.RelatedQuery.model_validate(params)
    except ValidationError:
        return None


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
        await _send_json(send, body)

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


async def _send_json(send: Send, body: bytes) -> None:
    """A 200 with the headers `backend.api.responses.json_response` gives."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", _JSON),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class PlaceFastLane:
    """Answers warm `POST /api/place` requests of a label list in the event loop (what
    `Placer.place_from_memory` answers: a millisecond of CPU, no I/O); replays the body to
    the route for everything else."""

    def __init__(self, app: ASGIApp, placer: Placer) -> None:
        self.app = app
        self.placer = placer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != _PLACE_PATH
            or scope.get("root_path")
            or [v for k, v in scope["headers"] if k == b"content-type"] != [_JSON]
        ):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        answer = None
        if messages[-1]["type"] == "http.request":
            answer = self._answer(b"".join(m.get("body", b"") for m in messages))
        if answer is not None:
            await _send_json(send, answer)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def _answer(self, body: bytes) -> bytes | None:
        # Read as the route reads it: `json.loads`, then the model validated from the result.
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deep
            return None
        if not isinstance(data, dict):
            return None
        try:
            request = schemas.PlaceRequest.model_validate(data)
        except ValidationError:
            return None
        try:
            placed = self.placer.place_from_memory(request)
        except AtlasError:  # the route gives the error its documented shape
            return None
        return None if placed is None else placed.model_dump_json().encode()
