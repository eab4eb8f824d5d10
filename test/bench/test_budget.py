"""The budget curve's pieces, from hand-made windows: which levels run, how a level's fleet
differs from the shipped one, what a row says, and which targets it meets."""

from __future__ import annotations

import json
import math
from pathlib import Path

from telemetry.bench import budget, e2e
from telemetry.bench.budget import Feed, Level, budget_result, level_row, levels, with_budget
from telemetry.bench.e2e import FleetRun
from telemetry.bench.latency import StreamMeasure
from telemetry.bench.paths import PathRun
from telemetry.demo.plan import load_fleet
from telemetry.fleet.hops import HopStats
from telemetry.keys import KeySpace

REGIONS = {"rover-01": "eu-west", "rover-02": "us-east"}


def _measure(samples: int, p50_ms: float, p99_ms: float, lost: int = 0, window_s: float = 2.0) -> StreamMeasure:
    latency = {"p50": p50_ms, "p90": p50_ms, "p99": p99_ms, "p99.9": p99_ms * 2, "max": p99_ms * 3}
    return StreamMeasure(samples, samples / window_s, lost, latency, 316.0 * samples / window_s)


def _run(imu_messages: int) -> FleetRun:
    streams = {
        "telemetry/data/eu-west/rover-01/imu": _measure(2000, 0.5, 1.5),
        "telemetry/data/us-east/rover-02/imu": _measure(1990, 0.7, 2.5, lost=1),
        "telemetry/data/us-east/rover-02/odom": _measure(200, 0.4, 0.9, lost=2),
    }
    messages = {"telemetry/data/eu-west/rover-01/imu": imu_messages // 2,
                "telemetry/data/us-east/rover-02/imu": imu_messages - imu_messages // 2,
                "telemetry/data/us-east/rover-02/odom": 200}
    cpu_s = {"rover-01 sensor_sim": 0.16, "rover-02 sensor_sim": 0.16, "rover-01 zenoh_bridge": 0.2,
             "rover-02 zenoh_bridge": 0.2, "eu-west router": 0.1, "us-east router": 0.1, "cloud router": 0.2,
             "aggregator": 0.2}
    hops = {"telemetry/data/eu-west/rover-01/imu": HopStats(1000.0, 4, 1, 0, 2.0, 9, 1),
            "telemetry/data/us-east/rover-02/odom": HopStats(100.0, 2, 0, 0, 1.0, 2, 0)}
    return FleetRun(PathRun(streams, cpu_s, 2.0, messages, hops), KeySpace("telemetry"), REGIONS, 2.0)


def test_levels_always_hold_budget_0_and_the_shipped_default_then_objects_then_the_floor() -> None:
    assert levels((2.0, 10.0), 5.0) == [
        Level(0.0, Feed.BYTES), Level(2.0, Feed.BYTES), Level(5.0, Feed.BYTES), Level(10.0, Feed.BYTES),
        Level(5.0, Feed.OBJECTS), Level(0.0, Feed.FLOOR),
    ]
    assert [level.name for level in levels((), 0.0)] == ["imu-0ms-bytes", "imu-0ms-objects", "floor"]


def test_with_budget_changes_only_that_streams_batch_ms_on_every_vehicle() -> None:
    fleet, _ = load_fleet("")
    changed = with_budget("/imu", 2.0)(fleet)
    for before, after in zip(fleet.vehicles, changed.vehicles, strict=True):
        for old, new in zip(before.streams, after.streams, strict=True):
            assert new.batch_ms == (2.0 if old.topic == "/imu" else old.batch_ms)
            assert (new.topic, new.rate_hz, new.priority, new.queue_depth) == (old.topic, old.rate_hz, old.priority,
                                                                              old.queue_depth)
    assert all(s.batch_ms is None for v in with_budget("/imu", 0.0)(changed).vehicles for s in v.streams
               if s.topic == "/imu")


def test_the_e2e_goal_follows_the_budget_and_the_fleet_names_its_imu_budget() -> None:
    assert e2e.latency_goal(0.0) == e2e.LatencyGoal(1.0, 3.0)
    assert e2e.latency_goal(2.0) == e2e.LatencyGoal(2.0, 5.0)
    fleet, _ = load_fleet("")
    assert e2e.imu_budget_ms(with_budget("/imu", 3.0)(fleet)) == 3.0
    assert e2e.imu_budget_ms(with_budget("/imu", 0.0)(fleet)) == 0.0


