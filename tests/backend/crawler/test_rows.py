"""The viewer's rows, parsed; the page plan and the per-class quota, as properties."""

from __future__ import annotations

import io
import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from backend.crawler.images import BrokenImage, decode_image
from backend.crawler.rows import (
    MAX_ROWS_PER_PAGE,
    RowsError,
    Split,
    parse_rows,
    parse_splits,
    pick_split,
    plan_pages,
)
from backend.crawler.sampler import (
    MIN_IMAGES_PER_CLASS,
    ClassQuota,
    ImageSample,
    keep_supported_classes,
    per_class_quota,
)


def _rows_answer() -> dict[str, Any]:
    # The shape of a real `/rows` answer (ylecun/mnist, abridged).
    return {
        "features": [
            {"feature_idx": 0, "name": "image", "type": {"_type": "Image"}},
            {
                "feature_idx": 1,
                "name": "label",
                "type": {"names": ["0", "1", "2"], "_type": "ClassLabel"},
            },
        ],
        "rows": [
            {
                "row_idx": 10,
                "row": {
                    "image": {"src": "https://x/10.jpg", "height": 28, "width": 28},
                    "label": 2,
                },
                "truncated_cells": [],
            },
            {"row_idx": 11, "row": {"image": {"src": "javascript:alert(1)"}, "label": 0}},
            {"row_idx": 12, "row": {"image": {"src": "https://x/12.jpg"}, "label": 7}},
            {"row_idx": 13, "row": {"image": {"src": "https://x/13.jpg"}, "label": -1}},
            {"row_idx": 14, "row": {"image": {"src": "https://x/14.jpg"}, "label": True}},
            {"row_idx": 15, "row": {"image": None, "label": 1}},
            "not a row",
        ],
        "num_rows_total": 60000,
        "num_rows_per_page": 100,
        "partial": False,
    }


def test_parse_rows_reads_columns_names_cells_and_total() -> None:
    page = parse_rows(_rows_answer())
    assert (page.image_column, page.label_column) == ("image", "label")
    assert page.label_names == ("0", "1", "2")
    assert page.num_rows_total == 60000
    cells = [(c.row_idx, c.label, c.src) for c in page.rows]
    assert cells == [
        (10, 2, "https://x/10.jpg"),
        (11, 0, None),  # not an http(s) URL
        (12, None, "https://x/12.jpg"),  # label id out of range
        (13, None, "https://x/13.jpg"),  # -1: no label
        (14, None, "https://x/14.jpg"),  # a bool is not a label id
        (15, 1, None),
        (6, None, None),
    ]


def test_parse_rows_prefers_the_named_label_column_and_reports_missing_ones() -> None:
    answer = _rows_answer()
    answer["features"].append(
        {"name": "coarse", "type": {"_type": "ClassLabel", "names": ["a", "b"]}}
    )
    assert parse_rows(answer, label_column="coarse").label_names == ("a", "b")
    assert parse_rows(answer, label_column="nope").label_column == "label"
    no_labels = {"features": [{"name": "image", "type": {"_type": "Image"}}], "rows": []}
    page = parse_rows(no_labels)
    assert page.label_column is None and page.label_names == () and page.num_rows_total == 0
    assert parse_rows({"features": [], "rows": []}).image_column is None
    with pytest.raises(RowsError, match="rows"):
        parse_rows({"features": []})
    with pytest.raises(RowsError):
        parse_rows(["not", "an", "object"])


def test_parse_rows_bounds_untrusted_class_names() -> None:
    answer = _rows_answer()
    answer["features"][1]["type"]["names"] = ["x" * 5000, 3]
    assert parse_rows(answer).label_names == ("x" * 200, "3")


def test_splits_are_parsed_and_train_of_default_is_picked() -> None:
    data = {
        "splits": [
            {"dataset": "a/b", "config": "extra", "split": "train"},
            {"dataset": "a/b", "config": "default", "split": "test"},
            {"dataset": "a/b", "config": "default", "split": "train"},
            {"dataset": "a/b", "config": 3, "split": "train"},
        ],
        "pending": [],
        "failed": [],
    }
    splits = parse_splits(data)
    assert len(splits) == 3
    assert pick_split(splits) == Split("default", "train")
    assert pick_split([Split("x", "test"), Split("y", "train")]) == Split("y", "train")
    assert pick_split([Split("x", "test")]) == Split("x", "test")
    assert pick_split([]) is None
    assert parse_splits({"error": "x"}) == () and parse_splits(None) == ()


