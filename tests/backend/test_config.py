"""Settings validation: the admin token as configured is the token a request can send."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError

from backend.config import Settings
from backend.deps import require_admin
from backend.errors import AuthenticationError


def _bearer(token: str) -> HTTPAuthorizationCredentials:
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


def _settings(**fields: object) -> Settings:
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


@pytest.mark.parametrize("configured", ["  tok-123  ", "tok-123\n", "\ttok-123 \r\n"])
def test_configured_admin_token_is_stripped(configured: str) -> None:
    settings = _settings(admin_token=configured)
    assert settings.admin_token == "tok-123"
    # The request path end to end: the header a client sends is accepted...
    asyncio.run(require_admin(settings, _bearer("tok-123")))
    # ...and a wrong one still is not.
    with pytest.raises(AuthenticationError):
        asyncio.run(require_admin(settings, _bearer("tok-12")))


def test_admin_token_from_the_environment_is_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T2B_ADMIN_TOKEN", " from-env ")
    assert _settings().admin_token == "from-env"


@pytest.mark.parametrize("placeholder", ["", "   ", "changethis", " change-me "])
def test_placeholder_admin_tokens_are_refused(placeholder: str) -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        _settings(admin_token=placeholder)


@pytest.mark.parametrize("token", ["tok\x00en", "tok\nen", "tökén"])
def test_admin_tokens_no_header_can_carry_are_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="printable ASCII"):
        _settings(admin_token=token)


def test_unset_admin_token_stays_unset() -> None:
    assert _settings().admin_token is None
