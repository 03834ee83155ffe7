"""`task2box serve` as a real process on a free loopback port, for the benchmarks and the
end-to-end tests: started, waited for on `/healthz`, and stopped (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A running server: its base URL and process id."""

    base: str
    pid: int


@contextmanager
def serving(
    env: Mapping[str, str],
    log: Path,
    *,
    args: Sequence[str] = (),
    start_timeout_s: float = 180.0,
    stop_timeout_s: float = 60.0,
) -> Iterator[Served]:
    """Runs `task2box serve` (plus `args`) with `env`, its output in `log`, until the block ends.

    Raises:
        RuntimeError: when the server exits or does not answer `/healthz` in time (the log
            says why).
    """
    port = free_port()
    command = [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port), *args],
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the server exited with {proc.returncode}; see {log}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer /healthz in time; see {log}")
                time.sleep(0.25)
            yield Served(base, proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=stop_timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
