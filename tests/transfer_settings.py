"""Settings for the Hub transfer job in tests: offline, on the CPU, small and quick."""

from __future__ import annotations

import json
from typing import Any

# With the tiny CLIP's folder as `clip_model`: no download, no streaming fallback, a few
# images per class and a short transfer fit of one 2-D map.
OFFLINE_TRANSFER: dict[str, Any] = {
    "crawl_builder_fallback": False,
    "device": "cpu",
    "transfer_images_per_class": 4,
    "transfer_streaming_fallback": False,
    "transfer_epochs": 20,
    "map_dims": [2],
}


def as_env(settings: dict[str, Any]) -> dict[str, str]:
    """The same settings as `T2B_*` environment variables, for the CLI."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        return json.dumps(value) if isinstance(value, list) else str(value)

    return {f"T2B_{name.upper()}": text(value) for name, value in settings.items()}
