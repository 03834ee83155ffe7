"""Pure functions from raw Hub JSON (one `/api/datasets` item) to a `DatasetRecord`.

No I/O: the client fetches, these functions decide. A raw item is the JSON the Hub returns with
`expand=[cardData, downloads, likes, tags, gated, disabled, lastModified, sha, siblings]`;
every field is optional and untrusted, so each reader checks types and bounds sizes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from backend.crawler.features import LabelChoice, card_configs, choose_labels, clean_text
from backend.records import MAX_DESCRIPTION_CHARS, MAX_ID_CHARS, DatasetRecord, SkipReason

# Hub repo ids: `name` (legacy canonical) or `owner/name`, letters, digits, `-`, `_`, `.`.
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9_.\-]+)?$")
_MAX_TAGS = 100
_MAX_TAG_CHARS = 200
_MAX_LICENSE_CHARS = 100
_MAX_COUNT = 10**12
_MAX_SHA_CHARS = 64
_MAX_SIBLINGS_SCANNED = 100_000


def valid_id(value: Any) -> str | None:
    """The dataset id if it is a well-formed Hub id within `MAX_ID_CHARS`, else None."""
    if not isinstance(value, str) or len(value) > MAX_ID_CHARS or ".." in value:
        return None
    return value if _ID_RE.match(value) else None


def listing_skip_reason(raw: Mapping[str, Any]) -> SkipReason | None:
    """Why a dataset is skipped before any label lookup: disabled, gated or a loading script."""
    if raw.get("disabled") is True:
        return "disabled"
    if raw.get("gated") not in (None, False, "false", "False"):
        return "gated"
    if has_loading_script(raw.get("siblings")):
        return "script"
    return None


def has_loading_script(siblings: Any) -> bool:
    """True when the repo has a `*.py` at its root: a `datasets` loading script.

    A `.py` in a subfolder (a conversion helper, say) does not make `datasets` run code, so it
    does not count.
    """
    if not isinstance(siblings, list):
        return False
    for sibling in siblings[:_MAX_SIBLINGS_SCANNED]:
        name = sibling.get("rfilename") if isinstance(sibling, Mapping) else None
        if isinstance(name, str) and name.endswith(".py") and "/" not in name:
            return True
    return False


def card_label_choice(raw: Mapping[str, Any], max_labels: int) -> LabelChoice | None:
    """The label column the card's `dataset_info` declares, if any."""
    return choose_labels(card_configs(raw.get("cardData"), max_labels))


def build_record(
    raw: Mapping[str, Any],
    *,
    labels: LabelChoice | None,
    max_labels: int,
    skip_reason: SkipReason | None = None,
) -> DatasetRecord:
    """The record for a listed dataset once its labels are known (or known to be missing).

    Args:
        raw: the `/api/datasets` item; its `id` must already be valid (see `valid_id`).
        labels: the chosen label column, from the card, the viewer or the builder.
        max_labels: datasets with more classes are skipped as `too_many_labels`.
        skip_reason: a reason found before labels were looked up (gated, disabled, script).

    Returns:
        An `ok` record with labels, or a `skipped` one with its reason and metadata.
    """
    dataset_id = valid_id(raw.get("id"))
    if dataset_id is None:
        raise ValueError(f"invalid dataset id: {str(raw.get('id'))[:MAX_ID_CHARS]!r}")
    card = raw.get("cardData") if isinstance(raw.get("cardData"), Mapping) else {}
    assert isinstance(card, Mapping)
    if skip_reason is None and labels is None:
        skip_reason = "no_labels"
    elif skip_reason is None and labels is not None and labels.column.count > max_labels:
        skip_reason = "too_many_labels"
    keep_labels = labels is not None and skip_reason is None
    splits = labels.splits if labels is not None else {}
    description = (labels.description if labels is not None else None) or _text(
        card.get("description"), MAX_DESCRIPTION_CHARS
    )
    return DatasetRecord(
        id=dataset_id,
        status="ok" if skip_reason is None else "skipped",
        skip_reason=skip_reason,
        author=dataset_id.split("/")[0] if "/" in dataset_id else None,
        sha=_sha(raw.get("sha")),
        last_modified=parse_datetime(raw.get("lastModified")),
        downloads=_count(raw.get("downloads")),
        likes=_count(raw.get("likes")),
        license=license_of(card, raw.get("tags")),
        tags=_tags(raw.get("tags")),
        labels=labels.column.names if keep_labels and labels is not None else (),
        label_column=labels.column.name if keep_labels and labels is not None else None,
        splits=dict(splits),
        num_examples=sum(splits.values()) if splits else None,
        pretty_name=_text(card.get("pretty_name"), MAX_ID_CHARS),
        description=description,
        source="hub",
    )


def failed_record(raw: Mapping[str, Any], error: str) -> DatasetRecord:
    """A `failed` record: metadata kept, `sha` left unset so the next crawl tries again."""
    dataset_id = valid_id(raw.get("id"))
    if dataset_id is None:
        raise ValueError(f"invalid dataset id: {str(raw.get('id'))[:MAX_ID_CHARS]!r}")
    return DatasetRecord(
        id=dataset_id,
        status="failed",
        error=clean_text(error, MAX_DESCRIPTION_CHARS),
        author=dataset_id.split("/")[0] if "/" in dataset_id else None,
        sha=None,
        last_modified=parse_datetime(raw.get("lastModified")),
        downloads=_count(raw.get("downloads")),
        likes=_count(raw.get("likes")),
        tags=_tags(raw.get("tags")),
        source="hub",
    )


def popularity(raw: Mapping[str, Any]) -> tuple[int, int]:
    """(downloads, likes) of a listed dataset, bounded non-negative integers."""
    return _count(raw.get("downloads")), _count(raw.get("likes"))


def listed_sha(raw: Mapping[str, Any]) -> str | None:
    """The commit sha the listing reports, if well-formed."""
    return _sha(raw.get("sha"))


def license_of(card: Mapping[str, Any], tags: Any) -> str | None:
    """The card's license (first of a list), else a `license:` tag."""
    value = card.get("license")
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if isinstance(value, str) and value.strip():
        return clean_text(value, _MAX_LICENSE_CHARS)
    for tag in _tags(tags):
        if tag.startswith("license:") and len(tag) > len("license:"):
            return tag[len("license:") :][:_MAX_LICENSE_CHARS]
    return None


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from the Hub's ISO 8601 (`2023-05-01T12:00:00.000Z`) or a datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(min(max(value, 0), _MAX_COUNT))


def _sha(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= _MAX_SHA_CHARS and value.isalnum():
        return value
    return None


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    tags = (clean_text(t, _MAX_TAG_CHARS) for t in value[:_MAX_TAGS] if isinstance(t, str))
    return tuple(t for t in tags if t)


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    text = clean_text(value, limit)
    return text or None
