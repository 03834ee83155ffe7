"""A full disk and a read-only database, for real: the commands say why in one line, exit 1.

Each case runs the real CLI (`python -m backend.cli`) as a subprocess inside its own mount
namespace (`unshare --mount`, plus `--user --map-root-user` when not root), where it mounts a
small tmpfs for the database:

- **full disk:** a tmpfs of a few hundred KiB, filled by the crawl itself;
- **read-only database file:** the file bind-mounted read-only over itself, its directory
  writable. Root ignores file permissions, so `chmod` would prove nothing; a read-only mount
  refuses writes to root too (EROFS), as a read-only volume does;
- **read-only data directory:** the whole tmpfs remounted read-only.

The namespace ends with the process, so no mount outlives a test, even a killed one. The
fake Hub runs in this process on 127.0.0.1 (the namespace shares the network). The tests skip,
saying why, where the kernel allows no mount namespace.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Generator
from pathlib import Path

import pytest

from tests.fakehub import FakeHub
from tests.fakehub_catalog import ROOT, synthetic_catalog

pytestmark = pytest.mark.slow

# Lines that would mean the real cause was masked or buried.
MASKS = ("Traceback", "PendingRollbackError", "prepared' state", "OperationalError")


def _unshare() -> list[str]:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("unshare or mount is not installed")
    command = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "-rm"]
    probe = subprocess.run(
        [*command, "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", "/mnt"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"no mount namespace here: {probe.stderr.decode().strip()[:200]}")
    return command


@pytest.fixture(scope="module")
def hub() -> Generator[FakeHub, None, None]:
    catalog = synthetic_catalog(300, viewer_fraction=0.0, skipped_fraction=0.0)
    with FakeHub(catalog, page_size=100) as server:
        yield server


def _run(hub: FakeHub, tmp_path: Path, script: str) -> dict[str, tuple[int, str]]:
    """Runs `script` (bash) in a fresh mount namespace; `t2b NAME ARGS...` runs the CLI with
    its output in `out/NAME`. Returns each NAME's (exit status, output)."""
    mnt, out = tmp_path / "mnt", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("T2B_", "HF_"))}
    env.update(
        {
            "HF_ENDPOINT": hub.url,
            "HF_HOME": str(tmp_path / "hf"),
            "T2B_HUB_ENDPOINT": hub.url,
            "T2B_VIEWER_ENDPOINT": hub.viewer_url,
            "T2B_DATABASE_URL": f"sqlite:///{mnt / 'atlas.db'}",
            "T2B_DATA_DIR": str(mnt / "data"),
            "T2B_CRAWL_BUILDER_FALLBACK": "false",
            "T2B_CRAWL_BATCH_SIZE": "20",
            "T2B_MAP_DIMS": "[2]",
            "T2B_MAP_MODEL": "vector",
            "T2B_TRAIN_VAL_FRACTION": "0",
            "T2B_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "MNT": str(mnt),
            "OUT": str(out),
            "PY": sys.executable,
        }
    )
    prelude = (
        "set -u\n"
        't2b() { name=$1; shift; timeout 180 "$PY" -m backend.cli "$@" >"$OUT/$name" 2>&1; '
        'echo $? >"$OUT/$name.rc"; }\n'
    )
    done = subprocess.run(
        [*_unshare(), "bash", "-c", prelude + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return {
        rc.stem: (int(rc.read_text()), (out / rc.stem).read_text())
        for rc in sorted(out.glob("*.rc"))
    }


def _one_clear_line(result: tuple[int, str], cause: str) -> str:
    """The line naming `cause`; the output around it is a few lines, with nothing masking it.

    A command may also log the job's failure (same cause) or add a hint on resuming; what
    matters is that the cause is said, early, and not buried or replaced.
    """
    status, output = result
    assert status == 1, output
    named = [line for line in output.splitlines() if cause in line]
    assert named, output
    assert not any(mask in output for mask in MASKS), output
    assert len(output.splitlines()) <= 6, output  # a progress bar, a log line, the error
    return named[-1]


def test_a_crawl_onto_a_full_disk_names_the_cause_and_keeps_its_batches(
    hub: FakeHub, tmp_path: Path
) -> None:
    results = _run(
        hub,
        tmp_path,
        'mount -t tmpfs -o size=1m tmpfs "$MNT"\n'
        "t2b migrate migrate\n"
        "t2b crawl crawl\n"
        # What the failed crawl had committed, read back before the namespace ends.
        '"$PY" -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); '
        "print(c.execute('select count(*) from datasets').fetchone()[0])\" "
        '"$MNT/atlas.db" >"$OUT/kept" 2>&1\n',
    )
    assert results["migrate"][0] == 0, results["migrate"][1]
    line = _one_clear_line(results["crawl"], "database or disk is full: ")
    assert str(tmp_path / "mnt" / "atlas.db") in line
    kept = int((tmp_path / "out" / "kept").read_text())
    assert 0 < kept < 300 and kept % 20 == 0  # whole batches, committed before the disk filled


def test_a_read_only_database_file_and_data_dir_name_the_cause(
    hub: FakeHub, tmp_path: Path
) -> None:
    db = tmp_path / "mnt" / "atlas.db"
    results = _run(
        hub,
        tmp_path,
        'mount -t tmpfs -o size=64m tmpfs "$MNT"\n'
        "t2b seed seed\n"
        # The whole data directory read-only: SQLite cannot make its -wal and -shm files.
        'mount -o remount,ro "$MNT"\n'
        "t2b dir-crawl crawl\n"
        "t2b dir-serve serve --port 1\n"
        'mount -o remount,rw "$MNT"\n'
        # The file alone read-only; its directory (for -wal and -shm) stays writable.
        'mount --bind "$MNT/atlas.db" "$MNT/atlas.db"\n'
        'mount -o remount,ro,bind "$MNT/atlas.db"\n'
        "t2b file-crawl crawl\n"
        "t2b file-train train --epochs 2\n",
    )
    assert results["seed"][0] == 0, results["seed"][1]
    for name in ("file-crawl", "file-train"):
        line = _one_clear_line(results[name], f"the database file {db} is read-only")
        assert "attempt to write a readonly database" in line
    for name in ("dir-crawl", "dir-serve"):
        line = _one_clear_line(results[name], f"cannot open the database file {db} ")
        assert "(data directory not writable?)" in line
