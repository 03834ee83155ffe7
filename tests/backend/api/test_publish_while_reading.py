"""Publishing a map while readers read: each answer comes wholly from the old map or wholly
from the new one, and no request fails."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from backend.jobs.train import TrainRequest, run_train
from backend.main import create_app
from tests.atlas_fixtures import SeededAtlas
from tests.live_server import live_server

QUERY = "microsoft/cats_vs_dogs"
READERS = 4
# Once the new map is committed, each reader goes on for this many rounds and at least this
# long: a publish by another process (here: the test thread, not the app's job runner) is
# seen within the map store's 1 s refresh.
AFTER_PUBLISH = 40
AFTER_PUBLISH_S = 2.5


def _boxes_key(body: dict[str, Any]) -> tuple[Any, ...]:
    return body["map"]["id"], tuple(body["ids"]), str(body["lo"]), str(body["hi"])


def test_readers_see_the_old_or_the_new_map_never_a_mix(
    seeded_atlas: SeededAtlas, tmp_path: Path
) -> None:
    settings = seeded_atlas.copy(tmp_path / "db")
    old_top = seeded_atlas.map_ids[max(seeded_atlas.map_ids)]
    related_url = f"/api/datasets/{QUERY}/related"
    published = threading.Event()
    seen_related: list[dict[str, Any]] = []
    seen_boxes: list[dict[str, Any]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def read(base: str) -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            remaining, until = AFTER_PUBLISH, None
            while remaining > 0 or until is None or time.monotonic() < until:
                if published.is_set():
                    remaining -= 1
                    until = until or time.monotonic() + AFTER_PUBLISH_S
                related = http.get(related_url, params={"k": 10})
                maps = http.get("/api/maps", params={"status": "published"})
                results = [related, maps]
                if maps.status_code == 200:
                    top = max(maps.json()["items"], key=lambda m: m["dim"])
                    results.append(http.get(f"/api/maps/{top['id']}/boxes"))
                with lock:
                    failures.extend(
                        f"{r.request.url.path}: {r.status_code} {r.text[:200]}"
                        for r in results
                        if r.status_code != 200
                    )
                    if related.status_code == 200:
                        seen_related.append(related.json())
                    if len(results) == 3 and results[2].status_code == 200:
                        seen_boxes.append(results[2].json())

    with live_server(create_app(settings)) as base:
        readers = [threading.Thread(target=read, args=(base,)) for _ in range(READERS)]
        for reader in readers:
            reader.start()
        summary = run_train(
            settings, TrainRequest(dims=(max(seeded_atlas.map_ids),), epochs=3)
        )  # publishes a new top map while the readers run
        published.set()
        for reader in readers:
            reader.join()
        new_top = summary.maps[0].map_id
        with httpx.Client(base_url=base) as http:
            expected = {
                m: http.get(related_url, params={"k": 10, "map": m}).json()
                for m in (old_top, new_top)
            }
            expected_boxes = {
                m: _boxes_key(http.get(f"/api/maps/{m}/boxes").json()) for m in (old_top, new_top)
            }

    assert failures == []
    assert {r["map"]["id"] for r in seen_related} == {old_top, new_top}
    for response in seen_related:
        assert response == expected[response["map"]["id"]]
    assert {b["map"]["id"] for b in seen_boxes} <= {old_top, new_top}
    assert new_top in {b["map"]["id"] for b in seen_boxes}
    for body in seen_boxes:
        assert _boxes_key(body) == expected_boxes[body["map"]["id"]]
