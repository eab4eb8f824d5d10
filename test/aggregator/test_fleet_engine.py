"""FleetEngine against hand-made ticks whose answers are known in advance (no Zenoh, no clock):
rate, loss, restarts, jumps, bad input, latency, clock offset, jitter and fleet totals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support.engine_input import (
    MS,
    SECOND,
    T0,
    Arrivals,
    FakeBytes,
    FakeSample,
    arrivals,
    batch_inbox,
    batch_payload,
    data_inbox,
    drained,
)
from support.engine_run import EU, ROVER, TICK, TRUCK, US, WINDOW_S, Run, bad_input

from telemetry.aggregator.ingest import BadInput, Ingest
from telemetry.aggregator.prober import Catalogue
from telemetry.codec import TypeStore
from telemetry.fleet.clock import ClockEstimate
from telemetry.fleet.status import VehicleStatus
from telemetry.keys import KeySpace

# --- rate, loss, restarts, jumps ----------------------------------------------------------


def test_a_one_kilohertz_stream_over_ten_seconds_reports_exactly_one_thousand_hertz(store: TypeStore) -> None:
    run = Run(store, expected_hz={(EU, ROVER, "/imu"): 1000.0})
    run.token(EU, ROVER, True, T0)
    snapshot = run.ticks({(EU, ROVER, "/imu"): arrivals(1000, 10)}, T0, T0 + 10 * SECOND)

    imu = run.stream(snapshot, EU, ROVER, "/imu")
    assert imu.window_s == WINDOW_S
    assert imu.received == 5000
    assert imu.rate_hz == 1000.0
    assert imu.expected_hz == 1000.0
    assert imu.rate_ratio == 1.0
    assert imu.bytes_per_s == 1000.0 * 316
    assert (imu.lost, imu.lost_total, imu.received_total, imu.restarts_total) == (0, 0, 10_000, 0)
    assert imu.jitter_ms == 0.0
    assert imu.latency_p50_ms == pytest.approx(0.3) and imu.latency_max_ms == pytest.approx(0.3)
    assert not imu.stale and not imu.batched
    assert imu.ros_type == "sensor_msgs/msg/Imu"
    assert run.vehicle(snapshot, EU, ROVER).status == VehicleStatus.ONLINE


def test_the_catalogue_rate_wins_over_the_configured_one(store: TypeStore) -> None:
    run = Run(store, expected_hz={(EU, ROVER, "/imu"): 50.0})
    run.catalogues[(EU, ROVER)] = Catalogue({"/imu": 100.0}, {"/imu": "sensor_msgs/msg/Imu"})
    snapshot = run.ticks({(EU, ROVER, "/imu"): arrivals(100, 6)}, T0, T0 + 6 * SECOND)
    imu = run.stream(snapshot, EU, ROVER, "/imu")
    assert imu.expected_hz == 100.0 and imu.rate_ratio == 1.0


def test_an_unknown_expected_rate_is_nan_not_zero(store: TypeStore) -> None:
    run = Run(store)
    snapshot = run.ticks({(EU, ROVER, "/imu"): arrivals(100, 6)}, T0, T0 + 6 * SECOND)
    imu = run.stream(snapshot, EU, ROVER, "/imu")
    assert math.isnan(imu.expected_hz) and math.isnan(imu.rate_ratio)
    assert imu.rate_hz == 100.0


def test_every_tenth_sample_dropped_is_counted_as_loss_exactly(store: TypeStore) -> None:
    run = Run(store)
    run.token(EU, ROVER, True, T0)
    snapshot = run.ticks({(EU, ROVER, "/imu"): arrivals(1000, 10, drop_every=10)}, T0, T0 + 10 * SECOND)

    imu = run.stream(snapshot, EU, ROVER, "/imu")
    # Sent 1..10000, received all but the multiples of 10; 10000 itself is the last one
    # numbered, never received, so it is not known to be missing yet.
    assert imu.received_total == 9000
    assert imu.lost_total == 999
    # The window holds sequences 5001..9999 (received at T0 + 5 s .. T0 + 10 s).
    assert imu.received == 4500
    assert imu.lost == 499
    assert imu.rate_hz == 900.0


def test_a_bridge_restart_resets_the_sequence_without_counting_loss(store: TypeStore) -> None:
    run = Run(store)
    run.token(EU, ROVER, True, T0)
    before = arrivals(1000, 3)
    after = arrivals(1000, 3, start_ns=T0 + 3 * SECOND)  # numbered from 1 again
    restarted = Arrivals(*(np.concatenate(pair) for pair in zip(before, after, strict=True)))
    snapshot = run.ticks({(EU, ROVER, "/imu"): restarted}, T0, T0 + 6 * SECOND)

    imu = run.stream(snapshot, EU, ROVER, "/imu")
    assert imu.restarts_total == 1
    assert imu.lost_total == 0 and imu.lost == 0
    assert imu.received_total == 6000
    assert bad_input(run.vehicle(snapshot, EU, ROVER)) == {}


def test_a_billion_sample_jump_is_bad_input_not_loss(store: TypeStore) -> None:
    run = Run(store, expected_hz={(EU, ROVER, "/imu"): 100.0})
    run.token(EU, ROVER, True, T0)
    samples = arrivals(100, 4)
    jumped = samples.sequence.copy()
    jumped[200:] += np.uint64(1_000_000_000)
    snapshot = run.ticks({(EU, ROVER, "/imu"): samples._replace(sequence=jumped)}, T0, T0 + 4 * SECOND)

    vehicle = run.vehicle(snapshot, EU, ROVER)
    imu = run.stream(snapshot, EU, ROVER, "/imu")
    assert bad_input(vehicle) == {BadInput.SEQUENCE_JUMP: 1}
    assert vehicle.malformed == 1
    assert imu.lost_total == 0 and imu.lost == 0
    assert imu.received_total == 400


# --- bad input --------------------------------------------------------------------------


def test_attachments_of_an_unknown_version_are_counted_and_left_out_of_the_stats(store: TypeStore) -> None:
    run = Run(store)
    run.token(EU, ROVER, True, T0)
    samples = arrivals(100, 0.5, start_ns=T0 + 1)
    versions = np.ones(samples.sequence.size, np.uint8)
    versions[::5] = 2  # every fifth sample from a bridge that speaks a layout this build does not read
    run.engine.ingest(drained(data_inbox(EU, ROVER, "/imu", samples, version=versions)), T0 + TICK)
    snapshot = run.snapshot(T0 + TICK)

    vehicle = run.vehicle(snapshot, EU, ROVER)
    assert bad_input(vehicle) == {BadInput.UNKNOWN_VERSION: 10}
    assert run.stream(snapshot, EU, ROVER, "/imu").received_total == 40


def test_a_tick_of_only_unknown_versions_counts_them_and_adds_no_samples(store: TypeStore) -> None:
    run = Run(store)
    samples = arrivals(100, 0.5, start_ns=T0 + 1)
    run.engine.ingest(drained(data_inbox(EU, ROVER, "/imu", samples, version=2)), T0 + TICK)
    snapshot = run.snapshot(T0 + TICK)
    assert bad_input(run.vehicle(snapshot, EU, ROVER)) == {BadInput.UNKNOWN_VERSION: 50}
    assert run.stream(snapshot, EU, ROVER, "/imu").received_total == 0


def test_a_batch_that_does_not_decode_is_counted_and_the_good_batches_still_count(store: TypeStore) -> None:
    run = Run(store)
    good = arrivals(100, 0.4, start_ns=T0 + 1)
    payload = batch_payload(store, good, T0 + 400 * MS)
    undecodable = b"\x00\x01\x00\x00" + bytes(range(7))
    truncated = payload[: len(payload) // 2]
    batches = [(T0 + 100 * MS, undecodable), (T0 + 200 * MS, truncated), (T0 + 400 * MS, payload)]
    run.engine.ingest(drained(batch_inbox(EU, ROVER, "/imu", batches)), T0 + TICK)
    snapshot = run.snapshot(T0 + TICK)

    assert bad_input(run.vehicle(snapshot, EU, ROVER)) == {BadInput.BAD_BATCH: 2}
    imu = run.stream(snapshot, EU, ROVER, "/imu")
    assert imu.batched and imu.received_total == 40 and imu.lost_total == 0


def test_a_batched_stream_reports_the_ros_type_inside_its_batches(store: TypeStore) -> None:
    ingest = Ingest(KeySpace())
    payload = batch_payload(store, arrivals(100, 0.2, start_ns=T0), T0 + 200 * MS)
    # What the bridge's publisher sets (telemetry/net/forwarder.py) and Zenoh delivers.
    encoding = "application/cdr;telemetry/msg/SampleBatch"
    ingest.on_data(FakeSample("telemetry/data/us-east/truck-01/imu", FakeBytes(payload), encoding=encoding))
    run = Run(store)
    run.engine.ingest(ingest.drain(), T0 + TICK)
    assert run.stream(run.snapshot(T0 + TICK), US, TRUCK, "/imu").ros_type == "sensor_msgs/msg/Imu"


def test_batched_samples_give_the_same_rate_and_loss_as_single_ones(store: TypeStore) -> None:
    run = Run(store)
    run.token(US, TRUCK, True, T0)
    snapshot = run.ticks({(US, TRUCK, "/imu"): arrivals(1000, 10, drop_every=100)}, T0, T0 + 10 * SECOND, batched=True)
    imu = run.stream(snapshot, US, TRUCK, "/imu")
    assert imu.batched
    assert imu.received_total == 9900 and imu.lost_total == 99
    # Each batch carries the receive time of its last sample: the window holds 10 whole batches.
    assert imu.received == 4950 and imu.rate_hz == 990.0
    assert imu.ros_type == "sensor_msgs/msg/Imu"


def test_counts_the_ingest_callbacks_made_are_added_per_source(store: TypeStore) -> None:
    run = Run(store)
    bad: dict[tuple[str, str], dict[str, int]] = {
        (EU, ROVER): {BadInput.NO_ATTACHMENT: 3, BadInput.BAD_ATTACHMENT: 2}, (US, TRUCK): {BadInput.BAD_KEY: 1}
    }
    run.engine.ingest(drained(bad=bad), T0)
    run.engine.ingest(drained(bad={(EU, ROVER): {BadInput.NO_ATTACHMENT: 4}}), T0 + TICK)
    snapshot = run.snapshot(T0 + TICK)
    rover = run.vehicle(snapshot, EU, ROVER)
    assert bad_input(rover) == {BadInput.NO_ATTACHMENT: 7, BadInput.BAD_ATTACHMENT: 2}
    assert rover.malformed == 9
    assert bad_input(run.vehicle(snapshot, US, TRUCK)) == {BadInput.BAD_KEY: 1}
    assert run.fleet(snapshot).malformed == 10


def test_a_stream_flooding_a_hundred_times_its_expected_rate_is_counted(store: TypeStore) -> None:
    run = Run(store)
    run.catalogues[(EU, ROVER)] = Catalogue({"/battery": 10.0}, {})
    run.token(EU, ROVER, True, T0)
    run.ticks({(EU, ROVER, "/battery"): arrivals(10, 2)}, T0, T0 + 2 * SECOND)
    assert bad_input(run.vehicle(run.snapshots[-1], EU, ROVER)) == {}
    snapshot = run.ticks(
        {(EU, ROVER, "/battery"): arrivals(1000, 2, start_ns=T0 + 2 * SECOND, first_sequence=21)},
        T0 + 2 * SECOND,
        T0 + 4 * SECOND,
    )
    assert bad_input(run.vehicle(snapshot, EU, ROVER)) == {BadInput.FLOOD: 4}  # one per flooded tick
    assert run.stream(snapshot, EU, ROVER, "/battery").lost_total == 0


# --- latency, clock offset, jitter --------------------------------------------------------


def test_latency_percentiles_are_those_of_the_samples_in_the_window(store: TypeStore) -> None:
    run = Run(store)
    samples = arrivals(1000, 5)
    rng = np.random.default_rng(7)
    latency_ns = rng.gamma(2.0, 400_000, samples.receive_ns.size).astype(np.int64)  # ~0.8 ms, long tail
    snapshot = run.ticks(
        {(EU, ROVER, "/imu"): samples._replace(source_ns=samples.receive_ns - latency_ns)}, T0, T0 + 5 * SECOND
    )
    imu = run.stream(snapshot, EU, ROVER, "/imu")
    # The window [T0, T0 + 5 s] holds every sample; percentiles are exact, not bucketed.
    p50, p90, p99 = np.percentile(latency_ns, (50, 90, 99)) / 1e6
    assert imu.latency_p50_ms == pytest.approx(p50, abs=1e-6)
    assert imu.latency_p90_ms == pytest.approx(p90, abs=1e-6)
    assert imu.latency_p99_ms == pytest.approx(p99, abs=1e-6)
    assert imu.latency_max_ms == pytest.approx(latency_ns.max() / 1e6, abs=1e-6)


def test_a_vehicle_clock_250_ms_ahead_reads_minus_250_raw_and_the_true_latency_corrected(store: TypeStore) -> None:
    offset = ClockEstimate(offset_ns=250 * MS, uncertainty_ns=100_000, round_trip_ns=200_000, samples=8)
    run = Run(store, clock=offset)
    run.token(EU, ROVER, True, T0)
    samples = arrivals(100, 5, latency_ns=700_000, clock_shift_ns=250 * MS)
    snapshot = run.ticks({(EU, ROVER, "/imu"): samples}, T0, T0 + 5 * SECOND)

    vehicle = run.vehicle(snapshot, EU, ROVER)
    imu = run.stream(snapshot, EU, ROVER, "/imu")
    assert vehicle.clock_offset_ms == 250.0 and vehicle.clock_offset_uncertainty_ms == 0.1
    assert imu.latency_p50_ms == pytest.approx(-249.3)
    assert imu.corrected_latency_p50_ms == pytest.approx(0.7)
    assert imu.corrected_latency_p99_ms == pytest.approx(0.7)


def test_without_a_clock_estimate_offset_and_corrected_latency_are_nan(store: TypeStore) -> None:
    run = Run(store)
    snapshot = run.ticks({(EU, ROVER, "/imu"): arrivals(100, 2)}, T0, T0 + 2 * SECOND)
    assert math.isnan(run.vehicle(snapshot, EU, ROVER).clock_offset_ms)
    assert math.isnan(run.stream(snapshot, EU, ROVER, "/imu").corrected_latency_p50_ms)


def test_jitter_is_the_standard_deviation_of_inter_arrival_intervals(store: TypeStore) -> None:
    run = Run(store)
    samples = arrivals(1000, 5)
    wobble = np.where(np.arange(samples.receive_ns.size) % 2 == 1, 500_000, 0)  # intervals 1.5 ms, 0.5 ms, ...
    snapshot = run.ticks(
        {(EU, ROVER, "/imu"): samples._replace(receive_ns=samples.receive_ns + wobble)}, T0, T0 + 5 * SECOND
    )
    assert run.stream(snapshot, EU, ROVER, "/imu").jitter_ms == pytest.approx(0.5)


# --- fleet totals -------------------------------------------------------------------------


def test_fleet_status_adds_up_every_vehicle_and_stream(store: TypeStore) -> None:
    expected = {(EU, ROVER, "/imu"): 1000.0, (EU, ROVER, "/odom"): 100.0, (US, TRUCK, "/imu"): 1000.0}
    run = Run(store, expected_hz=expected)
    for region, vehicle in ((EU, ROVER), (US, TRUCK)):
        run.token(region, vehicle, True, T0)
    run.engine.ingest(drained(bad={(US, TRUCK): {BadInput.NO_ATTACHMENT: 5}}), T0)
    snapshot = run.ticks(
        {
            (EU, ROVER, "/imu"): arrivals(1000, 6, latency_ns=400_000),
            (EU, ROVER, "/odom"): arrivals(100, 6, latency_ns=2_000_000, size=700),
            (US, TRUCK, "/imu"): arrivals(1000, 6, drop_every=10),
        },
        T0,
        T0 + 6 * SECOND,
    )

    fleet = run.fleet(snapshot)
    assert (fleet.vehicles_online, fleet.vehicles_stale, fleet.vehicles_offline) == (2, 0, 0)
    assert fleet.vehicles == ["eu-west/rover-01", "us-east/truck-01"]
    assert bytes(fleet.vehicle_status) == b"\x00\x00"
    assert fleet.streams == 3
    assert fleet.streams_ok == 3  # the truck's imu arrives at exactly 90 %: still ok
    assert fleet.samples_per_s == 1000.0 + 100.0 + 900.0
    assert fleet.bytes_per_s == 1000.0 * 316 + 100.0 * 700 + 900.0 * 316
    assert fleet.worst_latency_p99_ms == pytest.approx(2.0)
    assert fleet.lost == run.stream(snapshot, US, TRUCK, "/imu").lost == 499
    assert fleet.malformed == 5
    assert list(fleet.regions) == []


def test_every_vehicle_in_a_snapshot_can_be_published_under_its_stats_key(store: TypeStore) -> None:
    """The service puts each snapshot entry on KeySpace.stats(region, vehicle), which validates."""
    ingest = Ingest(KeySpace())
    for key in ("telemetry/data/eu-west", "telemetry/data", "telemetry/data/eu-west/rover-01/9bad"):
        ingest.on_data(FakeSample(key, FakeBytes(b"\x00\x01\x00\x00")))
    run = Run(store)
    run.engine.ingest(ingest.drain(), T0)
    snapshot = run.snapshot(T0)
    assert bad_input(run.vehicle(snapshot, EU, ROVER)) == {BadInput.BAD_KEY: 1}
    for region, vehicle in snapshot.vehicle_stats:
        KeySpace().stats(region, vehicle)  # raises KeyExprError for a name a key cannot hold
