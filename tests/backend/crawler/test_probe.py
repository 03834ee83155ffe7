"""The one-shot Hub probe of `task2box up` and `doctor`: a fast, honest yes or no."""

from __future__ import annotations

import socket

import pytest

from backend.crawler.probe import probe_hub
from tests.fakehub import FakeHub, Fault


def _closed_port() -> int:
    # Bound, then closed: nothing listens there, so connecting is refused at once.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_listing_that_answers_is_reachable(fake_hub: FakeHub) -> None:
    probe = probe_hub(fake_hub.url, timeout_s=5)
    assert probe.reachable and probe.endpoint == fake_hub.url
    assert "answered in" in probe.detail
    (request,) = fake_hub.requests("^/api/datasets$")
    assert request.query["limit"] == ["1"]
    assert request.query["filter"] == ["task_categories:image-classification"]


def test_nothing_listening_is_unreachable_with_the_error() -> None:
    probe = probe_hub(f"http://127.0.0.1:{_closed_port()}", timeout_s=5)
    assert not probe.reachable
    assert "ConnectError" in probe.detail


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault(path="^/api/datasets$", status=503, times=None), "HTTP 503"),
        (Fault(path="^/api/datasets$", status=401, times=None), "HTTP 401"),
        (Fault(path="^/api/datasets$", malformed=True, times=None), "malformed JSON"),
        (Fault(path="^/api/datasets$", delay_s=3.0, times=None), "no answer within 0.5 s"),
    ],
)
def test_a_listing_that_fails_is_unreachable_and_says_why(
    fake_hub: FakeHub, fault: Fault, expected: str
) -> None:
    fake_hub.faults.append(fault)
    probe = probe_hub(fake_hub.url, timeout_s=0.5)
    assert not probe.reachable
    assert expected in probe.detail


def test_the_token_is_sent_only_when_set(fake_hub: FakeHub) -> None:
    assert probe_hub(fake_hub.url, timeout_s=5, token="hf_secret").reachable
    assert probe_hub(fake_hub.url, timeout_s=5).reachable
    first, second = fake_hub.requests("^/api/datasets$")
    assert (first.auth, second.auth) == ("Bearer hf_secret", None)


def test_the_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout_s must be > 0, got 0"):
        probe_hub("http://127.0.0.1:1", timeout_s=0)
