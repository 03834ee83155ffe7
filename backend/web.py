"""Serve the map page: `frontend/` at `/`, the vendored plotly.js, security headers.

The page is static (no build step, no CDN). plotly.js is the partial `gl2d` bundle vendored in
`frontend/vendor/` (`scripts/vendor-plotly.sh`), checked against the hash its manifest
records before it is served, so the browser never fetches code from a third party. Every
response, API included, carries a Content-Security-Policy whose `script-src` is `'self'` only:
Hub text that slipped into the page could not run even if it were ever inserted as HTML.

Caching: `index.html` is revalidated on every load and names its assets by content, so they
are cached for a year (`immutable`) and a changed file gets a new URL. The page's modules
live under `/static/<hash of js/ and css/>/` (they import each other by relative path, so
one prefix keeps those imports valid); plotly.js under its own sha256, so a page edit never
makes browsers download it again. Each file is compressed once (brotli, else gzip).

`create_app()` calls `mount_frontend(app)` *after* including the API routers: the page's
routes are exact paths plus `/static`, `/vendor`, `/js` and `/css`, so the order only matters
for `/`.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from markdown_it import MarkdownIt
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.assets import AssetCache, Encoded, encode

FRONTEND_DIR = Path(__file__).resolve().parents[1] / "frontend"
# Guides the page links to (the transfer view's empty state), shipped with the package.
DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"
# name in the URL -> (file under DOCS_DIR, title); only these are served.
_GUIDES = {"transfer": ("transfer.md", "Transfer maps")}
_GUIDE_FILES = {"transfer-sample.csv": "transfer-sample.csv"}
_GUIDE_STYLE = (
    "body{font:16px/1.55 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "color:#1f2933}pre{background:#eef1f5;padding:.8rem;overflow:auto;border-radius:6px}"
    "code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}"
)

# Scripts come from our own origin only: no inline script, no `javascript:` URL, no CDN.
# `'unsafe-eval'` is there for one reason: the WebGL traces (`scattergl`) draw through regl,
# which compiles its draw commands with `Function(...)` at run time. The vendored gl2d bundle,
# like plotly's other non-"strict" bundles, has empty `reglPrecompiled` tables, so without it
# every WebGL trace fails with "WebGL is not supported". The page never evaluates data;
# untrusted text reaches the DOM as text only.
# Styles may be inline because plotly.js injects <style> rules and sets style attributes.
# `blob:`/`data:` images are the PNG export and Plotly's modebar icons.
PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from a CDN and bootstrap them with
# an inline script. They show our own OpenAPI schema (no Hub text), so they get a looser policy
# of their own instead of loosening the page's.
_DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {_DOCS_CDN}",
        f"style-src 'self' 'unsafe-inline' {_DOCS_CDN} https://fonts.googleapis.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "font-src 'self' https://fonts.gstatic.com",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)
_DOCS_PATHS = ("/docs", "/redoc")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

# A content-hashed URL never changes content, so browsers may keep it for a year; the page
# itself (and any unhashed URL) is revalidated on each load, so a deploy shows at once.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
REVALIDATE_CACHE = "no-cache"
VENDOR_MANIFEST = Path("vendor") / "plotly-gl2d.json"
# The page's module and style folders: served under one content-hashed prefix.
_PAGE_FOLDERS = ("js", "css")
# `src="js/app.js"`, `href="css/app.css"`: the relative asset URLs index.html writes.
_ASSET_ATTR = re.compile(r'\b(src|href)="(js|css)/([^"?#]+)"')


@dataclass(frozen=True)
class VendoredPlotly:
    """The vendored plotly.js bundle as its manifest records it, hash checked."""

    version: str
    path: Path
    sha256: str
    integrity: str

    @property
    def url(self) -> str:
        """The bundle's immutable, content-hashed URL."""
        return f"/vendor/plotly-gl2d.{self.sha256[:16]}.min.js"


def vendored_plotly(root: Path | None = None) -> VendoredPlotly:
    """Read `frontend/vendor/plotly-gl2d.json` and check the bundle against it.

    Args:
        root: The page folder; the repository's `frontend/` by default.

    Returns:
        The bundle's version, path, sha256 and Subresource Integrity string.

    Raises:
        FileNotFoundError: When the manifest or the bundle is missing.
        ValueError: When the bundle's sha256 differs from the recorded one (a corrupt or
            hand-edited file: rerun `scripts/vendor-plotly.sh`).
    """
    folder = (root or FRONTEND_DIR).resolve()
    manifest_path = folder / VENDOR_MANIFEST
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no plotly.js manifest at {manifest_path}")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    path = manifest_path.parent / str(manifest["file"])
    if not path.is_file():
        raise FileNotFoundError(f"the vendored plotly.js is missing: {path}")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != manifest["sha256"]:
        raise ValueError(
            f"{path} has sha256 {actual}, the manifest records {manifest['sha256']}; "
            "run scripts/vendor-plotly.sh to restore it"
        )
    return VendoredPlotly(
        version=str(manifest["version"]),
        path=path,
        sha256=actual,
        integrity=str(manifest["integrity"]),
    )


