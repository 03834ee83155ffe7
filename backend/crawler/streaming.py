"""The fallback sampler: rows of a dataset by `datasets` streaming, when the viewer has none.

Streaming reads the data files from their start, so the rows are shuffled within a bounded
buffer; images are read undecoded (their bytes) and go through the same bounded decoding as
the viewer's. `datasets` is pointed at our Hub endpoint as the builder fallback does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.crawler.builder import _LOCK, _datasets_pointed_at
from backend.records import MAX_LABEL_CHARS, ImageSkipReason

_SHUFFLE_BUFFER = 1000


class StreamingUnusable(Exception):
    """Streaming works but the rows cannot be sampled: `reason` says why."""

    def __init__(self, reason: ImageSkipReason) -> None:
        super().__init__(reason)
        self.reason = reason


def stream_rows(
    dataset_id: str,
    *,
    endpoint: str,
    token: str | None,
    cache_dir: Path | None,
    max_rows: int,
    take: Callable[[int, bytes | None], bool],
    on_names: Callable[[tuple[str, ...]], None],
) -> tuple[str, ...]:
    """Streams at most `max_rows` rows of the train split (else the first split) into `take`.

    `on_names(class names)` is called once the features are known, then `take(label, image
    bytes or None)` for each row; it returns False to stop early. Returns the class names.

    Raises:
        StreamingUnusable: no Image column (`no_image_column`) or no ClassLabel
            (`no_label_column`).
        Exception: whatever `datasets` raises when it cannot stream the dataset.
    """
    import datasets  # heavy (pyarrow, pandas): only when this fallback runs

    kwargs: dict[str, Any] = {"token": token or False}
    if cache_dir is not None:
        kwargs["cache_dir"] = str(cache_dir)
    with _LOCK, _datasets_pointed_at(datasets, endpoint):
        splits = datasets.get_dataset_split_names(dataset_id, **kwargs)
        split = "train" if "train" in splits else splits[0]
        stream = datasets.load_dataset(dataset_id, split=split, streaming=True, **kwargs)
        features = stream.features or {}
        image = next((n for n, f in features.items() if isinstance(f, datasets.Image)), None)
        label = next((n for n, f in features.items() if isinstance(f, datasets.ClassLabel)), None)
        if image is None:
            raise StreamingUnusable("no_image_column")
        if label is None:
            raise StreamingUnusable("no_label_column")
        names = tuple(str(n)[:MAX_LABEL_CHARS] for n in features[label].names)
        on_names(names)
        stream = stream.cast_column(image, datasets.Image(decode=False))
        rows = stream.shuffle(seed=0, buffer_size=_SHUFFLE_BUFFER).take(max_rows)
        for row in rows:
            value, cell = row.get(label), row.get(image)
            if not isinstance(value, int) or not 0 <= value < len(names):
                continue
            data = cell.get("bytes") if isinstance(cell, dict) else None
            if not take(value, data if isinstance(data, bytes) else None):
                break
    return names
