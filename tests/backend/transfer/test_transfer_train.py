"""The transfer train job on a small Taskonomy-shaped matrix over the seeded atlas."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from backend.errors import InvalidInputError, InvalidStateError, TrainFailed
from backend.jobs.train import TrainRequest, run_train, transfer
from backend.representations.label_text import LabelTextEmbedder, LabelTextRepresenter
from backend.serving.map_store import load_map
from backend.transfer.importer import import_transfer_csv
from models.metrics import spearman
from models.scoring import containment_pairs
from models.transfer import transfer_targets
from tests.atlas_fixtures import SeededAtlas
from tests.transfer_fixtures import TASKS, TransferAtlas, matrix_rows


def _session(settings: Any) -> Any:
    return session_scope(session_factory_for(settings.database_url))


def test_import_reports_the_tasks_it_created(transfer_atlas: TransferAtlas) -> None:
    report = transfer_atlas.report
    described = {i for i, (_, _, description) in TASKS.items() if description}
    assert set(report.created) == described  # the Hub datasets already existed
    assert report.rows == report.total_scores == len(matrix_rows())


def test_maps_hold_every_dataset_and_flag_the_measured_ones(
    transfer_atlas: TransferAtlas,
) -> None:
    with _session(transfer_atlas.settings) as session:
        labelled = set(repository.get_labels_hashes(session))
        maps = {m.dim: m for m in repository.list_maps(session, relation="transfer")}
        assert {d: m.status for d, m in maps.items()} == {2: "published", 3: "published"}
        record = maps[2]
        loaded = load_map(session, record)
    assert set(loaded.ids) == labelled | set(TASKS)
    assert record.params["measured_tasks"] == len(TASKS)
    assert record.params["semantics"].startswith("transfer s→t = P(box_s ⊆ box_t)")
    assert record.params["task_vectors"] == 9  # 8 described tasks + the skipped Hub dataset
    assert {"val_spearman", "val_pairs", "best_epoch"} <= set(record.metrics)
    measured = {i for i, m in zip(loaded.ids, loaded.measured, strict=True) if m}
    assert measured == set(TASKS)
    assert "ylecun/mnist" in measured and "uoft-cs/cifar10" not in measured


def test_tasks_without_labels_get_stored_text_vectors(transfer_atlas: TransferAtlas) -> None:
    with _session(transfer_atlas.settings) as session:
        states = repository.get_representation_states(session, kind="label-text")
        reps = repository.load_representations(
            session, kind="label-text", dataset_ids=["rgb2depth", "ILSVRC/imagenet-1k"]
        )
    assert states["rgb2depth"].model_version.endswith(";task-text")
    assert states["ILSVRC/imagenet-1k"].model_version.endswith(";task-text")
    assert not states["ylecun/mnist"].model_version.endswith(";task-text")
    # [text embedding; zero spread]: unit mean half, zero variance half.
    half = reps.vectors.shape[1] // 2
    np.testing.assert_allclose(np.linalg.norm(reps.vectors[:, :half], axis=1), 1.0, rtol=1e-4)
    assert np.all(reps.vectors[:, half:] == 0)


def test_the_published_boxes_rank_the_measured_transfers(transfer_atlas: TransferAtlas) -> None:
    rows = matrix_rows()
    with _session(transfer_atlas.settings) as session:
        record = repository.get_map(session, map_id=transfer_atlas.map_ids[3])
        assert record is not None
        loaded = load_map(session, record)
    s = np.array([loaded.index[a] for a, _, _ in rows])
    t = np.array([loaded.index[b] for _, b, _ in rows])
    y = transfer_targets(t, np.array([v for _, _, v in rows]))
    b = loaded.boxes
    p = containment_pairs(
        b.lo[s], b.hi[s], b.lo[t], b.hi[t], beta=b.beta, gumbel_beta=b.gumbel_beta
    )
    reverse = containment_pairs(
        b.lo[t], b.hi[t], b.lo[s], b.hi[s], beta=b.beta, gumbel_beta=b.gumbel_beta
    )
    # P(s ⊆ t) follows the measured transfers; the reverse reading does worse.
    assert spearman(y, p) > 0.5
    assert spearman(y, p) > spearman(y, reverse)


def test_no_imported_scores_is_a_clear_error(seeded_atlas: SeededAtlas, tmp_path: Path) -> None:
    settings = seeded_atlas.copy(tmp_path / "db")
    with pytest.raises(InvalidStateError, match="import-transfer"):
        run_train(settings, TrainRequest(relation="transfer", dims=(2,), epochs=2))
    with pytest.raises(InvalidInputError, match="label-text"):
        run_train(settings, TrainRequest(relation="transfer", representation="clip"))
    clip: Any = type("Clip", (), {"kind": "clip", "version": "clip-test"})()
    with pytest.raises(InvalidInputError, match="got 'clip'"):
        run_train(settings, TrainRequest(relation="transfer"), representer=clip)
    with _session(settings) as session:
        assert repository.list_maps(session, relation="transfer") == []


def test_a_failed_fit_keeps_the_published_transfer_map(
    transfer_atlas: TransferAtlas, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = transfer_atlas.copy(tmp_path / "db")

    def diverge(*_a: Any, **_k: Any) -> Any:
        from models.errors import TrainingError

        raise TrainingError("loss became nan at epoch 3")

    monkeypatch.setattr(transfer, "fit", diverge)
    with pytest.raises(TrainFailed, match="loss became nan"):
        run_train(settings, TrainRequest(relation="transfer", dims=(2,), epochs=3))
    with _session(settings) as session:
        maps = repository.list_maps(session, relation="transfer")
    published = {m.id for m in maps if m.status == "published"}
    assert published == set(transfer_atlas.map_ids.values())
    assert [m.status for m in maps if m.id not in published] == ["failed"]


def test_a_map_flags_only_the_scores_it_was_fitted_to(
    transfer_atlas: TransferAtlas, tmp_path: Path
) -> None:
    settings = transfer_atlas.copy(tmp_path / "db")
    with _session(settings) as session:
        import_transfer_csv(session, "source,target,score\nuoft-cs/cifar10,rgb2depth,0.5\n")
        record = repository.get_map(session, map_id=transfer_atlas.map_ids[2])
        assert record is not None
        loaded = load_map(session, record)
    assert loaded.transfers is not None
    cifar, depth = loaded.index["uoft-cs/cifar10"], loaded.index["rgb2depth"]
    # Imported after the map was trained: its box was placed, not fitted; the pair predicted.
    assert not loaded.measured[cifar] and cifar not in loaded.transfers.from_(depth)
    mist = loaded.index["rgb2mist"]
    assert (
        loaded.transfers.to(mist)[depth]
        == {(s, t): v for s, t, v in matrix_rows()}[("rgb2mist", "rgb2depth")]
    )


def test_progress_only_moves_forward(transfer_atlas: TransferAtlas, tmp_path: Path) -> None:
    settings = transfer_atlas.copy(tmp_path / "db")
    calls: list[tuple[int, int | None, str | None]] = []
    run_train(
        settings,
        TrainRequest(relation="transfer", dims=(2,), epochs=3),
        progress=lambda *a: calls.append(a),
    )
    done = [c[0] for c in calls]
    assert done == sorted(done)
    assert calls[-1][0] == calls[-1][1]  # finished: the whole budget is accounted for
    assert any("epoch 3/3" in (c[2] or "") for c in calls)


class _OwnVersion:
    """The label-text features under a version of their own: every stored vector is stale
    to it, so the run recomputes them all through this representer."""

    def __init__(self, inner: LabelTextRepresenter) -> None:
        self.inner = inner
        self.embedded = 0

    @property
    def kind(self) -> str:
        return self.inner.kind

    @property
    def version(self) -> str:
        return f"{self.inner.version};test"

    def dataset_vectors(self, datasets: Sequence[tuple[str, Sequence[str]]]) -> list[np.ndarray]:
        self.embedded += len(datasets)
        return self.inner.dataset_vectors(datasets)


def test_a_transfer_run_uses_the_given_representer_and_reports_publishing(
    transfer_atlas: TransferAtlas, tmp_path: Path
) -> None:
    settings = transfer_atlas.copy(tmp_path / "db")
    embedder = LabelTextEmbedder.from_cache_dir(settings.cache_dir)
    representer = _OwnVersion(
        LabelTextRepresenter(embedder, max_labels=settings.max_embedded_labels)
    )
    published: list[tuple[int, str]] = []

    def on_published(map_id: int) -> None:
        with _session(settings) as session:
            record = repository.get_map(session, map_id=map_id)
            published.append((map_id, record.status if record else "missing"))

    summary = run_train(
        settings,
        TrainRequest(relation="transfer", dims=(2,), epochs=3),
        representer=representer,
        embedder=embedder,
        on_published=on_published,
    )
    (outcome,) = summary.maps
    assert published == [(outcome.map_id, "published")]
    assert representer.embedded > 0
    with _session(settings) as session:
        record = repository.get_map(session, map_id=outcome.map_id)
        assert record is not None
        assert record.params["representation_version"] == representer.version
