"""Contract tests: schemathesis fuzzes every operation of the app's own OpenAPI schema.

Every response must match what the schema documents for its operation (status code,
content type, body schema, errors included, and headers), and none may be a 5xx. The
requests run in-process (ASGI), once without a token and once with the admin token, against
a throwaway copy of the seeded atlas; the admin operations that start work meet a Hub that
refuses at once, fits of two epochs and a tiny local CLIP (never a download), so they end (or
are refused with 409) quickly.

The schema is read when this module is imported (schemathesis parametrizes the tests from
it), before the session's atlas exists; `_DeferredApp` lets the app that answers be built
later, by a fixture, over the seeded database.
"""

from __future__ import annotations

import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.main import create_app
from tests.atlas_fixtures import (
    SeededAtlas,
    hub_catalog,
    hub_overrides,
    serving_hub,
    settings_for,
)
from tests.clip_fixtures import clip_dir

TOKEN = "contract-admin-token"
# Bounded so that both runs together stay well inside CI's budget on 2 cores.
MAX_EXAMPLES = 15
# Rules no schema can state, so schema-valid input may still be a 422 there: a `direction`
# belongs to one `relation` (`contains`/`contained_in` or `to`/`from`), a rule tying two
# query parameters together; and an uploaded CSV text must parse as CSV with the right
# header. Only these operations may refuse valid-looking input; every other check, and
# this one everywhere else, runs as it comes.
_MAY_REFUSE_VALID_INPUT = ["2xx", "3xx", "401", "403", "404", "409", "422"]
_CONFIG: dict[str, Any] = {
    "seed": 16,
    "generation": {"max-examples": MAX_EXAMPLES},
    "checks": {"enabled": True},
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    "operations": [
        {
            "include-path-regex": path,
            "checks": {"positive_data_acceptance": {"expected-statuses": _MAY_REFUSE_VALID_INPUT}},
        }
        for path in ("/related$", "^/api/transfer-scores$")
    ],
}


class _DeferredApp:
    """An ASGI app that forwards HTTP to `app`, set by the fixture once the atlas exists.

    It answers lifespan events itself: the fixture runs the real app's lifespan, and
    schemathesis would otherwise start a second one.
    """

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert self.app is not None, "the contract_app fixture has not started the app"
        await self.app(scope, receive, send)


def _openapi() -> dict[str, Any]:
    """The app's OpenAPI document (it depends on no setting and no data)."""
    with tempfile.TemporaryDirectory() as tmp:
        return create_app(settings_for(Path(tmp) / "spec.db", Path(tmp))).openapi()


__all__ = ["clip_dir"]

_APP = _DeferredApp()
schema = schemathesis.openapi.from_dict(_openapi(), config=schemathesis.Config.from_dict(_CONFIG))
schema.app = _APP


@pytest.fixture(scope="module", autouse=True)
def contract_app(
    seeded_atlas: SeededAtlas, tmp_path_factory: pytest.TempPathFactory, clip_dir: Path
) -> Generator[None, None, None]:
    """The app over a throwaway copy of the seeded atlas, with quick admin jobs."""
    tmp = tmp_path_factory.mktemp("contract")
    # A crawl started by the fuzzer reads the fake Hub the atlas was seeded from: every
    # dataset is unchanged, so it ends within moments.
    with serving_hub(tmp, hub_catalog()) as hub:
        settings = seeded_atlas.copy(
            tmp / "db",
            **hub_overrides(hub),
            admin_token=TOKEN,
            train_epochs=2,
            set_epochs=2,
            transfer_epochs=2,
            first_map_epochs=2,
            # An estimate job samples no image (the fake Hub's viewer has none of these
            # datasets) and fails for want of two datasets with features.
            clip_model=str(clip_dir),
            transfer_streaming_fallback=False,
            # A body may ask for 100,000 epochs: every containment fit is refused by the
            # memory budget before it allocates, so no fit outlives its request by long.
            train_max_memory_gb=1e-6,
        )
        app = create_app(settings)
        with TestClient(app):  # the lifespan: migrations, job recovery, cache warm-up
            _APP.app = app
            yield
            _APP.app = None


@schema.parametrize()
def test_every_operation_without_a_token(case: Any) -> None:
    case.call_and_validate()


@schema.parametrize()
def test_every_operation_with_the_admin_token(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})
