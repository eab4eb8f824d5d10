"""A bridge whose router is not up yet runs anyway, and forwards once the router appears.

The scenario from the issue: router down at start, up 3 s later. The bridge and sensor_sim
start against a free port where nothing listens; the bridge must neither exit nor need a
restart, and what it could not send meanwhile shows up as `not_routed` in its catalogue.
"""

from __future__ import annotations

import time
from pathlib import Path

from support.fleet_files import next_domain_id, write_fleet_config
from support.processes import ProcessGroup, free_port
from support.vehicle_nodes import log_lines, start_bridge, start_sensor_sim
from support.wire import WireRecorder, query_catalogue, stream_counters
from support.zenoh_net import ClientSessions, start_router

VEHICLE = "rover-07"
ROUTER_DOWN_S = 3.0


def test_data_flows_once_the_router_comes_up_3_s_after_the_bridge_without_a_restart(
    processes: ProcessGroup, zenoh_clients: ClientSessions, tmp_path: Path
) -> None:
    port = free_port()
    config = write_fleet_config(tmp_path / "fleet.yaml", vehicle=VEHICLE, domain_id=next_domain_id(), router_port=port)
    sensor_sim = start_sensor_sim(processes, config, VEHICLE)
    bridge = start_bridge(processes, "--config", str(config), "--vehicle", VEHICLE)
    bridge.wait_for_line("client waiting for router", timeout_s=20.0, stream="stderr")
    waiting_since = time.monotonic()
    # The outage itself: the router stays away for a fixed time, there is no condition to wait on.
    time.sleep(ROUTER_DOWN_S)
    assert bridge.returncode is None and sensor_sim.returncode is None, bridge.output()
    assert not log_lines(bridge, "forwarding ")

    router = start_router(processes, port, "eu-west.json5")
    assert time.monotonic() - waiting_since >= ROUTER_DOWN_S
    observer = zenoh_clients.open(router.endpoint)
    key = f"telemetry/data/eu-west/{VEHICLE}/imu"
    with WireRecorder(observer, key) as recorder:
        assert recorder.wait_for(key, 100, timeout_s=15.0), f"{bridge.output()}\n{sensor_sim.output()}"

    counters = stream_counters(query_catalogue(observer, "eu-west", VEHICLE), "/imu")
    assert counters["not_routed"] > 0, counters  # samples the bridge got while no router was there
    assert counters["forwarded"] >= 100
    assert bridge.returncode is None
    assert len(log_lines(bridge, "forwarding 4 streams as eu-west/rover-07")) == 1  # attached once, same process
