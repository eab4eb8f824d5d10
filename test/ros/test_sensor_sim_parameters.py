"""sensor_sim's stream rates are ROS parameters: set at run time, checked, and seen on Zenoh.

The rate is measured from the header stamps that arrive through the bridge (stamps are the
publish times), so the bridge's and Zenoh's delivery jitter does not enter the figure.
"""

from __future__ import annotations

import time
from pathlib import Path

from rcl_interfaces.msg import ParameterType
from support.fleet_files import next_domain_id, write_fleet_config
from support.processes import ProcessGroup, free_port, wait_until
from support.ros_side import ros_probe
from support.vehicle_nodes import log_lines, start_bridge, start_sensor_sim, wait_bridge_attached
from support.wire import WireRecorder
from support.zenoh_net import ClientSessions, start_router

VEHICLE = "rover-05"
NODE = "sensor_sim_rover_05"
PARAMETER = "streams.imu.rate_hz"
KEY = f"telemetry/data/eu-west/{VEHICLE}/imu"
NS = 1_000_000_000


def stamped_rate_hz(recorder: WireRecorder, start_ns: int, end_ns: int) -> float:
    """Samples per second whose source time (header stamp, wall clock) lies in [start_ns, end_ns)."""
    stamps = [s.attachment.source_time_ns for s in recorder.samples(KEY)]
    return sum(start_ns <= stamp < end_ns for stamp in stamps) / ((end_ns - start_ns) / NS)


def test_setting_the_imu_rate_parameter_changes_the_rate_on_zenoh_and_bad_values_are_rejected(
    processes: ProcessGroup, zenoh_clients: ClientSessions, tmp_path: Path
) -> None:
    port, domain_id = free_port(), next_domain_id()
    config = write_fleet_config(tmp_path / "fleet.yaml", vehicle=VEHICLE, domain_id=domain_id, router_port=port)
    router = start_router(processes, port, "eu-west.json5")
    sensor_sim = start_sensor_sim(processes, config, VEHICLE)
    bridge = start_bridge(processes, "--config", str(config), "--vehicle", VEHICLE)
    wait_bridge_attached(bridge)
    observer = zenoh_clients.open(router.endpoint)

    with WireRecorder(observer, KEY) as recorder, ros_probe(domain_id) as operator:
        assert recorder.wait_for(KEY, 200, timeout_s=20.0), f"{sensor_sim.output()}\n{bridge.output()}"
        (current,) = operator.get_parameters(NODE, [PARAMETER])
        assert (current.type, current.double_value) == (ParameterType.PARAMETER_DOUBLE, 1000.0)

        (result,) = operator.set_parameters(NODE, {PARAMETER: 200.0})
        assert result.successful, result.reason
        changed_ns = time.time_ns()
        # Measure from 0.2 s after the change, over 2 s of stamps, once they have all arrived.
        start_ns, end_ns = changed_ns + NS // 5, changed_ns + NS // 5 + 2 * NS
        assert wait_until(lambda: any(s.attachment.source_time_ns >= end_ns for s in recorder.samples(KEY)[-5:]),
                          timeout_s=10.0)
        assert 190.0 <= stamped_rate_hz(recorder, start_ns, end_ns) <= 210.0, sensor_sim.output()

        (rejected,) = operator.set_parameters(NODE, {PARAMETER: -5.0})
        assert not rejected.successful
        assert f"{PARAMETER}: must be in (0, 10000] Hz, got -5.0" in rejected.reason
        (after,) = operator.get_parameters(NODE, [PARAMETER])
        assert after.double_value == 200.0  # the bad value did not replace the good one

    assert len(log_lines(sensor_sim, f"{PARAMETER} = 200.0 Hz")) == 1
    assert sensor_sim.returncode is None
