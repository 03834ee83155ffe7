"""The containment train job on a copy of the seeded atlas: failures never replace a good map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.config import Settings
from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from backend.errors import InvalidInputError, InvalidStateError, TrainFailed
from backend.jobs.runner import JobCancelled
from backend.jobs.train import TrainRequest, containment, run_train
from models.errors import TrainingError
from tests.atlas_fixtures import SeededAtlas, settings_for


def _maps(settings: Settings) -> dict[int, repository.MapRecord]:
    with session_scope(session_factory_for(settings.database_url)) as session:
        return {m.id: m for m in repository.list_maps(session)}


def test_a_run_publishes_and_reports_progress(seeded_atlas: SeededAtlas, tmp_path: Path) -> None:
    settings = seeded_atlas.copy(tmp_path / "db")
    calls: list[tuple[int, int | None, str | None]] = []
    ready: list[tuple[int, str]] = []

    published: list[tuple[int, str]] = []

    def on_ready(map_id: int) -> None:
        ready.append((map_id, _maps(settings)[map_id].status))

    def on_published(map_id: int) -> None:
        published.append((map_id, _maps(settings)[map_id].status))

    summary = run_train(
        settings,
        TrainRequest(dims=(2,), epochs=4),
        progress=lambda *a: calls.append(a),
        on_ready=on_ready,
        on_published=on_published,
    )
    (outcome,) = summary.maps
    assert ready == [(outcome.map_id, "ready")]  # warmed before it went live
    assert published == [(outcome.map_id, "published")]  # told once the switch committed
    maps = _maps(settings)
    assert maps[outcome.map_id].status == "published"
    assert maps[seeded_atlas.map_ids[2]].status == "retired"
    assert maps[seeded_atlas.map_ids[3]].status == "published"  # other dims are untouched
    assert summary.datasets == maps[outcome.map_id].num_boxes > 20
    assert {"val_f1", "val_ap", "val_pairs", "best_epoch"} <= set(outcome.metrics)
    done = [c[0] for c in calls]
    assert done == sorted(done) and calls[-1][1] is not None and done[-1] <= calls[-1][1]
    assert any("epoch 4/4" in (c[2] or "") for c in calls)
    n = summary.datasets
    assert any(f"ranking related datasets {n}/{n}" in (c[2] or "") for c in calls)


def test_a_failed_fit_never_replaces_the_published_map(
    seeded_atlas: SeededAtlas, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = seeded_atlas.copy(tmp_path / "db")

    def diverge(*_a: Any, **_k: Any) -> Any:
        raise TrainingError("loss became nan at epoch 3")

    monkeypatch.setattr(containment, "fit", diverge)
    with pytest.raises(TrainFailed, match="loss became nan"):
        run_train(settings, TrainRequest(dims=(2, 3), epochs=4))
    maps = _maps(settings)
    failed = [m for m in maps.values() if m.status == "failed"]
    assert len(failed) == 2 and all("nan" in (m.error or "") for m in failed)
    assert {m.id for m in maps.values() if m.status == "published"} == set(
        seeded_atlas.map_ids.values()
    )


def test_cancellation_fails_the_map_and_stops_the_run(
    seeded_atlas: SeededAtlas, tmp_path: Path
) -> None:
    settings = seeded_atlas.copy(tmp_path / "db")

    def stop(_done: int, _total: int | None, message: str | None) -> None:
        if message and "epoch 2/" in message:
            raise JobCancelled("cancelled: shutting down")

    with pytest.raises(JobCancelled):
        run_train(settings, TrainRequest(dims=(2, 3), epochs=5), progress=stop)
    statuses = sorted(m.status for m in _maps(settings).values())
    assert statuses == ["failed", "published", "published"]  # the 3-D fit never started


def test_cancellation_while_ranking_neighbours_fails_the_map(
    seeded_atlas: SeededAtlas, tmp_path: Path
) -> None:
    settings = seeded_atlas.copy(tmp_path / "db")

    def stop(_done: int, _total: int | None, message: str | None) -> None:
        if message and "ranking related datasets" in message:
            raise JobCancelled("cancelled: shutting down")

    with pytest.raises(JobCancelled):
        run_train(settings, TrainRequest(dims=(2,), epochs=3), progress=stop)
    maps = _maps(settings)
    assert sorted(m.status for m in maps.values()) == ["failed", "published", "published"]
    assert maps[seeded_atlas.map_ids[2]].status == "published"  # readers keep the old map


def test_untrainable_requests(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "empty.db", tmp_path / "data")
    from backend.db import migrate

    migrate.upgrade(settings.database_url)
    with pytest.raises(InvalidInputError, match="trainable: containment, transfer"):
        run_train(settings, TrainRequest(relation="similarity"))
    with pytest.raises(InvalidStateError, match="no transfer scores are imported"):
        run_train(settings, TrainRequest(relation="transfer"))
    with pytest.raises(InvalidInputError, match="dims"):
        run_train(settings, TrainRequest(dims=(0,)))
    with pytest.raises(InvalidStateError, match="at least 2"):
        run_train(settings, TrainRequest(dims=(2,), epochs=1))
    assert _maps(settings) == {}
