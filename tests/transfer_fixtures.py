"""A small transfer matrix shaped like Taskonomy's, and an atlas with a trained transfer map.

Tasks fall into three families (3-D geometry, 2-D texture, semantics), like Taskonomy's:
transfers inside a family are strong, across families weak, and each target's scores have
their own scale (as AHP affinities do). A few pairs are missing, and three of the seeded
atlas's Hub datasets (with class labels) plus one skipped Hub dataset take part, so every
feature path of the job runs: labelled datasets, described tasks, and a dataset with neither.
"""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from backend.config import Settings
from backend.db.engine import session_factory_for, session_scope
from backend.jobs.train import TrainRequest, TrainSummary, run_train
from backend.transfer.importer import ImportReport, import_transfer_csv
from tests.atlas_fixtures import SeededAtlas

TRANSFER_EPOCHS = 200
TASKS: dict[str, tuple[str, str, str]] = {
    # id: (family, name, description)
    "rgb2depth": ("3d", "Z-Depth", "z-buffer depth of each pixel"),
    "rgb2mist": ("3d", "Distance", "euclidean distance from the camera"),
    "rgb2sfnorm": ("3d", "Normals", "surface normals of the scene"),
    "edge3d": ("3d", "Occlusion Edges", "3D occlusion edges at depth discontinuities"),
    "edge2d": ("2d", "2D Edges", "canny-style texture edges"),
    "autoencoder": ("2d", "Autoencoding", "reconstruct the RGB image through a bottleneck"),
    "segment2d": ("2d", "2D Segm.", "unsupervised segmentation from RGB"),
    "class_1000": ("sem", "Object Class.", "object classification over 1000 classes"),
    "ylecun/mnist": ("sem", "", ""),
    "zalando-datasets/fashion_mnist": ("sem", "", ""),
    "ufldl-stanford/svhn": ("sem", "", ""),
    "ILSVRC/imagenet-1k": ("sem", "", ""),  # gated in the fake Hub: skipped, no vector
}
# Pairs never measured: open world, so they are neither supervised nor scored as measured.
MISSING = {("edge2d", "rgb2depth"), ("class_1000", "autoencoder"), ("ylecun/mnist", "edge3d")}


def matrix_rows(seed: int = 0) -> list[tuple[str, str, float]]:
    """`(source, target, score)` for every ordered pair but the diagonal and `MISSING`."""
    rng = np.random.default_rng(seed)
    scale = {t: 10 ** rng.uniform(-3, -1) for t in TASKS}  # AHP-like per-target scales
    rows = []
    for source, target in itertools.permutations(TASKS, 2):
        if (source, target) in MISSING:
            continue
        same = TASKS[source][0] == TASKS[target][0]
        strength = (4.0 if same else 1.0) * rng.uniform(0.7, 1.3)
        rows.append((source, target, round(scale[target] * strength, 8)))
    return rows


def scores_csv(seed: int = 0) -> str:
    return "source,target,score\n" + "".join(f"{s},{t},{v}\n" for s, t, v in matrix_rows(seed))


def descriptions_csv() -> str:
    lines = [f"{i},{d},{n}\n" for i, (_, n, d) in TASKS.items() if d]
    return "id,description,name\n" + "".join(lines)


@dataclass(frozen=True)
class TransferAtlas:
    """The seeded atlas plus imported scores and a published 2-D and 3-D transfer map."""

    settings: Settings
    report: ImportReport
    summary: TrainSummary

    @property
    def map_ids(self) -> dict[int, int]:
        return {m.dim: m.map_id for m in self.summary.maps}

    def copy(self, directory: Path) -> Settings:
        """Settings for a private copy of the database (for tests that write)."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "atlas.db"
        source = self.settings.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return self.settings.model_copy(update={"database_url": f"sqlite:///{target}"})


def import_matrix(settings: Settings, seed: int = 0) -> ImportReport:
    with session_scope(session_factory_for(settings.database_url)) as session:
        return import_transfer_csv(session, scores_csv(seed), descriptions_csv())


@pytest.fixture(scope="session")
def transfer_atlas(
    seeded_atlas: SeededAtlas, tmp_path_factory: pytest.TempPathFactory
) -> TransferAtlas:
    """A copy of the atlas with the matrix imported and transfer maps trained (read only)."""
    directory: Path = tmp_path_factory.mktemp("transfer-atlas")
    settings = seeded_atlas.copy(directory, train_val_fraction=0.2)
    report = import_matrix(settings)
    summary = run_train(
        settings, TrainRequest(relation="transfer", dims=(2, 3), epochs=TRANSFER_EPOCHS)
    )
    return TransferAtlas(settings=settings, report=report, summary=summary)
