"""The soak's verdicts, from made-up samples: loss counts from the first sample, a slow
stream's window is allowed one sample either way, and RSS growth is first to last."""

from __future__ import annotations

import math

from telemetry.bench.soak import (
    RSS_GROWTH_BOUND_MB,
    SoakSample,
    rate_slack,
    rss_growth,
    soak_result,
)


def _sample(at_s: float, rss: dict[str, float], ratio: float = 1.0, lost: int = 0, battery: float = 1.0,
            exited: tuple[str, ...] = ()) -> SoakSample:
    return SoakSample(
        at_s=at_s, rss_mb=rss,
        rate_ratio={"eu-west/rover-01 /imu": ratio, "eu-west/rover-01 /battery": battery},
        rate_slack={"eu-west/rover-01 /imu": rate_slack(1000, 5), "eu-west/rover-01 /battery": rate_slack(1, 5)},
        lost_total={"eu-west/rover-01 /imu": 7 + lost, "eu-west/rover-01 /battery": 0},
        imu_p99_ms=1.2, stats_age_s=0.3, exited=exited,
    )


def test_a_steady_fleet_meets_every_target_and_start_up_loss_does_not_count() -> None:
    samples = [_sample(60.0 * i, {"aggregator": 100.0 + i * 0.1, "rover-01 zenoh_bridge": 80.0}) for i in range(31)]
    result = soak_result(samples, 1800, 60)
    assert all(target.met for target in result.targets), result.text()
    assert [row["minute"] for row in result.rows][-1] == 30.0
    assert result.rows[-1]["lost_since_start"] == 0  # the 7 lost before the first sample are start-up


def test_loss_growth_off_rate_and_exits_are_each_called_out() -> None:
    samples = [
        _sample(0, {"aggregator": 100.0}),
        _sample(60, {"aggregator": 100.0 + RSS_GROWTH_BOUND_MB + 5}, ratio=0.9, lost=3,
                exited=("aggregator (pid 9) exit -9",)),
    ]
    result = soak_result(samples, 60, 60)
    assert [t.met for t in result.targets] == [False, False, False, False]
    assert result.rows[-1]["lost_since_start"] == 3
    assert "off rate at minute 1: eu-west/rover-01 /imu at 90.0%" in result.notes
    assert rss_growth(samples) == {"aggregator": RSS_GROWTH_BOUND_MB + 5}


def test_a_1_hz_stream_may_count_one_sample_more_or_less_in_its_window() -> None:
    assert rate_slack(1, 5) == 0.2 and rate_slack(1000, 5) == 0.05 and rate_slack(math.nan, 5) == 0.05
    samples = [_sample(0, {"a": 1.0}, battery=1.2), _sample(60, {"a": 1.0}, battery=0.8)]
    assert soak_result(samples, 60, 60).targets[1].met is True
    samples = [_sample(0, {"a": 1.0}, battery=0.6)]
    assert soak_result(samples, 60, 60).targets[1].met is False
