"""The `/api/maps/{id}/boxes` body: built once per map state, served as cached bytes.

At 10k boxes the JSON is ~1 MB and pydantic validation plus gzip of it would cost tens of
milliseconds per request, so the body, its gzip form (compressed once, level 6) and a strong
ETag are computed once and reused. Corners are rounded to 1e-5 of the map's extent: far below
a pixel at any zoom the page allows, and it roughly halves the payload.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from backend.db import repository
from backend.serving.map_store import LoadedMap
from backend.serving.views import map_public

# Corners are kept to a resolution of at most 10^-5 of the map's extent.
_RELATIVE_DIGITS = 5
_GZIP_LEVEL = 6
_MAX_PAYLOADS = 8


@dataclass(frozen=True)
class BoxesPayload:
    """A ready-to-send body: identity bytes, gzip bytes and the ETag of the identity bytes."""

    body: bytes
    gzipped: bytes
    etag: str


def corner_decimals(lo: np.ndarray, hi: np.ndarray) -> int:
    """The fewest decimals whose resolution is at most 10^-5 of the map's extent."""
    if lo.size == 0:
        return 4
    extent = float(np.max(hi) - np.min(lo))
    if not math.isfinite(extent) or extent <= 0:
        return 6
    return int(min(12, max(0, math.ceil(_RELATIVE_DIGITS - math.log10(extent) - 1e-9))))


def _rounded(array: np.ndarray, decimals: int) -> list[list[float]]:
    rows: list[list[float]] = np.round(array, decimals).tolist()
    return rows


def build_payload(record: repository.MapRecord, loaded: LoadedMap) -> BoxesPayload:
    """The `MapBoxesPublic` JSON of a map, gzipped and tagged."""
    licenses = sorted({lic for lic in loaded.licenses if lic is not None})
    position = {lic: i for i, lic in enumerate(licenses)}
    lo, hi = loaded.boxes.lo, loaded.boxes.hi
    decimals = corner_decimals(lo, hi)
    document = {
        "map": map_public(record).model_dump(mode="json"),
        "ids": list(loaded.ids),
        "lo": _rounded(lo, decimals),
        "hi": _rounded(hi, decimals),
        "num_labels": loaded.num_labels.tolist(),
        "num_examples": [None if n < 0 else n for n in loaded.num_examples.tolist()],
        "downloads": loaded.downloads.tolist(),
        "license": [None if lic is None else position[lic] for lic in loaded.licenses],
        "licenses": licenses,
        "measured": loaded.measured.tolist(),
    }
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    raw = body.encode("utf-8")
    # mtime=0: the same map always gzips to the same bytes.
    gzipped = gzip.compress(raw, compresslevel=_GZIP_LEVEL, mtime=0)
    etag = '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
    return BoxesPayload(body=raw, gzipped=gzipped, etag=etag)


class PayloadCache:
    """Payloads keyed by map id and the metadata they embed (status changes on publish)."""

    def __init__(self, max_items: int = _MAX_PAYLOADS) -> None:
        self._max = max_items
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[object, ...], BoxesPayload] = OrderedDict()

    def cached(self, record: repository.MapRecord) -> BoxesPayload | None:
        """The payload of this map state if it is built already."""
        with self._lock:
            return self._items.get(self._key(record))

    @staticmethod
    def _key(record: repository.MapRecord) -> tuple[object, ...]:
        return (record.id, record.status, record.published_at, record.error)

    def get(self, record: repository.MapRecord, loaded: LoadedMap) -> BoxesPayload:
        """The cached payload of this map state, built on first use."""
        key = self._key(record)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        payload = build_payload(record, loaded)  # two threads may both build; both are equal
        with self._lock:
            self._items[key] = payload
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return payload


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match header against our strong ETag."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = (tag.strip() for tag in if_none_match.split(","))
    return any(tag.removeprefix("W/") == etag for tag in candidates)
