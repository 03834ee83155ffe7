"""Page speed in headless Chromium: time to first render and zoom/pan frame times.

The page is served by the real `mount_frontend` app; the few JSON endpoints it reads are
answered by the same server from a synthetic map of N boxes, built and validated through the
REST schemas (`MapBoxesPublic`) and serialized once, so the page parses exactly what the API
sends. That isolates the browser's work (what this benchmark measures) from the server's (see
the API benchmark). The answers go over real HTTP (not Playwright's request interception,
which turns the browser's HTTP cache off), so later visits can be measured too: *revisit*
loads the page again in the same (off-the-record) context, with plotly.js in its HTTP cache;
*returning* loads it in a persistent profile on disk, as a returning user's browser has, where
V8's code cache for plotly.js works.

*Current vs new in one run*: `baseline` folders are served the way the page was served before
the vendored gl2d bundle: their own index.html, the full plotly.js bundle from the `plotly`
wheel, and modules under unhashed, revalidated URLs (`serve_page(..., legacy=True)`). Both
servers sit behind the app's own gzip middleware, as `create_app()` does.

Targets at 10,000 boxes (issue 5): first render <= 2 s, zoom frame <= 50 ms.
"""

from __future__ import annotations

import json
import math
import random
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from backend.schemas import HealthPublic, MapBoxesPublic, MapPublic, MapsPublic
from backend.web import IMMUTABLE_CACHE, REVALIDATE_CACHE, mount_frontend
from benchmarks.browser import CHROMIUM_ARGS, CHROMIUM_PATH, launch_chromium

MAP_ID = 1
LICENSES = ["mit", "apache-2.0", "cc-by-4.0", "cc-by-nc-4.0", "cc0-1.0", "other", "openrail"]
ZOOM_STEPS = 30
SETTLE_NOTCHES = 3
PAN_STEPS = 40
# Chromium makes V8's code cache for a script when it runs again soon after its first run,
# and uses it from then on: the third load is the first that gets it.
REVISITS = 2
RETURNING_VISITS = 3
START_MARK = "atlas:start"
FIRST_RENDER_MARK = "atlas:first-render"
BOXES_LOADED_MARK = "atlas:boxes-loaded"
VIEWPORT = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class PageResult:
    """One row of the benchmark table (milliseconds)."""

    frontend: str
    boxes: int
    cold_transfer_kb: float
    scripts_ready_ms: float
    first_render_ms: float
    revisit_first_render_ms: float
    returning_first_render_ms: float
    data_to_render_ms: float
    zoom_frame_p50_ms: float
    zoom_frame_p95_ms: float
    zoom_settle_ms: float
    pan_frame_p50_ms: float
    pan_frame_p95_ms: float
    # Placing the dataset names after each zoom and pan (the page's `atlas:names` measures);
    # NaN for a page that draws no names.
    names_p50_ms: float = math.nan
    names_p95_ms: float = math.nan


