"""A writer killed with SIGKILL mid-crawl loses at most the batch in flight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from backend.db import repository as repo
from backend.db.engine import make_engine, make_session_factory, session_scope

ROOT = Path(__file__).resolve().parents[3]
BATCH = 20

_WRITER = f"""
import sys
from backend.db.engine import make_engine, make_session_factory, session_scope
from backend.db import repository as repo
from tests.factories import T0, dataset_record

factory = make_session_factory(make_engine(sys.argv[1]))
for b in range(10_000):
    records = [
        dataset_record(f"org/d{{b}}-{{i}}", labels=tuple(f"l{{j}}" for j in range(50)))
        for i in range({BATCH})
    ]
    with session_scope(factory) as s:
        repo.save_crawl_batch(s, records, crawled_at=T0)
    print(b, flush=True)
"""


def test_sigkill_mid_crawl_keeps_every_committed_batch_whole(db_url: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, db_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    committed = 0
    deadline = time.monotonic() + 120
    while committed < 5 and time.monotonic() < deadline:  # let a few batches commit
        line = proc.stdout.readline()
        if not line:
            break
        committed = int(line) + 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert committed >= 5, "the writer did not get going"

    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    with session_scope(make_session_factory(engine)) as s:
        counts = repo.count_datasets(s)
        sets = repo.get_label_sets(s)
    engine.dispose()
    # Whole batches only, and every batch the writer reported committed is there. (The writer
    # may have committed a few more before the signal landed; none of them is partial.)
    assert counts.ok % BATCH == 0
    assert counts.ok >= committed * BATCH
    assert all(len(s.labels) == 50 for s in sets)
