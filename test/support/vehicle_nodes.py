"""Start the vehicle's ROS 2 nodes (sensor_sim, zenoh_bridge) as real processes and read their logs.

Neither node prints a ready line on stdout; both log through ROS (stderr). The bridge's
`forwarding N streams as <region>/<vehicle>` line says its Zenoh session is open and its
publishers, token and queryables are declared; sensor_sim shows it is up by data arriving.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from support.processes import ChildProcess, ProcessGroup

__all__ = [
    "SENSOR_SIM_MODULE",
    "ZENOH_BRIDGE_MODULE",
    "log_lines",
    "start_bridge",
    "start_sensor_sim",
    "wait_bridge_attached",
]

SENSOR_SIM_MODULE = "telemetry.ros.sensor_sim"
ZENOH_BRIDGE_MODULE = "telemetry.ros.zenoh_bridge"


def start_sensor_sim(
    processes: ProcessGroup, config: Path, vehicle: str, *args: str, env: Mapping[str, str] | None = None
) -> ChildProcess:
    return processes.start_module(
        SENSOR_SIM_MODULE, "--config", str(config), "--vehicle", vehicle, *args, name=f"sensor_sim:{vehicle}", env=env
    )


def start_bridge(
    processes: ProcessGroup, *args: str, name: str = "zenoh_bridge", env: Mapping[str, str] | None = None
) -> ChildProcess:
    """`python -m telemetry.ros.zenoh_bridge args...` (give `--config`/`--vehicle` or `--topics` mode flags)."""
    return processes.start_module(ZENOH_BRIDGE_MODULE, *args, name=name, env=env)


def wait_bridge_attached(bridge: ChildProcess, timeout_s: float = 20.0) -> str:
    """Wait for the log line that says the bridge's Zenoh side is declared; fails with its output."""
    return bridge.wait_for_line(lambda line: "forwarding " in line and " streams as " in line, timeout_s, "stderr")


def log_lines(child: ChildProcess, text: str) -> list[str]:
    """The lines of the child's log (stderr) so far that contain `text`."""
    marker = f"--- {child.name} stderr ---\n"
    stderr = child.output().split(marker, 1)[1]
    return [line for line in stderr.splitlines() if text in line]
