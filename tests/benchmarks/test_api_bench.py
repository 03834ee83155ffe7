"""The API benchmark's parts on a small atlas: the builder and both load generators."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.config import Settings
from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from backend.main import create_app
from benchmarks.api import HostTimes, _endpoints, host_shares, host_times, payload_sizes
from benchmarks.api_db import BenchAtlas, build_atlas
from benchmarks.api_load import LoadResult, run_python, run_wrk, wrk_available
from tests.live_server import live_server


@pytest.fixture(scope="module")
def small_atlas(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, BenchAtlas]:
    root = tmp_path_factory.mktemp("bench")
    # The embedding cache seeded where the server reads it: /place never runs MiniLM.
    atlas = build_atlas(root / "atlas.db", n=300, seed=1, cache_dir=root / "data" / "cache")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=atlas.url,
        data_dir=root / "data",
        log_level="WARNING",
    )
    return settings, atlas


def test_the_atlas_has_published_maps_over_every_dataset(
    small_atlas: tuple[Settings, BenchAtlas],
) -> None:
    settings, atlas = small_atlas
    with session_scope(session_factory_for(settings.database_url)) as session:
        published = repository.get_published_map_ids(session)
        assert repository.count_datasets(session).ok == 300
    assert [dim for _, _, dim in published] == [2, 5]
    assert atlas.picture_map == published[0][0] and atlas.score_map == published[1][0]
    assert atlas.label_slots > 300
    with session_scope(session_factory_for(settings.database_url)) as session:
        matches = repository.get_map_label_matches(session, map_id=atlas.score_map)
        assert matches is not None and matches.pairs  # near-synonyms match by cosine
        assert repository.get_map_checkpoint(session, map_id=atlas.score_map)  # /place works


def _check(result: LoadResult) -> None:
    assert result.requests > 0 and result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert result.rps == pytest.approx(result.requests / result.seconds, rel=0.05)


def test_load_generators_measure_every_endpoint(small_atlas: tuple[Settings, BenchAtlas]) -> None:
    settings, atlas = small_atlas
    with live_server(create_app(settings)) as base:
        sizes = payload_sizes(base, atlas.picture_map)
        assert 0 < sizes["gzip"] < sizes["plain"]
        for endpoint, (paths, headers) in _endpoints(atlas, seed=0).items():
            result = run_python(
                base,
                endpoint,
                paths,
                concurrency=4,
                duration_s=1.0,
                max_requests=50,
                headers=headers,
            )
            assert result.requests <= 50
            _check(result)
            if wrk_available():
                _check(
                    run_wrk(
                        base,
                        endpoint,
                        paths,
                        concurrency=4,
                        duration_s=1,
                        threads=1,
                        headers=headers,
                    )
                )


def test_build_replaces_an_existing_file(tmp_path: Path) -> None:
    first = build_atlas(tmp_path / "a.db", n=20, seed=0)
    second = build_atlas(tmp_path / "a.db", n=30, seed=0)
    assert len(first.dataset_ids) == 20 and len(second.dataset_ids) == 30


def test_host_shares_read_busy_and_steal_from_proc_stat(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    # user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text("cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 2 3\n")
    before = host_times(stat)
    assert before == HostTimes(busy=150, steal=40, total=1000)
    stat.write_text("cpu  200 0 100 1600 10 0 0 90 0 0\n")
    after = host_times(stat)
    # 1000 ticks passed: 150 busy, 50 stolen.
    assert host_shares(before, after) == {"busy_pct": 15.0, "steal_pct": 5.0}
    assert host_shares(after, before) == {"busy_pct": None, "steal_pct": None}
    assert host_times(tmp_path / "missing") is None
    stat.write_text("intr 1 2 3\n")
    assert host_times(stat) is None
