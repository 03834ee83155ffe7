"""HTTP plumbing under every Hub request: bounded timeouts, a shared rate-limit gate, counters.

huggingface_hub sends all traffic through one process-wide `httpx2.Client` made by a factory
(`set_client_factory` is its documented extension point). We install a factory that adds two
event hooks to the library's default client:

- before each request: give every unset timeout a bound (the library's pagination passes
  `timeout=None`, which would let a stalled server hang a crawl forever), then pass the host's
  rate-limit gate (`_ratelimit.RateGate`);
- after each response: count it, feed its `RateLimit` header to the gate, and on a 429/503 with
  `Retry-After` hold every thread's next request to that host for that long.

So the listing (which the library paginates and retries itself), the viewer calls and the
`datasets` builder all respect the same rate limits.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx2
from huggingface_hub import set_client_factory

# Public in `huggingface_hub.utils` (listed in its lazy-export table), which mypy cannot see.
from huggingface_hub.utils import parse_ratelimit_headers  # type: ignore[attr-defined]

from backend.crawler._ratelimit import RateGate

logger = logging.getLogger(__name__)

_LATENCY_SAMPLES = 200_000


def read_bounded(response: httpx2.Response, limit: int, what: str, error: type[Exception]) -> bytes:
    """The body, refused with `error` past `limit` bytes, whether declared or streamed: a
    stranger's server decides what it sends."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise error(f"{what} body of {declared} bytes exceeds {limit}")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise error(f"{what} body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds a response asks us to wait: `RateLimit` with r=0, else `Retry-After`.

    `Retry-After` may be delay-seconds or an HTTP date; the library only reads the former.
    """
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds)
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    wall = time.time() if now is None else now
    return max(0.0, when.timestamp() - wall)


@dataclass(frozen=True)
class HttpCounters:
    """A snapshot of the process-wide request counters (take two and subtract)."""

    requests: int
    retryable: int
    throttled_s: float

    def __sub__(self, other: HttpCounters) -> HttpCounters:
        return HttpCounters(
            self.requests - other.requests,
            self.retryable - other.retryable,
            self.throttled_s - other.throttled_s,
        )


class _HttpState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.gate = RateGate()
        self.timeout_s = 20.0
        self.requests = 0
        self.retryable = 0
        self.throttled_s = 0.0
        self.latencies: deque[float] = deque(maxlen=_LATENCY_SAMPLES)
        # request -> (start time, gate ticket); weak, so a request that died is forgotten.
        self.started: weakref.WeakKeyDictionary[httpx2.Request, tuple[float, int]] = (
            weakref.WeakKeyDictionary()
        )
        self.installed = False

    def on_request(self, request: httpx2.Request) -> None:
        timeout = request.extensions.get("timeout")
        if not isinstance(timeout, dict) or any(v is None for v in timeout.values()):
            old = timeout if isinstance(timeout, dict) else {}
            request.extensions["timeout"] = {
                k: old.get(k) if old.get(k) is not None else self.timeout_s
                for k in ("connect", "read", "write", "pool")
            }
        ticket, waited = self.gate.acquire(_host(request.url))
        with self.lock:
            self.throttled_s += waited
            self.started[request] = (time.monotonic(), ticket)

    def on_response(self, response: httpx2.Response) -> None:
        request, host = response.request, _host(response.request.url)
        now = time.monotonic()
        with self.lock:
            started = self.started.pop(request, None)
            self.requests += 1
            if response.status_code == 429 or response.status_code >= 500:
                self.retryable += 1
            if started is not None:
                self.latencies.append(now - started[0])
        if started is not None:
            self.gate.release(host, started[1])
        info = parse_ratelimit_headers(response.headers)
        if info is not None:
            self.gate.observe(host, info.remaining, float(info.reset_in_seconds))
        if response.status_code in (429, 503):
            wait = retry_after_seconds(response.headers)
            if wait is not None:
                self.gate.hold(host, wait)

    def counters(self) -> HttpCounters:
        with self.lock:
            return HttpCounters(self.requests, self.retryable, self.throttled_s)

    def latency_p50(self, since: int = 0) -> float | None:
        with self.lock:
            samples = list(self.latencies)[since:]
        return statistics.median(samples) if samples else None


STATE = _HttpState()


def _host(url: httpx2.URL) -> str:
    return f"{url.host}:{url.port or ''}"


def _client_factory() -> httpx2.Client:
    try:  # the library's own client: its hooks add request ids and honour HF_HUB_OFFLINE
        from huggingface_hub.utils._http import default_client_factory

        client = default_client_factory()
    except ImportError:  # pragma: no cover - private helper moved; a plain client still works
        client = httpx2.Client(follow_redirects=True, timeout=None)
    hooks = client.event_hooks
    client.event_hooks = {
        "request": [*hooks.get("request", []), STATE.on_request],
        "response": [*hooks.get("response", []), STATE.on_response],
    }
    return client


def install(timeout_s: float) -> None:
    """Route huggingface_hub's HTTP through our hooks (once per process); set the timeout."""
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    with STATE.lock:
        STATE.timeout_s = timeout_s
        # A request unanswered this long has died (timeouts are per read, hence the margin).
        STATE.gate.ttl_s = max(60.0, 3 * timeout_s)
        first = not STATE.installed
        STATE.installed = True
    if first:
        set_client_factory(_client_factory)
