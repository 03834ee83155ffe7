"""The lazy listing of image-classification datasets, as raw Hub JSON items.

`HfApi.list_datasets` does the paging (`Link: <...>; rel="next"`) and retries each page on
429/5xx itself. It also turns each item into a `DatasetInfo` inside its generator, and that step
trusts the item: a card whose YAML has a key `ignore_metadata_errors` makes it raise TypeError,
which ends the library's generator for good. A crawler that stopped at the same dataset on every
run would never get past it, so on such an error we go on with a raw reader of the same pages
(public helpers only) that skips what was already yielded and leaves the item to our own
tolerant parser.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
from huggingface_hub import HfApi, get_session, hf_raise_for_status
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.hf_api import DatasetInfo, ExpandDatasetProperty_T
from huggingface_hub.repocard_data import CardData

# Public in `huggingface_hub.utils` (listed in its lazy-export table), which mypy cannot see.
from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

from backend.crawler._http import retry_after_seconds
from backend.crawler._retry import RetryPolicy, TransientError, call_with_retries
from backend.errors import CrawlError

logger = logging.getLogger(__name__)

TASK = "image-classification"
EXPAND: list[ExpandDatasetProperty_T] = [
    "cardData",
    "downloads",
    "likes",
    "tags",
    "gated",
    "disabled",
    "lastModified",
    "sha",
    "siblings",
]
# One listing page of 1,000 items with full cards is a few MB; this stops a runaway body.
MAX_PAGE_BYTES = 64 * 1024 * 1024


def raw_from_info(info: DatasetInfo) -> dict[str, Any]:
    """The Hub JSON item back from the library's `DatasetInfo` (only the fields we expand)."""
    card: Any = info.card_data
    if isinstance(card, CardData):
        card = card.to_dict()  # type: ignore[no-untyped-call]
    siblings = None
    if info.siblings is not None:
        siblings = [{"rfilename": s.rfilename} for s in info.siblings]
    return {
        "id": info.id,
        "sha": info.sha,
        "lastModified": info.last_modified.isoformat() if info.last_modified else None,
        "downloads": info.downloads,
        "likes": info.likes,
        "tags": info.tags,
        "gated": info.gated,
        "disabled": info.disabled,
        "siblings": siblings,
        "cardData": card if isinstance(card, dict) else None,
    }


def iter_listing(
    api: HfApi,
    *,
    limit: int | None,
    policy: RetryPolicy,
    rng: random.Random,
    sleep: Callable[[float], None],
    timeout_s: float,
) -> Iterator[dict[str, Any]]:
    """Raw items, most downloaded first, fetched page by page as the caller iterates.

    Raises:
        CrawlError: a page failed after its retries (an error status, a timeout, a body that
            is malformed every time), or the Hub refused the request.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    seen: set[str] = set()
    try:
        listed = api.list_datasets(
            task_categories=TASK, sort="downloads", expand=EXPAND, limit=limit
        )
        for info in listed:
            raw = raw_from_info(info)
            seen.add(str(raw["id"]))
            yield raw
        return
    except (HfHubHTTPError, httpx2.HTTPError) as err:
        raise CrawlError(f"Hub listing failed after {len(seen)} datasets: {err}") from err
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        logger.warning(
            "huggingface_hub could not read the listing after %d datasets (%s: %s); "
            "going on with the raw reader",
            len(seen),
            type(err).__name__,
            str(err)[:200],
        )
    remaining = None if limit is None else limit - len(seen)
    pages = _raw_items(api, limit=limit, policy=policy, rng=rng, sleep=sleep, timeout_s=timeout_s)
    yielded = len(seen)
    try:
        for raw in pages:
            if remaining is not None and remaining <= 0:
                return
            if str(raw.get("id")) in seen:
                continue
            if remaining is not None:
                remaining -= 1
            yielded += 1
            yield raw
    except TransientError as err:
        # Out of retries: a page broken every time (malformed, 5xx) ends the listing as any
        # other listing failure does, so the crawl keeps its committed batches and says why.
        raise CrawlError(
            f"Hub listing failed after {yielded} datasets: {err} "
            f"(gave up after {policy.max_retries} retries)"
        ) from err


def _raw_items(
    api: HfApi,
    *,
    limit: int | None,
    policy: RetryPolicy,
    rng: random.Random,
    sleep: Callable[[float], None],
    timeout_s: float,
) -> Iterator[dict[str, Any]]:
    # The same request `list_datasets` makes, read as plain JSON.
    params: list[tuple[str, str | int]] = [
        ("filter", f"task_categories:{TASK}"),
        ("sort", "downloads"),
        *(("expand", e) for e in EXPAND),
    ]
    if limit is not None:
        params.append(("limit", limit))
    headers = build_hf_headers(token=api.token if api.token is not None else False)
    url: str | None = f"{api.endpoint}/api/datasets"
    first = True
    while url is not None:
        page_url, page_params = url, (params if first else None)

        def fetch(u: str = page_url, p: Any = page_params) -> tuple[Any, str | None]:
            return _get_page(u, p, headers, timeout_s)

        items, url = call_with_retries(
            fetch, policy=policy, rng=rng, sleep=sleep, what=f"listing page {page_url}"
        )
        first = False
        for item in items:
            if isinstance(item, dict):
                yield item


def _get_page(
    url: str, params: Any, headers: dict[str, str], timeout_s: float
) -> tuple[list[Any], str | None]:
    try:
        with get_session().stream(
            "GET", url, params=params, headers=headers, timeout=timeout_s
        ) as response:
            if response.status_code == 429 or response.status_code >= 500:
                raise TransientError(
                    f"listing HTTP {response.status_code}",
                    retry_after=retry_after_seconds(response.headers),
                )
            if response.status_code >= 400:
                response.read()
                try:
                    hf_raise_for_status(response)
                except HfHubHTTPError as err:
                    raise CrawlError(f"Hub listing refused: {err}") from err
                raise CrawlError(f"Hub listing refused: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_PAGE_BYTES:
                    raise CrawlError(f"listing page exceeds {MAX_PAGE_BYTES} bytes: {url}")
            next_url = response.links.get("next", {}).get("url")
    except (httpx2.TransportError, httpx2.DecodingError) as err:
        raise TransientError(f"listing {type(err).__name__}: {err}") from err
    try:
        items = json.loads(bytes(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TransientError(f"listing page is malformed JSON ({str(err)[:120]})") from err
    if not isinstance(items, list):
        raise CrawlError(f"listing page is not a JSON list but {type(items).__name__}")
    return items, next_url
