"""kill -9 in the middle of `task2box image-features`, then a rerun: nothing half-indexed.

Both commands run as real subprocesses against a slow fake Hub, a SQLite file and a tiny
random-weight CLIP saved as a local model directory. The test SIGKILLs the job once some
datasets are indexed, checks every indexed file is complete, then reruns it to the end.
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

import numpy as np
import pytest

from tests.clip_fixtures import tiny_clip
from tests.fakehub import FakeHub
from tests.fakehub_catalog import ROOT
from tests.fakehub_rows import colour_datasets

N = 8
pytestmark = pytest.mark.slow


def _env(hub: FakeHub, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("T2B_", "HF_"))}
    env.update(
        {
            "HF_ENDPOINT": hub.url,
            "HF_HOME": str(tmp_path / "hf"),
            "T2B_HUB_ENDPOINT": hub.url,
            "T2B_VIEWER_ENDPOINT": hub.viewer_url,
            "T2B_DATABASE_URL": f"sqlite:///{tmp_path / 'atlas.db'}",
            "T2B_DATA_DIR": str(tmp_path / "data"),
            "T2B_CLIP_MODEL": str(tiny_clip(tmp_path / "tiny-clip")),
            "T2B_DEVICE": "cpu",
            "T2B_CRAWL_CONCURRENCY": "2",
            "T2B_TRANSFER_IMAGES_PER_CLASS": "3",
            "T2B_TRANSFER_STREAMING_FALLBACK": "false",
            "T2B_LOG_LEVEL": "WARNING",
        }
    )
    return env


def _indexed(db: Path) -> dict[str, tuple[str, str | None, int]]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT dataset_id, status, path, n_images FROM image_features")
            return {r[0]: (r[1], r[2], r[3]) for r in rows.fetchall()}
    except sqlite3.OperationalError:  # not created or not migrated yet
        return {}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_kill_9_mid_job_then_rerun_indexes_every_dataset_once(tmp_path: Path) -> None:
    db, data = tmp_path / "atlas.db", tmp_path / "data"
    with FakeHub(colour_datasets(N)) as hub:
        env = _env(hub, tmp_path)
        crawl = _cli(env, "crawl")
        assert crawl.returncode == 0, crawl.stderr.decode()[-2000:]
        hub.latency_s = 0.05  # every request is slow, so the job is caught halfway
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "image-features", "--json"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 180
        while len(_indexed(db)) < 2:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the job made no progress"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        before = _indexed(db)
        assert 2 <= len(before) < N
        for status, path, n_images in before.values():  # every indexed file is complete
            assert status == "ready" and path is not None
            with np.load(data / path) as f:
                assert f["features"].shape[0] == n_images == 9

        hub.latency_s = 0.0
        rerun = _cli(env, "image-features")
        assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
        summary = json.loads(rerun.stdout.decode().strip().splitlines()[-1])

    after = _indexed(db)
    assert set(after) == {f"colours/set-{i}" for i in range(N)}
    assert all(after[k] == v for k, v in before.items())  # what was indexed stays as it was
    assert summary["unchanged"] == len(before) and summary["ready"] == N - len(before)
    assert {status for status, _, _ in after.values()} == {"ready"}
    assert not list((data / "transfer-features").rglob(".tmp-*"))
