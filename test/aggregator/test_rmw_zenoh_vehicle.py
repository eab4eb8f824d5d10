"""A vehicle on rmw_zenoh, with no process of ours on board, as the aggregator sees it.

The vehicle is telemetry/sim/rmw_zenoh_node.py (rmw_zenoh itself cannot be installed here),
a real process putting rmw_zenoh's keys, attachments and liveliness tokens through a real
vehicle router into the region's; the aggregator is the real process with the fleet config
that says which domain and namespace is which vehicle. One fleet per module: each test
uses vehicles of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.aggregator_side import AggregatorProcess, StatsReader, bad_input_of, start_aggregator, stream_of
from support.fleet_files import stream
from support.processes import ChildProcess, ProcessGroup, free_port, wait_until
from support.zenoh_net import ClientSessions, RouterProcess, start_router

from telemetry.aggregator.ingest import BadInput
from telemetry.codec import TypeStore
from telemetry.sim.sensors import IMU_TYPE

NODE_MODULE = "telemetry.sim.rmw_zenoh_node"
REGION = "eu-west"
DOMAIN = 3  # rmw_zenoh's domain is a key chunk, not a DDS port: no ROS_DOMAIN_ID to keep apart
#: vehicle -> (namespace, IMU rate, the stand-in's flags). Reliable keep-all where a test
#: counts loss exactly: best effort may really lose a sample on a busy 2-core machine.
VEHICLES: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "robot-01": ("/robot1", 1000, ("--keep-all",)),
    "robot-02": ("/robot2", 1000, ("--keep-all", "--skip", ",".join(str(n) for n in range(2000, 2400, 10)))),
    "robot-03": ("/robot3", 200, ("--keep-all", "--attachment", "keyed")),
    "robot-04": ("/robot4", 200, ("--attachment", "garbage")),
    "robot-05": ("/robot5", 200, ("--attachment", "none")),
    "robot-06": ("/robot6", 200, ()),
}
SKIPPED = 40
STATUS_ONLINE, STATUS_OFFLINE = 0, 2  # msg/VehicleStats
WINDOW = ("--window", "2", "--tick", "0.25")


@dataclass
class Fleet:
    region_router: RouterProcess
    aggregator: AggregatorProcess
    reader: StatsReader
    nodes: dict[str, ChildProcess]
    vehicle_endpoint: str


def write_config(path: Path, region_port: int) -> Path:
    fleet = {
        "cloud": {"router": {"listen": [f"tcp/127.0.0.1:{free_port()}"]}},
        "regions": [{"name": REGION, "router": {"listen": [f"tcp/127.0.0.1:{region_port}"]}}],
        "vehicles": [
            {"name": name, "region": REGION, "ros_domain_id": DOMAIN, "source": "rmw_zenoh",
             "namespace": namespace, "streams": [stream("/imu", IMU_TYPE, rate_hz)]}
            for name, (namespace, rate_hz, _) in VEHICLES.items()
        ],
    }
    path.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
    return path


def start_node(processes: ProcessGroup, endpoint: str, name: str) -> ChildProcess:
    namespace, rate_hz, flags = VEHICLES[name]
    node = processes.start_module(NODE_MODULE, "-e", endpoint, "--domain", str(DOMAIN), "--namespace", namespace,
                                  "--rate", str(rate_hz), *flags, name=name)
    node.wait_for_line("publishing on", timeout_s=15)
    return node


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, store: TypeStore) -> Iterator[Fleet]:
    processes, clients = ProcessGroup(), ClientSessions()
    try:
        region = start_router(processes, free_port(), "cloud.json5", name="region")
        # The robot's own router (rmw_zenohd's part), connected to its region's like a bridge is.
        vehicle = start_router(processes, free_port(), "eu-west.json5", (region.endpoint,), name="vehicle")
        config = write_config(tmp_path_factory.mktemp("rmw") / "fleet.yaml", int(region.endpoint.rsplit(":", 1)[1]))
        aggregator = start_aggregator(processes, region.endpoint, "--config", str(config), *WINDOW)
        nodes = {name: start_node(processes, vehicle.endpoint, name) for name in VEHICLES}
        session = clients.open(region.endpoint)
        yield Fleet(region, aggregator, StatsReader(session, aggregator.zid, store), nodes, vehicle.endpoint)
    finally:
        clients.close_all()
        processes.stop_all()


def settled(fleet: Fleet, name: str, check: Any, timeout_s: float = 25.0) -> Any:
    """The vehicle's stats once `check(stats)` holds (AssertionError with the last ones otherwise)."""
    found: dict[str, Any] = {}

    def ready() -> bool:
        stats = fleet.reader.vehicles().get((REGION, name))
        found["last"] = stats
        return stats is not None and bool(check(stats))

    assert wait_until(ready, timeout_s), f"{name}: stats never settled; last: {found.get('last')}"
    return found["last"]


def imu_settled(stats: Any) -> bool:
    """Its IMU's full window holds the configured rate within 1 %."""
    imu = next((s for s in stats.streams if s.topic == "/imu"), None)
    rate_hz = VEHICLES[stats.vehicle][1]
    return imu is not None and imu.window_s == 2.0 and abs(imu.rate_hz - rate_hz) <= rate_hz / 100


def test_an_rmw_zenoh_vehicles_imu_shows_with_its_rate_latency_and_no_loss(fleet: Fleet) -> None:
    stats = settled(fleet, "robot-01", imu_settled)
    assert stats.status == STATUS_ONLINE
    imu = stream_of(stats, "/imu")
    assert abs(imu.rate_hz - 1000) <= 10 and imu.expected_hz == 1000
    assert imu.lost_total == 0 and imu.received_total > 2000
    assert 0 < imu.latency_p50_ms < 50 and imu.latency_p50_ms <= imu.latency_p99_ms
    assert imu.ros_type == IMU_TYPE
    assert bad_input_of(stats) == {}


def test_sequence_numbers_a_publisher_skips_show_as_exactly_that_loss(fleet: Fleet) -> None:
    stats = settled(fleet, "robot-02", lambda s: stream_of(s, "/imu").received_total > 2600, timeout_s=30)
    assert stream_of(stats, "/imu").lost_total == SKIPPED


def test_the_keyed_attachment_of_early_jazzy_reads_alike(fleet: Fleet) -> None:
    stats = settled(fleet, "robot-03", imu_settled)
    imu = stream_of(stats, "/imu")
    assert imu.lost_total == 0 and bad_input_of(stats) == {}


@pytest.mark.parametrize(("name", "counter"), [("robot-04", BadInput.BAD_ATTACHMENT),
                                                ("robot-05", BadInput.NO_ATTACHMENT)])
def test_samples_with_a_bad_or_no_attachment_are_counted_for_their_vehicle(
    fleet: Fleet, name: str, counter: BadInput
) -> None:
    stats = settled(fleet, name, lambda s: bad_input_of(s).get(counter, 0) > 400)
    assert set(bad_input_of(stats)) == {counter}
    assert fleet.aggregator.process.returncode is None
    assert "Traceback" not in fleet.aggregator.process.output()


def test_a_vehicle_whose_publisher_tokens_are_gone_goes_offline_within_a_second(fleet: Fleet) -> None:
    settled(fleet, "robot-06", imu_settled)
    fleet.nodes["robot-06"].stop()  # SIGTERM: the node undeclares its tokens as rmw_zenoh's does
    stats = settled(fleet, "robot-06", lambda s: s.status == STATUS_OFFLINE, timeout_s=5)
    assert stats.status == STATUS_OFFLINE
