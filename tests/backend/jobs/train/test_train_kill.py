"""kill -9 in the middle of a fit: the published maps stay exactly as they were.

`task2box train` runs as a real subprocess on a copy of the seeded atlas, with an epoch count
it cannot finish; the test watches the job's progress in the database, SIGKILLs the process
once the fit is stepping, and reads the maps back.
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

from backend.db import repository
from backend.db.engine import session_factory_for, session_scope
from tests.atlas_fixtures import SeededAtlas

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[4]


def _job_message(db: Path) -> str:
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


def test_a_killed_fit_leaves_the_published_maps_untouched(
    seeded_atlas: SeededAtlas, tmp_path: Path
) -> None:
    settings = seeded_atlas.copy(tmp_path / "db")
    db = tmp_path / "db" / "atlas.db"
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
    deadline = time.monotonic() + 120
    while "epoch" not in _job_message(db):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the fit never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    after = _published(settings.database_url)
    assert after.keys() == before.keys()
    for dim, (map_id, lo) in before.items():
        assert after[dim][0] == map_id
        np.testing.assert_array_equal(after[dim][1], lo)
