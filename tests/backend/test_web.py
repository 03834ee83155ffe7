"""The page is served with its assets, the vendored plotly.js, caching, compression and headers."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shutil
from pathlib import Path

import brotli
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.api.assets import accepted_encodings
from backend.web import (
    FRONTEND_DIR,
    IMMUTABLE_CACHE,
    PAGE_CSP,
    mount_frontend,
    vendored_plotly,
)


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


def _scripts(html: str) -> list[str]:
    return re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)


def test_the_page_loads_only_the_vendored_gl2d_bundle(client: TestClient) -> None:
    html = client.get("/").text
    plotly_js = vendored_plotly()
    manifest = json.loads((FRONTEND_DIR / "vendor" / "plotly-gl2d.json").read_text())
    assert manifest["package"] == "plotly.js-gl2d-dist-min"
    plotly_tags = [s for s in _scripts(html) if "plotly" in s]
    assert plotly_tags == [plotly_js.url]
    assert f'integrity="{manifest["integrity"]}"' in html
    assert "plotly.min.js" not in html  # the full bundle is nowhere in the page
    # The page's modules sit under one content-hashed prefix.
    modules = [s for s in _scripts(html) if "plotly" not in s]
    assert modules and all(re.fullmatch(r"/static/[0-9a-f]{16}/js/\w+\.js", m) for m in modules)


def test_the_vendored_bundle_matches_its_recorded_integrity(client: TestClient) -> None:
    manifest = json.loads((FRONTEND_DIR / "vendor" / "plotly-gl2d.json").read_text())
    body = client.get(vendored_plotly().url).content
    assert hashlib.sha256(body).hexdigest() == manifest["sha256"]
    sri = "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
    assert sri == manifest["integrity"]
    assert f"v{manifest['version']}" in body[:200].decode()
    assert b"gl2d" in body[:200]
    assert (
        (FRONTEND_DIR / "vendor" / manifest["license_file"]).read_text().startswith("MIT License")
    )


def test_a_tampered_bundle_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "frontend"
    shutil.copytree(FRONTEND_DIR, copy, ignore=shutil.ignore_patterns("node_modules", "tests"))
    bundle = copy / "vendor" / "plotly-gl2d.min.js"
    bundle.write_bytes(bundle.read_bytes() + b"\n;alert(1)")
    with pytest.raises(ValueError, match="the manifest records"):
        mount_frontend(FastAPI(), copy)


def test_assets_are_immutable_and_compressed(client: TestClient) -> None:
    html = client.get("/").text
    for url in _scripts(html) + re.findall(r'href="(/static/[^"]+)"', html):
        identity = client.get(url, headers={"Accept-Encoding": "identity"})
        assert identity.status_code == 200, url
        assert identity.headers["cache-control"] == IMMUTABLE_CACHE, url
        assert "content-encoding" not in identity.headers, url
        raw = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert raw.headers["content-encoding"] == "gzip", url
        assert raw.headers["vary"] == "Accept-Encoding", url
        assert raw.content == identity.content  # httpx decodes what the server encoded
    plotly_url = vendored_plotly().url
    with client.stream("GET", plotly_url, headers={"Accept-Encoding": "br, gzip"}) as streamed:
        assert streamed.headers["content-encoding"] == "br"
        encoded = b"".join(streamed.iter_raw())
    original = vendored_plotly().path.read_bytes()
    assert brotli.decompress(encoded) == original
    assert len(encoded) < len(original) // 3
    with client.stream("GET", plotly_url, headers={"Accept-Encoding": "gzip"}) as streamed:
        assert gzip.decompress(b"".join(streamed.iter_raw())) == original


def test_the_page_is_revalidated_with_an_etag(client: TestClient) -> None:
    first = client.get("/")
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_an_old_asset_hash_is_not_served(client: TestClient) -> None:
    url = next(s for s in _scripts(client.get("/").text) if s.startswith("/static/"))
    stale = re.sub(r"/static/[0-9a-f]+/", "/static/0000000000000000/", url)
    assert client.get(stale).status_code == 404
    escape = re.sub(r"/js/.*", "/js/../../backend/web.py", url)
    assert client.get(escape).status_code == 404
    assert client.get(re.sub(r"/js/", "/tests/", url)).status_code == 404


def test_the_unhashed_bundle_url_redirects_to_the_hashed_one(client: TestClient) -> None:
    redirect = client.get("/vendor/plotly-gl2d.min.js", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["cache-control"] == "no-cache"
    assert redirect.headers["location"] == vendored_plotly().url
    assert client.get("/vendor/plotly.min.js").status_code == 404


def test_an_edited_module_gets_a_new_url(tmp_path: Path) -> None:
    copy = tmp_path / "frontend"
    shutil.copytree(FRONTEND_DIR, copy, ignore=shutil.ignore_patterns("node_modules", "tests"))
    app = FastAPI()
    mount_frontend(app, copy)
    page = TestClient(app)
    before = _scripts(page.get("/").text)
    (copy / "js" / "text.js").write_text("// @ts-check\nexport const EDITED = 1;\n")
    after = _scripts(page.get("/").text)
    assert before != after
    assert page.get(next(s for s in before if s.startswith("/static/"))).status_code == 404
    assert page.get(next(s for s in after if s.startswith("/static/"))).status_code == 200


def test_accept_encoding_is_parsed_with_its_weights() -> None:
    assert accepted_encodings("gzip, deflate, br, zstd") == {"gzip", "deflate", "br", "zstd"}
    assert accepted_encodings("br;q=0, gzip;q=0.5") == {"gzip"}
    assert accepted_encodings(None) == set()
    assert accepted_encodings("gzip;q=nonsense") == set()


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


def test_the_transfer_guide_is_rendered_as_html(client: TestClient) -> None:
    response = client.get("/guide/transfer")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Transfer maps</h1>" in response.text
    assert '<a href="transfer-sample.csv">' in response.text  # resolves to the sample below
    assert "<script" not in response.text
    assert client.get("/guide/nothing-here").status_code == 404
    assert client.get("/guide/..%2Fpyproject.toml").status_code == 404


def test_the_sample_csv_downloads_and_parses_with_the_importer(client: TestClient) -> None:
    from backend.catalog import load_catalog
    from backend.transfer.csv_input import parse_scores

    response = client.get("/guide/transfer-sample.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = parse_scores(response.content)
    assert len(rows) >= 5
    catalog = {record.id for record in load_catalog()}
    assert {r.source for r in rows} | {r.target for r in rows} <= catalog


def test_guide_markdown_cannot_inject_html() -> None:
    from backend.web import render_guide

    html = render_guide("# T\n\n<script>alert(1)</script> <img src=x onerror=alert(2)>", "T")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_the_page_draws_only_trace_types_the_bundle_has() -> None:
    import plotly.graph_objects as go
    from plotly.basedatatypes import BaseTraceType

    classes = (getattr(go, name) for name in dir(go) if name[:1].isupper())
    every_trace = {
        cls.__name__.lower()
        for cls in classes
        if isinstance(cls, type) and issubclass(cls, BaseTraceType)
    }
    assert {"scatter", "scattergl", "heatmap", "histogram2dcontour"} <= every_trace
    manifest = json.loads((FRONTEND_DIR / "vendor" / "plotly-gl2d.json").read_text())
    used: set[str] = set()
    for module in (FRONTEND_DIR / "js").glob("*.js"):
        used |= set(re.findall(r"\btype:\s*'([a-z0-9]+)'", module.read_text(encoding="utf-8")))
    traces = used & every_trace  # 'button' and other DOM types are not traces
    assert traces, "no trace type found: the scan no longer matches how plot.js writes them"
    assert traces <= set(manifest["traces"]), f"not in the gl2d bundle: {traces}"
