"""Last resort for labels: `datasets.load_dataset_builder(id)`.

It reads the card, a legacy `dataset_infos.json` and the listing of data files, never the data,
so it knows the features when a repo declares them somewhere the card parser does not look, and
it lets us infer image-folder classes from directory names exactly as `datasets` would.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from backend.crawler._retry import TransientError
from backend.crawler.features import (
    ConfigFeatures,
    LabelColumn,
    features_dict_columns,
    folder_labels,
)

logger = logging.getLogger(__name__)

# `datasets` reads its endpoint from module globals set at import; we point them at our setting
# under this lock, which also keeps its module cache from being written by two threads at once.
_LOCK = threading.Lock()
_MAX_DATA_FILES = 200_000


class BuilderError(Exception):
    """`datasets` failed on this repo for a reason retrying will not fix."""


def builder_configs(
    dataset_id: str,
    *,
    endpoint: str,
    token: str | None,
    revision: str | None,
    cache_dir: Path,
    max_labels: int,
) -> tuple[ConfigFeatures, ...]:
    """The default config's label columns and split sizes as `datasets` sees them.

    Returns:
        One config (possibly without label columns), or none when `datasets` finds no loadable
        data (no data files, not found, a loading script).

    Raises:
        TransientError: network trouble, 429 or 5xx from the Hub.
        BuilderError: anything else `datasets` raised.
    """
    import datasets  # heavy (pyarrow, pandas): only when this fallback runs

    with _LOCK, _datasets_pointed_at(datasets, endpoint):
        try:
            builder = datasets.load_dataset_builder(
                dataset_id, revision=revision, token=token or False, cache_dir=str(cache_dir)
            )
        except Exception as err:
            outcome = _classify(err)
            if outcome is None:
                logger.info("builder: %s has no loadable data: %s", dataset_id, err)
                return ()
            raise outcome from err
    return (_config_of(builder, max_labels),)


def _config_of(builder: Any, max_labels: int) -> ConfigFeatures:
    info = builder.info
    splits = {
        str(name): int(split.num_examples)
        for name, split in (info.splits or {}).items()
        if isinstance(getattr(split, "num_examples", None), int)
    }
    if info.features is not None:
        columns = tuple(features_dict_columns(info.features.to_dict(), max_labels))
    elif hasattr(builder, "EXTENSIONS") and getattr(builder.config, "drop_labels", None) is None:
        columns, splits = _folder_columns(builder, max_labels) or ((), splits)
    else:
        columns = ()
    description = info.description if isinstance(info.description, str) else None
    return ConfigFeatures(builder.config.name, columns, splits, description or None)


def _folder_columns(
    builder: Any, max_labels: int
) -> tuple[tuple[LabelColumn, ...], dict[str, int]] | None:
    # An image folder's classes are its directory names; `datasets` infers them while building,
    # from the file paths alone, which `load_dataset_builder` has already listed.
    data_files = builder.config.data_files or {}
    paths = [str(p) for files in data_files.values() for p in files][:_MAX_DATA_FILES]
    labels = folder_labels(paths, builder.EXTENSIONS, _MAX_DATA_FILES)
    if not labels:
        return None
    exts = {e.lower() for e in builder.EXTENSIONS}
    splits = {
        str(split): sum(1 for p in files if Path(str(p)).suffix.lower() in exts)
        for split, files in data_files.items()
    }
    names = labels[: max_labels + 1]
    return (LabelColumn("label", names, len(labels)),), splits


@contextmanager
def _datasets_pointed_at(datasets: Any, endpoint: str) -> Iterator[None]:
    config = datasets.config
    endpoint = endpoint.rstrip("/")
    patched = {
        "HF_ENDPOINT": endpoint,
        "HUB_DATASETS_URL": endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}",
        # The parquet-export lookup goes to `datasets-server.<endpoint host>`; we already asked
        # the viewer at our own setting, and that derived host does not exist for a mirror.
        "USE_PARQUET_EXPORT": False,
    }
    saved = {name: getattr(config, name) for name in patched}
    for name, value in patched.items():
        setattr(config, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(config, name, value)


def _classify(err: Exception) -> Exception | None:
    """None when the error says "nothing loadable here"; else the error to raise."""
    message = f"builder {type(err).__name__}: {str(err)[:300]}"
    if isinstance(err, LocalEntryNotFoundError):  # a FileNotFoundError raised for lost network
        return TransientError(message)
    if isinstance(err, FileNotFoundError):  # DatasetNotFound, DataFilesNotFound, EmptyDataset
        return None
    if isinstance(err, RuntimeError) and "scripts are no longer supported" in str(err):
        return None
    if isinstance(err, HfHubHTTPError):
        status = err.response.status_code if err.response is not None else None
        if status is not None and (status == 429 or status >= 500):
            return TransientError(message)
        return BuilderError(message)
    if isinstance(err, httpx2.TransportError | ConnectionError | TimeoutError):
        return TransientError(message)
    return BuilderError(message)
