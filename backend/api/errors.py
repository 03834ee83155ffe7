"""The one mapping from errors to HTTP: every error body is `{"error": code, "detail": msg}`.

Domain errors (`backend.errors`) carry their code; their status is chosen here, by class.
FastAPI's request validation errors become 422 `invalid_request` with a readable detail that
never echoes the (possibly huge) input; routing errors keep their status; anything unexpected
is a logged 500 whose body says nothing about the internals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "the server failed to answer; see its log")


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers above on `app`."""
    app.add_exception_handler(AtlasError, _atlas_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
