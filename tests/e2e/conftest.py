"""End-to-end fixtures: a database seeded through the real code paths, the real server, and
Debian's headless Chromium driven by Playwright.

The database is built the way a user builds one, each step through the `task2box` CLI:
`migrate`, `seed` (the built-in catalog), `crawl` (against the fake Hub on 127.0.0.1, which
also serves a dataset whose labels and card text are HTML/script injection attempts),
`represent` and `train`. Then `task2box serve` runs on a free loopback port.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from benchmarks import serve_process
from benchmarks.browser import chromium_available, launch_chromium
from tests.fakehub import FakeHub
from tests.fakehub_catalog import FakeDataset, card_info, fixture_catalog, sha_of
from tests.fakehub_rows import FakeRows, rows_dataset

ROOT = Path(__file__).resolve().parents[2]
TRAIN_EPOCHS = 150
SERVER_START_S = 90.0

XSS_ID = "e2e-lab/xss-card"
XSS_LABELS = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=2</script>",
    "cat",
    "dog",
]
XSS_DESCRIPTION = '<script>window.__pwned=3</script> and <img src=x onerror="window.__pwned=4">'
XSS_PRETTY_NAME = "<b>bold</b><img src=x onerror=window.__pwned=5>"


def _hub_dataset(dataset_id: str, labels: list[str], downloads: int, **card: Any) -> FakeDataset:
    card_data = {"license": "mit", "dataset_info": card_info({"label": labels}, {"train": 1000})}
    return FakeDataset(
        id=dataset_id,
        sha=sha_of(dataset_id),
        card_data={**card_data, **card},
        downloads=downloads,
    )


E2E_HUB_DATASETS = [
    _hub_dataset("e2e-lab/animals", ["cat", "dog", "horse", "cow", "sheep", "bird", "fish"], 5000),
    _hub_dataset("e2e-lab/pets", ["cat", "dog"], 4000),
    _hub_dataset("e2e-lab/farm", ["horse", "cow", "sheep"], 3000),
    _hub_dataset(
        XSS_ID, XSS_LABELS, 2500, pretty_name=XSS_PRETTY_NAME, description=XSS_DESCRIPTION
    ),
]


def _cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"task2box {' '.join(args)} failed:\n{result.stderr[-4000:]}"
    return result.stdout


@pytest.fixture(scope="session")
def seeded_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment of a database with the catalog, crawled datasets and a trained 2-D map."""
    if not chromium_available():
        pytest.skip("/usr/bin/chromium is missing (scripts/ensure-test-tools.sh installs it)")
    # T2B_E2E_DIR keeps the seeded database between runs while working on the page.
    reuse = os.environ.get("T2B_E2E_DIR")
    home = Path(reuse) if reuse else tmp_path_factory.mktemp("e2e")
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "T2B_DATABASE_URL": f"sqlite:///{home / 'atlas.db'}",
        "T2B_DATA_DIR": str(home / "data"),
        "T2B_LOG_LEVEL": "WARNING",
        "T2B_MAP_DIMS": "[2]",
        "T2B_CRAWL_BUILDER_FALLBACK": "false",
        "HF_HOME": str(home / "hf"),
    }
    env.pop("T2B_ADMIN_TOKEN", None)  # job endpoints off: the page must not need them
    if reuse and (home / "atlas.db").exists():
        return env
    _cli(env, "migrate")
    _cli(env, "seed")
    with FakeHub([*fixture_catalog(), *E2E_HUB_DATASETS]) as hub:
        crawl_env = {
            **env,
            "T2B_HUB_ENDPOINT": hub.url,
            "T2B_VIEWER_ENDPOINT": hub.viewer_url,
            "HF_ENDPOINT": hub.url,
        }
        _cli(crawl_env, "crawl")
    _cli(env, "represent")
    _cli(env, "train", "--relation", "containment", "--dim", "2", "--epochs", str(TRAIN_EPOCHS))
    return env


@contextmanager
def serving(env: dict[str, str], log_name: str = "serve.log") -> Iterator[str]:
    """`task2box serve` with `env` on a free loopback port; yields its base URL."""
    log = Path(env["T2B_DATA_DIR"]).parent / log_name
    with serve_process.serving(env, log, start_timeout_s=SERVER_START_S, stop_timeout_s=15) as up:
        yield up.base


@pytest.fixture(scope="session")
def server(seeded_env: dict[str, str]) -> Iterator[str]:
    """`task2box serve` on a free loopback port; yields its base URL. Its dataset viewer is a
    closed loopback port: the page as it is offline."""
    with serving({**seeded_env, "T2B_VIEWER_ENDPOINT": "http://127.0.0.1:9"}) as base:
        yield base


# A fake dataset viewer serving rows with small generated PNGs, for the side panel's samples.
SAMPLES_ID = "e2e-lab/pets"


@pytest.fixture(scope="session")
def server_with_viewer(seeded_env: dict[str, str]) -> Iterator[str]:
    """A second server over the same database whose dataset viewer is a live fake Hub with
    image rows for `SAMPLES_ID` (the first server's viewer cannot be reached)."""
    labels = ["cat", "dog"]
    with FakeHub([rows_dataset(SAMPLES_ID, 4000, FakeRows(24, labels), labels)]) as hub:
        env = {**seeded_env, "T2B_VIEWER_ENDPOINT": hub.viewer_url}
        with serving(env, "serve-viewer.log") as base:
            yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    if not chromium_available():
        pytest.skip("/usr/bin/chromium is missing (scripts/ensure-test-tools.sh installs it)")
    with sync_playwright() as playwright, launch_chromium(playwright) as chromium:
        yield chromium


# Records what the page must never do: console errors, uncaught exceptions, CSP violations.
_WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@dataclass
class Watched:
    """A page and the problems seen on it."""

    page: Any
    errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Console errors, page errors and CSP violations so far."""
        csp = self.page.evaluate("window.__csp || []")
        return [*self.errors, *(f"CSP violation: {v}" for v in csp)]


def open_page(browser: Any, viewport: dict[str, int] | None = None) -> Watched:
    """A fresh page (own context) that records errors and CSP violations."""
    context = browser.new_context(
        viewport=viewport or {"width": 1280, "height": 800}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    watched = Watched(page)
    page.add_init_script(_WATCH_CSP)
    page.on(
        "console",
        lambda msg: (
            watched.errors.append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda exc: watched.errors.append(f"page error: {exc}"))
    return watched


@pytest.fixture
def watched(browser: Any) -> Generator[Watched, None, None]:
    """A 1280×800 page; the test fails if the page logged an error or broke the CSP."""
    view = open_page(browser)
    yield view
    problems = view.problems()
    view.page.context.close()
    assert problems == []
