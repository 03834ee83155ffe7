"""Pure readers of ClassLabel columns from the three shapes the Hub describes features in.

- Card YAML (`cardData.dataset_info`): one config (a dict) or several (a list); `features` is a
  list of `{"name": ..., "dtype": {"class_label": {"names": ...}}}`, with `sequence:`/`list:`
  instead of `dtype:` for multi-label columns. `names` is a list or a dict `{"0": "cat", ...}`.
- Viewer `/info` and `datasets.Features.to_dict()`: `{"label": {"_type": "ClassLabel",
  "names": [...]}}`, with `{"_type": "Sequence"|"List", "feature": ...}` (or a one-item list)
  for multi-label columns.
- Image folders: class names are the parent directories of the image files.

Everything here is untrusted input, so every function tolerates any JSON value and bounds what it
keeps: at most `max_labels + 1` names are read (one more than the cap, to tell "too many").
"""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.records import MAX_DESCRIPTION_CHARS, MAX_LABEL_CHARS

# Columns are ranked by name first: the Hub convention is `label`, AutoTrain's is `target`.
_PREFERRED_COLUMNS = ("label", "labels")
_MAX_COLUMNS = 200
_MAX_SPLITS = 50
_MAX_SPLIT_NAME_CHARS = 100
_MAX_EXAMPLES = 10**12


@dataclass(frozen=True)
class LabelColumn:
    """One ClassLabel column. `count` is the true number of classes, `names` at most cap+1."""

    name: str
    names: tuple[str, ...]
    count: int
    multi_label: bool = False


@dataclass(frozen=True)
class ConfigFeatures:
    """The label columns, split sizes and description of one dataset config."""

    config: str | None
    columns: tuple[LabelColumn, ...]
    splits: dict[str, int] = field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True)
class LabelChoice:
    """The label column picked for a dataset, with the sizes of its config."""

    config: str | None
    column: LabelColumn
    splits: dict[str, int]
    description: str | None


def clean_text(value: Any, limit: int) -> str:
    """`str(value)` without control characters or surrounding space, cut to `limit` characters."""
    text = value if isinstance(value, str) else str(value)
    text = text[: limit * 4]  # bound the work before cleaning
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text[:limit]


def class_label_names(spec: Any, max_labels: int) -> tuple[tuple[str, ...], int] | None:
    """Names of a ClassLabel spec (`{"names": [...]}` or `{"names": {"0": ...}}` or
    `{"num_classes": n}`), as (first `max_labels + 1` names, true count); None if not one."""
    if not isinstance(spec, Mapping):
        return None
    names = spec.get("names")
    keep = max_labels + 1
    if isinstance(names, list):
        if not names or not all(isinstance(n, str | int | float) for n in names[:keep]):
            return None
        return _cleaned(names[:keep]), len(names)
    if isinstance(names, Mapping):
        return _names_from_mapping(names, keep) if names else None
    num = spec.get("num_classes")
    if isinstance(num, int) and not isinstance(num, bool) and num > 0:
        # datasets names such labels "0".."n-1" (MNIST-style digit classes).
        return tuple(str(i) for i in range(min(num, keep))), num
    return None


def _names_from_mapping(names: Mapping[Any, Any], keep: int) -> tuple[tuple[str, ...], int] | None:
    # YAML `names: {'0': cat, '1': dog}`: label ids as keys. Order by id; when keys are not
    # integers, keep the card's order (YAML mappings keep it through JSON).
    items = list(names.items())
    if not all(isinstance(v, str | int | float) for _, v in items[:keep]):
        return None
    with contextlib.suppress(TypeError, ValueError):
        items.sort(key=lambda kv: int(kv[0]))
    return _cleaned([v for _, v in items[:keep]]), len(items)


def _cleaned(names: list[Any]) -> tuple[str, ...]:
    # A blank name (a card bug) becomes its label id, as `ClassLabel(num_classes=n)` names them.
    return tuple(clean_text(n, MAX_LABEL_CHARS) or str(i) for i, n in enumerate(names))


def card_configs(card_data: Any, max_labels: int) -> list[ConfigFeatures]:
    """Configs described by a card's `dataset_info` (dict for one config, list for several)."""
    if not isinstance(card_data, Mapping):
        return []
    info = card_data.get("dataset_info")
    entries = info if isinstance(info, list) else [info]
    configs = []
    for entry in entries[:_MAX_COLUMNS]:
        if not isinstance(entry, Mapping):
            continue
        columns = tuple(_card_columns(entry.get("features"), max_labels))
        configs.append(
            ConfigFeatures(
                config=_config_name(entry.get("config_name")),
                columns=columns,
                splits=_splits(entry.get("splits")),
                description=_description(entry.get("description")),
            )
        )
    return configs