def synthetic_map(n: int, seed: int = 0) -> dict[str, Any]:
    """A map of n boxes shaped like a real one: clusters of nested boxes, skewed downloads.

    Args:
        n: Number of boxes (>= 1).
        seed: Random seed.

    Returns:
        A `MapBoxesPublic` JSON object (validated by the schema).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = random.Random(seed)
    centres = [(rng.gauss(0, 4), rng.gauss(0, 4)) for _ in range(max(1, n // 200))]
    ids: list[str] = []
    lo: list[list[float]] = []
    hi: list[list[float]] = []
    for i in range(n):
        cx, cy = rng.choice(centres)
        x, y = cx + rng.gauss(0, 1.2), cy + rng.gauss(0, 1.2)
        w = math.exp(rng.gauss(-1.0, 0.7))
        h = w * math.exp(rng.gauss(0, 0.15))
        ids.append(f"owner{i % 97}/dataset-{i}")
        lo.append([x - w / 2, y - h / 2])
        hi.append([x + w / 2, y + h / 2])
    now = datetime(2026, 1, 1, tzinfo=UTC)
    meta = MapPublic(
        id=MAP_ID,
        relation="containment",
        dim=2,
        representation="label-text",
        status="published",
        size=n,
        created_at=now,
        published_at=now,
    )
    payload = MapBoxesPublic(
        map=meta,
        ids=ids,
        lo=lo,
        hi=hi,
        num_labels=[rng.randint(2, 1000) for _ in range(n)],
        num_examples=[
            None if rng.random() < 0.1 else int(10 ** rng.uniform(2, 6)) for _ in range(n)
        ],
        downloads=[int(10 ** rng.uniform(0, 6)) for _ in range(n)],
        license=[None if rng.random() < 0.15 else rng.randrange(len(LICENSES)) for _ in range(n)],
        licenses=LICENSES,
        measured=[True] * n,
    )
    return payload.model_dump(mode="json")


def _responses(boxes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    meta = boxes["map"]
    return {
        "/healthz": HealthPublic(
            status="ok", database=True, published_maps={"containment": MAP_ID, "transfer": None}
        ).model_dump(mode="json"),
        "/api/maps": MapsPublic.model_validate({"items": [meta]}).model_dump(mode="json"),
        f"/api/maps/{MAP_ID}/boxes": boxes,
        "/api/jobs": {"items": []},
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mount_legacy(app: FastAPI, folder: Path) -> None:
    """Serve a page folder as the app served it before the vendored gl2d bundle.

    index.html as written, `vendor/plotly.min.js` redirecting to the full bundle from the
    `plotly` wheel (cached for a year), and `js/`, `css/` revalidated on each load.
    """
    import plotly

    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    index = folder / "index.html"
    pinned = f"/vendor/plotly-{plotly.__version__}.min.js"

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def latest() -> RedirectResponse:
        return RedirectResponse(pinned, 307, headers={"Cache-Control": REVALIDATE_CACHE})

    @app.get(pinned, include_in_schema=False)
    def bundle() -> FileResponse:
        return FileResponse(
            full, media_type="text/javascript", headers={"Cache-Control": IMMUTABLE_CACHE}
        )

    for sub in ("js", "css"):
        app.mount(f"/{sub}", StaticFiles(directory=folder / sub), name=f"legacy-{sub}")


@contextmanager
def serve_page(
    frontend: Path | None = None, api: dict[str, str] | None = None, *, legacy: bool = False
) -> Iterator[str]:
    """Serve the page (static files, plotly.js and canned API answers) on loopback in a thread.

    Args:
        frontend: The page's folder; the repository's `frontend/` by default.
        api: JSON bodies by path (`/api/...` or `/healthz`), read at each request so the
            caller may swap them between pages; a path not in it answers 404.
        legacy: Serve `frontend` the way the page was served before the vendored gl2d
            bundle (see `_mount_legacy`); `frontend` is then required.

    Yields:
        The base URL.
    """
    answers = api if api is not None else {}
    app = FastAPI()

    @app.get("/healthz", include_in_schema=False)
    @app.get("/api/{path:path}", include_in_schema=False)
    def canned(request: Request) -> Response:
        body = answers.get(request.url.path)
        headers = {"Cache-Control": "no-store"}
        if body is None:
            return Response('{"error":"not found"}', 404, headers, "application/json")
        return Response(body, 200, headers, "application/json")

    # The app compresses every larger response it did not compress itself (create_app()).
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    if legacy:
        if frontend is None:
            raise ValueError("legacy=True needs the baseline's page folder")
        _mount_legacy(app, frontend)
    else:
        mount_frontend(app, frontend)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the page server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# In-page measurement. A zoom step is one wheel event on Plotly's drag layer, a pan step one
# mousemove of a drag; each is timed until the frame it produced has been painted (the next
# animation frame, then a task after it), so a step costs at least one frame (~16.7 ms).
_ZOOM_JS = """
async (steps) => {
  const drag = document.querySelector('#map .nsewdrag');
  const r = drag.getBoundingClientRect();
  const at = {
    clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true,
  };
  const painted = () => new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
  const times = [];
  for (let k = 0; k < steps; k += 1) {
    const t0 = performance.now();
    drag.dispatchEvent(new WheelEvent('wheel', { ...at, deltaY: k < steps / 2 ? -100 : 100 }));
    await painted();
    times.push(performance.now() - t0);
  }
  return times;
}
"""
# After the zoom steps: one more burst of notches in, then the time from its last notch until
# the page has drawn the final view (Plotly's `plotly_relayout` for the new ranges, then a
# painted frame). It includes whatever delay the page waits for the wheel to settle.
_SETTLE_JS = """
async (notches) => {
  const gd = document.getElementById('map');
  const drag = gd.querySelector('.nsewdrag');
  const r = drag.getBoundingClientRect();
  const at = {
    clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true,
  };
  const painted = () => new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
  const relayout = new Promise((res) => gd.once('plotly_relayout', res));
  const timeout = new Promise((res) => setTimeout(() => res('timeout'), 10000));
  let last = 0;
  for (let k = 0; k < notches; k += 1) {
    last = performance.now();
    drag.dispatchEvent(new WheelEvent('wheel', { ...at, deltaY: -100 }));
    await painted();
  }
  if ((await Promise.race([relayout, timeout])) === 'timeout') return null;
  await painted();
  return performance.now() - last;
}
"""
_PAN_JS = """
async (steps) => {
  const drag = document.querySelector('#map .nsewdrag');
  const r = drag.getBoundingClientRect();
  let x = r.left + r.width / 2;
  let y = r.top + r.height / 2;
  const painted = () => new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
  const mouse = (type, target) => target.dispatchEvent(new MouseEvent(type, {
    clientX: x, clientY: y, bubbles: true, cancelable: true, button: 0, buttons: 1, view: window,
  }));
  const before = JSON.stringify(document.getElementById('map').layout.xaxis.range);
  mouse('mousedown', drag);
  const times = [];
  for (let k = 0; k < steps; k += 1) {
    x += 3;
    y += 2;
    const t0 = performance.now();
    mouse('mousemove', document);
    await painted();
    times.push(performance.now() - t0);
  }
  mouse('mouseup', document);
  // The layout's ranges are written when the drag ends (a relayout); give it time.
  const range = () => JSON.stringify(document.getElementById('map').layout.xaxis.range);
  const pause = () => new Promise((res) => setTimeout(res, 100));
  for (let k = 0; k < 100 && range() === before; k += 1) await pause();
  return { times, moved: range() !== before, attached: drag.isConnected };
}
"""


# Durations of every placement of the names on the map (User Timing, `frontend/js/mapview.js`).
_NAMES_JS = "() => performance.getEntriesByName('atlas:names').map((e) => e.duration)"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _first_render(page: Any, base_url: str) -> tuple[float, float, float]:
    """Open the page; return its (first render, boxes loaded, scripts ready) marks in ms."""
    page.goto(f"{base_url}/")
    page.wait_for_function(
        f"performance.getEntriesByName('{FIRST_RENDER_MARK}').length > 0", timeout=120_000
    )
    marks = [
        page.evaluate(f"performance.getEntriesByName('{name}')[0].startTime")
        for name in (FIRST_RENDER_MARK, BOXES_LOADED_MARK, START_MARK)
    ]
    return float(marks[0]), float(marks[1]), float(marks[2])


# Bytes that crossed the network for the page and everything it loaded (0 for cache hits).
_TRANSFER_JS = """
() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
  .reduce((sum, entry) => sum + (entry.transferSize || 0), 0)
