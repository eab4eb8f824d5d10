"""The bench's subscribers on a real router: the probe counts a batch's samples as arriving
with it and the messages that carried each stream; the health watch differences the
bridges' reports over the window. Samples, batches and reports are put the way the bridge
puts them (telemetry.net.forwarder), from a client session of the same router."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import zenoh
from support.processes import ProcessGroup, free_port, wait_until
from support.synthetic import IMU_TYPE, imu_payload_template
from support.zenoh_net import ClientSessions, start_router

from telemetry.bench.health_watch import HealthWatch
from telemetry.bench.probe import LatencyProbe
from telemetry.bridge.accounting import StreamCounters
from telemetry.bridge.health import HealthReporter, ProcessLoad
from telemetry.codec import TypeStore
from telemetry.codec.attachment import pack_fields
from telemetry.codec.batch import BATCH_ENCODING, BATCH_TYPE, BatchEncoder
from telemetry.codec.names import BRIDGE_HEALTH
from telemetry.keys import KeyKind, KeySpace

REGION, VEHICLE = "eu-west", "rover-01"
KEYS = KeySpace("telemetry")
DATA_KEY = KEYS.data(REGION, VEHICLE, "/imu")
HEALTH_KEY = KEYS.health(REGION, VEHICLE)
ARRIVAL_TIMEOUT_S = 5.0


@pytest.fixture
def sessions(processes: ProcessGroup, zenoh_clients: ClientSessions) -> tuple[zenoh.Session, zenoh.Session]:
    """A publishing client and the bench's client, both of one router on a free port."""
    router = start_router(processes, free_port())
    return zenoh_clients.open(router.endpoint), zenoh_clients.open(router.endpoint)


@contextmanager
def routed_publisher(session: zenoh.Session, key: str, encoding: zenoh.Encoding,
                     priority: zenoh.Priority = zenoh.Priority.DATA) -> Iterator[zenoh.Publisher]:
    """A publisher that blocks rather than drops, handed over once the router routes `key`
    to a subscriber (declared before this), so the first put is not lost to propagation."""
    with session.declare_publisher(key, encoding=encoding, priority=priority,
                                   congestion_control=zenoh.CongestionControl.BLOCK) as publisher:
        def matching() -> bool:
            # The stub types matching_status as bool; at run time it is a MatchingStatus.
            return bool(publisher.matching_status.matching)  # type: ignore[attr-defined]

        assert wait_until(matching, ARRIVAL_TIMEOUT_S), f"no subscriber for {key}"
        yield publisher


def test_take_counts_samples_alone_and_in_batches_under_the_data_key(
    sessions: tuple[zenoh.Session, zenoh.Session], store: TypeStore
) -> None:
    publishing, probing = sessions
    now_ns = time.time_ns()
    imu = imu_payload_template(store)
    version = store.constant(BATCH_TYPE, "VERSION")  # a constant of the .msg
    encoder = BatchEncoder(IMU_TYPE, True, version)
    batch_encoding = zenoh.Encoding(BATCH_ENCODING)
    with (LatencyProbe(probing, KEYS.selector(KeyKind.DATA), store) as probe,
          routed_publisher(publishing, DATA_KEY, zenoh.Encoding.APPLICATION_CDR.with_schema(IMU_TYPE)) as publisher):
        def batch(sequences: list[int]) -> bytes:
            return encoder.encode(time.time_ns(), sequences, [now_ns] * len(sequences), [imu] * len(sequences))

        publisher.put(imu, attachment=pack_fields(1, now_ns, time.time_ns(), True))
        publisher.put(imu, attachment=pack_fields(2, now_ns, time.time_ns(), True))
        publisher.put(batch([3, 4, 5]), encoding=batch_encoding)  # the same key, its own encoding, no attachment
        publisher.put(imu)  # no attachment and not a batch: ignored (the batch after it shows it arrived)
        publisher.put(batch([6, 7]), encoding=batch_encoding)
        assert wait_until(lambda: probe.messages() == 4, ARRIVAL_TIMEOUT_S), f"{probe.messages()} of 4 messages"
        window = probe.take()
        assert probe.take().messages == {}  # the window starts again
    assert window.messages == {DATA_KEY: 4}
    assert window.streams[DATA_KEY].samples == 7 and window.streams[DATA_KEY].lost == 0


def test_the_health_watch_counts_what_the_bridges_lost_between_the_reports_around_the_window(
    sessions: tuple[zenoh.Session, zenoh.Session], store: TypeStore
) -> None:
    publishing, watching = sessions
    started_ns = time.time_ns()
    reporter = HealthReporter(store, REGION, VEHICLE, started_ns, ProcessLoad(0.0, started_ns))

    def report(lost_dds: int, put_errors: int = 0) -> bytes:
        counters = StreamCounters(received=100, forwarded=100, messages=50, lost_dds=lost_dds, put_errors=put_errors,
                                  source_published=100 + lost_dds, publishers=1)
        return reporter.report({"/imu": counters}, cpu_s=0.0, now_ns=time.time_ns())

    def counted_since(start_ns: int) -> tuple[int, int] | None:
        """(lost_dds, dropped_bridge) from `start_ns` to now: which reports have arrived so far."""
        hop = watch.hops(start_ns, time.time_ns()).get(DATA_KEY)
        return None if hop is None else (hop.lost_dds, hop.dropped_bridge)

    health_encoding = zenoh.Encoding.APPLICATION_CDR.with_schema(BRIDGE_HEALTH)
    with (HealthWatch(watching, KEYS, store) as watch,
          routed_publisher(publishing, HEALTH_KEY, health_encoding, zenoh.Priority.DATA_LOW) as publisher):
        publisher.put(report(10))  # before the window: the base
        assert wait_until(lambda: counted_since(0) == (10, 0), ARRIVAL_TIMEOUT_S), "the base report did not arrive"
        start_ns = time.time_ns()
        publisher.put(report(12))
        publisher.put(b"not a report")  # skipped, not a crash
        publisher.put(report(15, put_errors=2))
        assert wait_until(lambda: counted_since(start_ns) == (5, 2), ARRIVAL_TIMEOUT_S), counted_since(start_ns)
        end_ns = time.time_ns()
        publisher.put(report(99))  # after the window: not counted
        assert wait_until(lambda: counted_since(start_ns) == (89, 0), ARRIVAL_TIMEOUT_S), counted_since(start_ns)
        hops = watch.hops(start_ns, end_ns)
    assert list(hops) == [DATA_KEY]
    assert (hops[DATA_KEY].lost_dds, hops[DATA_KEY].dropped_bridge) == (5, 2)