def _card_columns(features: Any, max_labels: int) -> Iterable[LabelColumn]:
    if isinstance(features, Mapping):  # rare dict form {name: {dtype: ...}}
        features = [{"name": k, **v} for k, v in features.items() if isinstance(v, Mapping)]
    if not isinstance(features, list):
        return
    for feature in features[:_MAX_COLUMNS]:
        if not isinstance(feature, Mapping) or not isinstance(feature.get("name"), str):
            continue
        for key, multi in (("dtype", False), ("sequence", True), ("list", True)):
            dtype = feature.get(key)
            if isinstance(dtype, Mapping) and "class_label" in dtype:
                found = class_label_names(dtype["class_label"], max_labels)
                if found is not None:
                    names, count = found
                    name = clean_text(feature["name"], MAX_LABEL_CHARS)
                    yield LabelColumn(name, names, count, multi)
                break


def viewer_configs(dataset_info: Any, max_labels: int) -> list[ConfigFeatures]:
    """Configs of a viewer `/info` `dataset_info` (a map config → info, or one info object)."""
    if not isinstance(dataset_info, Mapping):
        return []
    if "features" in dataset_info:  # `/info?config=...` answers one config object directly
        return [_viewer_config(dataset_info, None, max_labels)]
    return [
        _viewer_config(info, _config_name(name), max_labels)
        for name, info in list(dataset_info.items())[:_MAX_COLUMNS]
        if isinstance(info, Mapping)
    ]


def _viewer_config(info: Mapping[str, Any], name: str | None, max_labels: int) -> ConfigFeatures:
    return ConfigFeatures(
        config=name or _config_name(info.get("config_name")),
        columns=tuple(features_dict_columns(info.get("features"), max_labels)),
        splits=_splits(info.get("splits")),
        description=_description(info.get("description")),
    )


def features_dict_columns(features: Any, max_labels: int) -> Iterable[LabelColumn]:
    """ClassLabel columns of a `datasets.Features.to_dict()`-shaped mapping."""
    if not isinstance(features, Mapping):
        return
    for name, spec in list(features.items())[:_MAX_COLUMNS]:
        multi = False
        if isinstance(spec, list) and len(spec) == 1:  # legacy Sequence encoding
            spec, multi = spec[0], True
        elif isinstance(spec, Mapping) and spec.get("_type") in {"Sequence", "List"}:
            spec, multi = spec.get("feature"), True
        if isinstance(spec, Mapping) and spec.get("_type") == "ClassLabel":
            found = class_label_names(spec, max_labels)
            if found is not None:
                names, count = found
                yield LabelColumn(clean_text(name, MAX_LABEL_CHARS), names, count, multi)


def folder_labels(
    paths: Iterable[str], extensions: Iterable[str], max_files: int
) -> tuple[str, ...]:
    """Class names an image folder yields: the parent directory of each image file.

    Mirrors `datasets`' FolderBasedBuilder: labels are inferred only when there is more than one
    directory, every image sits at the same depth and no metadata file is present.
    """
    exts = {e.lower() for e in extensions}
    labels: set[str] = set()
    depths: set[int] = set()
    for i, path in enumerate(paths):
        if i >= max_files:
            break
        base = posixpath.basename(path)
        if base in {"metadata.csv", "metadata.jsonl", "metadata.parquet"}:
            return ()
        if posixpath.splitext(path)[1].lower() in exts:
            labels.add(posixpath.basename(posixpath.dirname(path)))
            depths.add(path.count("/"))
    if len(labels) > 1 and len(depths) == 1:
        return tuple(clean_text(n, MAX_LABEL_CHARS) for n in sorted(labels))
    return ()


def choose_labels(configs: Iterable[ConfigFeatures]) -> LabelChoice | None:
    """The label column to use: config `default` first, else the first config with labels;
    within it the column named `label`, then `labels`, then the one with the most classes."""
    with_labels = [c for c in configs if c.columns]
    if not with_labels:
        return None
    config = next((c for c in with_labels if c.config == "default"), with_labels[0])

    def rank(col: LabelColumn) -> tuple[int, int]:
        named = _PREFERRED_COLUMNS.index(col.name) if col.name in _PREFERRED_COLUMNS else 2
        return named, -col.count

    column = min(config.columns, key=rank)
    return LabelChoice(config.config, column, config.splits, config.description)


def _config_name(value: Any) -> str | None:
    return clean_text(value, _MAX_SPLIT_NAME_CHARS) if isinstance(value, str) and value else None


def _description(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return clean_text(value, MAX_DESCRIPTION_CHARS) or None


def _splits(value: Any) -> dict[str, int]:
    """`{split: num_examples}` from a card's list of splits or the viewer's map of splits."""
    entries: list[Mapping[str, Any]]
    if isinstance(value, Mapping):
        entries = [{"name": k, **v} for k, v in value.items() if isinstance(v, Mapping)]
    elif isinstance(value, list):
        entries = [e for e in value if isinstance(e, Mapping)]
    else:
        return {}
    sizes: dict[str, int] = {}
    for entry in entries[:_MAX_SPLITS]:
        name, n = entry.get("name"), entry.get("num_examples")
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        if isinstance(n, bool) or not isinstance(n, int) or not isinstance(name, str):
            continue
        if 0 <= n <= _MAX_EXAMPLES:
            sizes[clean_text(name, _MAX_SPLIT_NAME_CHARS)] = n
    return sizes
