"""kill -9 in the middle of `task2box crawl`, then a rerun: nothing committed is lost.

The crawl runs as a real subprocess (`python -m backend.cli crawl`) against a slow fake Hub and
a SQLite file. The test watches the file, SIGKILLs the process once some batches are in, then
reruns it to the end and checks every dataset is stored exactly once with its labels.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakehub import FakeHub
from tests.fakehub_catalog import ROOT, synthetic_catalog

N = 80
BATCH = 5
pytestmark = pytest.mark.slow


def _env(hub: FakeHub, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("T2B_", "HF_"))}
    env.update(
        {
            "HF_ENDPOINT": hub.url,  # huggingface_hub's one-time agent-harness lookup goes here
            "HF_HOME": str(tmp_path / "hf"),
            "T2B_HUB_ENDPOINT": hub.url,
            "T2B_VIEWER_ENDPOINT": hub.viewer_url,
            "T2B_DATABASE_URL": f"sqlite:///{tmp_path / 'atlas.db'}",
            "T2B_DATA_DIR": str(tmp_path / "data"),
            "T2B_CRAWL_BATCH_SIZE": str(BATCH),
            "T2B_CRAWL_CONCURRENCY": "2",
            "T2B_LOG_LEVEL": "WARNING",
        }
    )
    return env


def _committed(db: Path) -> dict[str, str | None]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return dict(conn.execute("SELECT id, sha FROM datasets").fetchall())
    except sqlite3.OperationalError:  # not created or not migrated yet
        return {}


def _crawl(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "crawl", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("kill_after", [BATCH, 8 * BATCH])
def test_kill_9_mid_crawl_then_rerun_loses_nothing(tmp_path: Path, kill_after: int) -> None:
    db = tmp_path / "atlas.db"
    with FakeHub(
        synthetic_catalog(N, viewer_fraction=0.5, skipped_fraction=0.1), page_size=10
    ) as hub:
        hub.latency_s = 0.1  # every request is slow, so the crawl is caught halfway
        env = _env(hub, tmp_path)
        proc = _crawl(env)
        deadline = time.monotonic() + 120
        while len(_committed(db)) < kill_after:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "crawl made no progress"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        before = _committed(db)
        assert kill_after <= len(before) < N  # killed mid-way
        assert len(before) % BATCH == 0  # only whole batches were committed

        rerun = subprocess.run(
            [sys.executable, "-m", "backend.cli", "crawl", "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
        summary = json.loads(rerun.stdout.decode().strip().splitlines()[-1])

    after = _committed(db)
    assert set(after) == {d.id for d in hub.datasets.values()}
    assert all(after[i] == sha for i, sha in before.items() if sha is not None)  # survived
    assert summary["unchanged"] == sum(1 for sha in before.values() if sha is not None)
    assert (
        summary["fetched"] + sum(summary["skipped"].values()) + summary["failed"]
        == N - summary["unchanged"]
    )
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT d.id, d.num_labels, COUNT(l.position) FROM datasets d "
            "LEFT JOIN labels l ON l.dataset_id = d.id GROUP BY d.id"
        ).fetchall()
        statuses = dict(
            conn.execute("SELECT status, COUNT(*) FROM datasets GROUP BY status").fetchall()
        )
    assert len(rows) == N
    assert all(num == count for _, num, count in rows)  # every label stored exactly once
    assert statuses.get("failed", 0) == 0
