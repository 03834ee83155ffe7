"""The dataset viewer's `GET /info?dataset=ID`: ClassLabel features computed from the data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import httpx2
from huggingface_hub import get_session

from backend.crawler._http import read_bounded, retry_after_seconds
from backend.crawler._retry import TransientError
from backend.crawler.features import ConfigFeatures, viewer_configs

# ImageNet-1k's /info is ~60 KB; 8 MiB leaves room for 20k-class sets and stops a runaway body.
MAX_VIEWER_BYTES = 8 * 1024 * 1024


class ViewerError(Exception):
    """A viewer answer we cannot use and that retrying will not fix (oversized, not an object)."""


@dataclass(frozen=True)
class ViewerAnswer:
    """`found`: features came back; `missing`: the viewer has nothing for this dataset."""

    kind: Literal["found", "missing"]
    configs: tuple[ConfigFeatures, ...] = ()
    complete: bool = False


def fetch_info(
    viewer: str, dataset_id: str, *, token: str | None, timeout_s: float, max_labels: int
) -> ViewerAnswer:
    """One `/info` call.

    Returns:
        `found` with the configs read, `complete` when the viewer reports nothing pending,
        failed or partial (so a missing ClassLabel is a real absence); `missing` for 4xx.

    Raises:
        TransientError: 429, 5xx, a timeout, a network error or a malformed/truncated body.
        ViewerError: a body over `MAX_VIEWER_BYTES` or JSON that is not an object.
    """
    headers = {"authorization": f"Bearer {token}"} if token else {}
    url = f"{viewer.rstrip('/')}/info"
    try:
        with get_session().stream(
            "GET", url, params={"dataset": dataset_id}, headers=headers, timeout=timeout_s
        ) as response:
            status = response.status_code
            if status == 429 or status >= 500:
                raise TransientError(
                    f"viewer HTTP {status}", retry_after=retry_after_seconds(response.headers)
                )
            if status >= 400:
                return ViewerAnswer("missing")
            body = read_bounded(response, MAX_VIEWER_BYTES, "viewer /info", ViewerError)
    except (httpx2.TransportError, httpx2.DecodingError) as err:  # timeouts, resets, refusals
        raise TransientError(f"viewer {type(err).__name__}: {err}") from err
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TransientError(f"viewer sent malformed JSON ({str(err)[:120]})") from err
    if not isinstance(data, dict):
        raise ViewerError(f"viewer /info is not a JSON object but {type(data).__name__}")
    configs = tuple(viewer_configs(data.get("dataset_info"), max_labels))
    complete = data.get("partial") is False and not data.get("pending") and not data.get("failed")
    return ViewerAnswer("found", configs, complete)
