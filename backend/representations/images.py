"""A few sample images of a Hub dataset, for the `clip` representation.

First by streaming (`datasets.load_dataset(id, split=..., streaming=True).take(k)`), which
reads only the first shard rows; if that fails (script datasets, odd formats), from the
dataset viewer's `/splits` and `/first-rows`. Both need the network; callers treat an empty
result as "no images" and fall back to label text alone.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any

import httpx

log = logging.getLogger(__name__)

# A sample image larger than this is not a thumbnail we want to decode (nor a safe one).
MAX_IMAGE_BYTES = 10 * 1024 * 1024


def image_urls_from_first_rows(payload: Mapping[str, Any], k: int) -> list[str]:
    """The first `k` image URLs of the first Image column in a viewer `/first-rows` answer."""
    features = payload.get("features") or []
    column = next(
        (
            f.get("name")
            for f in features
            if isinstance(f, Mapping) and (f.get("type") or {}).get("_type") == "Image"
        ),
        None,
    )
    if column is None:
        return []
    urls: list[str] = []
    for row in payload.get("rows") or []:
        cell = (row.get("row") or {}).get(column) if isinstance(row, Mapping) else None
        src = cell.get("src") if isinstance(cell, Mapping) else None
        if isinstance(src, str) and src.startswith(("https://", "http://")):
            urls.append(src)
        if len(urls) >= k:
            break
    return urls


def _open_image(data: bytes) -> Any:
    from PIL import Image  # imported only when images are fetched

    image = Image.open(io.BytesIO(data))
    return image.convert("RGB")


def _stream_images(dataset_id: str, k: int, token: str | None) -> list[Any]:
    import datasets

    splits = datasets.get_dataset_split_names(dataset_id, token=token)
    split = "train" if "train" in splits else splits[0]
    stream = datasets.load_dataset(dataset_id, split=split, streaming=True, token=token)
    column = next(
        (name for name, f in (stream.features or {}).items() if isinstance(f, datasets.Image)),
        None,
    )
    if column is None:
        return []
    return [row[column].convert("RGB") for row in stream.take(k)]


def _viewer_images(
    dataset_id: str, k: int, *, viewer_endpoint: str, token: str | None, timeout: float
) -> list[Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=viewer_endpoint, headers=headers, timeout=timeout) as client:
        splits = client.get("/splits", params={"dataset": dataset_id})
        splits.raise_for_status()
        first = (splits.json().get("splits") or [{}])[0]
        params = {"dataset": dataset_id, "config": first["config"], "split": first["split"]}
        rows = client.get("/first-rows", params=params)
        rows.raise_for_status()
        images = []
        for url in image_urls_from_first_rows(rows.json(), k):
            response = client.get(url)
            response.raise_for_status()
            if len(response.content) <= MAX_IMAGE_BYTES:
                images.append(_open_image(response.content))
        return images


def sample_images(
    dataset_id: str,
    k: int,
    *,
    viewer_endpoint: str,
    token: str | None = None,
    timeout: float = 20.0,
) -> list[Any]:
    """Up to `k` RGB PIL images of the dataset; empty when none can be fetched."""
    if k <= 0:
        return []
    try:
        return _stream_images(dataset_id, k, token)[:k]
    except Exception as e:  # any loader failure just means "try the viewer"
        log.info("streaming %s failed (%s); trying the viewer", dataset_id, e)
    try:
        return _viewer_images(
            dataset_id, k, viewer_endpoint=viewer_endpoint, token=token, timeout=timeout
        )
    except Exception as e:
        log.warning("no sample images for %s: %s", dataset_id, e)
        return []
