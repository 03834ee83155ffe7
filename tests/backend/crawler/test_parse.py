from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.crawler.features import LabelChoice, LabelColumn
from backend.crawler.parse import (
    build_record,
    card_label_choice,
    failed_record,
    has_loading_script,
    license_of,
    listing_skip_reason,
    parse_datetime,
    valid_id,
)
from backend.records import MAX_DESCRIPTION_CHARS, MAX_ID_CHARS, MAX_LABEL_CHARS
from tests.fakehub_catalog import FIXTURES


def fixture(dataset_id: str) -> dict[str, Any]:
    items = json.loads((FIXTURES / "hub_datasets.json").read_text(encoding="utf-8"))
    return next(i for i in items if i["id"] == dataset_id)


def record_of(raw: dict[str, Any], max_labels: int = 5000) -> Any:
    return build_record(
        raw,
        labels=card_label_choice(raw, max_labels),
        max_labels=max_labels,
        skip_reason=listing_skip_reason(raw),
    )


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("ylecun/mnist", True),
        ("beans", True),
        ("a.b-c_d/E.f-9", True),
        ("", False),
        ("a/b/c", False),
        ("../etc", False),
        ("a/..", False),
        ("a b/c", False),
        ("<script>/x", False),
        ("x" * (MAX_ID_CHARS + 1), False),
        (42, False),
    ],
)
def test_valid_id(value: Any, ok: bool) -> None:
    assert (valid_id(value) is not None) is ok


class TestSkipReasons:
    def test_disabled_gated_and_script(self) -> None:
        assert listing_skip_reason({"disabled": True, "gated": "auto"}) == "disabled"
        assert listing_skip_reason({"gated": "manual"}) == "gated"
        assert listing_skip_reason({"gated": True}) == "gated"
        assert (
            listing_skip_reason({"gated": False, "siblings": [{"rfilename": "x.py"}]}) == "script"
        )
        assert listing_skip_reason({"gated": False, "disabled": False}) is None

    def test_only_a_root_python_file_is_a_loading_script(self) -> None:
        assert has_loading_script([{"rfilename": "README.md"}, {"rfilename": "beans.py"}])
        assert not has_loading_script([{"rfilename": "scripts/convert.py"}])
        assert not has_loading_script([{"rfilename": "notes.pyc"}, "junk", None])
        assert not has_loading_script(None)


