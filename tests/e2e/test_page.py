"""The map page in real headless Chromium against the real server and a seeded database.

Each test opens its own page; the `watched` fixture fails a test whose page logged a console
error, threw, or violated the Content-Security-Policy.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.conftest import (
    ROOT,
    SAMPLES_ID,
    XSS_DESCRIPTION,
    XSS_ID,
    XSS_LABELS,
    XSS_PRETTY_NAME,
    Watched,
    open_page,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "build" / "e2e"
HIGHLIGHT_K = 10  # frontend/js/selection.js
HIGHLIGHT_MIN_SCORE = 0.05
WEAK_SCORE = 0.01

DRAWN = "document.getElementById('map').dataset.drawn"
# Rectangles per layer, read from the traces Plotly holds (null-separated rectangles).
LAYER_COUNTS = """
() => Object.fromEntries(document.getElementById('map').data
  .filter((t) => t.meta && t.meta.kind === 'boxes')
  .map((t) => [t.meta.key, t.x.filter((v) => v === null).length]))
"""
# Where a dataset's centre marker is on screen (Plotly's axis → pixel conversion).
CENTRE_PIXEL = """
(id) => {
  const gd = document.getElementById('map');
  const t = gd.data.find((d) => d.meta && d.meta.kind === 'centres');
  const k = t.customdata.indexOf(id);
  if (k < 0) return null;
  const fl = gd._fullLayout;
  const r = gd.getBoundingClientRect();
  return {
    x: r.left + fl._size.l + fl.xaxis.d2p(t.x[k]),
    y: r.top + fl._size.t + fl.yaxis.d2p(t.y[k]),
  };
}
"""
# The centre whose nearest neighbour (on screen) is farthest: hovering it is unambiguous.
LONELIEST = """
() => {
  const gd = document.getElementById('map');
  const t = gd.data.find((d) => d.meta && d.meta.kind === 'centres');
  const fl = gd._fullLayout;
  const px = t.x.map((x, k) => [fl.xaxis.d2p(x), fl.yaxis.d2p(t.y[k])]);
  let best = -1; let bestGap = -1;
  px.forEach(([x, y], k) => {
    if (x < 20 || y < 20 || x > fl._size.w - 20 || y > fl._size.h - 20) return;
    const gap = Math.min(...px.map(([u, v], j) => (j === k ? Infinity : Math.hypot(u - x, v - y))));
    if (gap > bestGap) { bestGap = gap; best = k; }
  });
  return t.customdata[best];
}
"""
SELECTED_DRAWN = """
() => document.getElementById('map').data.some((t) => t.meta.key === 'role:selected' && t.x.length)
"""
RANGES = (
    "() => { const l = document.getElementById('map').layout; "
    "return [...l.xaxis.range, ...l.yaxis.range]; }"
)


def _api(server: str, path: str, **params: Any) -> Any:
    response = httpx.get(f"{server}{path}", params=params, timeout=30)
    response.raise_for_status()
    return response.json()


def _map_size(server: str) -> int:
    maps = _api(server, "/api/maps")["items"]
    published = [m for m in maps if m["status"] == "published" and m["relation"] == "containment"]
    assert len(published) == 1, maps
    return int(published[0]["size"])


def _load(view: Watched, url: str) -> None:
    view.page.goto(url)
    view.page.wait_for_selector("#map[data-drawn]")
    view.page.wait_for_function("document.querySelector('#map .nsewdrag') !== null")


def _wait_panel(view: Watched, title: str) -> None:
    view.page.wait_for_function(
        "(t) => document.getElementById('panel-title').textContent === t "
        "&& !document.querySelector('#panel-body [role=status]')",
        arg=title,
    )


def _arranged(server: str, dataset: str, weak: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The containment lists as the panel shows them (selection.js arrangeLists): each dataset
    under the direction where it scores higher (ties: "contained in"); the ranked rows, or
    with `weak` the rows below 1% that fold into "N weak matches"."""
    lists = {
        direction: _api(
            server,
            f"/api/datasets/{dataset}/related",
            relation="containment",
            direction=direction,
            k=20,
        )["items"]
        for direction in ("contained_in", "contains")
    }
    best: dict[str, tuple[str, float]] = {}
    for direction, items in lists.items():
        for item in items:
            held = best.get(item["id"])
            if held is None or item["score"] > held[1]:
                best[item["id"]] = (direction, item["score"])
    return {
        direction: [
            item
            for item in items
            if item["id"] != dataset
            and best[item["id"]][0] == direction
            and (item["score"] < WEAK_SCORE) == weak
        ]
        for direction, items in lists.items()
    }


def _expected_roles(server: str, dataset: str, on_map: set[str]) -> dict[str, int]:
    """How many boxes each role should highlight, by the page's rule (selection.js)."""
    roles: dict[str, str] = {dataset: "selected"}
    arranged = _arranged(server, dataset)
    for direction, role in (("contained_in", "container"), ("contains", "contained")):
        for item in arranged[direction][:HIGHLIGHT_K]:
            if item["score"] >= HIGHLIGHT_MIN_SCORE and item["id"] not in roles:
                roles[item["id"]] = role
    counts: dict[str, int] = {}
    for dataset_id, role in roles.items():
        if dataset_id in on_map:
            counts[role] = counts.get(role, 0) + 1
    return counts


