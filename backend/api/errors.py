"""The one mapping from errors to HTTP: every error body is `{"error": code, "detail": msg}`.

Domain errors (`backend.errors`) carry their code; their status is chosen here, by class.
FastAPI's request validation errors become 422 `invalid_request` with a readable detail that
never echoes the (possibly huge) input; routing errors keep their status; anything unexpected
is a logged 500 whose body says nothing about the internals.

A request body that cannot be read as JSON is a 422 `invalid_request` whatever the reason:
malformed JSON (FastAPI's own choice, a validation error at `body`), bytes that are not
UTF-8, or nesting too deep for the parser (which FastAPI would answer with a bare 400). For
a client each is the same fault, "the body is not the JSON document this operation takes",
so it gets one status and one body; 400 is then left to the HTTP server's own refusals of
requests that are not HTTP at all (see the README's API section).

`error_responses` documents these bodies in the OpenAPI schema, per operation, in place of
FastAPI's default 422 schema (whose `detail` is a list; ours is a string).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from backend.errors import (
    AtlasError,
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    RepresentationUnavailable,
    StorageError,
)
from backend.schemas import ErrorPublic

log = logging.getLogger(__name__)

# Most specific first is not needed: the lookup walks each error's MRO.
STATUS_BY_ERROR: Mapping[type[AtlasError], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    InvalidStateError: 409,
    InvalidInputError: 422,
    AuthenticationError: 401,
    ForbiddenError: 403,
    RepresentationUnavailable: 503,
    # A full disk or a read-only database: the server is up, its storage is not.
    StorageError: 503,
}
_CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_request",
}
_MAX_VALIDATION_ERRORS = 5

# What each documented error status means; `error_responses` puts them in the schema.
_ERROR_DESCRIPTIONS: Mapping[int, str] = {
    401: "The admin token is missing or wrong (`Authorization: Bearer <T2B_ADMIN_TOKEN>`).",
    403: "The endpoint is off: no admin token is configured on this server.",
    404: "The dataset, map or job does not exist, or no map is published yet.",
    409: "The request clashes with the current state: a job of that kind is running, or "
    "the map is of another relation or kind, or not readable (failed, training).",
    413: "The request body is over the server's limit (`T2B_MAX_BODY_BYTES`).",
    422: "A parameter or the body is invalid (the body is not JSON, not UTF-8, or does not "
    "match the schema); `detail` names what and why.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting the error body for each of `statuses`.

    Routes list the statuses they can answer (not every status on every route), so a
    generated client learns what each operation may fail with.
    """
    return {
        status: {"model": ErrorPublic, "description": _ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }


def status_for(error: AtlasError) -> int:
    """The HTTP status of a domain error (500 for an unmapped one)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_response(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON error body every failure uses."""
    return JSONResponse(
        {"error": code, "detail": detail}, status_code=status, headers=dict(headers or {})
    )


def _validation_detail(errors: Sequence[Any]) -> str:
    parts = []
    for error in errors[:_MAX_VALIDATION_ERRORS]:
        if error.get("type") == "json_invalid":
            # FastAPI puts the character offset where a field name would be ("1: JSON
            # decode error"); say what is wrong and where instead.
            loc = error.get("loc", ())
            where = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
            reason = (error.get("ctx") or {}).get("error", "")
            parts.append(f"body: not valid JSON{where}" + (f": {reason}" if reason else ""))
            continue
        loc = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {error.get('msg', 'invalid')}")
    more = len(errors) - _MAX_VALIDATION_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


async def _atlas_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AtlasError)
    status = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, StorageError):
        # Its full text names the database's path: the operator reads that in the log; a
        # client learns only the cause.
        log.error("storage fault on %s %s: %s", request.method, request.url.path, exc)
        return error_response(status, exc.code, exc.reason, headers)
    return error_response(status, exc.code, str(exc), headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "invalid_request", _validation_detail(exc.errors()))


def _unreadable_body_detail(cause: BaseException) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return f"body: not valid UTF-8 (byte 0x{cause.object[cause.start]:02x} at {cause.start})"
    if isinstance(cause, RecursionError):
        return "body: not valid JSON: nested too deeply"
    return "body: not valid JSON"


@lru_cache(maxsize=8)
def _route_methods(app: FastAPI) -> tuple[tuple[re.Pattern[str], frozenset[str]], ...]:
    """Each route's path regex and methods, flattened over included routers (built once)."""
    found = []
    for context in iter_route_contexts(app.router.routes):
        methods = getattr(context.original_route, "methods", None)
        if context.path and methods:
            regex, _format, _convertors = compile_path(context.path)
            found.append((regex, frozenset(methods)))
    return tuple(found)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path: Starlette's 405 lists only the first
    route's, so `/api/transfer-scores` would say `Allow: POST` although GET works too."""
    path = request.url.path
    return sorted({m for regex, ms in _route_methods(request.app) if regex.match(path) for m in ms})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    cause = exc.__cause__
    if exc.status_code == 400 and isinstance(cause, ValueError | RecursionError):
        # FastAPI's "There was an error parsing the body": invalid UTF-8 or JSON that the
        # parser gave up on. Answered as malformed JSON is (see the module docstring).
        return error_response(422, "invalid_request", _unreadable_body_detail(cause))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request)) or headers.get("Allow", "")
    code = _CODE_BY_STATUS.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "the server failed to answer; see its log")


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers above on `app`."""
    app.add_exception_handler(AtlasError, _atlas_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
