"""Responses serialized once by pydantic (Rust), skipping FastAPI's second validation pass.

Routes that return these still declare `response_model`, so the OpenAPI docs are unchanged.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """`model` as an `application/json` response."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
