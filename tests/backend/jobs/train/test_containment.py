"""The containment train job on a copy of the seeded atlas: failures never replace a good map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.config import Settings
from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from backend.errors import InvalidInputError, InvalidStateError, MemoryBudgetError, TrainFailed
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
    with pytest.raises(InvalidStateError, match="no transfer scores are stored yet"):
        run_train(settings, TrainRequest(relation="transfer"))
    with pytest.raises(InvalidInputError, match="dims"):
        run_train(settings, TrainRequest(dims=(0,)))
    with pytest.raises(InvalidStateError, match="at least 2"):
        run_train(settings, TrainRequest(dims=(2,), epochs=1))
    assert _maps(settings) == {}


def _published_network(settings: Settings, map_id: int) -> Any:
    from backend.serving import checkpoints

    with session_scope(session_factory_for(settings.database_url)) as session:
        data = repository.get_map_checkpoint(session, map_id=map_id)
    assert data is not None
    return checkpoints.from_bytes(data)


def test_a_label_set_map_holds_every_label_subset_inside_its_superset(
    seeded_atlas: SeededAtlas, tmp_path: Path
) -> None:
    from models.opaque import opaque_keys
    from models.scoring import containment_to_all
    from models.setbox_map import SetBoxPlacer
    from models.targets import normalize_label

    settings = seeded_atlas.copy(tmp_path / "db", map_model="set")
    (outcome,) = run_train(settings, TrainRequest(dims=(2,), epochs=30)).maps
    record = _maps(settings)[outcome.map_id]
    assert record.params["model"] == "set" and record.params["gumbel_beta"] is None
    assert isinstance(_published_network(settings, outcome.map_id), SetBoxPlacer)
    assert {"fidelity_f1", "fidelity_spearman", "val_f1_set"} <= set(outcome.metrics)
    assert "val_f1_vector" not in outcome.metrics
    with session_scope(session_factory_for(settings.database_url)) as session:
        boxes = repository.get_map_boxes(session, map_id=outcome.map_id)
        raw = {s.dataset_id: s.labels for s in repository.get_label_sets(session)}
        matches = repository.get_map_label_matches(session, map_id=outcome.map_id)
    # Opaque names ("0".."9") are no points: a digit set is placed from its description.
    assert boxes is not None
    hidden = opaque_keys([raw[d] for d in boxes.dataset_ids])
    sets = {d: {x for x in labels if normalize_label(x) not in hidden} for d, labels in raw.items()}
    assert boxes is not None and matches is not None
    assert matches.threshold == settings.label_match_cosine
    nested = 0
    for a, id_a in enumerate(boxes.dataset_ids):
        p_in, _ = containment_to_all(
            boxes.lo[a], boxes.hi[a], boxes.lo, boxes.hi, beta=record.params["beta"]
        )
        for b, id_b in enumerate(boxes.dataset_ids):
            if a != b and sets[id_a] and sets[id_a] <= sets[id_b]:
                nested += 1
                assert p_in[b] == pytest.approx(1.0, abs=1e-6), (id_a, id_b)
    assert nested >= 5  # the atlas has subsets: cats/dogs in CIFAR-like sets, MNIST copies


def test_auto_fits_both_models_and_publishes_the_better(
    seeded_atlas: SeededAtlas, tmp_path: Path
) -> None:
    settings = seeded_atlas.copy(tmp_path / "db", map_model="auto")
    (outcome,) = run_train(settings, TrainRequest(dims=(2,), epochs=30)).maps
    metrics = outcome.metrics
    chosen = _maps(settings)[outcome.map_id].params["model"]
    f1 = {name: metrics[f"val_f1_{name}"] for name in ("vector", "set")}
    assert chosen == max(f1, key=lambda name: (f1[name], name == "set"))
    assert metrics["val_f1"] == f1[chosen]


def test_a_vector_map_says_so(seeded_atlas: SeededAtlas, tmp_path: Path) -> None:
    from models.trained import TrainedBoxModel

    settings = seeded_atlas.copy(tmp_path / "db", map_model="vector")
    (outcome,) = run_train(settings, TrainRequest(dims=(2,), epochs=4)).maps
    assert _maps(settings)[outcome.map_id].params["model"] == "vector"
    assert isinstance(_published_network(settings, outcome.map_id), TrainedBoxModel)
    assert "val_f1_set" not in outcome.metrics and "fidelity_f1" in outcome.metrics


def test_a_fit_over_the_memory_limit_is_refused_before_any_map_exists(
    seeded_atlas: SeededAtlas, tmp_path: Path
) -> None:
    settings = seeded_atlas.copy(tmp_path / "db").model_copy(update={"train_max_memory_gb": 0.01})
    before = _maps(settings)
    with pytest.raises(MemoryBudgetError) as refused:
        run_train(settings, TrainRequest(dims=(2,), epochs=4))
    message = str(refused.value)
    assert "T2B_TRAIN_MAX_MEMORY_GB=0.01" in message and "GiB at its peak" in message
    assert "task2box crawl --limit" in message and "T2B_LABEL_MATCH_COSINE=1" in message
    assert _maps(settings) == before  # nothing created, nothing retired
    # Under a limit the estimate fits in, the same run trains.
    allowed = settings.model_copy(update={"train_max_memory_gb": 64.0})
    assert run_train(allowed, TrainRequest(dims=(2,), epochs=4)).maps[0].status == "published"
