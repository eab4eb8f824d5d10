"""The aggregator on a real three-router fleet: cloud + eu-west + us-east, synthetic vehicles in
each region (clients of their regional router), a fleet-wide aggregator and an eu-west one,
both clients of the cloud router only. Every process is real and on 127.0.0.1.

One fleet serves the whole module (starting eleven processes on two cores is the slow part);
each test reads the aggregators' answers. The vehicles:

    eu-west/rover-01  /imu 500 Hz, /odom 50 Hz
    eu-west/rover-02  /imu 200 Hz, every 10th sequence dropped on purpose
    eu-west/rover-03  /imu 200 Hz, clock running 250 ms ahead
    us-east/truck-01  /imu 500 Hz, /gnss 10 Hz, batched every 20 ms
    us-east/truck-02  /imu 200 Hz, sequence back to 1 after 2 s (a bridge restart)
"""

from __future__ import annotations

import math
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from support.aggregator_side import AggregatorProcess, StatsReader, start_aggregator, stream_of
from support.processes import ProcessGroup, free_port
from support.synthetic import start_synthetic_vehicle
from support.zenoh_net import ClientSessions, start_router

from telemetry.codec import TypeStore

WINDOW = ("--window", "2", "--tick", "0.25")
RATE_TOLERANCE = 0.10
SETTLE_S = 25.0  # generous: eleven processes share two cores

#: (region, vehicle) -> {topic: rate sent}
VEHICLES: dict[tuple[str, str], dict[str, float]] = {
    ("eu-west", "rover-01"): {"/imu": 500, "/odom": 50},
    ("eu-west", "rover-02"): {"/imu": 200},
    ("eu-west", "rover-03"): {"/imu": 200},
    ("us-east", "truck-01"): {"/imu": 500, "/gnss": 10},
    ("us-east", "truck-02"): {"/imu": 200},
}
OPTIONS = {
    ("eu-west", "rover-02"): ["--drop-every", "10"],
    ("eu-west", "rover-03"): ["--clock-shift-ms", "250"],
    ("us-east", "truck-01"): ["--batch-ms", "20"],
    ("us-east", "truck-02"): ["--restart-after-s", "2"],
}
DROPPING = ("eu-west", "rover-02")


@dataclass
class Fleet:
    processes: ProcessGroup
    cloud_endpoint: str
    everything: AggregatorProcess
    eu_west: AggregatorProcess
    session: Any  # a client of the cloud router
    store: TypeStore

    def reader(self, aggregator: AggregatorProcess) -> StatsReader:
        return StatsReader(self.session, aggregator.zid, self.store)


@pytest.fixture(scope="module")
def fleet(store: TypeStore) -> Iterator[Fleet]:
    processes, clients = ProcessGroup(), ClientSessions()
    try:
        cloud = start_router(processes, free_port(), "cloud.json5", name="cloud")
        regions = {
            name: start_router(processes, free_port(), f"{name}.json5", connect=(cloud.endpoint,), name=name)
            for name in ("eu-west", "us-east")
        }
        everything = start_aggregator(processes, cloud.endpoint, *WINDOW, name="aggregator")
        eu_west = start_aggregator(processes, cloud.endpoint, *WINDOW, "--region", "eu-west", name="aggregator:eu-west")
        for (region, vehicle), streams in VEHICLES.items():
            specs = [f"{topic[1:]}:{rate:g}" for topic, rate in streams.items()]
            start_synthetic_vehicle(
                processes, regions[region].endpoint, region, vehicle, *specs, extra=OPTIONS.get((region, vehicle), [])
            )
        session = clients.open(cloud.endpoint)
        yield Fleet(processes, cloud.endpoint, everything, eu_west, session, store)
    finally:
        clients.close_all()
        processes.stop_all()


def assert_rate(stream: Any, rate_hz: float, where: str) -> None:
    assert stream.window_s == 2.0, f"{where}: window not full yet ({stream.window_s} s)"
    assert abs(stream.rate_hz - rate_hz) <= RATE_TOLERANCE * rate_hz, (
        f"{where}: {stream.rate_hz:.1f} Hz, sent {rate_hz}"
    )


def every_stream_settled(vehicles: dict[tuple[str, str], Any], wanted: dict[tuple[str, str], dict[str, float]]) -> None:
    for (region, vehicle), streams in wanted.items():
        stats = vehicles[(region, vehicle)]
        for topic, rate_hz in streams.items():
            delivered = rate_hz * (0.9 if (region, vehicle) == DROPPING else 1.0)
            assert_rate(stream_of(stats, topic), delivered, f"{region}/{vehicle}{topic}")