def test_page_loads_clean_and_draws_every_box(watched: Watched, server: str) -> None:
    page = watched.page
    csp = httpx.get(server + "/", timeout=10).headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    _load(watched, server + "/")
    size = _map_size(server)
    assert int(page.evaluate(DRAWN)) == size
    counts = page.evaluate(LAYER_COUNTS)
    assert sum(counts.values()) == size
    assert (
        page.evaluate(
            "document.getElementById('map').data.find((t) => t.meta.kind === 'centres').x.length"
        )
        == size
    )
    assert page.text_content("#map-status").startswith(f"Showing {size} of {size} datasets")
    assert page.is_hidden("#map-notice")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map.png"))
    if os.environ.get("T2B_SCREENSHOT") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "docs" / "screenshot.png"))
    assert watched.problems() == []


def test_hover_shows_the_card(watched: Watched, server: str) -> None:
    page = watched.page
    _load(watched, server + "/")
    dataset = page.evaluate(LONELIEST)
    point = page.evaluate(CENTRE_PIXEL, dataset)
    page.mouse.move(point["x"], point["y"])
    page.wait_for_selector("#map .hoverlayer .hovertext")
    card = page.text_content("#map .hoverlayer .hovertext") or ""
    detail = _api(server, f"/api/datasets/{dataset}")
    assert dataset in card
    assert f"{detail['num_labels']:,} classes" in card
    assert "License:" in card and "Downloads:" in card


def test_click_selects_and_highlights_related_boxes(watched: Watched, server: str) -> None:
    page = watched.page
    # Its label set is unique, so no other box shares its centre (cat/dog sets do).
    dataset = "e2e-lab/animals"
    box = _api(server, f"/api/datasets/{dataset}")["boxes"]
    (lo, hi) = next(iter(box.values()))["lo"], next(iter(box.values()))["hi"]
    # Open the map zoomed onto the box (not selected), so its centre is easy to hit.
    w, h = hi[0] - lo[0], hi[1] - lo[1]
    view = f"{lo[0] - w},{hi[0] + w},{lo[1] - h},{hi[1] + h}"
    _load(watched, f"{server}/?view={view}")
    point = page.evaluate(CENTRE_PIXEL, dataset)
    page.mouse.click(point["x"], point["y"])
    _wait_panel(watched, dataset)
    assert parse_qs(urlsplit(page.url).query)["dataset"] == [dataset]
    on_map = set(_api(server, f"/api/maps/{_published_id(server)}/boxes")["ids"])
    expected = _expected_roles(server, dataset, on_map)
    assert expected.get("container", 0) + expected.get("contained", 0) >= 1
    page.wait_for_function(SELECTED_DRAWN)
    counts = page.evaluate(LAYER_COUNTS)
    assert counts["role:selected"] == 1
    assert counts["role:container"] == expected.get("container", 0)
    assert counts["role:contained"] == expected.get("contained", 0)
    highlighted = sum(expected.values())
    # Zoomed in, only boxes near the view are drawn (frontend/js/boxes.js CULL_MARGIN); the
    # highlights always are.
    drawn = int(page.evaluate(DRAWN))
    assert counts["greyed"] == drawn - highlighted, "the rest is greyed"
    assert 0 < counts["greyed"] <= len(on_map) - highlighted
    assert all(counts[f"group:{g}"] == 0 for g in range(10)), "no colour groups while selected"
    assert page.locator("#panel ol.related[data-list=containers] li").count() >= 1
    # The containers list in its two groups, as the API ranks them: datasets sharing classes
    # (with the shared names), then the map's predictions; each row numbered in list order.
    # A dataset whose list holds both groups: the one clicked, else the first such one on the
    # map (how many datasets share classes depends on the catalog's size).
    shown = dataset
    rows = _arranged(server, dataset)["contained_in"]
    if all(it["measured"] for it in rows):
        for other in sorted(on_map):
            rows = _arranged(server, other)["contained_in"]
            if any(it["measured"] for it in rows) and not all(it["measured"] for it in rows):
                shown = other
                break
        _load(watched, f"{server}/?dataset={shown}")
        _wait_panel(watched, shown)
    measured = [it for it in rows if it["measured"]]
    assert measured and len(measured) < len(rows), shown
    group = "#panel ol.related[data-list=containers][data-group={}] li"
    first = page.locator(group.format("measured")).first
    assert page.locator(group.format("measured")).count() == len(measured)
    assert measured[0]["id"] in (first.text_content() or "")
    assert "Shared:" in (first.text_content() or "")
    predicted = page.locator(group.format("predicted"))
    assert predicted.count() == len(rows) - len(measured)
    badges = page.locator(
        "#panel ol.related[data-list=containers]:not([data-group=weak]) .rank-badge"
    ).all_text_contents()
    assert badges == [str(k + 1) for k in range(len(rows))]
    assert "Shared:" not in (predicted.first.text_content() or "")
    headings = page.locator("#panel .related-group").all_text_contents()
    assert "Shares these classes" in headings and "Predicted from the map" in headings


