"""`public_reason`: what a public job or map list may show of a failure."""

from __future__ import annotations

import errno

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from backend.errors import (
    MAX_PUBLIC_REASON_CHARS,
    ConflictError,
    TrainFailed,
    public_reason,
)
from models.errors import TrainingError


def test_a_database_error_keeps_its_reason_and_loses_its_sql() -> None:
    engine = create_engine("sqlite://")
    with pytest.raises(OperationalError) as info, engine.connect() as connection:
        connection.execute(text("SELECT secret FROM nowhere WHERE token = :t"), {"t": "abc"})
    engine.dispose()
    assert "[SQL:" in str(info.value)
    reason = public_reason(info.value)
    assert reason == "database error (OperationalError): no such table: nowhere"


def test_project_errors_keep_their_message() -> None:
    assert public_reason(ConflictError("a train job is already running")) == (
        "a train job is already running"
    )
    assert public_reason(TrainingError("loss became nan")) == "TrainingError: loss became nan"


def test_os_errors_keep_their_reason_but_not_their_path() -> None:
    error = OSError(errno.ENOSPC, "No space left on device", "/srv/private/atlas.db")
    assert public_reason(error) == "OSError: No space left on device"


def test_other_errors_show_only_their_type() -> None:
    reason = public_reason(KeyError("/home/me/.cache/token"))
    assert reason == "internal error (KeyError); see the server log"


def test_reasons_are_one_bounded_line() -> None:
    reason = public_reason(TrainFailed("x" * 5000 + "\nsecond line"))
    assert "\n" not in reason and len(reason) == MAX_PUBLIC_REASON_CHARS
    assert public_reason(TrainFailed("")) == "training_failed"
