"""Bad input from rogue publishers, while a good vehicle streams: the aggregator counts each kind
for the source that sent it, keeps the good stream's stats right, stays up, and logs at most
one line per source per minute about it.

A cloud router, the aggregator and a good synthetic vehicle (eu-west/rover-01) are shared by
the module; each rogue uses a vehicle name of its own, so each count can be checked exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import zenoh
from support import rogue
from support.aggregator_side import AggregatorProcess, StatsReader, bad_input_of, start_aggregator, stream_of
from support.processes import ProcessGroup, free_port
from support.synthetic import start_synthetic_vehicle
from support.zenoh_net import ClientSessions, RouterProcess, start_router

from telemetry.aggregator.ingest import BadInput
from telemetry.codec import TypeStore

WINDOW = ("--window", "2", "--tick", "0.25")
GOOD = ("eu-west", "rover-01")
GOOD_RATES = {"/imu": 200.0, "/odom": 20.0}
SETTLE_S = 20.0


@dataclass
class Bench:
    router: RouterProcess
    aggregator: AggregatorProcess
    session: zenoh.Session
    store: TypeStore
    reader: StatsReader


def start_bench(processes: ProcessGroup, clients: ClientSessions, store: TypeStore) -> Bench:
    router = start_router(processes, free_port(), "cloud.json5", name="cloud")
    aggregator = start_aggregator(processes, router.endpoint, *WINDOW)
    start_synthetic_vehicle(processes, router.endpoint, *GOOD, "imu:200", "odom:20")
    session = clients.open(router.endpoint)
    return Bench(router, aggregator, session, store, StatsReader(session, aggregator.zid, store))


@pytest.fixture(scope="module")
def bench(store: TypeStore) -> Iterator[Bench]:
    processes, clients = ProcessGroup(), ClientSessions()
    try:
        yield start_bench(processes, clients, store)
    finally:
        clients.close_all()
        processes.stop_all()


def good_vehicle_is_right(vehicles: dict[tuple[str, str], Any]) -> None:
    stats = vehicles[GOOD]
    assert stats.status == 0, "good vehicle not online"
    assert bad_input_of(stats) == {}, f"good vehicle charged with {bad_input_of(stats)}"
    for topic, rate_hz in GOOD_RATES.items():
        stream = stream_of(stats, topic)
        assert stream.window_s == 2.0 and abs(stream.rate_hz - rate_hz) <= 0.1 * rate_hz, (topic, stream.rate_hz)
        assert stream.lost_total == 0 and stream.expected_hz == rate_hz, topic


def rejected_lines(aggregator: AggregatorProcess, source: str) -> list[str]:
    return [line for line in aggregator.process.output().splitlines() if f" {source}: rejected input" in line]


def assert_alive_and_quiet(aggregator: AggregatorProcess) -> None:
    assert aggregator.process.returncode is None, aggregator.process.output()
    failures = [
        line
        for line in aggregator.process.output().splitlines()
        if "tick failed" in line or " ERROR " in line or "Traceback" in line
    ]
    assert failures == [], "\n".join(failures)


Sender = Callable[[Bench, str], int]  # (bench, vehicle name) -> bad inputs sent

SENDERS: dict[str, tuple[str, Sender]] = {
    BadInput.NO_ATTACHMENT: ("data", lambda b, key: rogue.put_without_attachment(b.session, key)),
    BadInput.BAD_ATTACHMENT: (
        "data",
        lambda b, key: rogue.put_with_attachment(b.session, key, rogue.wrong_length_attachment),
    ),
    BadInput.UNKNOWN_VERSION: (
        "data",
        lambda b, key: rogue.put_with_attachment(b.session, key, rogue.unknown_version_attachment),
    ),
    BadInput.BAD_BATCH: ("data", lambda b, key: rogue.put_undecodable_batches(b.session, key, b.store)),
    BadInput.SEQUENCE_JUMP: ("data", lambda b, key: rogue.sequence_jump(b.session, key)),
    # A topic chunk ROS would reject (it starts with a digit): the key names its vehicle.
    BadInput.BAD_KEY: ("data", lambda b, key: rogue.put_bad_keys(b.session, [key.rsplit("/", 1)[0] + "/9lives"])),
}


@pytest.mark.parametrize("kind", list(SENDERS))
def test_each_bad_input_is_counted_for_its_source_while_good_streams_stay_right(bench: Bench, kind: str) -> None:
    bench.reader.wait_for(good_vehicle_is_right, SETTLE_S)
    source = ("eu-west", f"rogue-{kind.replace('_', '-')}")
    where, send = SENDERS[kind]
    sent = send(bench, f"telemetry/{where}/{source[0]}/{source[1]}/imu")

    def counted(vehicles: dict[tuple[str, str], Any]) -> None:
        assert bad_input_of(vehicles[source]) == {kind: sent}
        assert vehicles[source].malformed == sent
        if kind == BadInput.SEQUENCE_JUMP:  # every good sample of the rogue arrived too
            assert stream_of(vehicles[source], "/imu").received_total == 50

    vehicles = bench.reader.wait_for(counted, SETTLE_S)
    good_vehicle_is_right(vehicles)
    assert_alive_and_quiet(bench.aggregator)
    if kind == BadInput.SEQUENCE_JUMP:
        assert stream_of(vehicles[source], "/imu").lost_total == 0, "a jump is not loss"
    # The bad input spanned several ticks; the log says so once (per source per minute).
    bench.aggregator.process.wait_for_line(f" {source[0]}/{source[1]}: rejected input", 5.0, stream="stderr")
    assert len(rejected_lines(bench.aggregator, f"{source[0]}/{source[1]}")) == 1


def test_a_stream_flooding_a_hundred_times_its_expected_rate_is_counted(bench: Bench) -> None:
    bench.reader.wait_for(good_vehicle_is_right, SETTLE_S)
    source = ("eu-west", "rogue-flood")
    vehicle = rogue.flood(bench.session, *source, expected_hz=10.0, factor=100.0, seconds=1.5, store=bench.store)
    try:

        def counted(vehicles: dict[tuple[str, str], Any]) -> None:
            assert bad_input_of(vehicles[source]).get(BadInput.FLOOD, 0) >= 1

        vehicles = bench.reader.wait_for(counted, SETTLE_S)
    finally:
        vehicle.close()
    assert set(bad_input_of(vehicles[source])) == {BadInput.FLOOD}
    flooded = stream_of(vehicles[source], "/flood")
    assert flooded.expected_hz == 10.0 and flooded.lost_total == 0
    good_vehicle_is_right(vehicles)
    assert_alive_and_quiet(bench.aggregator)
    bench.aggregator.process.wait_for_line(" eu-west/rogue-flood: rejected input", 5.0, stream="stderr")
    assert len(rejected_lines(bench.aggregator, "eu-west/rogue-flood")) == 1


def test_bad_input_on_a_good_stream_key_leaves_its_stats_right(bench: Bench) -> None:
    """Unknown-version samples interleaved on the good vehicle's own key: counted, not mixed in."""
    reader = bench.reader
    reader.wait_for(good_vehicle_is_right, SETTLE_S)
    sent = rogue.put_with_attachment(
        bench.session, "telemetry/data/eu-west/rover-01/imu", rogue.unknown_version_attachment, count=20
    )

    def counted(vehicles: dict[tuple[str, str], Any]) -> None:
        assert bad_input_of(vehicles[GOOD]) == {BadInput.UNKNOWN_VERSION: sent}

    vehicles = reader.wait_for(counted, SETTLE_S)
    imu = stream_of(vehicles[GOOD], "/imu")
    assert imu.lost_total == 0 and imu.restarts_total == 0
    assert abs(imu.rate_hz - 200.0) <= 20.0
    assert not math.isnan(imu.latency_p50_ms) and imu.latency_p50_ms < 50.0
    assert_alive_and_quiet(bench.aggregator)


def test_a_key_too_short_to_name_a_vehicle_is_counted_and_publishing_goes_on(
    processes: ProcessGroup, zenoh_clients: ClientSessions, store: TypeStore
) -> None:
    bench = start_bench(processes, zenoh_clients, store)  # its own aggregator: this input may break it
    bench.reader.wait_for(good_vehicle_is_right, SETTLE_S)
    rogue.put_bad_keys(bench.session, ["telemetry/data/eu-west", "telemetry/data/eu-west/rogue-short"], count=10)

    def counted(vehicles: dict[tuple[str, str], Any]) -> None:
        assert bad_input_of(vehicles[("eu-west", "rogue-short")]) == {BadInput.BAD_KEY: 10}

    vehicles = bench.reader.wait_for(counted, 6.0)  # a healthy aggregator counts within a second
    first = vehicles[GOOD].stamp
    later = bench.reader.wait_for(lambda v: v[GOOD].stamp != first, 5.0)  # still publishing
    good_vehicle_is_right(later)
    assert_alive_and_quiet(bench.aggregator)