def _published_id(server: str) -> int:
    return int(_api(server, "/healthz")["published_maps"]["containment"])


def test_search_zooms_and_selects(watched: Watched, server: str) -> None:
    page = watched.page
    _load(watched, server + "/")
    before = page.evaluate(RANGES)
    page.fill("#search-input", "farm")
    option = page.locator("#search-list [role=option]", has_text="e2e-lab/farm")
    option.wait_for()
    page.keyboard.press("Enter")
    _wait_panel(watched, "e2e-lab/farm")
    page.wait_for_function("() => new URLSearchParams(location.search).has('view')")
    after = page.evaluate(RANGES)
    assert after[1] - after[0] < before[1] - before[0], "zoomed in on x"
    assert after[3] - after[2] < before[3] - before[2], "zoomed in on y"
    centre = page.evaluate(CENTRE_PIXEL, "e2e-lab/farm")
    plot = page.locator("#map .nsewdrag").bounding_box()
    assert plot is not None
    assert plot["x"] <= centre["x"] <= plot["x"] + plot["width"]
    assert plot["y"] <= centre["y"] <= plot["y"] + plot["height"]


def test_search_finds_datasets_by_class_name(watched: Watched, server: str) -> None:
    page = watched.page
    _load(watched, server + "/")
    page.fill("#search-input", "sheep")  # no dataset's name says so; two hold the class
    option = page.locator("#search-list [role=option]", has_text="e2e-lab/farm")
    option.wait_for()
    assert "Class: sheep" in (option.text_content() or "")
    assert page.locator("#search-list [role=option]", has_text="e2e-lab/animals").count() == 1
    option.dispatch_event("mousedown")
    _wait_panel(watched, "e2e-lab/farm")


def test_place_my_dataset_draws_a_dashed_box(watched: Watched, server: str) -> None:
    page = watched.page
    _load(watched, server + "/")
    page.click("#place-open")
    page.fill("#place-labels", "cat\ndog\nhorse")
    page.click("#place-submit")
    _wait_panel(watched, "Your dataset")
    placed = page.evaluate(
        "document.getElementById('map').data.find((t) => t.meta.kind === 'placed')"
    )
    assert placed["line"]["dash"] == "dash"
    assert len(placed["x"]) == 5 and placed["x"][0] == placed["x"][-1]
    assert placed["showlegend"] is True
    assert page.locator("#panel ol.related li").count() >= 1


def test_a_placement_survives_a_reload_through_the_url(watched: Watched, server: str) -> None:
    page = watched.page
    _load(watched, server + "/")
    page.click("#place-open")
    page.fill("#place-labels", "cat\ndog\nhorse")
    page.click("#place-submit")
    _wait_panel(watched, "Your dataset")
    assert parse_qs(urlsplit(page.url).query)["place"] == ["cat\ndog\nhorse"]
    page.reload()
    page.wait_for_selector("#map[data-drawn]")
    _wait_panel(watched, "Your dataset")
    page.wait_for_function(
        "() => document.getElementById('map').data"
        ".some((t) => t.meta.kind === 'placed' && t.x.length)"
    )
    assert page.locator("#panel ol.related li").count() >= 1
    # Escape closes the panel, takes the placement out of the URL and focuses the search box.
    page.keyboard.press("Escape")
    page.wait_for_selector("#panel", state="hidden")
    assert "place" not in parse_qs(urlsplit(page.url).query)
    assert page.evaluate("document.activeElement.id") == "search-input"


def test_a_lasso_in_the_url_lists_scores_and_exports_csv(
    watched: Watched, server: str, tmp_path: Path
) -> None:
    page = watched.page
    caught = ["e2e-lab/pets", "e2e-lab/farm", XSS_ID]
    _load(watched, f"{server}/?dataset=e2e-lab/animals&lasso={','.join(caught)}")
    page.wait_for_function(
        "() => document.getElementById('panel-title').textContent.endsWith('in the lasso')"
    )
    assert page.text_content("#panel-title") == "3 datasets in the lasso"
    assert page.text_content("#panel-subtitle") == "Scored against e2e-lab/animals"
    ids = page.locator("#panel ol.lasso .related-id").all_text_contents()
    assert sorted(ids) == sorted(caught)
    # pets and farm share classes with animals: scored, and listed before what is not.
    scores = page.locator("#panel ol.lasso .related-score").all_text_contents()
    assert len(scores) >= 2 and all("P(in)" in text for text in scores)
    assert set(ids[:2]) == {"e2e-lab/pets", "e2e-lab/farm"}
    assert page.evaluate("window.__pwned") is None
    with page.expect_download() as download:
        page.click("#panel button[data-action=export-lasso]")
    path = tmp_path / "lasso.csv"
    download.value.save_as(path)
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    header = "id,num_labels,num_examples,downloads,license,reference,score,p_in,p_contains"
    assert lines[0] == header
    assert len(lines) == 4
    assert any(line.startswith("e2e-lab/pets,2,") and ",e2e-lab/animals," in line for line in lines)
    # Selecting a row replaces the lasso in the URL.
    page.click("#panel ol.lasso .related-entry >> nth=0")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('lasso')")


