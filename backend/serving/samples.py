"""A few sample images of a dataset for the side panel, read from the dataset viewer's rows.

The server reads one small page of the viewer's `/rows` and answers with image URLs and their
class names; the browser loads the images straight from the viewer's asset host, which the
page's CSP allows (and nothing else beyond this server). Only URLs on that host are passed on,
so an answer can never point the page at a third host.

Why a server round trip instead of the browser asking the viewer: the page's CSP keeps
`connect-src` to this server alone, the Hub token (when set) stays on the server, and answers
are cached here, so a popular dataset costs the viewer one request per `_TTL_S`.
Offline, or when the viewer has nothing, the answer is an empty list with a reason: the page
then shows no strip at all.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from urllib.parse import urlsplit

from backend import schemas
from backend.crawler._retry import TransientError
from backend.crawler.rows import Page, RowsError, RowsPage, fetch_rows, fetch_splits, pick_split

# Images shown per dataset; one page of rows is read to find them.
MAX_SAMPLES = 8
_ROWS_READ = 48
# An interactive request: a slow viewer gives up fast rather than hold the panel.
_TIMEOUT_S = 5.0
_TTL_S = 600.0
_FAILURE_TTL_S = 60.0
_MAX_CACHED = 512


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, or None for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def pick_samples(page: RowsPage, asset_origin: str, k: int = MAX_SAMPLES) -> list[tuple[str, str]]:
    """Up to `k` `(src, class name)` pairs from a page of rows: one class after another, so a
    page sorted by class still shows several; only images on `asset_origin`."""
    by_class: dict[int | None, list[str]] = {}
    for cell in page.rows:
        if cell.src is not None and origin_of(cell.src) == asset_origin:
            by_class.setdefault(cell.label, []).append(cell.src)
    picked: list[tuple[str, str]] = []
    while len(picked) < k and any(by_class.values()):
        for label, sources in by_class.items():
            if sources and len(picked) < k:
                name = page.label_names[label] if label is not None else ""
                picked.append((sources.pop(0), name))
    return picked


class SampleImages:
    """Sample images per dataset id, cached (answers for `_TTL_S`, failures for less)."""

    def __init__(self, viewer_endpoint: str, token: str | None, *, enabled: bool = True) -> None:
        self.asset_origin = origin_of(viewer_endpoint)
        self._viewer = viewer_endpoint
        self._token = token
        self._enabled = enabled and self.asset_origin is not None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[float, schemas.SamplesPublic]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._enabled

    def for_dataset(self, dataset_id: str) -> schemas.SamplesPublic:
        """The dataset's samples (the caller checked that it is a stored dataset)."""
        if not self._enabled or self.asset_origin is None:
            return schemas.SamplesPublic(dataset_id=dataset_id, note="sample images are off")
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(dataset_id)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(dataset_id)
                return hit[1]
        found = self._read(dataset_id)
        if isinstance(found, str):
            answer = schemas.SamplesPublic(dataset_id=dataset_id, note=found)
            expires = now + _FAILURE_TTL_S
        else:
            items = [
                schemas.SampleImagePublic(src=src, label=label)
                for src, label in pick_samples(found, self.asset_origin)
            ]
            note = None if items else "the viewer has no images for this dataset"
            answer = schemas.SamplesPublic(dataset_id=dataset_id, items=items, note=note)
            expires = now + _TTL_S
        with self._lock:
            self._cache[dataset_id] = (expires, answer)
            self._cache.move_to_end(dataset_id)
            while len(self._cache) > _MAX_CACHED:
                self._cache.popitem(last=False)
        return answer

    def _read(self, dataset_id: str) -> RowsPage | str:
        try:
            splits = fetch_splits(self._viewer, dataset_id, token=self._token, timeout_s=_TIMEOUT_S)
            split = pick_split(splits.splits) if splits.kind == "found" else None
            if split is None:
                return "the viewer has no rows for this dataset"
            page = fetch_rows(
                self._viewer,
                dataset_id,
                split,
                Page(0, _ROWS_READ),
                token=self._token,
                timeout_s=_TIMEOUT_S,
            )
        except (TransientError, RowsError):
            return "the dataset viewer could not be reached"
        return page if page is not None else "the viewer has no rows for this dataset"
