"""The fake viewer's `/splits`, `/rows` and image assets, and datasets that exercise them.

Images are tiny PNGs, one colour per class (with one pixel that varies by row, so no two rows
share their bytes), so CLIP features differ by class. Chosen rows are broken on purpose:
truncated bytes, a text body, a PNG header declaring a huge image, or a 404.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from tests.fakehub_catalog import FakeDataset, card_info, sha_of

if TYPE_CHECKING:
    from tests.fakehub import FakeHub

Answer = tuple[int, Any, dict[str, str]]
Broken = Literal["truncated", "not_image", "huge", "gone"]
_NOT_FOUND = {"error": "The dataset does not exist, or is not accessible without authentication."}
_PALETTE = (
    (230, 25, 75),
    (60, 180, 75),
    (0, 130, 200),
    (255, 225, 25),
    (145, 30, 180),
    (70, 240, 240),
)


@dataclass
class FakeRows:
    """A dataset's rows in the fake viewer.

    `label_names` None: no ClassLabel column; `image` False: no Image column. Rows are sorted
    by class (`sorted_by_class`) or cycle through the classes. `gated` answers 401,
    `rows_status` answers every `/rows` call with that status. `salt` changes every image's
    bytes (another revision of the same dataset).
    """

    num_rows: int
    label_names: Sequence[str] | None
    image: bool = True
    sorted_by_class: bool = True
    broken: dict[int, Broken] = field(default_factory=dict)
    gated: bool = False
    rows_status: int | None = None
    config: str = "default"
    split: str = "train"
    salt: str = ""

    def label_of(self, row: int) -> int:
        n = len(self.label_names or ())
        return row * n // self.num_rows if self.sorted_by_class else row % n


def png(color: tuple[int, int, int], row: int, salt: str = "", size: int = 8) -> bytes:
    """A `size`×`size` PNG of one colour, its first pixels varied by `row` and `salt`."""
    from PIL import Image

    image = Image.new("RGB", (size, size), color)
    image.putpixel((0, 0), (row % 256, (row // 256) % 256, 7))
    crc = zlib.crc32(salt.encode())
    image.putpixel((1, 0), (crc % 256, (crc >> 8) % 256, (crc >> 16) % 256))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def huge_png_header(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG signature and IHDR declaring `width`×`height`, with no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


def image_bytes(dataset_id: str, rows: FakeRows, row: int) -> bytes | None:
    """The asset of `row`, unique to the dataset and row; None for a 404."""
    label = rows.label_of(row) if rows.label_names else 0
    data = png(_PALETTE[label % len(_PALETTE)], row, dataset_id + rows.salt)
    kind = rows.broken.get(row)
    if kind == "truncated":
        return data[: len(data) // 2]
    if kind == "not_image":
        return b"<html>an error page, not an image</html>"
    if kind == "huge":
        return huge_png_header()
    if kind == "gone":
        return None
    return data


def route_rows(hub: FakeHub, path: str, query: dict[str, list[str]], base: str) -> Answer | None:
    """The answer to a viewer rows request, or None when `path` is not one of them."""
    if path not in ("/viewer/splits", "/viewer/rows", "/viewer/assets/image.png"):
        return None
    dataset_id = (query.get("dataset") or [""])[0]
    d = hub.datasets.get(dataset_id)
    rows = d.viewer_rows if d is not None else None
    if rows is None:
        return 404, _NOT_FOUND, {"X-Error-Code": "DatasetNotFoundError"}
    if rows.gated:
        return 401, {"error": "gated"}, {"X-Error-Code": "ExternalAuthenticatedError"}
    if path == "/viewer/splits":
        split = {"dataset": dataset_id, "config": rows.config, "split": rows.split}
        return 200, {"splits": [split], "pending": [], "failed": []}, {}
    if path == "/viewer/assets/image.png":
        data = image_bytes(dataset_id, rows, int((query.get("row") or ["0"])[0]))
        if data is None:
            return 404, {"error": "gone"}, {}
        return 200, data, {"Content-Type": "image/png"}
    return _rows(dataset_id, rows, query, base)


def _rows(dataset_id: str, rows: FakeRows, query: dict[str, list[str]], base: str) -> Answer:
    if rows.rows_status is not None:
        return rows.rows_status, {"error": "injected"}, {}
    try:
        offset = int((query.get("offset") or ["0"])[0])
        length = int((query.get("length") or ["100"])[0])
    except ValueError:
        return 422, {"error": "offset and length must be integers"}, {}
    if offset < 0 or not 0 < length <= 100:
        return 422, {"error": "Parameter 'length' must be positive and at most 100"}, {}
    if (query.get("config") or [""])[0] != rows.config or (query.get("split") or [""])[0] != (
        rows.split
    ):
        return 404, {"error": "Not found."}, {}
    features: list[dict[str, Any]] = []
    if rows.image:
        features.append({"feature_idx": 0, "name": "image", "type": {"_type": "Image"}})
    if rows.label_names is not None:
        kind = {"names": list(rows.label_names), "_type": "ClassLabel"}
        features.append({"feature_idx": len(features), "name": "label", "type": kind})
    out = []
    for i in range(offset, min(offset + length, rows.num_rows)):
        cell: dict[str, Any] = {}
        if rows.image:
            src = f"{base}/viewer/assets/image.png?{urlencode({'dataset': dataset_id, 'row': i})}"
            cell["image"] = {"src": src, "height": 8, "width": 8}
        if rows.label_names is not None:
            cell["label"] = rows.label_of(i)
        out.append({"row_idx": i, "row": cell, "truncated_cells": []})
    body = {
        "features": features,
        "rows": out,
        "num_rows_total": rows.num_rows,
        "num_rows_per_page": 100,
        "partial": False,
    }
    return 200, body, {}


def rows_dataset(
    dataset_id: str, downloads: int, rows: FakeRows | None, labels: Sequence[str]
) -> FakeDataset:
    card = {"license": "mit", "dataset_info": card_info({"label": labels}, {"train": 100})}
    return FakeDataset(
        id=dataset_id,
        sha=sha_of(dataset_id),
        card_data=card,
        downloads=downloads,
        viewer_rows=rows,
    )


COLORS = ("red", "green", "blue")
SHAPES = ("circle", "square", "triangle", "star")


def rows_catalog() -> list[FakeDataset]:
    """Datasets for the image-features job, most downloaded first:

    - `rows/colors`: 3 classes, 60 rows sorted by class, four broken images in class 0 and 1;
    - `rows/shapes`: 4 classes over 1000 rows cycling through them (several pages);
    - `rows/no-labels`, `rows/no-images`: a column missing from the rows;
    - `rows/gated` (401), `rows/missing` (404), `rows/down` (/rows always 500);
    - `rows/tiny`: one image per class.
    """
    broken: dict[int, Broken] = {0: "truncated", 1: "not_image", 2: "huge", 21: "gone"}
    return [
        rows_dataset("rows/colors", 900, FakeRows(60, COLORS, broken=broken), COLORS),
        rows_dataset("rows/shapes", 800, FakeRows(1000, SHAPES, sorted_by_class=False), SHAPES),
        rows_dataset("rows/no-labels", 700, FakeRows(30, None), COLORS),
        rows_dataset("rows/no-images", 600, FakeRows(30, COLORS, image=False), COLORS),
        rows_dataset("rows/gated", 500, FakeRows(30, COLORS, gated=True), COLORS),
        rows_dataset("rows/missing", 400, None, COLORS),
        rows_dataset("rows/down", 300, FakeRows(30, COLORS, rows_status=500), COLORS),
        rows_dataset("rows/tiny", 200, FakeRows(3, COLORS), COLORS),
    ]


def colour_datasets(n: int, rows: int = 30) -> list[FakeDataset]:
    """`n` healthy datasets of 3 colour classes, `colours/set-0` the most downloaded."""
    return [
        rows_dataset(f"colours/set-{i}", 10_000 - i, FakeRows(rows, COLORS), COLORS)
        for i in range(n)
    ]


def mixed_colour_datasets(n: int, rows: int = 30) -> list[FakeDataset]:
    """`n` healthy datasets of 2 or 3 colour classes (alternating, so that transfer between
    them is asymmetric), `colours/set-0` the most downloaded."""
    return [
        rows_dataset(f"colours/set-{i}", 1000 - i, FakeRows(rows, COLORS[: 2 + i % 2]), COLORS)
        for i in range(n)
    ]