def test_a_catalog_dataset_without_counts_says_they_are_unknown(
    watched: Watched, server: str
) -> None:
    page = watched.page
    _load(watched, f"{server}/?dataset=ethz/food101")  # from the catalog, never crawled here
    _wait_panel(watched, "ethz/food101")
    assert page.locator("#panel-body", has_text="not known (built-in catalog, offline)").count()
    _load(watched, f"{server}/?dataset=e2e-lab/pets")  # crawled: its counts are the Hub's
    _wait_panel(watched, "e2e-lab/pets")
    assert "not known" not in (page.text_content("#panel-body") or "")


def test_url_state_survives_a_reload(watched: Watched, server: str) -> None:
    page = watched.page
    query = "dataset=e2e-lab/farm&view=-1.5,1.5,-1,1&min_classes=2&top=20&color=classes"
    _load(watched, f"{server}/?{query}")
    _wait_panel(watched, "e2e-lab/farm")

    def state() -> dict[str, Any]:
        return {
            "query": parse_qs(urlsplit(page.url).query),
            "ranges": page.evaluate(RANGES),
            "min_classes": page.input_value("#filter-min-classes"),
            "top": page.input_value("#top-n"),
            "color": page.input_value("#color-by"),
            "panel": page.text_content("#panel-title"),
        }

    first = state()
    assert first["query"]["dataset"] == ["e2e-lab/farm"]
    assert first["ranges"] == pytest.approx([-1.5, 1.5, -1, 1])
    assert (first["min_classes"], first["top"], first["color"]) == ("2", "20", "classes")
    page.reload()
    page.wait_for_selector("#map[data-drawn]")
    _wait_panel(watched, "e2e-lab/farm")
    assert state() == first
    # Double-click shows the whole map again and takes the viewport out of the URL.
    plot = page.locator("#map .nsewdrag").bounding_box()
    assert plot is not None
    page.mouse.dblclick(plot["x"] + 5, plot["y"] + 5)
    page.wait_for_function("() => !new URLSearchParams(location.search).has('view')")
    whole = page.evaluate(RANGES)
    assert whole[1] - whole[0] > 3 and whole[3] - whole[2] > 2


def test_wheel_zoom_moves_the_canvas_then_redraws_the_view(watched: Watched, server: str) -> None:
    page = watched.page
    _load(watched, f"{server}/?view=-2,2,-2,2")
    plot = page.locator("#map .nsewdrag").bounding_box()
    assert plot is not None
    # Zoom in about a point left of and above the centre: it must stay put.
    x, y = plot["x"] + plot["width"] * 0.25, plot["y"] + plot["height"] * 0.25
    page.mouse.move(x, y)
    # Mid-burst the drawn canvas is only moved (a CSS transform), not redrawn. An observer
    # records it, so a slow machine that settles before we look cannot hide it.
    page.evaluate(
        """() => {
          window.sawScale = false;
          const canvases = document.querySelectorAll('#map .gl-container canvas');
          const seen = () => canvases.forEach((c) => {
            if (c.style.transform.includes('scale')) window.sawScale = true;
          });
          const observer = new MutationObserver(seen);
          canvases.forEach((c) => observer.observe(c, { attributeFilter: ['style'] }));
        }"""
    )
    for _ in range(3):
        page.mouse.wheel(0, -100)
    page.wait_for_function("() => window.sawScale === true")
    page.wait_for_function("() => new URLSearchParams(location.search).get('view') !== '-2,2,-2,2'")
    x0, x1, y0, y1 = page.evaluate(RANGES)
    factor = math.exp(-20 / 200) ** 3  # three notches, each clamped to 20 px as Plotly does
    assert x1 - x0 == pytest.approx(4 * factor, rel=1e-6)
    assert y1 - y0 == pytest.approx(4 * factor, rel=1e-6)
    # The point under the cursor stays put (within the pixel the event rounds it to).
    pixel = 4 / min(plot["width"], plot["height"])
    assert x0 + 0.25 * (x1 - x0) == pytest.approx(-1.0, abs=pixel)
    assert y1 - 0.25 * (y1 - y0) == pytest.approx(1.0, abs=pixel)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#map .gl-container canvas'))"
        ".every((c) => c.style.transform === '')"
    )


