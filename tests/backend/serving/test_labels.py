"""`LabelIndex` answers exactly what `models.targets.shared_labels` answers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.serving.labels import LabelIndex
from models.targets import normalize_label, shared_labels

# Case, separators and plurals make distinct texts that normalize to one key.
_LABELS = st.sampled_from(
    ["cat", "Cat", "cats", "dog", "Dogs", "hot_dog", "hot-dog", "Hot Dog", "0", "1", "pie", "Pies"]
)
_SETS = st.lists(st.lists(_LABELS, max_size=8), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(sets=_SETS, limit=st.integers(0, 5))
def test_shared_equals_models_shared_labels(sets: list[list[str]], limit: int) -> None:
    index = LabelIndex(sets)
    for a in range(len(sets)):
        for b in range(len(sets)):
            assert index.shared(a, b, limit) == shared_labels(sets[a], sets[b], limit)


@settings(max_examples=100, deadline=None)
@given(sets=_SETS, outside=st.lists(_LABELS, max_size=8))
def test_shared_with_an_outside_list(sets: list[list[str]], outside: list[str]) -> None:
    index = LabelIndex(sets)
    keys = [normalize_label(x) for x in outside]
    for b in range(len(sets)):
        assert index.shared_with(outside, keys, b) == shared_labels(outside, sets[b])


def test_identical_texts_are_stored_once() -> None:
    first, second = "".join(["c", "a", "t"]), "".join(["c", "a", "t"])
    assert first is not second
    index = LabelIndex([[first], [second]])
    assert index.labels(0)[0] is index.labels(1)[0]
    assert len(index) == 2
