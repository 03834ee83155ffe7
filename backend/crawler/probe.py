"""One quick question to the Hub: does its dataset listing answer right now?

`task2box up` asks it once at start (to decide between a first crawl and the offline catalog)
and `task2box doctor` reports it. It is a single short GET with its own small timeout and no
retries: an offline machine must hear "no" in seconds, not after a crawl's retry budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx2

# The listing the crawler reads, one item: proves DNS, TLS, the API and the token all work.
_PROBE_PATH = "/api/datasets"
_PROBE_PARAMS = {"filter": "task_categories:image-classification", "limit": "1"}
_MAX_DETAIL_CHARS = 200


@dataclass(frozen=True)
class HubProbe:
    """The answer: reachable or not, and a one-line reason a person can act on."""

    endpoint: str
    reachable: bool
    detail: str


def probe_hub(endpoint: str, *, timeout_s: float = 3.0, token: str | None = None) -> HubProbe:
    """Asks the Hub's dataset listing for one item.

    Args:
        endpoint: the Hub base URL (`T2B_HUB_ENDPOINT`).
        timeout_s: the whole budget for connecting and reading, in seconds.
        token: sent as a bearer token when set, so a rejected token shows up here.

    Returns:
        `reachable` is True only for a 200 answer with a JSON list; `detail` says what
        happened (status and time, or the network error).

    Raises:
        ValueError: if `timeout_s` is not positive.
    """
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    url = endpoint.rstrip("/") + _PROBE_PATH
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.monotonic()
    try:
        with httpx2.Client(timeout=timeout_s, follow_redirects=True) as client:
            response = client.get(url, params=_PROBE_PARAMS, headers=headers)
    except httpx2.TimeoutException:
        return HubProbe(endpoint, False, f"no answer within {timeout_s:g} s")
    except httpx2.HTTPError as e:
        return HubProbe(endpoint, False, _short(f"{type(e).__name__}: {e}"))
    seconds = time.monotonic() - started
    if response.status_code != 200:
        return HubProbe(endpoint, False, f"the listing answered HTTP {response.status_code}")
    try:
        listed = response.json()
    except ValueError:
        return HubProbe(endpoint, False, "the listing answered with malformed JSON")
    if not isinstance(listed, list):
        return HubProbe(endpoint, False, "the listing answered with something other than a list")
    return HubProbe(endpoint, True, f"the listing answered in {seconds:.2f} s")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL_CHARS else text[: _MAX_DETAIL_CHARS - 1] + "…"
