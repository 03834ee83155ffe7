"""`task2box export-map`: one self-contained HTML file of a map, that opens offline."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from backend.cli.app import build_cli
from backend.config import get_settings
from backend.db import repository as repo
from backend.db.engine import session_factory_for, session_scope
from backend.serving.map_export import map_figure
from benchmarks.browser import CHROMIUM_ARGS, CHROMIUM_PATH, chromium_available
from tests.factories import T0, dataset_record

app = build_cli()
runner = CliRunner()
HOSTILE_LICENSE = '<img src=x onerror="window.__pwned=1">'
DATASETS = [
    ("lab/animals", 5000, ("cat", "dog", "horse", "cow"), "mit", [0.0, 0.0], [4.0, 3.0]),
    ("lab/pets", 4000, ("cat", "dog"), "apache-2.0", [0.5, 0.5], [2.0, 1.5]),
    ("lab/farm", 3000, ("horse", "cow"), HOSTILE_LICENSE, [2.2, 0.6], [3.8, 2.5]),
    ("lab/tiny-<b>", 10, ("cat", "x"), None, [6.0, 6.0], [6.5, 6.4]),
]


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Generator[str, None, None]:
    url = f"sqlite:///{tmp_path / 'cli' / 'atlas.db'}"
    monkeypatch.setenv("T2B_DATABASE_URL", url)
    monkeypatch.setenv("T2B_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    usable = [d for d in DATASETS if "<" not in d[0]]  # ids are validated on ingest
    with session_scope(session_factory_for(url)) as s:
        records = [
            dataset_record(i, downloads=dl, labels=labels, license=lic)
            for i, dl, labels, lic, _, _ in usable
        ]
        repo.save_crawl_batch(s, records=records, crawled_at=T0)
        record = repo.create_map(s, relation="containment", dim=2, representation="label-text")
        repo.save_map_boxes(
            s,
            map_id=record.id,
            dataset_ids=[d[0] for d in usable],
            lo=np.array([d[4] for d in usable]),
            hi=np.array([d[5] for d in usable]),
        )
        repo.finish_map(s, map_id=record.id, metrics={})
        repo.publish_map(s, map_id=record.id)
    yield url
    get_settings.cache_clear()


def test_export_writes_one_self_contained_file(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "share" / "map.html"
    result = runner.invoke(app, ["export-map", str(out), "--color", "classes"])
    assert result.exit_code == 0, result.output
    assert "3 datasets of map 1" in result.output
    text = out.read_text(encoding="utf-8")
    assert "<script src=" not in text and len(text) > 1_000_000  # plotly.js is inline
    assert "Colour: classes" in text
    assert HOSTILE_LICENSE not in text and "&lt;img src=x" in text


def test_export_keeps_the_top_n_most_downloaded(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "top.html"
    result = runner.invoke(app, ["export-map", str(out), "--map", "1", "--top", "2"])
    assert result.exit_code == 0, result.output
    assert "2 datasets of map 1" in result.output
    text = out.read_text(encoding="utf-8").replace("\\u002f", "/")  # plotly escapes slashes
    assert "lab/animals" in text and "lab/pets" in text and "lab/farm" not in text


def test_export_says_what_is_wrong(db_url: str, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["export-map", str(tmp_path / "x.html"), "--map", "99"])
    assert missing.exit_code == 1 and "no map with id 99" in missing.output
    color = runner.invoke(app, ["export-map", str(tmp_path / "x.html"), "--color", "rainbow"])
    assert color.exit_code == 1 and "color must be one of license, size, classes" in color.output
    assert runner.invoke(app, ["export-map", str(tmp_path / "x.html"), "--top", "0"]).exit_code == 2
    assert not (tmp_path / "x.html").exists()


def test_hostile_names_are_escaped_in_text_and_hover() -> None:
    n = len(DATASETS)
    boxes = repo.MapBoxes(
        map=_map_record(),
        dataset_ids=[d[0] for d in DATASETS],
        lo=np.array([d[4] for d in DATASETS], dtype=np.float32),
        hi=np.array([d[5] for d in DATASETS], dtype=np.float32),
        num_labels=np.array([len(d[2]) for d in DATASETS]),
        num_examples=np.array([100, -1, 5000, 20]),
        downloads=np.array([d[1] for d in DATASETS]),
        licenses=tuple(d[3] for d in DATASETS),
    )
    fig = map_figure(boxes, color="license")
    names = next(t for t in fig.data if t.name == "Names")
    cards = next(t for t in fig.data if t.name == "Datasets")
    assert list(names.text) == ["animals", "pets", "farm", "tiny-&lt;b&gt;"]
    assert len(cards.hovertext) == n
    assert all("<b>lab/" in card for card in cards.hovertext)  # our markup, their text escaped
    assert "tiny-&lt;b&gt;" in cards.hovertext[3] and "<b>lab/tiny-<b>" not in cards.hovertext[3]
    assert "&lt;img" in cards.hovertext[2]
    legend = {t.name for t in fig.data if t.mode == "lines"}
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in legend


def _map_record() -> Any:
    from datetime import UTC, datetime

    return repo.MapRecord(
        id=7,
        relation="containment",
        dim=2,
        representation="label-text",
        status="published",
        params={},
        metrics={},
        num_boxes=len(DATASETS),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
        error=None,
        has_checkpoint=False,
    )


@pytest.mark.slow
@pytest.mark.skipif(not chromium_available(), reason="/usr/bin/chromium is not installed")
def test_the_export_opens_offline_in_chromium_and_shows_the_names(
    db_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    out = tmp_path / "map.html"
    assert runner.invoke(app, ["export-map", str(out)]).exit_code == 0
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM_PATH), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            def route(r: Any) -> None:
                requests.append(r.request.url)
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    r.abort()

            page.route("**/*", route)
            page.goto(out.as_uri())
            page.wait_for_selector(".main-svg .textpoint")
            shown = page.locator(".textpoint text").all_text_contents()
            assert {"animals", "pets", "farm"} <= set(shown)
            assert page.evaluate("window.__pwned") is None
            assert page.locator(".legendtext", has_text="<img").count() == 1  # shown as text
            assert errors == []
        finally:
            browser.close()
    assert all(url.startswith("file://") for url in requests), requests
