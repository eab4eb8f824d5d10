"""The recorder as a test runs it: the demo's own part (telemetry.demo.plan.recorder_part),
started by the demo's Supervisor, waited for by its ready line, and stopped by its pid with
SIGTERM so that it closes its segments (a `.part` becomes a `.mcap` with its summary).

The Supervisor's `stop_all` (in the caller's `finally`) still ends it, pass or fail; stopping
it here first is what a test that reads closed files needs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from telemetry.config import load_fleet_config
from telemetry.demo.plan import recorder_part
from telemetry.demo.supervisor import Child, Supervisor
from telemetry.process import stop_processes

__all__ = ["start_recorder", "stop_recorder"]

#: Room for a cold start on a slow 2-core machine (imports, type store, the session).
_START_TIMEOUT_S = 60.0


def start_recorder(
    supervisor: Supervisor, config_path: Path, folder: Path, *args: str, name: str = "recorder",
    timeout_s: float = _START_TIMEOUT_S,
) -> Child:
    """`recorder --config config_path --folder folder --name name args...`, once it says
    `recorder <name> ready: <folder>`; PartFailed (with its log) if it exits or never does."""
    part = recorder_part(load_fleet_config(config_path), config_path, folder)
    part = replace(part, name=name, args=(*part.args, "--name", name, *args))
    child = supervisor.start(part)
    supervisor.wait_for_line(child, f"recorder {name} ready: {folder.resolve()}", timeout_s)
    return child


def stop_recorder(child: Child, timeout_s: float = 30.0) -> None:
    """SIGTERM by pid and wait for it: it writes what is pending and closes every segment.

    Fails the test (with its log) unless it exits by itself with code 0 within `timeout_s`."""
    [code] = stop_processes([child.process], timeout_s, [child.part.name])
    assert code == 0, f"{child.part.name} (pid {child.pid}) exited with {code} on SIGTERM:\n{child.log_tail(30)}"
