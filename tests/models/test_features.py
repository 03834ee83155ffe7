from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.features import cap_labels, mean_var_vector


def test_mean_var_vector_shape() -> None:
    vec = mean_var_vector(np.array([[0.0, 2.0], [2.0, 2.0]]))
    np.testing.assert_allclose(vec, [1.0, 2.0, 1.0, 0.0])


def test_cap_labels_keeps_small_sets_and_order() -> None:
    assert cap_labels(["b", "a"], 5) == ["b", "a"]
    labels = [f"class {i}" for i in range(1000)]
    capped = cap_labels(labels, 100)
    assert len(capped) == 100 and len(set(capped)) == 100
    assert capped == [x for x in labels if x in set(capped)]  # original order
    with pytest.raises(ValueError, match="cap"):
        cap_labels(labels, 0)


@given(st.lists(st.text(max_size=8), min_size=1, max_size=60, unique=True), st.integers(1, 30))
def test_cap_labels_is_deterministic_and_order_independent(labels: list[str], cap: int) -> None:
    first = cap_labels(labels, cap)
    assert len(first) == min(cap, len(labels))
    assert set(cap_labels(list(reversed(labels)), cap)) == set(first)