def test_untrusted_text_is_shown_as_text_and_runs_nothing(watched: Watched, server: str) -> None:
    page = watched.page
    detail = _api(server, f"/api/datasets/{XSS_ID}")
    assert set(XSS_LABELS) <= set(detail["labels"]), "the crawler kept the hostile labels"
    _load(watched, f"{server}/?dataset={XSS_ID}")
    _wait_panel(watched, XSS_ID)
    chips = page.locator("[data-testid=labels] li").all_text_contents()
    for label in XSS_LABELS:
        assert label in chips
    assert XSS_DESCRIPTION in (page.text_content("#panel .description") or "")
    assert page.text_content("#panel-subtitle") == XSS_PRETTY_NAME
    assert page.locator("#panel img, #panel script, #panel b").count() == 0
    # Its name on the map is text in an SVG annotation, escaped like every name there.
    names = {n["id"]: n["text"] for n in _names(page)}
    assert names[XSS_ID] == XSS_ID.split("/", 1)[1]
    assert page.locator("#map img, #map script, #map .annotation b").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_transfer_without_a_map_says_how_to_import(
    watched: Watched, server: str, tmp_path: Path
) -> None:
    from backend.transfer.csv_input import parse_scores

    page = watched.page
    _load(watched, server + "/")
    page.click("label[for=relation-transfer]")
    page.wait_for_selector("#map-notice:not([hidden])")
    assert page.text_content("#notice-title") == "No transfer map yet"
    body = page.text_content("#notice-body") or ""
    assert "A transfer score says how well" in body and "measured" in body
    assert "task2box import-transfer FILE.csv" in body
    assert "`" not in body  # commands are <code>, never raw backticks
    commands = page.locator("#notice-body code").all_text_contents()
    assert "task2box import-transfer FILE.csv" in commands
    assert parse_qs(urlsplit(page.url).query)["relation"] == ["transfer"]
    # The containment map stays drawn underneath, faded and inert.
    page.wait_for_function("Number(document.getElementById('map').dataset.drawn) > 0")
    opacity = page.evaluate("getComputedStyle(document.getElementById('map')).opacity")
    assert float(opacity) < 0.5
    # The card covers the map only, never the footer.
    card = page.locator("#map-notice").bounding_box()
    footer = page.locator(".map-footer").bounding_box()
    assert card is not None and footer is not None
    assert card["y"] + card["height"] <= footer["y"] + 0.5
    # The sample CSV downloads and parses with the importer; the guide link works.
    with page.expect_download() as download:
        page.click("#notice-body a[href='/guide/transfer-sample.csv']")
    sample = tmp_path / "sample.csv"
    download.value.save_as(sample)
    assert len(parse_scores(sample.read_bytes())) >= 5
    guide = page.locator("#notice-body a[href='/guide/transfer']").get_attribute("href")
    response = httpx.get(f"{server}{guide}", timeout=30)
    assert response.status_code == 200 and "<h1>Transfer maps</h1>" in response.text


def test_the_panel_shows_commands_as_the_card_does(watched: Watched, server: str) -> None:
    page = watched.page
    page.goto(f"{server}/?relation=transfer&dataset=e2e-lab/pets")
    page.wait_for_selector("#map-notice:not([hidden])")
    _wait_panel(watched, "e2e-lab/pets")
    page.wait_for_selector("#panel-body code")
    body = page.text_content("#panel-body") or ""
    assert "`" not in body
    commands = page.locator("#panel-body code").all_text_contents()
    assert "task2box import-transfer FILE.csv" in commands
    card = page.locator("#notice-body code").all_text_contents()
    assert "task2box import-transfer FILE.csv" in card


def test_keyboard_reaches_search_results_and_the_close_button(
    watched: Watched, server: str
) -> None:
    page = watched.page
    _load(watched, server + "/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "search-input"
    page.keyboard.type("pets")
    page.locator("#search-list [role=option]", has_text="e2e-lab/pets").wait_for()
    page.keyboard.press("Enter")
    _wait_panel(watched, "e2e-lab/pets")
    assert page.evaluate("document.activeElement.id") == "panel-title"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "panel-close"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in ("A", "BUTTON")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel", state="hidden")
    assert "dataset" not in parse_qs(urlsplit(page.url).query)


def test_exports_png_and_csv(watched: Watched, server: str, tmp_path: Path) -> None:
    page = watched.page
    _load(watched, f"{server}/?dataset=e2e-lab/pets")
    _wait_panel(watched, "e2e-lab/pets")
    with page.expect_download() as csv_download:
        page.click("#panel button[data-action=export]")
    csv_path = tmp_path / "related.csv"
    csv_download.value.save_as(csv_path)
    lines = csv_path.read_text(encoding="utf-8").strip().splitlines()
    assert lines[0].startswith("selected,relation,direction,map,rank,id,score")
    assert len(lines) > 1 and all(line.startswith("e2e-lab/pets,") for line in lines[1:])
    with page.expect_download(timeout=180_000) as png_download:
        page.click(".modebar-btn[data-title^='Download plot']")
    png_path = tmp_path / "map.png"
    png_download.value.save_as(png_path)
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_narrow_screen_shows_the_panel_as_a_bottom_sheet(browser: Any, server: str) -> None:
    view = open_page(browser, {"width": 400, "height": 800})
    page = view.page
    try:
        _load(view, f"{server}/?dataset=e2e-lab/pets")
        _wait_panel(view, "e2e-lab/pets")
        assert page.evaluate("document.documentElement.scrollWidth") <= 400, "no sideways scroll"
        sheet = page.locator("#panel").bounding_box()
        plot = page.locator("#map").bounding_box()
        assert sheet is not None and plot is not None
        # A sheet along the bottom edge, full width, under the map rather than over it.
        assert sheet["y"] + sheet["height"] == pytest.approx(800, abs=1)
        assert sheet["width"] == pytest.approx(400, abs=1)
        assert sheet["height"] <= 0.55 * 800
        assert plot["y"] + plot["height"] <= sheet["y"] + 1
        assert plot["height"] >= 180 and plot["width"] >= 360
        centre = page.evaluate(CENTRE_PIXEL, "e2e-lab/pets")
        assert plot["y"] <= centre["y"] <= plot["y"] + plot["height"], "the selection is in view"
        # Plotly's legend is left out on a phone: a one-line legend names the highlights.
        page.wait_for_selector("#map-legend:not([hidden])")
        legend = page.locator("#map-legend").bounding_box()
        assert legend is not None and legend["height"] < 24, "one line"
        assert "Selected dataset" in (page.text_content("#map-legend") or "")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "narrow.png"))
        assert view.problems() == []
    finally:
        page.context.close()


