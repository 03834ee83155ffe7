"""The image-feature index and its files: candidates, upserts, atomic files, the typed loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from backend.db import repository as repo
from backend.db.feature_files import (
    FEATURES_DIR,
    FeatureFileError,
    read_features,
    remove_features_file,
    write_features,
)
from tests.factories import T0, dataset_record

MODEL = "clip-image:tiny"


def _seed(session: Session) -> None:
    repo.save_crawl_batch(
        session,
        records=[
            dataset_record("a/big", downloads=300),
            dataset_record("b/mid", downloads=200, label_column="fine"),
            dataset_record("c/none", downloads=250, labels=()),
            dataset_record("d/skip", downloads=999, status="skipped", skip_reason="gated"),
            dataset_record("e/low", downloads=100),
        ],
        crawled_at=T0,
    )


def _write(data_dir: Path, dataset_id: str, n: int = 4) -> str:
    rng = np.random.default_rng(0)
    return write_features(
        data_dir,
        feature_model=MODEL,
        dataset_id=dataset_id,
        features=rng.normal(size=(n, 8)),
        labels=np.arange(n) % 2,
        class_names=("cat", "dog"),
    )


def test_candidates_are_ok_datasets_with_labels_most_downloaded_first(session: Session) -> None:
    _seed(session)
    candidates = repo.get_feature_candidates(session)
    assert [c.dataset_id for c in candidates] == ["a/big", "b/mid", "e/low"]
    assert candidates[1].label_column == "fine"
    assert [c.dataset_id for c in repo.get_feature_candidates(session, limit=2)] == [
        "a/big",
        "b/mid",
    ]


def test_rows_are_upserted_per_model_and_loaded_typed(session: Session, tmp_path: Path) -> None:
    _seed(session)
    path = _write(tmp_path, "a/big")
    assert path.startswith(FEATURES_DIR + "/") and ".." not in path
    ready = repo.ImageFeaturesIn(
        "a/big",
        "ready",
        n_images=4,
        n_classes=2,
        failed_images=1,
        class_names_hash=repo.labels_hash(["cat", "dog"]),
        path=path,
        source="rows",
    )
    repo.save_image_features(session, feature_model=MODEL, item=ready)
    skipped = repo.ImageFeaturesIn("b/mid", "skipped", skip_reason="no_image_column")
    repo.save_image_features(session, feature_model=MODEL, item=skipped)
    repo.save_image_features(session, feature_model="other", item=skipped)
    states = repo.get_image_feature_states(session, feature_model=MODEL)
    assert {k: (v.status, v.skip_reason) for k, v in states.items()} == {
        "a/big": ("ready", None),
        "b/mid": ("skipped", "no_image_column"),
    }
    assert states["a/big"].failed_images == 1
    (loaded,) = repo.load_image_features(session, data_dir=tmp_path, feature_model=MODEL)
    assert loaded.dataset_id == "a/big" and loaded.class_names == ("cat", "dog")
    assert loaded.features.dtype == np.float32 and loaded.features.shape == (4, 8)
    assert loaded.labels.dtype == np.int64 and loaded.labels.tolist() == [0, 1, 0, 1]
    assert repo.load_image_features(session, data_dir=tmp_path, feature_model="other") == []
    # A later outcome replaces the row.
    repo.save_image_features(
        session, feature_model=MODEL, item=repo.ImageFeaturesIn("a/big", "skipped", "not_found")
    )
    assert repo.get_image_feature_states(session, feature_model=MODEL)["a/big"].path is None


def test_bad_rows_are_refused(session: Session) -> None:
    _seed(session)
    with pytest.raises(ValueError, match="status"):
        repo.save_image_features(
            session, feature_model=MODEL, item=repo.ImageFeaturesIn("a/big", "done")
        )
    with pytest.raises(ValueError, match="path"):
        repo.save_image_features(
            session, feature_model=MODEL, item=repo.ImageFeaturesIn("a/big", "ready")
        )
    with pytest.raises(ValueError, match="reason"):
        repo.save_image_features(
            session, feature_model=MODEL, item=repo.ImageFeaturesIn("a/big", "skipped")
        )


def test_the_loader_refuses_a_file_that_disagrees_with_its_row(
    session: Session, tmp_path: Path
) -> None:
    _seed(session)
    path = _write(tmp_path, "a/big", n=4)
    item = repo.ImageFeaturesIn(
        "a/big", "ready", n_images=5, n_classes=2, class_names_hash="x", path=path
    )
    repo.save_image_features(session, feature_model=MODEL, item=item)
    with pytest.raises(FeatureFileError, match="does not match"):
        repo.load_image_features(session, data_dir=tmp_path, feature_model=MODEL)
    (tmp_path / path).unlink()
    with pytest.raises(FeatureFileError, match="cannot read"):
        repo.load_image_features(session, data_dir=tmp_path, feature_model=MODEL)


def test_feature_files_are_float16_atomic_and_stay_in_the_data_dir(tmp_path: Path) -> None:
    path = _write(tmp_path, "a/big")
    with np.load(tmp_path / path) as data:
        assert data["features"].dtype == np.float16
    assert [p.name for p in (tmp_path / path).parent.iterdir()] == [Path(path).name]
    assert _write(tmp_path, "a/big") == path  # same content, same file
    with pytest.raises(FeatureFileError, match="outside"):
        read_features(tmp_path, "../elsewhere.npz")
    with pytest.raises(ValueError, match="label ids"):
        write_features(
            tmp_path,
            feature_model=MODEL,
            dataset_id="a/x",
            features=np.ones((2, 3)),
            labels=np.array([0, 2]),
            class_names=("a", "b"),
        )
    with pytest.raises(ValueError, match="non-finite"):
        write_features(
            tmp_path,
            feature_model=MODEL,
            dataset_id="a/x",
            features=np.full((2, 3), np.nan),
            labels=np.array([0, 1]),
            class_names=("a", "b"),
        )


def test_candidates_carry_their_sha_and_rows_keep_the_sha_they_were_sampled_at(
    session: Session, tmp_path: Path
) -> None:
    _seed(session)
    candidate = repo.get_feature_candidates(session, limit=1)[0]
    assert (
        candidate.sha is not None
        and candidate.sha == repo.get_dataset_shas(session, ["a/big"])["a/big"]
    )
    item = repo.ImageFeaturesIn(
        "a/big", "ready", n_images=4, path=_write(tmp_path, "a/big"), dataset_sha=candidate.sha
    )
    repo.save_image_features(session, feature_model=MODEL, item=item)
    assert repo.get_image_feature_states(session, feature_model=MODEL)["a/big"].dataset_sha == (
        candidate.sha
    )


def _estimates(session: Session) -> set[tuple[str, str, str]]:
    return {
        (e.source_id, e.target_id, e.feature_model or "")
        for d in ("a/big", "b/mid", "e/low")
        for e in repo.get_transfer_evidence(session, dataset_id=d)
    }


def test_replacing_ready_features_drops_the_estimates_made_from_them(
    session: Session, tmp_path: Path
) -> None:
    _seed(session)
    paths = {d: _write(tmp_path, d) for d in ("a/big", "b/mid", "e/low")}
    for dataset_id, path in paths.items():
        item = repo.ImageFeaturesIn(dataset_id, "ready", n_images=4, path=path)
        repo.save_image_features(session, feature_model=MODEL, item=item)
    pairs = [("a/big", "b/mid"), ("b/mid", "a/big"), ("b/mid", "e/low"), ("e/low", "a/big")]
    for model in (MODEL, "other-model"):
        repo.replace_transfer_estimates(
            session,
            estimator="leep",
            feature_model=model,
            estimates=[(s, t, 1.0, 0.5) for s, t in pairs],
            estimated_at=T0,
        )
    everything = {(s, t, m) for s, t in pairs for m in (MODEL, "other-model")}
    assert _estimates(session) == everything

    same = repo.ImageFeaturesIn("a/big", "ready", n_images=4, path=paths["a/big"])
    assert repo.save_image_features(session, feature_model=MODEL, item=same) is None
    assert _estimates(session) == everything  # the same file: the estimates still hold

    other = repo.ImageFeaturesIn("a/big", "ready", n_images=6, path=_write(tmp_path, "a/big", 6))
    superseded = repo.save_image_features(session, feature_model=MODEL, item=other)
    assert superseded == paths["a/big"]  # the caller deletes the file no row reads now
    gone = {(s, t, MODEL) for s, t in pairs if "a/big" in (s, t)}
    assert _estimates(session) == everything - gone  # another model's estimates stay

    skipped = repo.ImageFeaturesIn("e/low", "skipped", skip_reason="gated")
    assert repo.save_image_features(session, feature_model=MODEL, item=skipped) == paths["e/low"]
    assert _estimates(session) == everything - gone - {("b/mid", "e/low", MODEL)}
    again = repo.ImageFeaturesIn("e/low", "skipped", skip_reason="gated")
    assert repo.save_image_features(session, feature_model=MODEL, item=again) is None


def test_a_superseded_features_file_is_removed_only_inside_the_data_dir(tmp_path: Path) -> None:
    path = _write(tmp_path, "a/big")
    assert remove_features_file(tmp_path, path) is True
    assert not (tmp_path / path).exists()
    assert remove_features_file(tmp_path, path) is False  # already gone: nothing to do
    outside = tmp_path.parent / "keep.npz"
    outside.write_bytes(b"x")
    with pytest.raises(FeatureFileError, match="outside"):
        remove_features_file(tmp_path, "../keep.npz")
    assert outside.exists()
