"""`task2box up` as a user runs it: a real process, a fresh database, the page served at once.

Offline (the Hub endpoint refuses connections) it seeds the catalog, says so once, and fits a
quick first map in the background; online (the fake Hub on 127.0.0.1) it also crawls and fits
the full map. Both are stopped with Ctrl+C (SIGINT) and must exit cleanly.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from backend.catalog import load_catalog
from backend.cli.up import page_url
from tests.fakehub import FakeHub
from tests.fakehub_fixtures import fake_hub

__all__ = ["fake_hub"]
ROOT = Path(__file__).resolve().parents[3]
_WAIT_S = 300.0
_URL = re.compile(r"Serving the map at (http://127\.0\.0\.1:\d+/)")


class _Up:
    """A running `task2box up` with its collected stderr."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, what: Callable[[], Any], label: str) -> Any:
        deadline = time.monotonic() + _WAIT_S
        while time.monotonic() < deadline:
            value = what()
            if value:
                return value
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"gave up waiting for {label}; output:\n{self.output}")

    def url(self) -> str:
        def found() -> str | None:
            match = _URL.search(self.output)
            return match.group(1) if match else None

        return str(self.wait_for(found, "the URL"))

    def stop(self) -> bool:
        """Ctrl+C; True when the server shut down cleanly and the process ended as interrupted.

        uvicorn re-raises the signal after its shutdown, so the exit status is the shell's
        130 (or -2 from a signal death), as for any interrupted command.
        """
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(60)
        self._reader.join(10)
        clean = code in (130, -signal.SIGINT) and "Application shutdown complete" in self.output
        if not clean:  # say why, not just `assert False`
            tail = "\n".join(self.lines[-40:])
            raise AssertionError(f"`task2box up` exited with {code}; its output ends:\n{tail}")
        return clean


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by this module's runs, so label embeddings are computed once."""
    return tmp_path_factory.mktemp("up-data")


@contextmanager
def _up(tmp_path: Path, data_dir: Path, **env: str) -> Iterator[_Up]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("T2B_", "HF_"))}
    base |= {
        "PYTHONPATH": str(ROOT),
        "T2B_DATABASE_URL": f"sqlite:///{tmp_path / 'atlas.db'}",
        "T2B_DATA_DIR": str(data_dir),
        "T2B_FIRST_MAP_EPOCHS": "4",
        "T2B_TRAIN_EPOCHS": "6",
        "T2B_LOG_LEVEL": "INFO",
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "COLUMNS": "200",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "up", "--port", "0"],
        cwd=tmp_path,  # no stray .env is read
        env=base | env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl+C as in a terminal, however this test was started: a runner launched in the
        # background (`cmd &`, nohup) hands SIGINT down ignored, and then uvicorn's re-raise of
        # the signal after its shutdown is ignored too and the process exits 0.
        preexec_fn=_default_sigint,
    )
    up = _Up(process)
    try:
        yield up
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def _published(url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _get(url + "api/maps")["items"]
    return [m for m in items if m["status"] == "published" and m["relation"] == "containment"]


@pytest.mark.slow
def test_offline_first_run_serves_at_once_and_trains_the_catalog_map(
    tmp_path: Path, data_dir: Path
) -> None:
    hub = f"http://127.0.0.1:{_closed_port()}"
    with _up(tmp_path, data_dir, T2B_HUB_ENDPOINT=hub) as up:
        url = up.url()
        health = _get(url + "healthz")
        assert health["database"] is True  # served before any map exists
        maps = up.wait_for(lambda: _published(url), "the first map")
        assert maps[0]["size"] == len(load_catalog())  # the built-in catalog
        assert maps[0]["params"]["epochs"] == 4  # the quick first map
        up.wait_for(lambda: "map published" in up.output, "the job's end")
        jobs = _get(url + "api/jobs")["items"]
        assert [(j["kind"], j["status"]) for j in jobs] == [("train", "succeeded")]
        assert _get(url + "healthz")["status"] == "ok"
        assert up.stop()
    out = up.output
    assert "schema: created" in out and f"seeded {len(load_catalog())} datasets" in out
    assert out.count("is not reachable") == 1 and hub in out
    assert "GET /healthz 200" in out  # one log line per request
    assert "job 1 (train) 0/" in out  # job progress lines

    # A second start finds everything in place: nothing to seed, nothing to train.
    with _up(tmp_path, data_dir, T2B_HUB_ENDPOINT=hub) as again:
        url = again.url()
        assert _get(url + "healthz")["status"] == "ok"
        assert again.stop()
    assert "schema: up to date" in again.output and "seeded" not in again.output
    assert "started:" not in again.output


@pytest.mark.slow
def test_online_first_run_crawls_then_fits_the_full_map(
    tmp_path: Path, data_dir: Path, fake_hub: FakeHub
) -> None:
    env = {
        "T2B_HUB_ENDPOINT": fake_hub.url,
        "T2B_VIEWER_ENDPOINT": fake_hub.viewer_url,
        "T2B_CRAWL_BUILDER_FALLBACK": "false",
        "T2B_CRAWL_ON_START": "50",
        "HF_ENDPOINT": fake_hub.url,
    }
    with _up(tmp_path, data_dir, **env) as up:
        url = up.url()

        def three_jobs_done() -> list[dict[str, Any]] | None:
            jobs: list[dict[str, Any]] = _get(url + "api/jobs")["items"]
            finished = [j for j in jobs if j["status"] not in ("queued", "running")]
            return jobs if len(finished) == 3 else None

        jobs = up.wait_for(three_jobs_done, "quick fit, crawl and full fit")
        assert [(j["kind"], j["status"]) for j in reversed(jobs)] == [
            ("train", "succeeded"),
            ("crawl", "succeeded"),
            ("train", "succeeded"),
        ]
        crawl = jobs[1]
        assert crawl["result"]["fetched"] > 0
        published = _published(url)
        assert sorted(m["dim"] for m in published) == [2, 5]  # T2B_MAP_DIMS' default
        ok = _get(url + "api/datasets?limit=1")["total"]
        for current in published:
            assert current["params"]["epochs"] == 6  # the full fit replaced the quick map
            # Every dataset with labels has a box: the catalog plus what the crawl added
            # (the fake Hub also serves some catalog ids, which the crawl refreshes in place,
            # and marks its gated ImageNet skipped: so at least the catalog's size, not more).
            assert current["size"] == ok >= len(load_catalog())
        assert up.stop()
    assert "is reachable" in up.output and "not reachable" not in up.output
    assert "committed" in up.output  # the crawl logs its batches


def test_the_url_of_a_wildcard_address_is_localhost() -> None:
    assert page_url("0.0.0.0", 8000) == "http://localhost:8000/"
    assert page_url("127.0.0.1", 9) == "http://127.0.0.1:9/"
    assert page_url("::1", 8000) == "http://[::1]:8000/"