def _dataset_in_url(page: Any) -> list[str]:
    return parse_qs(urlsplit(page.url).query).get("dataset", [])


def _choose(view: Watched, query: str, dataset: str) -> None:
    """Select a dataset through the search box."""
    page = view.page
    page.fill("#search-input", query)
    page.locator("#search-list [role=option]", has_text=dataset).wait_for()
    page.keyboard.press("Enter")


def test_back_and_forward_walk_the_selections(watched: Watched, server: str) -> None:
    page = watched.page
    _load(watched, server + "/")
    _choose(watched, "farm", "e2e-lab/farm")
    _wait_panel(watched, "e2e-lab/farm")
    _choose(watched, "pets", "e2e-lab/pets")
    _wait_panel(watched, "e2e-lab/pets")
    assert _dataset_in_url(page) == ["e2e-lab/pets"]
    page.go_back()
    _wait_panel(watched, "e2e-lab/farm")
    assert _dataset_in_url(page) == ["e2e-lab/farm"]
    page.go_back()
    page.wait_for_selector("#panel", state="hidden")
    assert _dataset_in_url(page) == []
    page.go_forward()
    _wait_panel(watched, "e2e-lab/farm")
    assert _dataset_in_url(page) == ["e2e-lab/farm"]


def test_a_superseded_selection_is_aborted_without_an_error(watched: Watched, server: str) -> None:
    page = watched.page
    held: list[Any] = []
    failed: list[str] = []
    # The first dataset's record never arrives until the page gives up on it.
    page.route("**/api/datasets/e2e-lab/farm", lambda route: held.append(route))
    page.on("requestfailed", lambda request: failed.append(request.url))
    _load(watched, server + "/")
    _choose(watched, "farm", "e2e-lab/farm")
    page.wait_for_function(
        "() => document.getElementById('panel-title').textContent === 'e2e-lab/farm'"
    )
    assert len(held) == 1
    _choose(watched, "pets", "e2e-lab/pets")
    _wait_panel(watched, "e2e-lab/pets")
    page.wait_for_timeout(300)  # a stale answer would land now
    assert page.text_content("#panel-title") == "e2e-lab/pets"
    assert page.locator("#panel [role=alert]").count() == 0
    assert _dataset_in_url(page) == ["e2e-lab/pets"]
    assert any(url.endswith("/api/datasets/e2e-lab/farm") for url in failed), failed


# The names drawn on the map: each annotation's id (its `name`), text and screen rectangle.
NAMES = """
() => {
  const gd = document.getElementById('map');
  const notes = gd.layout.annotations || [];
  return [...gd.querySelectorAll('.annotation')].map((g) => {
    const r = g.querySelector('.annotation-text-g').getBoundingClientRect();
    const k = Number(g.getAttribute('data-index'));
    return {id: notes[k].name, text: g.textContent,
            x0: r.left, y0: r.top, x1: r.right, y1: r.bottom};
  });
}
"""
# The colour of a dataset's centre dot (its layer's colour).
DOT_COLOR = """
(id) => {
  const t = document.getElementById('map').data.find((d) => d.meta && d.meta.kind === 'centres');
  const k = t.customdata.indexOf(id);
  return k < 0 ? null : t.marker.color[k];
}
"""
ROLE_COLORS = {"selected": "#111827", "container": "#D55E00", "contained": "#009E73"}


def _names(page: Any) -> list[dict[str, Any]]:
    page.wait_for_function("document.querySelectorAll('#map .annotation').length > 0")
    names: list[dict[str, Any]] = page.evaluate(NAMES)
    return names


def _assert_apart(names: list[dict[str, Any]], plot: dict[str, float]) -> None:
    for k, a in enumerate(names):
        assert plot["x"] - 1 <= a["x0"] and a["x1"] <= plot["x"] + plot["width"] + 1, a
        assert plot["y"] - 1 <= a["y0"] and a["y1"] <= plot["y"] + plot["height"] + 1, a
        for b in names[k + 1 :]:
            apart = (
                a["x1"] <= b["x0"] + 0.5
                or b["x1"] <= a["x0"] + 0.5
                or a["y1"] <= b["y0"] + 0.5
                or b["y1"] <= a["y0"] + 0.5
            )
            assert apart, f"{a['text']} overlaps {b['text']}"


