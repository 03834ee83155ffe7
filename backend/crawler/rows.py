"""The dataset viewer's `/splits` and `/rows`: which split to read, its rows, and where to read.

Calls go through huggingface_hub's shared client (`get_session()`), so the rate-limit gate and
timeouts of `_http` apply; bodies are bounded. The parsing and the page plan are pure
functions, tested without a server.

`/rows?dataset=&config=&split=&offset=&length=` answers
`{"features": [{"name", "type": {"_type": "Image" | "ClassLabel", "names": [...]}}],
"rows": [{"row_idx", "row": {column: cell}}], "num_rows_total": N}`; an image cell is
`{"src": url, "height", "width"}` and a ClassLabel cell the label id (-1 or null when absent).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx2
from huggingface_hub import get_session

from backend.crawler._http import read_bounded, retry_after_seconds
from backend.crawler._retry import TransientError
from backend.records import MAX_LABEL_CHARS

# The viewer refuses `length` above 100.
MAX_ROWS_PER_PAGE = 100
# A page of 100 rows is a few tens of KB (image cells are URLs); this stops a runaway body.
MAX_ROWS_BYTES = 4 * 1024 * 1024
# More class names than this in one ClassLabel is not a dataset we can sample per class.
MAX_CLASS_NAMES = 100_000
_MAX_URL_CHARS = 4096


class RowsError(Exception):
    """A viewer answer we cannot use and that retrying will not fix (oversized, not JSON)."""


@dataclass(frozen=True)
class Split:
    """One (config, split) the viewer lists for a dataset."""

    config: str
    split: str


@dataclass(frozen=True)
class SplitsAnswer:
    """`found`: the splits listed; `gated` (401/403) or `not_found` (404, which the viewer
    also answers for private datasets and for gated ones asked without access); `unavailable`:
    any other refusal (the viewer failed on this dataset)."""

    kind: Literal["found", "gated", "not_found", "unavailable"]
    splits: tuple[Split, ...] = ()


@dataclass(frozen=True)
class RowCell:
    """One row's label id (None when absent or invalid) and image URL (None when absent)."""

    row_idx: int
    label: int | None
    src: str | None


@dataclass(frozen=True)
class RowsPage:
    """One `/rows` answer, parsed. `label_names` is empty when there is no ClassLabel."""

    image_column: str | None
    label_column: str | None
    label_names: tuple[str, ...]
    rows: tuple[RowCell, ...]
    num_rows_total: int


@dataclass(frozen=True)
class Page:
    """Rows `[offset, offset + length)` of a split."""

    offset: int
    length: int


def pick_split(splits: Sequence[Split]) -> Split | None:
    """The split to sample: `train` of the `default` config, else the first `train`, else the
    first split listed (some datasets only publish `test`)."""
    trains = [s for s in splits if s.split == "train"]
    default = [s for s in trains if s.config == "default"]
    candidates = default or trains or list(splits)
    return candidates[0] if candidates else None


def parse_splits(data: Any) -> tuple[Split, ...]:
    """The `(config, split)` pairs of a `/splits` answer; malformed entries are dropped."""
    entries = data.get("splits") if isinstance(data, Mapping) else None
    out: list[Split] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping):
            continue
        config, split = entry.get("config"), entry.get("split")
        if isinstance(config, str) and isinstance(split, str) and config and split:
            out.append(Split(config[:MAX_LABEL_CHARS], split[:MAX_LABEL_CHARS]))
    return tuple(out)