def test_a_row_has_the_worst_vehicles_imu_all_streams_loss_samples_per_message_and_costs() -> None:
    row = level_row(Level(2.0, Feed.BYTES), _run(imu_messages=1330))
    assert (row["budget_ms"], row["payload"]) == (2.0, "bytes")
    assert (row["p50_ms"], row["p99_ms"], row["p99.9_ms"]) == (0.7, 2.5, 5.0)
    assert row["imu_rate_hz"] == 995.0 and row["lost"] == 3
    assert (row["lost_dds"], row["dropped_bridge"]) == (6, 1)  # the bridges' counts, every stream
    assert row["samples_per_msg"] == 3.0  # 3990 IMU samples in 1330 messages; odom does not count
    samples = 2000 + 1990 + 200
    assert row["path_us"] == round(1e6 * (0.4 + 0.2 + 0.2 + 0.2) / samples, 1)
    assert row["bridge_us"] == round((1e6 * 0.2 / 2000 + 1e6 * 0.2 / 2190) / 2, 1)
    assert row["cpu_pct"] == 66.0  # 1.32 CPU-s of every process over 2 s


def _rows(shipped_path_us: float, shipped_sensor_us: float) -> list[dict[str, object]]:
    common = {"imu_rate_hz": 999.0, "lost": 0, "lost_dds": 0, "dropped_bridge": 0, "bridge_us": 80.0}
    return [
        {"budget_ms": 0.0, "payload": "bytes", "p50_ms": 0.6, "p99_ms": 2.0, "path_us": 300.0, "sensor_sim_us": 40.0,
         **common},
        {"budget_ms": 2.0, "payload": "bytes", "p50_ms": 1.8, "p99_ms": 4.0, "path_us": shipped_path_us,
         "sensor_sim_us": shipped_sensor_us, **common},
        {"budget_ms": 2.0, "payload": "objects", "p50_ms": 1.9, "p99_ms": 4.5, "path_us": 200.0, "sensor_sim_us": 90.0,
         **common},
    ]


def test_the_targets_are_taken_at_the_shipped_default_against_budget_0_and_object_payloads() -> None:
    met = budget_result(_rows(shipped_path_us=150.0, shipped_sensor_us=45.0), 2.0, 60.0)
    assert all(target.met for target in met.targets), met.text()
    assert len(met.targets) == 9  # 7 at the shipped default, budget 0's p50 and p99
    rows = _rows(shipped_path_us=151.0, shipped_sensor_us=46.0)
    rows[1]["lost_dds"] = 2
    missed = budget_result(rows, 2.0, 60.0)
    assert [(t.name, t.measured) for t in missed.targets if not t.met] == [
        ("at 2 ms (shipped): loss over 60 s (all streams, every hop)", "2 (network 0, dds 2, bridge 0)"),
        ("at 2 ms (shipped): path CPU per sample / budget 0's", "0.503x"),
        ("at 2 ms (shipped): sensor_sim CPU per sample, bytes / objects", "0.511x"),
    ]


def test_a_shipped_budget_of_0_is_held_to_budget_0s_goals_and_missing_levels_miss() -> None:
    result = budget_result(_rows(150.0, 45.0)[:1], 0.0, 60.0)
    assert [t.goal for t in result.targets][:2] == ["<= 1 ms", "<= 3 ms"] and len(result.targets) == 7
    nothing = budget_result([], 2.0, 60.0)
    assert not any(target.met for target in nothing.targets)


def test_the_result_writes_json_and_a_plot_of_latency_against_path_cost(tmp_path: Path) -> None:
    rows = [level_row(Level(b, Feed.BYTES), _run(4000 // (1 + int(b)))) for b in (0.0, 2.0)]
    rows += [level_row(Level(2.0, Feed.OBJECTS), _run(2000)), level_row(Level(0.0, Feed.FLOOR), _run(3990))]
    result = budget_result(rows, 2.0, 2.0)
    written = result.write(tmp_path, budget.plot)
    data = json.loads(written[0].read_text())
    assert [(r["budget_ms"], r["payload"]) for r in data["rows"]] == [(0.0, "bytes"), (2.0, "bytes"),
                                                                       (2.0, "objects"), (0.0, "floor")]
    assert written[1].read_bytes()[:4] == b"\x89PNG"
    assert math.isnan(level_row(Level(0.0, Feed.BYTES), _run(0))["samples_per_msg"])
