"""`models.opaque`: which class names say nothing alone, and which pairs corroborate them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import opaque
from models.opaque import (
    MAX_CORROBORATING,
    corroborated_pairs,
    has_opaque_labels,
    is_opaque_label,
    opaque_keys,
)


@given(st.integers(0, 999))
def test_short_numbers_are_opaque(number: int) -> None:
    assert is_opaque_label(str(number))
    assert is_opaque_label(f"LABEL_{number}") and is_opaque_label(f"class {number}")


@pytest.mark.parametrize("label", ["A", "お", "n01440764", "0-2", "3.5", " 7 "])
def test_opaque_forms(label: str) -> None:
    assert is_opaque_label(label)


@pytest.mark.parametrize("label", ["cat", "737-200", "2019", "golden retriever", "10-20", "A380"])
def test_names_that_say_something(label: str) -> None:
    assert not is_opaque_label(label)


def test_names_held_by_a_large_share_of_a_large_atlas_are_opaque(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sets = [["background", f"thing {i}"] for i in range(30)] + [["cat"], ["dog"]]
    assert "background" not in opaque_keys(sets)  # a small atlas: form only
    monkeypatch.setattr(opaque, "MIN_DATASETS_FOR_SHARE", 10)
    keys = opaque_keys(sets)
    assert "background" in keys and "cat" not in keys


def test_the_flag_needs_mostly_opaque_names() -> None:
    assert has_opaque_labels(["0", "1", "2"])
    assert has_opaque_labels(["0", "1", "other"])
    assert not has_opaque_labels(["0", "cat", "dog"])
    assert not has_opaque_labels([])
    assert has_opaque_labels(["background", "x"], {"background"})


def test_corroborated_pairs_are_near_identical_texts() -> None:
    emb = np.array([[1.0, 0.0], [0.99, 0.05], [0.0, 1.0], [0.7, 0.7]])
    assert corroborated_pairs([10, 20, 30, 40], emb) == [(10, 20)]
    assert corroborated_pairs([], np.zeros((0, 2))) == []
    with pytest.raises(ValueError, match="text embeddings"):
        corroborated_pairs([1], emb)


def test_corroboration_is_bounded_by_each_datasets_nearest_texts() -> None:
    # 60 near-identical cards ("user/digits."): every pair is above the threshold, yet each
    # dataset is corroborated by its most similar few, so the pairs stay linear in the rows.
    rng = np.random.default_rng(0)
    base = rng.normal(size=16)
    emb = base + 0.01 * rng.normal(size=(60, 16))
    rows = list(range(100, 160))
    pairs = corroborated_pairs(rows, emb)
    assert all(a < b and a in rows and b in rows for a, b in pairs)
    assert len(pairs) == len(set(pairs)) <= MAX_CORROBORATING * len(rows)
    partners = np.bincount([r - 100 for pair in pairs for r in pair], minlength=60)
    assert (partners >= MAX_CORROBORATING).all()  # everyone keeps its nearest ones
    # Unlike texts are never paired, however few the rows.
    assert corroborated_pairs([1, 2], np.eye(2, 16)) == []
