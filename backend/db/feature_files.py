"""The files that hold sampled-image features, one per dataset and feature model.

An uncompressed `.npz` (a zip of `.npy` members): `features` float16 `(n, d)`, `labels` int64
`(n,)` and `class_names` (unicode, label-id order). It is written to a temporary file in its
directory and moved into place with `os.replace`, and its name carries a hash of its content, so
a file that an index row names is complete and never rewritten; a run killed before the index
row is committed leaves at most an unindexed file, overwritten by the same content next time.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FEATURES_DIR = "transfer-features"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FeatureFileError(Exception):
    """A features file is missing, outside the data directory, or not what its index says."""


def _slug(text: str, keep: int) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{_UNSAFE.sub('_', text).strip('._')[:keep]}-{digest}"


def write_features(
    data_dir: Path,
    *,
    feature_model: str,
    dataset_id: str,
    features: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
) -> str:
    """Writes one dataset's features atomically; returns the path relative to `data_dir`.

    Raises:
        ValueError: `features` not a finite `(n, d)` array, `labels` not `n` ids into
            `class_names`.
    """
    feats = np.asarray(features, dtype=np.float32)
    ids = np.asarray(labels)
    if feats.ndim != 2 or feats.shape[0] == 0 or feats.shape[1] == 0:
        raise ValueError(f"features must be a non-empty (n, d) array, got shape {feats.shape}")
    if not np.isfinite(feats).all():
        raise ValueError(f"features of {dataset_id!r} hold non-finite values")
    if ids.shape != (feats.shape[0],) or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"labels must be {feats.shape[0]} integer ids, got {ids.shape} {ids.dtype}"
        )
    if ids.min() < 0 or ids.max() >= len(class_names):
        raise ValueError(
            f"label ids must be in 0..{len(class_names) - 1}, got {ids.min()}..{ids.max()}"
        )
    arrays: dict[str, np.ndarray] = {
        "features": feats.astype(np.float16),
        "labels": ids.astype(np.int64),
        "class_names": np.array(list(class_names), dtype=str),
    }
    digest = hashlib.sha256()
    for name in ("features", "labels", "class_names"):
        digest.update(arrays[name].tobytes())
    relative = (
        Path(FEATURES_DIR)
        / _slug(feature_model, 60)
        / f"{_slug(dataset_id, 80)}-{digest.hexdigest()[:16]}.npz"
    )
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(
                handle,
                features=arrays["features"],
                labels=arrays["labels"],
                class_names=arrays["class_names"],
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return relative.as_posix()


def remove_partial_files(data_dir: Path) -> int:
    """Deletes temporary files left by a writer that was killed; returns how many.

    Call it only when no writer runs (the job does, before it starts writing).
    """
    root = data_dir / FEATURES_DIR
    removed = 0
    for path in root.glob("*/.tmp-*.npz") if root.is_dir() else ():
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def remove_features_file(data_dir: Path, relative: str) -> bool:
    """Deletes a features file no index row reads any more; returns whether one was there.

    Call it after the commit that superseded the file: a crash in between leaves an unread
    file, never a row without its file.

    Raises:
        FeatureFileError: the path leaves `data_dir`.
    """
    root = data_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise FeatureFileError(f"features path {relative!r} is outside {root}")
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def read_features(data_dir: Path, relative: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """`(features float32 (n, d), labels int64 (n,), class names)` of one file.

    Raises:
        FeatureFileError: the path leaves `data_dir`, the file is missing or malformed.
    """
    root = data_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise FeatureFileError(f"features path {relative!r} is outside {root}")
    try:
        with np.load(path, allow_pickle=False) as data:
            feats = np.asarray(data["features"], dtype=np.float32)
            labels = np.asarray(data["labels"], dtype=np.int64)
            names = tuple(str(n) for n in data["class_names"])
    except (OSError, KeyError, ValueError) as err:
        raise FeatureFileError(f"cannot read features file {relative!r}: {err}") from err
    if feats.ndim != 2 or labels.shape != (feats.shape[0],):
        raise FeatureFileError(f"features file {relative!r} holds mismatched arrays")
    return feats, labels, names
