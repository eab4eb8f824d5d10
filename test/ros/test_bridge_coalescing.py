"""A late bridge catches up with fewer messages, and every sample it loses is counted at its hop.

Real processes on a ROS domain and a free port of their own: sensor_sim publishing a 1 kHz
Imu, zenoh_bridge, a router, and a subscriber here recording everything. The bridge is made
late on purpose by stopping it with SIGSTOP for 50 ms (about 50 samples' worth), then
SIGCONT. What it finds when it resumes must leave as SampleBatch messages, in order, none
lost or repeated when its DDS reader queue is deep enough (`queue_depth: 100`); with the
sensor-data default (keep last 5) the queue overflows, and the ~45 samples it drops must
show as lost on the DDS hop (the bridge's counters), not as gaps on the network.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import zenoh
from support.fleet_files import next_domain_id, stream, write_fleet_config
from support.processes import ChildProcess, ProcessGroup, free_port, wait_until
from support.vehicle_nodes import start_bridge, start_sensor_sim, wait_bridge_attached
from support.wire import WireRecorder, missing_sequences, query_catalogue, stream_counters
from support.zenoh_net import ClientSessions, start_router

from telemetry.codec import TypeStore
from telemetry.codec.batch import read_batch
from telemetry.codec.names import BRIDGE_HEALTH

VEHICLE = "rover-co"
REGION = "eu-west"
IMU = "sensor_msgs/msg/Imu"
DATA_KEY = f"telemetry/data/{REGION}/{VEHICLE}/imu"
HEALTH_KEY = f"telemetry/health/{REGION}/{VEHICLE}"
PAUSE_S = 0.05
MS = 1_000_000


@dataclass
class Run:
    """What the subscriber recorded around one pause of the bridge."""

    recorder: WireRecorder
    observer: zenoh.Session
    bridge: ChildProcess
    sensor_sim: ChildProcess
    paused_ns: int  # time.monotonic_ns() when the bridge was stopped
    before: dict[str, int] = field(default_factory=dict)  # the bridge's counters just before

    def logs(self) -> str:
        return f"{self.sensor_sim.output()}\n{self.bridge.output()}"

    def counters(self) -> dict[str, int]:
        return stream_counters(query_catalogue(self.observer, REGION, VEHICLE), "/imu")


@contextmanager
def imu_vehicle(folder: Path, **imu_options: Any) -> Iterator[tuple[ProcessGroup, WireRecorder, zenoh.Session,
                                                                      ChildProcess, ChildProcess]]:
    """sensor_sim (Imu only) -> bridge -> router -> a recorder here, until the block ends."""
    port = free_port()
    config = write_fleet_config(folder / "fleet.yaml", vehicle=VEHICLE, domain_id=next_domain_id(), router_port=port,
                                streams=[stream("/imu", IMU, 1000, priority="data_high", **imu_options)])
    group, clients = ProcessGroup(), ClientSessions()
    try:
        router = start_router(group, port, "eu-west.json5")
        sensor_sim = start_sensor_sim(group, config, VEHICLE)
        bridge = start_bridge(group, "--config", str(config), "--vehicle", VEHICLE)
        wait_bridge_attached(bridge)
        observer = clients.open(router.endpoint)
        with WireRecorder(observer, "telemetry/**") as recorder:
            assert recorder.wait_for(DATA_KEY, 500, timeout_s=20.0), f"{sensor_sim.output()}\n{bridge.output()}"
            yield group, recorder, observer, bridge, sensor_sim
    finally:
        clients.close_all()
        group.stop_all()


def pause(bridge: ChildProcess, seconds: float) -> int:
    """Stop the bridge for `seconds` (it is always resumed); returns when it was stopped."""
    stopped_ns = time.monotonic_ns()
    os.kill(bridge.pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)  # the fault itself: a bridge that gets no CPU for this long
    finally:
        os.kill(bridge.pid, signal.SIGCONT)
    return stopped_ns


@pytest.fixture(scope="module")
def deep_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    with imu_vehicle(tmp_path_factory.mktemp("deep"), queue_depth=100) as (_, recorder, observer, bridge, sim):
        paused_ns = pause(bridge, PAUSE_S)
        assert recorder.wait_for(DATA_KEY, 1000, timeout_s=10.0, since_ns=paused_ns)
        yield Run(recorder, observer, bridge, sim, paused_ns)


@pytest.fixture(scope="module")
def default_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    with imu_vehicle(tmp_path_factory.mktemp("default")) as (_, recorder, observer, bridge, sim):
        run = Run(recorder, observer, bridge, sim, 0)
        assert wait_until(lambda: run.counters()["publishers"] == 1, 10.0), "the bridge never saw the publisher"
        before = run.counters()
        paused_ns = pause(bridge, PAUSE_S)
        assert recorder.wait_for(DATA_KEY, 2500, timeout_s=10.0, since_ns=paused_ns)  # two health reports later
        yield Run(recorder, observer, bridge, sim, paused_ns, before)


def test_the_samples_a_late_bridge_finds_leave_as_batches(deep_queue: Run, store: TypeStore) -> None:
    batches = deep_queue.recorder.batches(DATA_KEY, since_ns=deep_queue.paused_ns)
    sizes = [read_batch(store, message.payload).sequence.size for message in batches]
    # ~50 samples waited in the DDS queue: the first wake-up after SIGCONT takes them all.
    assert sizes and max(sizes) >= 20, f"batch sizes after the pause: {sizes}\n{deep_queue.logs()}"


def test_with_a_deep_enough_queue_nothing_is_lost_repeated_or_reordered(deep_queue: Run) -> None:
    sequences = [s.attachment.sequence for s in deep_queue.recorder.samples(DATA_KEY)]
    missing = missing_sequences(sequences)  # also asserts strictly increasing: no repeats, in order
    counters = deep_queue.counters()
    assert missing == [], f"missing {missing[:20]}; bridge counters {counters}"
    assert counters["lost_dds"] == counters["put_errors"] == counters["malformed"] == 0, counters


def test_batched_samples_keep_their_own_header_stamps_in_order(deep_queue: Run) -> None:
    stamps = [s.attachment.source_time_ns for s in deep_queue.recorder.samples(DATA_KEY, since_ns=deep_queue.paused_ns)]
    steps_ms = [(b - a) / MS for a, b in itertools.pairwise(stamps)]
    assert all(step > 0 for step in steps_ms), "source times go backwards"
    assert sorted(steps_ms)[len(steps_ms) // 2] == pytest.approx(1.0, abs=0.2)  # the 1 kHz publisher's spacing


def test_the_default_sensor_data_queue_overflows_and_the_loss_is_counted_on_the_dds_hop(default_queue: Run) -> None:
    before, after = default_queue.before, default_queue.counters()
    lost_dds = after["lost_dds"] - before["lost_dds"]
    # keep-last-5: of the ~50 samples published during the pause, about 45 are overwritten (more
    # when the test's machine is busy and the bridge is late at other times too).
    assert lost_dds >= 25, f"lost on DDS {lost_dds}; counters before {before}, after {after}"
    # The bridge numbers only what it took: its own sequence has no gap, so nothing is lost on the network.
    sequences = [s.attachment.sequence for s in default_queue.recorder.samples(DATA_KEY)]
    assert missing_sequences(sequences) == []
    # Every sample the source published is accounted for: taken by the bridge, or lost on DDS.
    published = after["source_published"] - before["source_published"]
    taken = after["received"] - before["received"]
    assert published == pytest.approx(taken + lost_dds, abs=5), (published, taken, lost_dds)


def test_the_sources_rate_stays_1000_hz_while_the_bridge_loses_samples(default_queue: Run, store: TypeStore) -> None:
    reports = [store.decode(BRIDGE_HEALTH, s.payload) for s in default_queue.recorder.messages(HEALTH_KEY)]
    imu = [(r.stamp.sec * 1_000_000_000 + r.stamp.nanosec, r.streams[0]) for r in reports if r.streams]
    known = [(at_ns, stream) for at_ns, stream in imu if stream.source_published > 0]  # once the publisher is seen
    assert len(known) >= 2, f"{len(imu)} health reports\n{default_queue.logs()}"
    (first_ns, first), (last_ns, last) = known[0], known[-1]
    assert last.publishers == 1
    source_hz = (last.source_published - first.source_published) / ((last_ns - first_ns) / 1e9)
    assert source_hz == pytest.approx(1000.0, rel=0.05)
    assert last.lost_dds >= 25  # the pause's loss, reported by the bridge itself


def test_with_budget_0_samples_go_alone_and_none_is_held(tmp_path: Path, store: TypeStore) -> None:
    with imu_vehicle(tmp_path) as (_, recorder, _observer, _bridge, _sim):
        start_ns = time.monotonic_ns()
        assert recorder.wait_for(DATA_KEY, 2000, timeout_s=10.0, since_ns=start_ns)
        messages = recorder.messages(DATA_KEY, since_ns=start_ns)
        alone = [m for m in messages if m.attachment_bytes is not None]
        batches = [read_batch(store, m.payload) for m in recorder.batches(DATA_KEY, since_ns=start_ns)]
    total = len(alone) + sum(int(b.sequence.size) for b in batches)
    # Coalescing only happens when a wake-up finds several samples: on a bridge that keeps up
    # (~99 % alone on an idle machine here), the exception; on a busy test machine, more often.
    assert len(alone) >= 0.5 * total, f"{len(alone)} of {total} samples went alone, {len(batches)} batches"
    # Whatever the grouping, nothing waits: a message leaves as soon as its newest sample is taken.
    waited_ms = sorted([(s.attachment.send_time_ns - s.attachment.source_time_ns) / MS for s in alone]
                       + [(b.send_ns - int(b.source_ns[-1])) / MS for b in batches])
    assert waited_ms[int(0.95 * len(waited_ms))] <= 2.0, waited_ms[-20:]


def test_a_5_ms_budget_sends_batches_within_5_ms_of_their_first_sample(tmp_path: Path, store: TypeStore) -> None:
    with imu_vehicle(tmp_path, batch_ms=5) as (_, recorder, _observer, _bridge, _sim):
        start_ns = time.monotonic_ns()
        assert wait_until(lambda: len(recorder.batches(DATA_KEY, since_ns=start_ns)) >= 300, 10.0)
        batches = [read_batch(store, m.payload) for m in recorder.batches(DATA_KEY, since_ns=start_ns)]
        alone = [m for m in recorder.messages(DATA_KEY, since_ns=start_ns) if m.attachment_bytes is not None]
    held_ms = sorted((b.send_ns - int(b.source_ns[0])) / MS for b in batches)
    sizes = sorted(int(b.sequence.size) for b in batches)
    assert sizes[len(sizes) // 2] in (4, 5, 6), sizes  # ~5 samples of a 1 kHz stream per 5 ms
    # Held at most the budget, plus the scheduling of a 2-core machine running the test suite.
    assert held_ms[int(0.95 * len(held_ms))] <= 5.0 + 3.0, held_ms[-20:]
    assert held_ms[-1] <= 5.0 + 25.0, held_ms[-20:]
    assert len(alone) <= 0.05 * sum(sizes), f"{len(alone)} samples went alone"
