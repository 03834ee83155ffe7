"""A per-host rate-limit gate shared by every thread that talks to the Hub.

The Hub announces its quota on each response (IETF draft `RateLimit: "api";r=R;t=T`: R requests
left, window resets in T s). Waiting only once R hits 0 is too late with N requests in flight:
they were sent on an old count and come back 429. So the gate keeps a budget per host: the
lowest announced R, less the requests still in flight when it was announced, less each request
sent since. With no budget left it holds every thread until the window resets; a 429's
`Retry-After` holds them too. Hosts that announce nothing are never held.

Requests are tracked by ticket (`acquire`/`release`); a ticket not released within `ttl_s`
(a request that died without a response) stops counting.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# A server asking us to wait longer than this is treated as a failure, not obeyed for hours.
MAX_BACKOFF_S = 120.0
# `t` is whole seconds, so two reports of one window can disagree on its end by up to this.
_SAME_WINDOW_S = 1.5


@dataclass
class _Budget:
    remaining: int
    resets_at: float


class RateGate:
    """Per-host "not before" times and request budgets, thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, ttl_s: float = 60.0) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._not_before: dict[str, float] = {}
        self._budgets: dict[str, _Budget] = {}
        self._in_flight: dict[str, dict[int, float]] = {}  # host -> ticket -> expiry
        self._tickets = itertools.count()

    def hold(self, host: str, seconds: float) -> None:
        """Block requests to `host` for `seconds` (capped at `MAX_BACKOFF_S`)."""
        until = self._clock() + min(max(seconds, 0.0), MAX_BACKOFF_S)
        with self._lock:
            self._not_before[host] = max(self._not_before.get(host, 0.0), until)

    def observe(self, host: str, remaining: int, reset_s: float) -> None:
        """Record a response's announced quota: `remaining` requests until `reset_s` from now.

        Release the answered request's ticket first: the others still in flight are taken off.
        """
        now = self._clock()
        resets_at = now + min(max(reset_s, 0.0), MAX_BACKOFF_S)
        with self._lock:
            live = self._in_flight.get(host, {})
            remaining -= sum(1 for expiry in live.values() if expiry > now)
            old = self._budgets.get(host)
            if old is not None and abs(old.resets_at - resets_at) < _SAME_WINDOW_S:
                # Responses overtake each other; within one window the lowest count is the newest.
                old.remaining = min(old.remaining, remaining)
                old.resets_at = max(old.resets_at, resets_at)
            else:
                self._budgets[host] = _Budget(remaining, resets_at)

    def release(self, host: str, ticket: int) -> None:
        """The request holding `ticket` has its answer (or failed)."""
        with self._lock:
            self._in_flight.get(host, {}).pop(ticket, None)

    def acquire(self, host: str, sleep: Callable[[float], None] = time.sleep) -> tuple[int, float]:
        """Sleep until `host` may be called, then take one request from its budget.

        Returns:
            The request's ticket (for `release`) and the seconds waited.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                delay = self._not_before.get(host, 0.0) - now
                budget = self._budgets.get(host)
                if budget is not None and budget.resets_at <= now:
                    del self._budgets[host]  # a new window: the server will tell us its count
                    budget = None
                if delay <= 0 and budget is not None and budget.remaining <= 0:
                    delay = budget.resets_at - now
                if delay <= 0:
                    if budget is not None:
                        budget.remaining -= 1
                    ticket = next(self._tickets)
                    live = self._in_flight.setdefault(host, {})
                    for old_ticket in [t for t, expiry in live.items() if expiry <= now]:
                        del live[old_ticket]
                    live[ticket] = now + self.ttl_s
                    return ticket, waited
            sleep(delay)
            waited += delay

    def wait(self, host: str, sleep: Callable[[float], None] = time.sleep) -> float:
        """`acquire` then `release` at once; returns the seconds waited."""
        ticket, waited = self.acquire(host, sleep)
        self.release(host, ticket)
        return waited