def test_names_are_drawn_without_overlaps_and_placed_again_after_a_zoom(
    watched: Watched, server: str
) -> None:
    page = watched.page
    _load(watched, server + "/")
    plot = page.locator("#map .nsewdrag").bounding_box()
    assert plot is not None
    names = _names(page)
    assert len(names) >= 5
    _assert_apart(names, plot)
    # The exported picture holds the same names (Plotly exports annotations as SVG text).
    svg = page.evaluate(
        "async () => decodeURIComponent(await window.Plotly.toImage("
        "document.getElementById('map'), {format: 'svg', width: 800, height: 500}))"
    )
    assert sum(f">{n['text']}<" in svg for n in names) >= len(names) // 2
    on_map = set(_api(server, f"/api/maps/{_published_id(server)}/boxes")["ids"])
    assert all(n["id"] in on_map and n["text"] == n["id"].split("/", 1)[1] for n in names)
    # Zoomed in (a wheel burst, then the relayout), the names are placed again for the view.
    before = {n["id"] for n in names}
    page.mouse.move(plot["x"] + plot["width"] / 2, plot["y"] + plot["height"] / 2)
    for _ in range(4):
        page.mouse.wheel(0, -100)
    page.wait_for_function("() => new URLSearchParams(location.search).has('view')")
    page.wait_for_function(
        "(before) => { const n = document.getElementById('map').layout.annotations || [];"
        " return n.length > 0 && n.map((a) => a.name).sort().join() !== before; }",
        arg=",".join(sorted(before)),
    )
    _assert_apart(_names(page), plot)


def test_highlights_agree_with_the_lists_and_rows_outline_their_box(
    watched: Watched, server: str
) -> None:
    page = watched.page
    dataset = "uoft-cs/cifar10"
    _load(watched, f"{server}/?dataset={dataset}")
    _wait_panel(watched, dataset)
    page.wait_for_function(SELECTED_DRAWN)
    arranged = _arranged(server, dataset)
    on_map = set(_api(server, f"/api/maps/{_published_id(server)}/boxes")["ids"])
    # Each highlighted row's box is drawn in its list's colour, with the row's rank badge.
    names = {n["id"]: n["text"] for n in _names(page)}
    assert names.get(dataset) == "cifar10"
    checked = 0
    for direction, key, role in (
        ("contained_in", "containers", "container"),
        ("contains", "contained", "contained"),
    ):
        rows = page.locator(f"#panel ol.related[data-list={key}] li[data-role={role}]")
        assert rows.count() >= 1, f"no {role} row"
        for k in range(rows.count()):
            row = rows.nth(k)
            other = row.get_attribute("data-id")
            assert other in {it["id"] for it in arranged[direction]}
            if other not in on_map:
                continue
            assert page.evaluate(DOT_COLOR, other) == ROLE_COLORS[role], other
            badge = row.locator(".rank-badge").text_content()
            assert names.get(other, "").startswith(f"{badge}. "), (other, names.get(other))
            checked += 1
    assert checked >= 4
    # The reported contradiction: Cat_and_Dog lies inside CIFAR-10 (listed under "Contains")
    # and covers a fifth of it; it is listed and drawn as inside, not as a container.
    inside = "Bingsu/Cat_and_Dog"
    if inside in on_map:
        assert page.locator(f"#panel ol[data-list=contained] li[data-id='{inside}']").count() == 1
        assert page.locator(f"#panel ol[data-list=containers] li[data-id='{inside}']").count() == 0
        assert page.evaluate(DOT_COLOR, inside) == ROLE_COLORS["contained"]
    # Rows below 1% fold into "N weak matches"; ranked rows are the rest.
    weak = _arranged(server, dataset, weak=True)["contains"]
    ranked = arranged["contains"]
    assert page.locator("#panel ol[data-list=contained]:not([data-group=weak]) li").count() == len(
        ranked
    )
    assert weak, "the catalog has datasets CIFAR-10 barely covers (svhn, rvl_cdip)"
    # Each list folds its own weak rows (the containers list has some too).
    summary = (
        page.text_content(
            "#panel details.weak-matches:has(ol[data-list=contained][data-group=weak]) summary"
        )
        or ""
    )
    assert summary.startswith(f"{len(weak)} weak match" if len(weak) > 1 else "One weak")
    assert page.locator("#panel ol[data-list=contained][data-group=weak] li").count() == len(weak)
    # Hovering a row outlines its box; leaving the row removes the outline.
    row = page.locator("#panel ol[data-list=contained] li[data-role=contained]").first
    other = row.get_attribute("data-id")
    box = _api(server, f"/api/datasets/{other}")["boxes"][str(_published_id(server))]
    row.hover()
    page.wait_for_function(
        "() => (document.getElementById('map').layout.shapes || []).length === 1"
        " && document.querySelectorAll('#map .shapelayer path').length === 1"
    )
    shape = page.evaluate("document.getElementById('map').layout.shapes[0]")
    assert [shape["x0"], shape["x1"], shape["y0"], shape["y1"]] == pytest.approx(
        [box["lo"][0], box["hi"][0], box["lo"][1], box["hi"][1]], abs=1e-3
    )
    page.mouse.move(5, 5)
    page.wait_for_function(
        "() => (document.getElementById('map').layout.shapes || []).length === 0"
    )
    # "Show only related" fades the rest and goes into the URL.
    page.check("#only-related")
    page.wait_for_function("() => new URLSearchParams(location.search).get('only') === 'related'")
    page.wait_for_function(
        "() => document.getElementById('map').data.some((t) => t.meta.key === 'greyed'"
        " && /,0\\.006\\)$/.test(t.fillcolor))"
    )
    # Choosing a row selects it; the outline of the row under the pointer does not linger.
    page.locator(f"#panel li[data-id='{other}'] .related-entry").click()
    _wait_panel(watched, other)
    assert page.evaluate("(document.getElementById('map').layout.shapes || []).length") == 0


