"""kill -9 in the middle of a fit: the published maps stay exactly as they were.

A Hub-like atlas of 600 datasets (large enough for the sampled trainer) gets a quick first map;
then `task2box train` runs as a real subprocess with a budget it cannot finish. The test
watches the job's progress in the database, SIGKILLs the process once the fit is stepping,
and reads the published map back.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from backend.config import Settings
from backend.db import migrate, repository
from backend.db.engine import session_factory_for, session_scope
from backend.jobs.train import TrainRequest, run_train
from benchmarks.api_db import seed_embeddings, synthetic_records
from models.budget import STEP_BUDGET
from models.targets import unique_labels
from tests.atlas_fixtures import settings_for
from tests.factories import T0

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[4]
N = 600  # above the ~500 datasets where the trainer switches to sampled steps


def _job_message(url: str) -> str:
    db = url.removeprefix("sqlite:///")
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT message FROM jobs ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return ""
    return (row[0] or "") if row else ""


def _published(url: str) -> dict[int, tuple[int, np.ndarray]]:
    """{dim: (map id, its boxes' lower corners)} of the published containment maps."""
    with session_scope(session_factory_for(url)) as session:
        out = {}
        for m in repository.list_maps(session, status="published", relation="containment"):
            boxes = repository.get_map_boxes(session, map_id=m.id)
            assert boxes is not None
            out[m.dim] = (m.id, np.array(boxes.lo))
        return out


def _atlas(tmp_path: Path) -> Settings:
    """600 synthetic Hub-like datasets, label vectors seeded into the embedding cache."""
    settings = settings_for(
        tmp_path / "atlas.db", tmp_path / "data", map_model="vector", map_dims=[2]
    )
    migrate.upgrade(settings.database_url)
    records = synthetic_records(N, seed=0)
    with session_scope(session_factory_for(settings.database_url)) as session:
        repository.save_crawl_batch(session, records, crawled_at=T0)
    seed_embeddings(settings.cache_dir, unique_labels([r.labels for r in records]), seed=0)
    return settings


def test_a_killed_large_fit_leaves_the_published_map_untouched(tmp_path: Path) -> None:
    settings = _atlas(tmp_path)
    first = run_train(settings, TrainRequest(dims=(2,), epochs=2))
    assert first.datasets == N
    before = _published(settings.database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("T2B_", "HF_"))}
    env |= {
        "T2B_DATABASE_URL": settings.database_url,
        "T2B_DATA_DIR": str(settings.data_dir),
        "T2B_MAP_MODEL": "vector",
        "T2B_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "train", "--dim", "2", "--epochs", "100000"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 180
    while "left" not in (message := _job_message(settings.database_url)):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the fit never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # A sampled fit: its budget is steps, not the 100,000 epochs asked for.
    assert f"/{STEP_BUDGET}, loss" in message, message

    after = _published(settings.database_url)
    assert after.keys() == before.keys() == {2}
    assert after[2][0] == before[2][0]
    np.testing.assert_array_equal(after[2][1], before[2][1])