class TestBuildRecord:
    def test_cifar10_card(self) -> None:
        r = record_of(fixture("uoft-cs/cifar10"))
        assert r.status == "ok" and r.skip_reason is None
        assert r.labels[:3] == ("airplane", "automobile", "bird") and len(r.labels) == 10
        assert r.label_column == "label"
        assert r.splits == {"train": 50000, "test": 10000} and r.num_examples == 60000
        assert r.author == "uoft-cs" and r.license == "unknown" and r.pretty_name == "CIFAR-10"
        assert r.last_modified == datetime(2024, 1, 15, 10, tzinfo=UTC)
        assert r.downloads == 90000 and r.likes == 80

    def test_cifar100_takes_the_fine_labels(self) -> None:
        r = record_of(fixture("uoft-cs/cifar100"))
        assert r.label_column == "fine_label" and len(r.labels) == 100 and r.labels[-1] == "worm"

    def test_svhn_multi_config_takes_the_config_with_a_label_column(self) -> None:
        r = record_of(fixture("ufldl-stanford/svhn"))
        assert r.labels == tuple(str(i) for i in range(10))
        assert r.splits == {"train": 73257, "test": 26032, "extra": 531131}

    def test_license_list_and_tag_fallback(self) -> None:
        assert record_of(fixture("ylecun/mnist")).license == "mit"
        assert license_of({}, ["license:cc-by-4.0", "x"]) == "cc-by-4.0"
        assert license_of({"license": []}, []) is None

    def test_too_many_labels_is_skipped_and_keeps_no_labels(self) -> None:
        r = record_of(fixture("uoft-cs/cifar100"), max_labels=99)
        assert (r.status, r.skip_reason, r.labels) == ("skipped", "too_many_labels", ())
        assert record_of(fixture("uoft-cs/cifar100"), max_labels=100).status == "ok"

    def test_no_labels(self) -> None:
        r = record_of(fixture("fixture/captions-only"))
        assert (r.status, r.skip_reason) == ("skipped", "no_labels")

    def test_skipped_datasets_keep_their_metadata(self) -> None:
        r = record_of(fixture("ILSVRC/imagenet-1k"))
        assert (r.status, r.skip_reason, r.license, r.downloads) == (
            "skipped",
            "gated",
            "other",
            80000,
        )

    def test_failed_record_has_no_sha_so_it_is_retried(self) -> None:
        r = failed_record(fixture("uoft-cs/cifar10") | {"sha": "a" * 40}, "viewer: HTTP 500")
        assert (r.status, r.sha, r.error) == ("failed", None, "viewer: HTTP 500")

    def test_invalid_id_is_refused(self) -> None:
        with pytest.raises(ValueError, match="invalid dataset id"):
            build_record({"id": "a/b/c"}, labels=None, max_labels=10)

    def test_untrusted_fields_are_bounded(self) -> None:
        long_label = "x" * 5000
        raw = {
            "id": "o/d",
            "downloads": -5,
            "likes": "many",
            "sha": "not a sha!",
            "lastModified": "yesterday",
            "tags": ["t" * 1000] * 1000,
            "cardData": {"pretty_name": "p" * 1000, "description": "d" * 100_000, "license": 3},
        }
        choice = LabelChoice(None, LabelColumn("label", (long_label, "b"), 2), {}, None)
        r = build_record(raw, labels=choice, max_labels=10)
        assert r.downloads == 0 and r.likes == 0 and r.sha is None and r.last_modified is None
        assert len(r.tags) == 100 and all(len(t) <= 200 for t in r.tags)
        assert len(r.pretty_name or "") <= MAX_ID_CHARS
        assert len(r.description or "") == MAX_DESCRIPTION_CHARS
        assert r.license is None
        assert r.labels[1] == "b"


def test_parse_datetime_forms() -> None:
    assert parse_datetime("2023-05-01T12:00:00.000Z") == datetime(2023, 5, 1, 12, tzinfo=UTC)
    assert parse_datetime(datetime(2023, 5, 1)) == datetime(2023, 5, 1, tzinfo=UTC)
    assert parse_datetime("2023-13-01") is None and parse_datetime(None) is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
_class_label = st.fixed_dictionaries(
    {
        "class_label": st.fixed_dictionaries(
            {"names": st.lists(st.text(max_size=400), max_size=30) | _json}
        )
    }
)
_feature = st.fixed_dictionaries(
    {"name": st.text(max_size=20) | _json, "dtype": _class_label | _json}
)
_card = st.fixed_dictionaries(
    {},
    optional={
        "dataset_info": st.fixed_dictionaries({"features": st.lists(_feature, max_size=4)}) | _json,
        "license": _json,
        "pretty_name": _json,
    },
)


@settings(max_examples=200, deadline=None)
@given(
    card=_card | _json,
    extra=st.dictionaries(
        st.sampled_from(
            ["sha", "downloads", "likes", "tags", "gated", "disabled", "siblings", "lastModified"]
        ),
        _json,
    ),
    max_labels=st.integers(1, 20),
)
def test_any_hub_json_gives_a_bounded_record(
    card: Any, extra: dict[str, Any], max_labels: int
) -> None:
    raw = {"id": "owner/name", "cardData": card, **extra}
    r = record_of(raw, max_labels)
    assert r.status in ("ok", "skipped")
    assert (r.status == "ok") == (r.skip_reason is None)
    assert (r.status == "ok") == bool(r.labels)
    assert len(r.labels) <= max_labels
    assert all(len(label) <= MAX_LABEL_CHARS and label.isprintable() for label in r.labels)
    assert r.downloads >= 0 and r.likes >= 0
    assert r.num_examples is None or r.num_examples == sum(r.splits.values())
