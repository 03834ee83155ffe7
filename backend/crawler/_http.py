"""HTTP plumbing under every Hub request: bounded timeouts, a shared rate-limit gate, counters.

huggingface_hub sends all traffic through one process-wide `httpx2.Client` made by a factory
(`set_client_factory` is its documented extension point). We install a factory that adds two
event hooks to the library's default client:

- before each request: give every unset timeout a bound (the library's pagination passes
  `timeout=None`, which would let a stalled server hang a crawl forever), then wait while the
  host has told us to back off;
- after each response: count it, and when it carries `RateLimit: "api";r=0;t=T` or is a 429 with
  `Retry-After`, hold every thread's next request to that host until the window resets.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx2
from huggingface_hub import set_client_factory

# Public in `huggingface_hub.utils` (listed in its lazy-export table), which mypy cannot see.
from huggingface_hub.utils import parse_ratelimit_headers  # type: ignore[attr-defined]

logger = logging.getLogger(__name__)

# A server asking us to wait longer than this is treated as a failure, not obeyed for hours.
MAX_BACKOFF_S = 120.0
_LATENCY_SAMPLES = 200_000


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


class RateGate:
    """A per-host "not before" time shared by all threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._not_before: dict[str, float] = {}

    def hold(self, host: str, seconds: float) -> None:
        """Block requests to `host` for `seconds` (capped at `MAX_BACKOFF_S`)."""
        until = self._clock() + min(max(seconds, 0.0), MAX_BACKOFF_S)
        with self._lock:
            self._not_before[host] = max(self._not_before.get(host, 0.0), until)

    def wait(self, host: str, sleep: Callable[[float], None] = time.sleep) -> float:
        """Sleep until `host` may be called again; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                delay = self._not_before.get(host, 0.0) - self._clock()
            if delay <= 0:
                return waited
            sleep(delay)
            waited += delay


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
        self.started: weakref.WeakKeyDictionary[httpx2.Request, float] = weakref.WeakKeyDictionary()
        self.installed = False

    def on_request(self, request: httpx2.Request) -> None:
        timeout = request.extensions.get("timeout")
        if not isinstance(timeout, dict) or any(v is None for v in timeout.values()):
            old = timeout if isinstance(timeout, dict) else {}
            request.extensions["timeout"] = {
                k: old.get(k) if old.get(k) is not None else self.timeout_s
                for k in ("connect", "read", "write", "pool")
            }
        waited = self.gate.wait(_host(request.url))
        with self.lock:
            self.throttled_s += waited
            self.started[request] = time.monotonic()

    def on_response(self, response: httpx2.Response) -> None:
        request = response.request
        now = time.monotonic()
        with self.lock:
            start = self.started.pop(request, None)
            self.requests += 1
            if response.status_code == 429 or response.status_code >= 500:
                self.retryable += 1
            if start is not None:
                self.latencies.append(now - start)
        info = parse_ratelimit_headers(response.headers)
        if info is not None and info.remaining == 0:
            # `r=0` even on a 200 means the window is spent: pause before the 429s start.
            self.gate.hold(_host(request.url), float(info.reset_in_seconds))
        elif response.status_code in (429, 503):
            wait = retry_after_seconds(response.headers)
            if wait is not None:
                self.gate.hold(_host(request.url), wait)

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
        first = not STATE.installed
        STATE.installed = True
    if first:
        set_client_factory(_client_factory)
