from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.crawler._prefetch import prefetched


def test_yields_everything_in_order() -> None:
    assert list(prefetched(iter(range(1000)), depth=7)) == list(range(1000))


def test_errors_reach_the_consumer_after_the_items_before_them() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise KeyError("page 3")

    got: list[int] = []
    with pytest.raises(KeyError, match="page 3"):
        for item in prefetched(items(), depth=5):
            got.append(item)
    assert got == [1, 2]


def test_runs_at_most_depth_ahead_and_stops_with_the_consumer() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    stream = prefetched(items(), depth=3)
    assert produced == []  # lazy until the first next()
    assert next(stream) == 0
    stream.close()
    # one taken, three buffered, one blocked in `put`: never the whole input
    assert len(produced) <= 5


def test_rejects_a_zero_depth() -> None:
    with pytest.raises(ValueError, match="depth must be >= 1, got 0"):
        next(prefetched(iter([1]), depth=0))
