"""A throwaway Postgres server for the tests: `initdb` and `pg_ctl` in a temp dir, on a free port.

Debian installs the server binaries under `/usr/lib/postgresql/<version>/bin` (off `PATH`);
`scripts/ensure-test-tools.sh` installs the `postgresql` package when it is missing. The server
refuses to run as root, so when the tests run as root (CI does) every server command runs as
the unprivileged `postgres` user through `runuser`, in a directory that user owns. It listens on
127.0.0.1 only, trusts local connections (nothing else can reach it) and runs with fsync off:
a test database that dies with its server loses nothing of value. The fixture skips, with the
reason, only when the binaries, the driver or an unprivileged user are missing or the server
does not start.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

_USER = "postgres"  # the unprivileged account Debian's package creates
_DATABASE = "atlas"
_START_TIMEOUT_S = 60


def _binaries() -> Path | None:
    """The newest installed server's bin directory, or one on PATH."""
    versions = [Path(p).parent.parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    numbered = [v for v in versions if v.name.isdigit()]
    if numbered:
        return max(numbered, key=lambda v: int(v.name)) / "bin"
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    def __init__(self, bin_dir: Path, root: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.data = root / "data"
        self.log = root / "server.log"
        self.socket_dir = root / "socket"
        self.port = port
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(_USER)
            except KeyError:
                pytest.skip(f"running as root and there is no {_USER!r} user to run Postgres")
            if shutil.which("runuser") is None:
                pytest.skip("running as root and runuser is missing")
            os.chown(root, account.pw_uid, account.pw_gid)
            self.as_user = ["runuser", "-u", _USER, "--"]
        self.socket_dir.mkdir()
        if self.as_user:
            account = pwd.getpwnam(_USER)
            os.chown(self.socket_dir, account.pw_uid, account.pw_gid)

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_user, str(self.bin_dir / tool), *args],
            capture_output=True,
            text=True,
            timeout=_START_TIMEOUT_S,
            check=False,
        )

    def start(self) -> None:
        init = self.run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            _USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if init.returncode != 0:
            pytest.skip(f"initdb failed: {init.stderr.strip()[-400:]}")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        started = self.run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start"
        )
        if started.returncode != 0:
            log = self.log.read_text(errors="replace")[-400:] if self.log.exists() else ""
            pytest.skip(f"pg_ctl start failed: {started.stderr.strip()[-300:]} {log}")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")


@pytest.fixture(scope="module")
def postgres_url() -> Generator[str, None, None]:
    """`postgresql+psycopg://...` of a fresh, empty database on a throwaway local server."""
    try:
        import psycopg
    except ImportError:
        pytest.skip("the psycopg driver is not installed (pip install '.[dev]')")
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip("Postgres is not installed (scripts/ensure-test-tools.sh installs it)")
    root = Path(tempfile.mkdtemp(prefix="t2b-pg-"))
    server = _Server(bin_dir, root, _free_port())
    try:
        server.start()
        admin = f"host=127.0.0.1 port={server.port} user={_USER} dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {_DATABASE}")
        yield f"postgresql+psycopg://{_USER}@127.0.0.1:{server.port}/{_DATABASE}"
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