@given(
    num_rows=st.integers(0, 10_000_000),
    max_pages=st.integers(1, 64),
    page_rows=st.integers(1, MAX_ROWS_PER_PAGE),
)
def test_pages_stay_in_the_split_never_overlap_and_are_bounded(
    num_rows: int, max_pages: int, page_rows: int
) -> None:
    pages = plan_pages(num_rows, max_pages=max_pages, page_rows=page_rows)
    assert len(pages) <= max_pages
    assert all(p.offset >= 0 and 1 <= p.length <= page_rows for p in pages)
    assert all(p.offset + p.length <= num_rows for p in pages)
    ordered = sorted(pages, key=lambda p: p.offset)
    assert all(a.offset + a.length <= b.offset for a, b in itertools.pairwise(ordered))
    if num_rows:
        assert pages[0].offset == 0
        covered = sum(p.length for p in pages)
        assert covered == min(num_rows, len(pages) * page_rows) or len(pages) == max_pages


def test_pages_spread_over_the_split_and_start_from_both_ends() -> None:
    pages = plan_pages(1_000_000, max_pages=8)
    assert [p.offset for p in pages[:2]] == [0, round(4 * (1_000_000 - 100) / 7)]
    assert max(p.offset + p.length for p in pages) == 1_000_000
    assert sorted(p.offset for p in plan_pages(250, max_pages=8)) == [0, 100, 200]
    assert plan_pages(0, max_pages=3) == ()
    with pytest.raises(ValueError, match="max_pages"):
        plan_pages(10, max_pages=0)
    with pytest.raises(ValueError, match="page_rows"):
        plan_pages(10, max_pages=1, page_rows=101)


@given(
    labels=st.lists(st.integers(0, 9), max_size=500),
    per_class=st.integers(2, 20),
    per_dataset=st.integers(4, 300),
    fail_every=st.integers(2, 7),
)
def test_quota_never_exceeds_either_cap(
    labels: list[int], per_class: int, per_dataset: int, fail_every: int
) -> None:
    quota = ClassQuota(per_class, per_dataset)
    kept: list[int] = []
    for i, label in enumerate(labels):
        if quota.reserve(label):
            if i % fail_every == 0:  # a broken image gives its place back
                quota.release(label)
            else:
                kept.append(label)
    assert len(kept) <= per_dataset
    assert all(kept.count(c) <= per_class for c in set(kept))
    # Only as many classes as can all get `per_class` images are admitted.
    assert len(set(kept)) <= max(1, per_dataset // per_class)
    if quota.full(10) and len(kept) < per_dataset:
        assert all(kept.count(c) == per_class for c in set(kept))


@given(
    per_class=st.integers(2, 50), per_dataset=st.integers(4, 1000), n_classes=st.integers(0, 5000)
)
def test_the_per_class_share_respects_both_caps_and_the_minimum(
    per_class: int, per_dataset: int, n_classes: int
) -> None:
    share = per_class_quota(per_class, per_dataset, n_classes)
    assert MIN_IMAGES_PER_CLASS <= share <= per_class
    if n_classes and per_dataset // n_classes >= MIN_IMAGES_PER_CLASS:
        assert share * n_classes <= per_dataset


def test_classes_with_too_few_images_are_dropped() -> None:
    images = [ImageSample(label, f"{label}-{i}", None) for label, i in [(0, 0), (0, 1), (1, 0)]]
    kept = keep_supported_classes(images)
    assert [s.label for s in kept] == [0] * MIN_IMAGES_PER_CLASS


def _png(size: tuple[int, int], color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_decode_gives_rgb_and_reduces_large_images() -> None:
    small = decode_image(_png((4, 3), (200, 10, 10)))
    assert small.mode == "RGB" and small.size == (4, 3)
    assert small.getpixel((0, 0)) == (200, 10, 10)
    large = decode_image(_png((1200, 800), (0, 0, 255)))
    assert large.size == (400, 267) and min(large.size) >= 256


def test_decode_refuses_broken_and_oversized_images() -> None:
    png = _png((8, 8), (1, 2, 3))
    with pytest.raises(BrokenImage, match="decode"):
        decode_image(png[: len(png) // 2])
    with pytest.raises(BrokenImage, match="decode"):
        decode_image(b"<html>not an image</html>")
    with pytest.raises(BrokenImage, match="exceeds"):
        decode_image(_png((100, 100), (0, 0, 0)), max_pixels=99 * 100)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
_CELL = st.fixed_dictionaries(
    {"row_idx": _JSON, "row": st.dictionaries(st.sampled_from(["image", "label", "x"]), _JSON)}
)


@given(rows=st.lists(_CELL | _JSON, max_size=6), features=_JSON, total=_JSON)
def test_any_rows_answer_parses_to_valid_cells_or_a_rows_error(
    rows: list[Any], features: Any, total: Any
) -> None:
    answer = {
        "features": [
            {"name": "image", "type": {"_type": "Image"}},
            {"name": "label", "type": {"_type": "ClassLabel", "names": ["a", "b"]}},
            features,
        ],
        "rows": rows,
        "num_rows_total": total,
    }
    page = parse_rows(answer)
    assert page.num_rows_total >= 0
    for cell in page.rows:
        assert cell.label is None or 0 <= cell.label < len(page.label_names)
        assert cell.src is None or cell.src.startswith(("https://", "http://"))
