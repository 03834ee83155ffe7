"""Serve the map page: `frontend/` at `/`, plotly.js from the installed wheel, security headers.

The page is static (no build step, no CDN). plotly.js is read from the `plotly` wheel's
`package_data`, so the browser never fetches code from a third party. Every response, API
included, carries a Content-Security-Policy whose `script-src` is `'self'` only: Hub text that
slipped into the page could not run even if it were ever inserted as HTML.

`create_app()` calls `mount_frontend(app)` *after* including the API routers: the page's
routes are exact paths plus `/js` and `/css`, so the order only matters for `/`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FRONTEND_DIR = Path(__file__).resolve().parents[1] / "frontend"

# Scripts come from our own origin only: no inline script, no `javascript:` URL, no CDN.
# `'unsafe-eval'` is there for one reason: the WebGL traces (`scattergl`) draw through regl,
# which compiles its draw commands with `Function(...)` at run time. The plotly wheel ships
# only the standard bundle, whose `reglPrecompiled` tables are empty (plotly's separate
# "strict" bundle fills them), so without it every WebGL trace fails with "WebGL is not
# supported". The page never evaluates data; untrusted text reaches the DOM as text only.
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

# The versioned URL never changes content, so browsers may keep it for a year; the unversioned
# one redirects to it with a short cache, so a plotly upgrade reaches users on the next load.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
REVALIDATE_CACHE = "no-cache"


def plotly_js_path() -> Path:
    """Locate `plotly.min.js` inside the installed `plotly` wheel.

    Returns:
        The file's path on disk.

    Raises:
        FileNotFoundError: When the wheel has no bundled plotly.js (a broken install).
    """
    resource = importlib.resources.files("plotly") / "package_data" / "plotly.min.js"
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"plotly.min.js is missing from the plotly wheel: {path}")
    return path


def plotly_js_version(path: Path) -> str:
    """A short tag that changes whenever the bundled plotly.js changes.

    The wheel's version is the usual tag; a digest of the file's size and mtime guards
    against a reinstall that swaps the file without a version bump.
    """
    try:
        wheel = importlib.metadata.version("plotly")
    except importlib.metadata.PackageNotFoundError:
        wheel = "0"
    stat = path.stat()
    digest = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:10]
    return f"{wheel}-{digest}"


def _csp_for(path: str) -> str:
    if any(path == p or path.startswith(p + "/") for p in _DOCS_PATHS):
        return DOCS_CSP
    return PAGE_CSP


class _SecurityHeaders:
    """Adds the CSP and `SECURITY_HEADERS` to every HTTP response that lacks them.

    Pure ASGI (it only edits the response-start message): `BaseHTTPMiddleware` would cost a
    task and a memory stream per request, which shows at the API's request rates.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = _csp_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", csp)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _add_security_headers(app: FastAPI) -> None:
    app.add_middleware(_SecurityHeaders)


class _RevalidatingStatic(StaticFiles):
    """Static files that browsers revalidate (ETag) on every load, so edits show at once."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = REVALIDATE_CACHE
        return response


def mount_frontend(app: FastAPI, directory: Path | None = None) -> None:
    """Serve the map page and its assets, and add security headers to every response.

    Args:
        app: The application; call this after its API routers are included.
        directory: The folder holding `index.html`, `js/` and `css/`; the repository's
            `frontend/` by default.

    Raises:
        FileNotFoundError: When `directory` lacks `index.html`, or plotly.js is missing.
    """
    root = (directory or FRONTEND_DIR).resolve()
    index = root / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"no index.html in the frontend folder {root}")
    plotly_path = plotly_js_path()
    plotly_url = f"/vendor/plotly-{plotly_js_version(plotly_path)}.min.js"

    _add_security_headers(app)

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.api_route("/vendor/plotly.min.js", methods=["GET", "HEAD"], include_in_schema=False)
    def plotly_latest() -> RedirectResponse:
        return RedirectResponse(plotly_url, status_code=307, headers={"Cache-Control": "no-cache"})

    @app.api_route(plotly_url, methods=["GET", "HEAD"], include_in_schema=False)
    def plotly_pinned() -> FileResponse:
        return FileResponse(
            plotly_path,
            media_type="text/javascript",
            headers={"Cache-Control": IMMUTABLE_CACHE},
        )

    # Only the page's own folders are served: frontend/tests and package.json stay private.
    for sub in ("js", "css"):
        if (root / sub).is_dir():
            app.mount(f"/{sub}", _RevalidatingStatic(directory=root / sub), name=f"page-{sub}")