def page_csp(image_origins: tuple[str, ...] = ()) -> str:
    """`PAGE_CSP` with `image_origins` (the dataset viewer's asset host, when sample images
    are on) added to `img-src`, and to nothing else."""
    if not image_origins:
        return PAGE_CSP
    base = "img-src 'self' data: blob:"
    return PAGE_CSP.replace(base, " ".join([base, *image_origins]), 1)


def _csp_for(path: str, page: str) -> str:
    if any(path == p or path.startswith(p + "/") for p in _DOCS_PATHS):
        return DOCS_CSP
    return page


class _SecurityHeaders:
    """Adds the CSP and `SECURITY_HEADERS` to every HTTP response that lacks them.

    Pure ASGI (it only edits the response-start message): `BaseHTTPMiddleware` would cost a
    task and a memory stream per request, which shows at the API's request rates.
    """

    def __init__(self, app: ASGIApp, page_csp: str = PAGE_CSP) -> None:
        self.app = app
        self.page_csp = page_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = _csp_for(scope["path"], self.page_csp)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", csp)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _add_security_headers(app: FastAPI, image_origins: tuple[str, ...]) -> None:
    app.add_middleware(_SecurityHeaders, page_csp=page_csp(image_origins))


class _RevalidatingStatic(StaticFiles):
    """Static files under unhashed URLs: browsers revalidate them (ETag) on every load."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = REVALIDATE_CACHE
        return response


def _send(request: Request, body: Encoded, media_type: str, cache_control: str) -> Response:
    """Answer with the smallest encoding the client accepts, or 304 when its copy is current."""
    headers = {"Cache-Control": cache_control, "ETag": body.etag, "Vary": "Accept-Encoding"}
    if body.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    content, coding = body.pick(request.headers.get("accept-encoding"))
    if coding is not None:
        headers["Content-Encoding"] = coding
    return Response(content, media_type=media_type, headers=headers)


def _media_type(path: Path) -> str:
    if path.suffix == ".js":  # mimetypes' answer for .js varies across systems
        return "text/javascript"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _page_file(root: Path, folder: str, rel: str) -> Path | None:
    """The file at `root/folder/rel` when it lies inside that folder, else None."""
    base = (root / folder).resolve()
    path = (base / rel).resolve()
    return path if path.is_relative_to(base) and path.is_file() else None


def render_index(html: str, digest: str, plotly_js: VendoredPlotly) -> str:
    """index.html with its assets under their content-hashed URLs.

    Args:
        html: The page as written (relative `js/`, `css/` and `vendor/plotly-gl2d.min.js`).
        digest: The hash of the page's `js/` and `css/` folders.
        plotly_js: The vendored bundle.

    Returns:
        The page as served: `/static/<digest>/js/...`, and the bundle's hashed URL with its
        Subresource Integrity attribute.
    """
    html = _ASSET_ATTR.sub(lambda m: f'{m[1]}="/static/{digest}/{m[2]}/{m[3]}"', html)
    return html.replace(
        'src="vendor/plotly-gl2d.min.js"',
        f'src="{plotly_js.url}" integrity="{plotly_js.integrity}"',
    )


def render_guide(markdown: str, title: str) -> str:
    """A guide from `docs/` as a small HTML page (raw HTML in the Markdown is not passed on).

    Args:
        markdown: The guide's text.
        title: The page title.

    Returns:
        The HTML document.
    """
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} · Task2Box Atlas</title><style>{_GUIDE_STYLE}</style></head>"
        f'<body><p><a href="/">← Back to the map</a></p>{body}</body></html>'
    )


def _mount_guides(app: FastAPI, cache: AssetCache, docs: Path) -> None:
    @app.api_route("/guide/{name}", methods=["GET", "HEAD"], include_in_schema=False)
    def guide(request: Request, name: str) -> Response:
        if name in _GUIDE_FILES and (docs / _GUIDE_FILES[name]).is_file():
            headers = {"Content-Disposition": f'attachment; filename="{name}"'}
            body = cache.file(docs / _GUIDE_FILES[name])
            response = _send(request, body, "text/csv; charset=utf-8", REVALIDATE_CACHE)
            response.headers.update(headers)
            return response
        if name not in _GUIDES or not (docs / _GUIDES[name][0]).is_file():
            return Response(
                '{"error":"not_found","detail":"no such guide"}', 404, media_type="application/json"
            )
        file, title = _GUIDES[name]
        html = render_guide((docs / file).read_text(encoding="utf-8"), title)
        return _send(request, encode(html.encode()), "text/html; charset=utf-8", REVALIDATE_CACHE)


def mount_frontend(
    app: FastAPI, directory: Path | None = None, *, image_origins: tuple[str, ...] = ()
) -> None:
    """Serve the map page and its assets, and add security headers to every response.

    Args:
        app: The application; call this after its API routers are included.
        directory: The folder holding `index.html`, `js/`, `css/` and `vendor/`; the
            repository's `frontend/` by default.
        image_origins: Hosts the page may load images from besides its own (the dataset
            viewer's, for sample images).

    Raises:
        FileNotFoundError: When `directory` lacks `index.html`, or plotly.js is missing.
        ValueError: When the vendored plotly.js fails its hash check.
    """
    root = (directory or FRONTEND_DIR).resolve()
    index = root / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"no index.html in the frontend folder {root}")
    plotly_js = vendored_plotly(root)
    cache = AssetCache()
    folders = [root / sub for sub in _PAGE_FOLDERS if (root / sub).is_dir()]
    rendered: dict[tuple[str, str], Encoded] = {}

    def current_index() -> tuple[str, Encoded]:
        digest = cache.tree_digest(folders)
        source = cache.file(index)
        key = (digest, source.sha256)
        if key not in rendered:
            rendered.clear()
            html = render_index(source.identity.decode("utf-8"), digest, plotly_js)
            rendered[key] = encode(html.encode("utf-8"))
        return digest, rendered[key]

    def warm() -> None:
        # Compress the bundle and the page's files off the request path, so the first cold
        # visit after a start does not wait for brotli.
        cache.file(plotly_js.path).warm()
        for folder in folders:
            for path in folder.rglob("*"):
                if path.is_file():
                    cache.file(path).warm()

    threading.Thread(target=warm, name="warm-assets", daemon=True).start()
    _add_security_headers(app, image_origins)

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def page(request: Request) -> Response:
        return _send(request, current_index()[1], "text/html; charset=utf-8", REVALIDATE_CACHE)

    @app.api_route(
        "/static/{digest}/{folder}/{rel:path}", methods=["GET", "HEAD"], include_in_schema=False
    )
    def hashed_asset(request: Request, digest: str, folder: str, rel: str) -> Response:
        # Only the current digest is served: an old URL must not get new bytes for a year.
        path = _page_file(root, folder, rel) if folder in _PAGE_FOLDERS else None
        if path is None or digest != current_index()[0]:
            return Response(
                '{"error":"not_found","detail":"no such asset"}', 404, media_type="application/json"
            )
        return _send(request, cache.file(path), _media_type(path), IMMUTABLE_CACHE)

    @app.api_route(plotly_js.url, methods=["GET", "HEAD"], include_in_schema=False)
    def plotly_pinned(request: Request) -> Response:
        return _send(request, cache.file(plotly_js.path), "text/javascript", IMMUTABLE_CACHE)

    @app.api_route("/vendor/plotly-gl2d.min.js", methods=["GET", "HEAD"], include_in_schema=False)
    def plotly_latest() -> RedirectResponse:
        return RedirectResponse(
            plotly_js.url, status_code=307, headers={"Cache-Control": REVALIDATE_CACHE}
        )

    licence = plotly_js.path.parent / "LICENSE-plotly.js.txt"
    licence_url = "/vendor/LICENSE-plotly.js.txt"

    @app.api_route(licence_url, methods=["GET", "HEAD"], include_in_schema=False)
    def plotly_licence(request: Request) -> Response:
        return _send(request, cache.file(licence), "text/plain; charset=utf-8", REVALIDATE_CACHE)

    _mount_guides(app, cache, DOCS_DIR)

    # Only the page's own folders are served: frontend/tests and package.json stay private.
    # The unhashed /js and /css URLs stay for tools and tests that load a module directly.
    for sub in _PAGE_FOLDERS:
        if (root / sub).is_dir():
            app.mount(f"/{sub}", _RevalidatingStatic(directory=root / sub), name=f"page-{sub}")