def test_the_cloud_aggregator_sees_every_stream_of_both_regions_at_its_rate_without_loss(fleet: Fleet) -> None:
    vehicles = fleet.reader(fleet.everything).wait_for(lambda v: every_stream_settled(v, VEHICLES), SETTLE_S)

    assert set(vehicles) == set(VEHICLES)
    for (region, vehicle), streams in VEHICLES.items():
        stats = vehicles[(region, vehicle)]
        assert stats.status == 0, f"{region}/{vehicle} not online"
        assert stats.malformed == 0 and list(stats.bad_input) == []
        assert sorted(s.topic for s in stats.streams) == sorted(streams)
        for topic, rate_hz in streams.items():
            stream = stream_of(stats, topic)
            assert stream.expected_hz == rate_hz, "expected rate from the vehicle's catalogue"
            assert stream.batched == ((region, vehicle) == ("us-east", "truck-01"))
            assert not stream.stale
            if (region, vehicle) != DROPPING:
                assert (stream.lost, stream.lost_total) == (0, 0), f"{region}/{vehicle}{topic}"


def test_a_vehicle_dropping_every_tenth_sample_shows_a_tenth_lost(fleet: Fleet) -> None:
    vehicles = fleet.reader(fleet.everything).wait_for(
        lambda v: every_stream_settled(v, {DROPPING: VEHICLES[DROPPING]}), SETTLE_S
    )
    imu = stream_of(vehicles[DROPPING], "/imu")
    # Sequences 1..N arrive but for multiples of 10: lost = received / 9, to within one
    # sample at either end of the count.
    assert abs(imu.lost_total - imu.received_total / 9) <= 1.5, (imu.lost_total, imu.received_total)
    assert abs(imu.lost - imu.received / 9) <= 1.5, (imu.lost, imu.received)
    assert imu.restarts_total == 0
    assert vehicles[DROPPING].malformed == 0


def test_a_bridge_restart_mid_run_is_a_sequence_reset_not_loss(fleet: Fleet) -> None:
    def restarted(vehicles: dict[tuple[str, str], Any]) -> None:
        assert stream_of(vehicles[("us-east", "truck-02")], "/imu").restarts_total == 1

    vehicles = fleet.reader(fleet.everything).wait_for(restarted, SETTLE_S)
    imu = stream_of(vehicles[("us-east", "truck-02")], "/imu")
    assert imu.lost_total == 0 and imu.lost == 0
    assert vehicles[("us-east", "truck-02")].malformed == 0


def test_a_vehicle_clock_250_ms_ahead_is_measured_and_its_latency_corrected(fleet: Fleet) -> None:
    key = ("eu-west", "rover-03")

    def measured(vehicles: dict[tuple[str, str], Any]) -> None:
        stats = vehicles[key]
        assert not math.isnan(stats.clock_offset_ms)
        assert_rate(stream_of(stats, "/imu"), 200, "eu-west/rover-03/imu")

    stats = fleet.reader(fleet.everything).wait_for(measured, SETTLE_S)[key]
    imu = stream_of(stats, "/imu")
    assert stats.clock_offset_ms == pytest.approx(250.0, abs=2.0)
    assert 0.0 <= stats.clock_offset_uncertainty_ms < 2.0
    # Raw latency reads on two clocks: about -250 ms. Corrected: the true small latency.
    assert imu.latency_p50_ms == pytest.approx(-250.0, abs=5.0)
    assert -1.0 < imu.corrected_latency_p50_ms < 5.0, imu.corrected_latency_p50_ms
    assert imu.corrected_latency_p50_ms == pytest.approx(imu.latency_p50_ms + stats.clock_offset_ms, abs=1e-6)
    # The same path with agreeing clocks, for comparison.
    other = fleet.reader(fleet.everything).vehicles()[("eu-west", "rover-01")]
    assert abs(other.clock_offset_ms) < 2.0
    assert abs(stream_of(other, "/imu").corrected_latency_p50_ms - imu.corrected_latency_p50_ms) < 3.0


def test_an_aggregator_given_a_region_sees_only_that_region(fleet: Fleet) -> None:
    eu_only = {key: streams for key, streams in VEHICLES.items() if key[0] == "eu-west"}
    reader = fleet.reader(fleet.eu_west)
    vehicles = reader.wait_for(lambda v: every_stream_settled(v, eu_only), SETTLE_S)
    assert set(vehicles) == set(eu_only)

    status = reader.fleet()
    assert status is not None
    assert list(status.regions) == ["eu-west"]
    assert list(status.vehicles) == [f"{region}/{vehicle}" for region, vehicle in sorted(eu_only)]
    assert status.streams == sum(len(streams) for streams in eu_only.values())
    # Asked for every vehicle's stats, it answers for its region only.
    answered = reader.repliers("telemetry/stats/**")[fleet.eu_west.zid]
    assert sorted(answered) == sorted(f"telemetry/stats/{region}/{vehicle}" for region, vehicle in eu_only)


