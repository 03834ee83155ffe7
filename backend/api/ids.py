"""Validation of dataset ids taken from URL paths (the routes' path converter accepts any)."""

from __future__ import annotations

import re

from backend.errors import InvalidInputError
from backend.schemas import DATASET_ID_PATTERN, MAX_DATASET_ID_CHARS

_ID = re.compile(DATASET_ID_PATTERN)


def checked_dataset_id(dataset_id: str) -> str:
    """`dataset_id` if it is a well-formed Hub id (`name` or `owner/name`).

    Raises:
        InvalidInputError: otherwise (422), before any database work.
    """
    parts = dataset_id.split("/")
    if (
        len(dataset_id) > MAX_DATASET_ID_CHARS
        or not _ID.fullmatch(dataset_id)
        or any(p in (".", "..") for p in parts)
    ):
        raise InvalidInputError(
            f"not a dataset id: {dataset_id[:80]!r}; expected 'name' or 'owner/name'"
        )
    return dataset_id
