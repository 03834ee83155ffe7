"""The page is served with its assets, plotly.js from the wheel, and security headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.web import IMMUTABLE_CACHE, PAGE_CSP, mount_frontend, plotly_js_path


def _directives(csp: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in csp.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()

    @app.get("/api/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    mount_frontend(app)
    return TestClient(app)


def test_index_is_served_at_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<div id="map"' in response.text
    assert response.headers["cache-control"] == "no-cache"


def test_every_response_carries_security_headers(client: TestClient) -> None:
    for path in ["/", "/api/ping", "/js/app.js", "/no/such/page"]:
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["content-security-policy"] == PAGE_CSP, path


def test_csp_allows_no_inline_script_and_no_framing(client: TestClient) -> None:
    csp = _directives(client.get("/").headers["content-security-policy"])
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'self'" in csp["script-src"]
    assert all(not source.startswith(("http", "*")) for source in csp["script-src"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]


def test_plotly_comes_from_the_wheel_with_a_long_cache(client: TestClient) -> None:
    redirect = client.get("/vendor/plotly.min.js", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["cache-control"] == "no-cache"
    pinned = redirect.headers["location"]
    assert pinned.startswith("/vendor/plotly-") and pinned.endswith(".min.js")
    response = client.get(pinned)
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE_CACHE
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == plotly_js_path().read_bytes()


def test_scripts_and_styles_are_served_and_revalidated(client: TestClient) -> None:
    script = client.get("/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache"
    assert "etag" in script.headers
    style = client.get("/css/app.css")
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")


def test_only_the_page_folders_are_public(client: TestClient) -> None:
    assert client.get("/package.json").status_code == 404
    assert client.get("/tests/plot.test.js").status_code == 404
    assert client.get("/js/../../backend/web.py").status_code == 404


def test_docs_pages_get_their_own_policy() -> None:
    app = FastAPI()
    mount_frontend(app)
    docs = TestClient(app).get("/docs")
    assert docs.status_code == 200
    csp = _directives(docs.headers["content-security-policy"])
    assert "https://cdn.jsdelivr.net" in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]


def test_a_folder_without_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no index\.html"):
        mount_frontend(FastAPI(), tmp_path)
