"""Vehicle status from real liveliness tokens and data: online, stale, offline, and back.

A synthetic vehicle (child process) pauses its data on SIGUSR1 (token kept: stale) and drops
or re-declares its token on SIGUSR2 (offline); it acknowledges each on stdout, so the test
waits for the acknowledgement, then for the aggregator to report the new status.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from support.aggregator_side import AggregatorProcess, StatsReader, start_aggregator, stream_of
from support.processes import ChildProcess, ProcessGroup, free_port
from support.synthetic import start_synthetic_vehicle
from support.zenoh_net import ClientSessions, start_router

ONLINE, STALE, OFFLINE = 0, 1, 2
VEHICLE = ("eu-west", "rover-01")
TIMEOUT_S = 15.0


@dataclass
class Setup:
    processes: ProcessGroup
    endpoint: str
    aggregator: AggregatorProcess
    vehicle: ChildProcess
    reader: StatsReader

    def status(self, wanted: int) -> Any:
        def reached(vehicles: dict[tuple[str, str], Any]) -> None:
            assert vehicles[VEHICLE].status == wanted, f"status {vehicles[VEHICLE].status}, waiting for {wanted}"

        return self.reader.wait_for(reached, TIMEOUT_S)[VEHICLE]

    def fleet_counts(self) -> tuple[int, int, int]:
        status = self.reader.fleet()
        assert status is not None
        return status.vehicles_online, status.vehicles_stale, status.vehicles_offline


@pytest.fixture
def setup(processes: ProcessGroup, zenoh_clients: ClientSessions) -> Iterator[Setup]:
    router = start_router(processes, free_port(), "cloud.json5", name="cloud")
    aggregator = start_aggregator(processes, router.endpoint, "--window", "2", "--tick", "0.25")
    vehicle = start_synthetic_vehicle(processes, router.endpoint, *VEHICLE, "imu:100")
    session = zenoh_clients.open(router.endpoint)
    yield Setup(processes, router.endpoint, aggregator, vehicle, StatsReader(session, aggregator.zid))


def since_ns(stats: Any) -> int:
    ns: int = stats.status_since.sec * 1_000_000_000 + stats.status_since.nanosec
    return ns


def test_a_vehicle_whose_data_stops_goes_stale_and_comes_back_online(setup: Setup) -> None:
    online = setup.status(ONLINE)
    setup.vehicle.send_signal(signal.SIGUSR1)
    setup.vehicle.wait_for_line("data paused")
    stale = setup.status(STALE)
    assert stream_of(stale, "/imu").stale
    assert since_ns(stale) > since_ns(online)
    assert setup.fleet_counts() == (0, 1, 0)

    setup.vehicle.send_signal(signal.SIGUSR1)
    setup.vehicle.wait_for_line("data resumed")
    back = setup.status(ONLINE)
    assert since_ns(back) > since_ns(stale)
    imu = stream_of(back, "/imu")
    assert imu.lost_total == 0 and not imu.stale  # a pause is not loss: sequences did not advance


def test_a_vehicle_whose_token_goes_is_offline_and_online_again_when_it_returns(setup: Setup) -> None:
    online = setup.status(ONLINE)
    setup.vehicle.send_signal(signal.SIGUSR2)
    setup.vehicle.wait_for_line("token dropped")
    offline = setup.status(OFFLINE)  # data still flows: presence is the token's word
    assert since_ns(offline) > since_ns(online)
    assert setup.fleet_counts() == (0, 0, 1)

    setup.vehicle.send_signal(signal.SIGUSR2)
    setup.vehicle.wait_for_line("token declared")
    assert since_ns(setup.status(ONLINE)) > since_ns(offline)


def test_a_vehicle_process_that_stops_is_offline_and_its_restart_is_not_loss(setup: Setup) -> None:
    def running(vehicles: dict[tuple[str, str], Any]) -> None:
        # Long enough that sequence 1 again reads as a restart, not as a late sample.
        assert stream_of(vehicles[VEHICLE], "/imu").received_total >= 100

    setup.reader.wait_for(running, TIMEOUT_S)
    assert setup.vehicle.stop() == 0  # SIGTERM: the session closes, the token goes with it
    setup.status(OFFLINE)

    start_synthetic_vehicle(setup.processes, setup.endpoint, *VEHICLE, "imu:100")  # numbers from 1 again

    def restarted(vehicles: dict[tuple[str, str], Any]) -> None:
        assert vehicles[VEHICLE].status == ONLINE
        assert stream_of(vehicles[VEHICLE], "/imu").restarts_total == 1

    imu = stream_of(setup.reader.wait_for(restarted, TIMEOUT_S)[VEHICLE], "/imu")
    assert imu.lost_total == 0