def parse_rows(data: Any, *, label_column: str | None = None) -> RowsPage:
    """A `/rows` answer as a `RowsPage`.

    Args:
        data: the decoded JSON body.
        label_column: the ClassLabel column to prefer (the one the crawl read labels from);
            the first ClassLabel column otherwise.

    Raises:
        RowsError: the body is not an object or has no `rows` list.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("rows"), list):
        raise RowsError("viewer /rows answer is not an object with a `rows` list")
    raw_features = data.get("features")
    features: list[Any] = raw_features if isinstance(raw_features, list) else []
    images: list[str] = []
    labels: dict[str, tuple[str, ...]] = {}
    for feature in features:
        if not isinstance(feature, Mapping) or not isinstance(feature.get("name"), str):
            continue
        kind = feature.get("type")
        kind = kind if isinstance(kind, Mapping) else {}
        if kind.get("_type") == "Image":
            images.append(feature["name"])
        elif kind.get("_type") == "ClassLabel" and isinstance(kind.get("names"), list):
            names = kind["names"][:MAX_CLASS_NAMES]
            labels[feature["name"]] = tuple(str(n)[:MAX_LABEL_CHARS] for n in names)
    image_column = images[0] if images else None
    label_col = label_column if label_column in labels else next(iter(labels), None)
    names = labels.get(label_col, ()) if label_col is not None else ()
    rows = tuple(
        _cell(i, row, image_column, label_col, len(names)) for i, row in enumerate(data["rows"])
    )
    total = data.get("num_rows_total")
    num_rows = total if isinstance(total, int) and not isinstance(total, bool) else len(rows)
    return RowsPage(image_column, label_col, names, rows, max(num_rows, 0))


def _cell(
    position: int, row: Any, image_column: str | None, label_column: str | None, n_names: int
) -> RowCell:
    row_idx = row.get("row_idx") if isinstance(row, Mapping) else None
    values = row.get("row") if isinstance(row, Mapping) else None
    values = values if isinstance(values, Mapping) else {}
    label = values.get(label_column) if label_column is not None else None
    valid_label = isinstance(label, int) and not isinstance(label, bool) and 0 <= label < n_names
    image = values.get(image_column) if image_column is not None else None
    src = image.get("src") if isinstance(image, Mapping) else None
    valid_src = (
        isinstance(src, str)
        and src.startswith(("https://", "http://"))
        and len(src) <= _MAX_URL_CHARS
    )
    return RowCell(
        row_idx if isinstance(row_idx, int) and not isinstance(row_idx, bool) else position,
        label if valid_label else None,
        src if valid_src else None,
    )


def plan_pages(
    num_rows: int, *, max_pages: int, page_rows: int = MAX_ROWS_PER_PAGE
) -> tuple[Page, ...]:
    """Pages spread evenly over a split, in the order to read them.

    At most `max_pages` pages of at most `page_rows` rows, none overlapping, all inside
    `[0, num_rows)`. The first is offset 0 (it also tells the split's size); the rest are
    visited in bit-reversed order (middle, then quarters, then eighths...), so a reader that
    stops early, its quotas filled, has still seen the whole split and not only its start:
    many datasets store their rows sorted by class.

    Raises:
        ValueError: `max_pages` < 1 or `page_rows` outside `1..MAX_ROWS_PER_PAGE`.
    """
    if max_pages < 1:
        raise ValueError(f"max_pages must be >= 1, got {max_pages}")
    if not 1 <= page_rows <= MAX_ROWS_PER_PAGE:
        raise ValueError(f"page_rows must be in 1..{MAX_ROWS_PER_PAGE}, got {page_rows}")
    if num_rows <= 0:
        return ()
    n = min(max_pages, math.ceil(num_rows / page_rows))
    if n * page_rows >= num_rows:  # few rows: the pages tile the split
        offsets = [i * page_rows for i in range(n)]
    elif n == 1:
        offsets = [0]
    else:
        # Spacing (num_rows - page_rows) / (n - 1) >= page_rows because n * page_rows <
        # num_rows, so the pages never overlap; the last one ends at the split's end.
        offsets = [round(i * (num_rows - page_rows) / (n - 1)) for i in range(n)]
    pages = [Page(o, min(page_rows, num_rows - o)) for o in offsets]
    return tuple(pages[i] for i in _bit_reversed(n))


def _bit_reversed(n: int) -> list[int]:
    bits = max(1, (n - 1).bit_length())
    order = [int(format(i, f"0{bits}b")[::-1], 2) for i in range(1 << bits)]
    return [i for i in order if i < n]


def fetch_splits(
    viewer: str, dataset_id: str, *, token: str | None, timeout_s: float
) -> SplitsAnswer:
    """One `/splits` call.

    Raises:
        TransientError: 429, 5xx, a network error or malformed JSON.
        RowsError: an oversized body.
    """
    status, data = _get_json(viewer, "/splits", {"dataset": dataset_id}, token, timeout_s)
    if status in (401, 403):
        return SplitsAnswer("gated")
    if status == 404:
        return SplitsAnswer("not_found")
    if status >= 400:
        return SplitsAnswer("unavailable")
    return SplitsAnswer("found", parse_splits(data))


def fetch_rows(
    viewer: str,
    dataset_id: str,
    split: Split,
    page: Page,
    *,
    token: str | None,
    timeout_s: float,
    label_column: str | None = None,
) -> RowsPage | None:
    """One `/rows` call; None when the viewer refuses it (4xx: no rows for this split).

    Raises:
        TransientError: 429, 5xx, a network error or malformed JSON.
        RowsError: an oversized body, or JSON of another shape.
    """
    if not 1 <= page.length <= MAX_ROWS_PER_PAGE or page.offset < 0:
        raise ValueError(f"bad page {page}: length must be in 1..{MAX_ROWS_PER_PAGE}")
    params = {
        "dataset": dataset_id,
        "config": split.config,
        "split": split.split,
        "offset": str(page.offset),
        "length": str(page.length),
    }
    status, data = _get_json(viewer, "/rows", params, token, timeout_s)
    if status >= 400:
        return None
    return parse_rows(data, label_column=label_column)


def _get_json(
    viewer: str, path: str, params: dict[str, str], token: str | None, timeout_s: float
) -> tuple[int, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    url = f"{viewer.rstrip('/')}{path}"
    try:
        with get_session().stream(
            "GET", url, params=params, headers=headers, timeout=timeout_s
        ) as response:
            status = response.status_code
            if status == 429 or status >= 500:
                raise TransientError(
                    f"viewer {path} HTTP {status}",
                    retry_after=retry_after_seconds(response.headers),
                )
            if status >= 400:
                return status, None
            body = read_bounded(response, MAX_ROWS_BYTES, f"viewer {path}", RowsError)
    except (httpx2.TransportError, httpx2.DecodingError) as err:
        raise TransientError(f"viewer {path} {type(err).__name__}: {err}") from err
    try:
        return status, json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TransientError(f"viewer {path} sent malformed JSON ({str(err)[:120]})") from err
