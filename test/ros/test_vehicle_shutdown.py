"""SIGTERM ends both vehicle nodes cleanly, and the bridge's liveliness token goes with it.

A supervisor (ros2 launch, systemd, the demo) stops nodes with SIGTERM and escalates to
SIGKILL after a timeout; a node that needs the SIGKILL leaves its Zenoh session and DDS
participant to time out instead of saying goodbye, and the fleet sees the vehicle as
online for longer than it is.
"""

from __future__ import annotations

import signal
from pathlib import Path

from support.fleet_files import next_domain_id, write_fleet_config
from support.processes import ProcessGroup, free_port, wait_until
from support.vehicle_nodes import start_bridge, start_sensor_sim, wait_bridge_attached
from support.wire import WireRecorder, alive_keys
from support.zenoh_net import ClientSessions, start_router

VEHICLE = "rover-09"
TOKEN = f"telemetry/alive/eu-west/{VEHICLE}"
EXIT_TIMEOUT_S = 5.0


def test_sigterm_stops_sensor_sim_and_the_bridge_with_exit_code_0_and_the_token_goes(
    processes: ProcessGroup, zenoh_clients: ClientSessions, tmp_path: Path
) -> None:
    port = free_port()
    config = write_fleet_config(tmp_path / "fleet.yaml", vehicle=VEHICLE, domain_id=next_domain_id(), router_port=port)
    router = start_router(processes, port, "eu-west.json5")
    sensor_sim = start_sensor_sim(processes, config, VEHICLE)
    bridge = start_bridge(processes, "--config", str(config), "--vehicle", VEHICLE)
    wait_bridge_attached(bridge)
    observer = zenoh_clients.open(router.endpoint)
    key = f"telemetry/data/eu-west/{VEHICLE}/imu"
    with WireRecorder(observer, key) as recorder:
        assert recorder.wait_for(key, 100, timeout_s=20.0), bridge.output()  # both nodes are up and busy
    assert alive_keys(observer) == [TOKEN]

    bridge.send_signal(signal.SIGTERM)
    assert bridge.wait_exit(EXIT_TIMEOUT_S) == 0, bridge.output()
    assert wait_until(lambda: TOKEN not in alive_keys(observer, timeout_s=0.5), timeout_s=5.0)

    sensor_sim.send_signal(signal.SIGTERM)
    assert sensor_sim.wait_exit(EXIT_TIMEOUT_S) == 0, sensor_sim.output()
    assert "Traceback" not in bridge.output(), bridge.output()
    # sensor_sim may print one (a race on shutdown): test_sensor_sim_node.py pins it down.
    assert router.process.returncode is None