def test_the_fleet_status_counts_every_vehicle_and_stream(fleet: Fleet) -> None:
    reader = fleet.reader(fleet.everything)
    reader.wait_for(lambda v: every_stream_settled(v, VEHICLES), SETTLE_S)
    status = reader.fleet()
    assert status is not None
    assert list(status.regions) == []
    assert list(status.vehicles) == [f"{region}/{vehicle}" for region, vehicle in sorted(VEHICLES)]
    assert (status.vehicles_online, status.vehicles_stale, status.vehicles_offline) == (5, 0, 0)
    assert bytes(status.vehicle_status) == bytes(5)
    assert status.streams == 7
    sent = sum(rate for streams in VEHICLES.values() for rate in streams.values()) - 0.1 * 200
    assert status.samples_per_s == pytest.approx(sent, rel=RATE_TOLERANCE)
    assert status.malformed == 0


def test_single_sample_streams_report_the_ros_type_from_the_encoding(fleet: Fleet) -> None:
    vehicles = fleet.reader(fleet.everything).wait_for(lambda v: every_stream_settled(v, VEHICLES), SETTLE_S)
    for key, stats in vehicles.items():
        if key != ("us-east", "truck-01"):
            assert {s.ros_type for s in stats.streams} == {"sensor_msgs/msg/Imu"}, key


def test_a_batched_stream_reports_the_ros_type_of_its_samples(fleet: Fleet) -> None:
    vehicles = fleet.reader(fleet.everything).wait_for(lambda v: every_stream_settled(v, VEHICLES), SETTLE_S)
    assert {s.ros_type for s in vehicles[("us-east", "truck-01")].streams} == {"sensor_msgs/msg/Imu"}


def test_the_fleet_status_names_the_aggregator_that_made_it(fleet: Fleet) -> None:
    status = fleet.reader(fleet.everything).fleet()
    assert status is not None and status.aggregator == fleet.everything.zid


def test_queries_answer_the_latest_published_values(fleet: Fleet) -> None:
    reader = fleet.reader(fleet.everything)
    reader.wait_for(lambda v: every_stream_settled(v, VEHICLES), SETTLE_S)
    published: queue.Queue[tuple[str, bytes]] = queue.Queue()

    def record(sample: Any) -> None:
        published.put((str(sample.key_expr), sample.payload.to_bytes()))

    # us-east stats come from the fleet-wide aggregator only; its FleetStatus has no regions.
    with (
        fleet.session.declare_subscriber("telemetry/stats/us-east/*", record),
        fleet.session.declare_subscriber("telemetry/fleet", record),
    ):
        started = time.monotonic()
        seen: dict[str, list[int]] = {}
        while time.monotonic() - started < 1.5:  # ~6 ticks of 0.25 s
            try:
                key, payload = published.get(timeout=0.5)
            except queue.Empty:
                continue
            kind = "telemetry/msg/FleetStatus" if key == "telemetry/fleet" else "telemetry/msg/VehicleStats"
            message = fleet.store.decode(kind, payload)
            if key == "telemetry/fleet" and list(message.regions):
                continue  # the eu-west aggregator's summary
            seen.setdefault(key, []).append(message.stamp.sec * 1_000_000_000 + message.stamp.nanosec)
        vehicles = reader.vehicles("telemetry/stats/**")
        status = reader.fleet()

    assert set(seen) == {"telemetry/fleet", "telemetry/stats/us-east/truck-01", "telemetry/stats/us-east/truck-02"}
    for key, stamps in seen.items():
        assert 4 <= len(stamps) <= 8, f"{key}: {len(stamps)} publications in 1.5 s at a 0.25 s tick"
    assert set(vehicles) == set(VEHICLES)
    assert status is not None
    answered_ns = {
        "telemetry/fleet": status.stamp.sec * 1_000_000_000 + status.stamp.nanosec,
        **{f"telemetry/stats/{r}/{v}": s.stamp.sec * 1_000_000_000 + s.stamp.nanosec for (r, v), s in vehicles.items()},
    }
    for key, stamps in seen.items():
        assert answered_ns[key] >= stamps[-1], f"{key}: the query answered an older value than the last published"
    now_ns = time.time_ns()
    for key, stamp_ns in answered_ns.items():
        assert now_ns - stamp_ns < 1_500_000_000, f"{key}: answer {(now_ns - stamp_ns) / 1e9:.2f} s old"


def test_the_aggregators_logged_no_failure(fleet: Fleet) -> None:
    for aggregator in (fleet.everything, fleet.eu_west):
        assert aggregator.process.returncode is None, aggregator.process.output()
        problems = [
            line
            for line in aggregator.process.output().splitlines()
            if " ERROR " in line or " WARNING " in line or "Traceback" in line
        ]
        assert problems == [], "\n".join(problems)
