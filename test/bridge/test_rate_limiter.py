"""RateLimiter forwards at most max_rate_hz, evenly spaced, whatever the input does."""

from __future__ import annotations

import random

import numpy as np
import pytest

from telemetry.bridge.rate_limit import RateLimiter

MS = 1_000_000
START_NS = 1_700_000_000_000_000_000


def admitted(limiter: RateLimiter, arrivals_ns: list[int]) -> np.ndarray:
    return np.array([t for t in arrivals_ns if limiter.admit(t)], dtype=np.int64)


def jittered_arrivals(rate_hz: float, duration_s: float, jitter_ns: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    period_ns = 1e9 / rate_hz
    return [START_NS + round(k * period_ns) + rng.randint(-jitter_ns, jitter_ns)
            for k in range(round(rate_hz * duration_s))]


@pytest.mark.parametrize("seed", range(5))
def test_1_khz_with_200_us_jitter_comes_out_at_50_hz_evenly_spaced(seed: int) -> None:
    out = admitted(RateLimiter(50.0), jittered_arrivals(1000.0, 10.0, 200_000, seed))

    assert 490 <= out.size <= 510  # 50 +- 1 Hz over 10 s
    intervals_ms = np.diff(out) / MS
    assert intervals_ms.mean() == pytest.approx(20.0, abs=0.05)
    # One input period (1 ms) plus twice the jitter is as uneven as a time gate can be.
    assert intervals_ms.min() >= 18.5 and intervals_ms.max() <= 21.5


@pytest.mark.parametrize("input_hz", [55.0, 60.0, 99.0, 100.0, 150.0, 1000.0, 5000.0])
def test_any_input_faster_than_the_limit_comes_out_at_the_limit(input_hz: float) -> None:
    out = admitted(RateLimiter(50.0), jittered_arrivals(input_hz, 10.0, 0, seed=0))
    assert 499 <= out.size <= 501


def test_input_slower_than_the_limit_passes_untouched() -> None:
    arrivals = jittered_arrivals(10.0, 10.0, 2 * MS, seed=1)
    assert admitted(RateLimiter(50.0), arrivals).tolist() == arrivals


def test_the_first_sample_is_always_forwarded() -> None:
    assert RateLimiter(0.1).admit(START_NS) is True
    assert RateLimiter(0.1).admit(-5) is True


def test_after_a_gap_forwarding_resumes_without_a_burst() -> None:
    limiter = RateLimiter(50.0)
    before = admitted(limiter, [START_NS + k * MS for k in range(1000)])
    resume_ns = START_NS + 1500 * MS  # the input stopped for half a second
    after = admitted(limiter, [resume_ns + k * MS for k in range(1000)])

    assert after[0] == resume_ns  # the first sample after the gap goes out at once
    intervals_ms = np.diff(after) / MS
    assert intervals_ms.min() >= 19.0  # and the next ones keep the output period
    assert after.size == pytest.approx(50, abs=1)
    assert before.size == pytest.approx(50, abs=1)


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_rate_hz must be > 0, got 0"):
        RateLimiter(0)
    with pytest.raises(ValueError, match=r"max_rate_hz must be > 0, got -2\.5"):
        RateLimiter(-2.5)