"""


def returning_render(base_url: str, playwright: Any, visits: int = RETURNING_VISITS) -> float:
    """Median first render of the visits after the first, in one persistent browser profile.

    Playwright's `new_context` contexts are off the record, and V8 was never seen using its
    code cache for plotly.js in them, so *revisit* there still compiles plotly.js. A returning
    user has a profile on disk, where the code cache works. This is that case.
    """
    with tempfile.TemporaryDirectory(prefix="t2b-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM_PATH), args=CHROMIUM_ARGS, viewport=VIEWPORT
        )
        try:
            page = context.new_page()
            times = [_first_render(page, base_url)[0] for _ in range(visits + 1)]
        finally:
            context.close()
    return statistics.median(times[1:])


def measure(
    base_url: str,
    api: dict[str, str],
    n: int,
    browser: Any,
    label: str = "frontend",
    playwright: Any = None,
) -> PageResult:
    """Load the page with n boxes, zoom and pan, then load it again; return the timings.

    Args:
        base_url: The page server (see `serve_page`).
        api: The server's canned answers; replaced with those of an n-box map.
        n: Number of boxes.
        browser: A Playwright browser.
        label: The frontend's name in the results.

    Returns:
        The row.
    """
    api.clear()
    api.update({path: json.dumps(body) for path, body in _responses(synthetic_map(n)).items()})
    context = browser.new_context(viewport=VIEWPORT)  # a fresh, empty HTTP cache
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        first, loaded, started = _first_render(page, base_url)
        transfer = float(page.evaluate(_TRANSFER_JS))
        drawn = int(page.get_attribute("#map", "data-drawn") or 0)
        if drawn < min(n, 500):
            raise RuntimeError(f"only {drawn} boxes drawn for a map of {n}")
        zoom = page.evaluate(_ZOOM_JS, ZOOM_STEPS)
        page.wait_for_timeout(2000)  # let the post-zoom re-render settle
        settle = page.evaluate(_SETTLE_JS, SETTLE_NOTCHES)
        page.wait_for_timeout(2000)
        # A re-render landing mid-drag replaces Plotly's drag layer and drops the drag; on a
        # loaded machine that can happen, so a dropped drag is retried.
        for _attempt in range(3):
            panned = page.evaluate(_PAN_JS, PAN_STEPS)
            if panned["moved"]:
                break
            page.wait_for_timeout(2000)
        if not panned["moved"]:
            raise RuntimeError(f"the synthetic drag did not pan the map ({n} boxes): {panned}")
        pan = panned["times"]
        page.wait_for_timeout(1000)  # names are placed once the view settles
        names = [float(v) for v in page.evaluate(_NAMES_JS)]
        page.close()
        revisit = math.nan
        for _visit in range(REVISITS):
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            revisit = _first_render(page, base_url)[0]
            page.close()
        if errors:
            raise RuntimeError(f"page errors: {errors}")
    finally:
        context.close()
    return PageResult(
        frontend=label,
        boxes=n,
        cold_transfer_kb=round(transfer / 1024, 1),
        scripts_ready_ms=round(started, 1),
        first_render_ms=round(first, 1),
        revisit_first_render_ms=round(revisit, 1),
        returning_first_render_ms=(
            round(returning_render(base_url, playwright), 1) if playwright else math.nan
        ),
        # The page fetches its data while plotly.js loads: time from when both were ready.
        data_to_render_ms=round(first - max(loaded, started), 1),
        zoom_frame_p50_ms=round(statistics.median(zoom), 1),
        zoom_frame_p95_ms=round(_percentile(zoom, 0.95), 1),
        zoom_settle_ms=round(settle, 1) if settle is not None else math.nan,
        pan_frame_p50_ms=round(statistics.median(pan), 1) if pan else math.nan,
        pan_frame_p95_ms=round(_percentile(pan, 0.95), 1) if pan else math.nan,
        names_p50_ms=round(statistics.median(names), 1) if names else math.nan,
        names_p95_ms=round(_percentile(names, 0.95), 1) if names else math.nan,
    )


def run_page_bench(
    sizes: list[int], frontends: list[Path] | None = None, baselines: list[Path] | None = None
) -> list[PageResult]:
    """Measure each map size in one browser, smallest first.

    Args:
        sizes: Map sizes (numbers of boxes).
        frontends: Page folders to compare (A/B); each size is measured for each folder in turn,
            so both see the same machine load. The repository's `frontend/` when None.
        baselines: Page folders served as the page was before the vendored gl2d bundle (a
            checkout of the older page's `frontend/`), measured in the same interleaving and
            labelled `current: <folder>`.

    Returns:
        One result per (size, folder).
    """
    from playwright.sync_api import sync_playwright

    folders: list[tuple[Path | None, bool]] = [(f, True) for f in baselines or []]
    folders += [(f, False) for f in frontends] if frontends else [(None, False)]
    results = []
    with ExitStack() as stack:
        apis: list[dict[str, str]] = [{} for _ in folders]
        urls = [
            stack.enter_context(serve_page(f, a, legacy=legacy))
            for (f, legacy), a in zip(folders, apis, strict=True)
        ]
        playwright = stack.enter_context(sync_playwright())
        browser = stack.enter_context(launch_chromium(playwright))
        for n in sorted(sizes):
            for (folder, legacy), base_url, api in zip(folders, urls, apis, strict=True):
                label = str(folder) if folder is not None else "frontend"
                label = f"current: {label}" if legacy else label
                results.append(measure(base_url, api, n, browser, label, playwright))
    return results
