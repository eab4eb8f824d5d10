"""Child processes and waiting, once for the demo, the bench and the tests.

`waiting` is the one deadline loop (poll a condition, never sleep blindly); `child` starts a
process and stops it by its pid (SIGTERM, a bounded wait, SIGKILL); `piped` keeps every line a
child writes on stdout and stderr so a caller can wait for one. This package imports nothing
from the demo or the bench: the demo's `Supervisor` (parts, log files, stop stages), the bench's
brokers and test/support's `ProcessGroup` are layers on top of it.
"""

from __future__ import annotations

from telemetry.process.child import signal_pid, spawn_logged, stop_processes
from telemetry.process.piped import LineCollector, PipedChild
from telemetry.process.waiting import poll_until, wait_until

__all__ = ["LineCollector", "PipedChild", "poll_until", "signal_pid", "spawn_logged", "stop_processes", "wait_until"]
