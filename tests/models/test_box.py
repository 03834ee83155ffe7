"""`Boxes` validation and accessors."""

from __future__ import annotations

import numpy as np
import pytest

from models.box import Boxes


def test_boxes_expose_dim_centers_and_length() -> None:
    b = Boxes(np.array([[0.0, 0.0], [1.0, 2.0]]), np.array([[2.0, 4.0], [1.0, 3.0]]))
    assert len(b) == 2 and b.dim == 2
    assert b.lo.dtype == np.float32 and b.hi.dtype == np.float32
    np.testing.assert_array_equal(b.centers, [[1.0, 2.0], [1.0, 2.5]])
    np.testing.assert_array_equal(b.sides, [[2.0, 4.0], [0.0, 1.0]])


def test_boxes_are_read_only_copies() -> None:
    lo = np.zeros((1, 2), dtype=np.float32)
    b = Boxes(lo, lo + 1)
    lo[0, 0] = 5.0
    assert b.lo[0, 0] == 0.0
    with pytest.raises(ValueError):
        b.lo[0, 0] = 1.0


@pytest.mark.parametrize(
    ("lo", "hi", "message"),
    [
        (np.zeros(3), np.ones(3), r"\(3,\)"),
        (np.zeros((2, 0)), np.ones((2, 0)), r"\(2, 0\)"),
        (np.zeros((2, 2)), np.ones((2, 3)), r"\(2, 3\)"),
        (np.zeros((2, 2)), np.array([[1.0, 1.0], [1.0, -1.0]]), "row 1"),
        (np.zeros((1, 2)), np.array([[np.nan, 1.0]]), "non-finite"),
    ],
)
def test_bad_boxes_raise_with_the_bad_value(lo: np.ndarray, hi: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Boxes(lo, hi)