def test_hover_anywhere_on_a_box_shows_its_card_and_a_click_closes_it(
    watched: Watched, server: str
) -> None:
    page = watched.page
    _load(watched, server + "/")
    # A point inside some drawn box but far from every centre dot (Plotly's own hover
    # answers within 24 px of a dot), and the innermost box holding it.
    target = page.evaluate(
        """() => {
          const gd = document.getElementById('map');
          const fl = gd._fullLayout;
          const t = gd.data.find((d) => d.meta && d.meta.kind === 'centres');
          const boxes = gd.data.filter((d) => d.meta && d.meta.kind === 'boxes');
          const rects = [];
          for (const tr of boxes) for (let k = 0; k + 4 < tr.x.length; k += 6)
            rects.push([tr.x[k], tr.x[k + 1], tr.y[k], tr.y[k + 2]]);
          const dots = t.x.map((x, k) => [fl.xaxis.d2p(x), fl.yaxis.d2p(t.y[k])]);
          const r = gd.getBoundingClientRect();
          for (let py = 30; py < fl._size.h - 30; py += 9) {
            for (let px = 30; px < fl._size.w - 30; px += 9) {
              if (dots.some(([u, v]) => Math.hypot(u - px, v - py) < 40)) continue;
              const x = fl.xaxis.p2d(px); const y = fl.yaxis.p2d(py);
              let best = null; let area = Infinity;
              for (const [x0, x1, y0, y1] of rects) {
                if (x < x0 || x > x1 || y < y0 || y > y1) continue;
                const a = (x1 - x0) * (y1 - y0);
                if (a < area) { area = a; best = [x0, x1, y0, y1]; }
              }
              if (!best) continue;
              const k = t.x.findIndex((cx, j) => Math.abs(cx - (best[0] + best[1]) / 2) < 1e-9
                && Math.abs(t.y[j] - (best[2] + best[3]) / 2) < 1e-9);
              return {x: r.left + fl._size.l + px, y: r.top + fl._size.t + py, id: t.customdata[k]};
            }
          }
          return null;
        }"""
    )
    assert target is not None, "no point of a box lies away from every dot"
    page.mouse.move(target["x"], target["y"])
    page.wait_for_selector("#map .hoverlayer .hovertext")
    assert target["id"] in (page.text_content("#map .hoverlayer .hovertext") or "")
    # A click closes the card.
    page.mouse.click(target["x"], target["y"])
    page.wait_for_selector("#map .hoverlayer .hovertext", state="detached")


def test_sample_images_load_from_the_viewer_and_name_their_class(
    watched: Watched, server_with_viewer: str
) -> None:
    page = watched.page
    _load(watched, f"{server_with_viewer}/?dataset={SAMPLES_ID}")
    _wait_panel(watched, SAMPLES_ID)
    strip = page.locator("#panel [data-samples]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#panel .sample-strip img')]"
        ".filter((i) => i.complete && i.naturalWidth > 0).length >= 2"
    )
    assert strip.is_visible()
    titles = set(
        page.locator("#panel .sample-strip img").evaluate_all("(l) => l.map((i) => i.title)")
    )
    assert titles == {"cat", "dog"}  # each image's class, shown on hover
    assert page.locator("#panel .sample-strip img[loading=lazy]").count() >= 2
    # The page's CSP allowed the viewer's host for these images (`watched` fails on a violation).


def test_offline_the_sample_strip_is_absent_not_broken(watched: Watched, server: str) -> None:
    page = watched.page
    _load(watched, f"{server}/?dataset={SAMPLES_ID}")
    _wait_panel(watched, SAMPLES_ID)
    answer = _api(server, f"/api/samples/{SAMPLES_ID}")
    assert answer["items"] == [] and answer["note"] == "the dataset viewer could not be reached"
    page.wait_for_timeout(500)  # the page's own request of it follows the lists
    assert page.locator("#panel [data-samples]").count() == 1
    assert not page.locator("#panel [data-samples]").is_visible()
    assert page.locator("#panel .sample-strip img").count() == 0
