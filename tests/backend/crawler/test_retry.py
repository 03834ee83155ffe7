from __future__ import annotations

import random
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.crawler._http import retry_after_seconds
from backend.crawler._ratelimit import MAX_BACKOFF_S, RateGate
from backend.crawler._retry import RetryPolicy, TransientError, call_with_retries


class TestRetryAfter:
    def test_ratelimit_header_with_nothing_left_wins(self) -> None:
        headers = {"ratelimit": '"api";r=0;t=55', "retry-after": "3"}
        assert retry_after_seconds(headers) == 55.0

    def test_ratelimit_with_requests_left_defers_to_retry_after(self) -> None:
        assert retry_after_seconds({"ratelimit": '"api";r=7;t=55', "retry-after": "3"}) == 3.0

    def test_http_date(self) -> None:
        now = 1_700_000_000.0
        assert (
            retry_after_seconds({"retry-after": formatdate(now + 30, usegmt=True)}, now=now) == 30.0
        )
        assert (
            retry_after_seconds({"retry-after": formatdate(now - 30, usegmt=True)}, now=now) == 0.0
        )

    @pytest.mark.parametrize("value", ["soon", "", "-5"])
    def test_garbage_is_ignored(self, value: str) -> None:
        assert retry_after_seconds({"retry-after": value}) is None


class TestPolicy:
    @given(attempt=st.integers(0, 10), seed=st.integers(0, 1000))
    def test_backoff_is_jittered_within_the_exponential_step(self, attempt: int, seed: int) -> None:
        policy = RetryPolicy(5, base_s=0.5, max_s=30)
        delay = policy.delay(attempt, None, random.Random(seed))
        step = min(30.0, 0.5 * 2**attempt)
        assert delay is not None and step / 2 <= delay <= step

    @given(retry_after=st.floats(0, MAX_BACKOFF_S), seed=st.integers(0, 1000))
    def test_retry_after_is_a_floor(self, retry_after: float, seed: int) -> None:
        delay = RetryPolicy(5).delay(0, retry_after, random.Random(seed))
        assert delay is not None and retry_after <= delay <= retry_after * 1.1 + 0.01

    def test_an_absurd_retry_after_gives_up(self) -> None:
        assert RetryPolicy(5).delay(0, MAX_BACKOFF_S + 1, random.Random(0)) is None

    def test_rejects_bad_values(self) -> None:
        with pytest.raises(ValueError, match="max_retries must be >= 0, got -1"):
            RetryPolicy(-1)


class TestCallWithRetries:
    def test_retries_then_succeeds(self) -> None:
        outcomes: list[object] = [TransientError("a"), TransientError("b", retry_after=2.0), "ok"]
        waits: list[float] = []

        def attempt() -> str:
            item = outcomes.pop(0)
            if isinstance(item, Exception):
                raise item
            return str(item)

        result = call_with_retries(
            attempt,
            policy=RetryPolicy(3, base_s=0.1),
            rng=random.Random(0),
            sleep=waits.append,
            what="t",
        )
        assert result == "ok"
        assert len(waits) == 2 and waits[1] >= 2.0

    def test_the_last_error_propagates(self) -> None:
        calls = 0

        def attempt() -> None:
            nonlocal calls
            calls += 1
            raise TransientError(f"try {calls}")

        with pytest.raises(TransientError, match="try 3"):
            call_with_retries(
                attempt, policy=RetryPolicy(2), rng=random.Random(0), sleep=lambda _: None, what="t"
            )
        assert calls == 3

    def test_other_errors_are_not_retried(self) -> None:
        def attempt() -> None:
            raise KeyError("x")

        with pytest.raises(KeyError):
            call_with_retries(
                attempt, policy=RetryPolicy(5), rng=random.Random(0), sleep=lambda _: None, what="t"
            )


def test_rate_gate_holds_a_host_until_its_window_resets() -> None:
    now = [100.0]
    gate = RateGate(clock=lambda: now[0])
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    gate.hold("hub:443", 5.0)
    gate.hold("hub:443", 2.0)  # a shorter hold never shortens a longer one
    assert gate.wait("other:443", sleep) == 0.0
    assert gate.wait("hub:443", sleep) == 5.0 and slept == [5.0]
    gate.hold("hub:443", 10_000)  # capped
    assert gate.wait("hub:443", sleep) == MAX_BACKOFF_S


class _Clock:
    """A fake monotonic clock whose `sleep` advances it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class TestBudget:
    def test_requests_in_flight_count_against_the_announced_budget(self) -> None:
        clock = _Clock()
        gate = RateGate(clock=clock)
        gate.observe("hub", remaining=3, reset_s=10)
        assert [gate.wait("hub", clock.sleep) for _ in range(3)] == [0.0, 0.0, 0.0]
        assert gate.wait("hub", clock.sleep) == 10.0  # the 4th waits for the window to reset

    def test_a_late_response_with_a_higher_count_does_not_raise_the_budget(self) -> None:
        clock = _Clock()
        gate = RateGate(clock=clock)
        gate.observe("hub", remaining=1, reset_s=10)
        gate.observe("hub", remaining=50, reset_s=10)  # sent earlier, answered later
        gate.wait("hub", clock.sleep)
        gate.wait("hub", clock.sleep)
        assert clock.slept == [10.0]

    def test_a_new_window_starts_fresh_and_silent_hosts_are_never_held(self) -> None:
        clock = _Clock()
        gate = RateGate(clock=clock)
        gate.observe("hub", remaining=0, reset_s=5)
        clock.now = 6.0
        assert gate.wait("hub", clock.sleep) == 0.0
        assert gate.wait("elsewhere", clock.sleep) == 0.0
        assert clock.slept == []

    def test_requests_still_in_flight_are_taken_off_an_announcement(self) -> None:
        clock = _Clock()
        gate = RateGate(clock=clock, ttl_s=30)
        tickets = [gate.acquire("hub", clock.sleep)[0] for _ in range(4)]  # 4 sent, none known
        gate.release("hub", tickets[0])
        gate.observe("hub", remaining=5, reset_s=10)  # the server had seen only the first
        assert [gate.acquire("hub", clock.sleep)[1] for _ in range(2)] == [0.0, 0.0]
        assert gate.acquire("hub", clock.sleep)[1] == 10.0  # 5 - 3 in flight = 2 more

    def test_a_ticket_never_released_stops_counting_after_its_ttl(self) -> None:
        clock = _Clock()
        gate = RateGate(clock=clock, ttl_s=30)
        gate.acquire("hub", clock.sleep)  # a request that died without an answer
        clock.now = 31.0
        gate.observe("hub", remaining=1, reset_s=10)
        assert gate.acquire("hub", clock.sleep)[1] == 0.0
