"""A fake Hugging Face Hub and dataset viewer on 127.0.0.1, with fault injection.

huggingface_hub 2.x speaks httpx2, which respx and pytest-httpx do not intercept, so the crawler
is tested against a real HTTP server. It serves what the crawler and `datasets` ask for:

- `GET /api/datasets` (filter, search, author, sort, limit, expand; `Link` pagination);
- `GET /api/datasets/{id}` and `/api/datasets/{id}/revision/{rev}`;
- `GET /api/datasets/{id}/tree/{rev}[/{path}]` and `POST /api/datasets/{id}/paths-info/{rev}`;
- `HEAD|GET /datasets/{id}/resolve/{rev}/{path}` with `X-Repo-Commit` and `ETag`;
- `GET /viewer/info?dataset=ID` (the viewer lives under `/viewer`);
- `GET /viewer/splits`, `/viewer/rows` and their image assets (`tests/fakehub_rows.py`);
- `GET /api/agent-harnesses` (huggingface_hub asks once per process);
- errors as the Hub sends them: a status plus `X-Error-Code` (RepoNotFound, EntryNotFound, ...).

Faults (`Fault`) match a method and a path regex, apply `times` times (or always) and can answer
a status (with `Retry-After`), malformed JSON, a delay, or hold the request open until an event
is set (a job kept running while a test looks at it). `latency_s` delays every request and
`rate_limit` adds IETF `RateLimit` headers with a fixed-window quota.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.fakehub_catalog import FakeDataset

# The longest a held request waits for its event: a test that forgets to release it still ends.
HOLD_S = 60.0


@dataclass
class Fault:
    """Answer matching requests with `status` (or malformed JSON, or after `delay_s`, or once
    `hold` is set: at most `HOLD_S` seconds later)."""

    path: str
    status: int | None = None
    retry_after: str | None = None
    malformed: bool = False
    delay_s: float = 0.0
    times: int | None = 1
    method: str = "GET"
    error_code: str | None = None
    query: str = ""  # a regex the decoded query string must match too
    hold: threading.Event | None = None


@dataclass(frozen=True)
class Logged:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    started: float
    ended: float
    auth: str | None = None


@dataclass
class RateLimit:
    """A fixed window of `quota` requests per `window_s` seconds."""

    quota: int
    window_s: int
    _start: float = field(default_factory=time.monotonic)
    _window: int = -1
    _used: int = 0


class FakeHub:
    """The server. Use as a context manager; `url` is the Hub endpoint, `viewer_url` the viewer."""

    def __init__(self, datasets: Iterable[FakeDataset] = (), *, page_size: int = 100) -> None:
        self.datasets: dict[str, FakeDataset] = {d.id: d for d in datasets}
        self.page_size = page_size
        self.latency_s = 0.0
        self.faults: list[Fault] = []
        self.rate_limit: RateLimit | None = None
        self.log: list[Logged] = []
        self.arrivals: list[tuple[str, str]] = []  # (method, path) when a request comes in
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def viewer_url(self) -> str:
        return f"{self.url}/viewer"

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, *datasets: FakeDataset) -> None:
        with self._lock:
            for d in datasets:
                self.datasets[d.id] = d

    def requests(self, pattern: str = "", method: str | None = None) -> list[Logged]:
        """Logged requests whose path matches the regex `pattern`."""
        with self._lock:
            return [
                r for r in self.log if re.search(pattern, r.path) and method in (None, r.method)
            ]

    def take_fault(self, method: str, path: str, query: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                matches = re.search(fault.path, path) and re.search(fault.query, query)
                if fault.method == method and matches:
                    if fault.times is not None:
                        if fault.times <= 0:
                            continue
                        fault.times -= 1
                    return fault
        return None

    def quota_headers(self) -> tuple[dict[str, str], bool]:
        """RateLimit headers for this request, and whether it is over the quota."""
        rl = self.rate_limit
        if rl is None:
            return {}, False
        with self._lock:
            elapsed = time.monotonic() - rl._start
            window = int(elapsed // rl.window_s)
            if window != rl._window:
                rl._window, rl._used = window, 0
            rl._used += 1
            remaining = max(rl.quota - rl._used, 0)
            reset = max(1, math.ceil((window + 1) * rl.window_s - elapsed))
            over = rl._used > rl.quota
        headers = {
            "RateLimit": f'"api";r={remaining};t={reset}',
            "RateLimit-Policy": f'"fixed window";"api";q={rl.quota};w={rl.window_s}',
        }
        return headers, over

    def arrive(self, method: str, path: str) -> None:
        with self._lock:
            self.arrivals.append((method, path))

    def record(self, entry: Logged) -> None:
        with self._lock:
            self.log.append(entry)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a deliberately slow handler must not hold up teardown
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out close their end; that is part of the test, not an error.
        pass


def _handler_for(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.hub = hub
    return Handler


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    _entry: Logged
    protocol_version = "HTTP/1.1"  # keep-alive, like the real Hub
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK adds
    # ~40 ms to every response, which would be the fake's latency, not the Hub's.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        started = time.monotonic()
        split = urlsplit(self.path)
        self.hub.arrive(method, split.path)
        query = parse_qs(split.query)
        body = b""
        if method == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.hub.latency_s:
            time.sleep(self.hub.latency_s)
        # Logged before the answer goes out: once a client has its answer, the log shows it.
        self._entry = Logged(
            method, split.path, query, 0, started, 0.0, self.headers.get("Authorization")
        )
        self._answer(method, split.path, query, body, unquote(split.query))

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes, raw_query: str
    ) -> int:
        from tests.fakehub_routes import route  # routes live apart to keep this file small

        extra, over = self.hub.quota_headers()
        fault = self.hub.take_fault(method, path, raw_query)
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        if fault is not None and fault.hold is not None:
            fault.hold.wait(HOLD_S)
        if over:
            return self.send(429, {"error": "rate limited"}, {**extra, "Retry-After": "1"})
        if fault is not None and fault.status is not None:
            headers = dict(extra)
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            if fault.error_code is not None:
                headers["X-Error-Code"] = fault.error_code
            return self.send(fault.status, {"error": f"injected {fault.status}"}, headers)
        if fault is not None and fault.malformed:
            return self.send(200, b'{"dataset_info": {"broken', extra)
        status, payload, headers = route(self.hub, method, path, query, body, self.base_url())
        return self.send(status, payload, {**extra, **headers}, head=method == "HEAD")

    def base_url(self) -> str:
        return self.hub.url

    def send(
        self, status: int, payload: Any, headers: dict[str, str], *, head: bool = False
    ) -> int:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.hub.record(replace(self._entry, status=status, ended=time.monotonic()))
        self.send_response(status)
        if not isinstance(payload, bytes) or "Content-Type" not in headers:
            self.send_header("Content-Type", "application/json")
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)
        return status


def etag_of(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest() + '"'


def cursor_for(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def offset_of(cursor: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        return 0


def next_link(base: str, query: dict[str, list[str]], offset: int) -> str:
    pairs = [(k, v) for k, vs in query.items() if k != "cursor" for v in vs]
    pairs.append(("cursor", cursor_for(offset)))
    return f'<{base}/api/datasets?{urlencode(pairs)}>; rel="next"'
