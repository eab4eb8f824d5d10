"""The one wrapper every console script's `main()` runs its body in.

A user's mistake (a bad flag value, a missing file, a port in use) is a TelemetryError
whose message already names what to fix; a console script shows it as one line,
`<prog>: error: <message>` on stderr, and exits with status 1 (argparse's own usage errors
keep their status 2). Logging is set up here too, so that every program formats its lines
the same way and `-v` means the same everywhere; a program whose terminal belongs to
something else (the dashboard) logs to a file instead.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from telemetry.errors import TelemetryError

__all__ = ["DEFAULT_LOG_FORMAT", "ROS_LOG_FORMAT", "STDERR_LOGS", "Logs", "report_error", "run_console"]

#: Timestamped lines: for processes whose output is read in a log file or a test's capture.
DEFAULT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: rclpy's console layout, so a ROS node's Python lines read like its rclpy ones.
ROS_LOG_FORMAT = "[%(levelname)s] [%(name)s]: %(message)s"


@dataclass(frozen=True)
class Logs:
    """Where a program's log lines go: stderr unless `path` is set; DEBUG with `verbose`."""

    verbose: bool = False
    path: Path | None = None
    format: str = DEFAULT_LOG_FORMAT

    def configure(self) -> None:
        """Install the root handler once (a second call is a no-op, as `basicConfig` is)."""
        level = logging.DEBUG if self.verbose else logging.INFO
        if self.path is None:
            logging.basicConfig(level=level, format=self.format, stream=sys.stderr)
        else:
            logging.basicConfig(filename=self.path, level=level, format=self.format)


#: INFO and up, timestamped, on stderr: what most console scripts want.
STDERR_LOGS = Logs()


def report_error(prog: str, error: TelemetryError) -> None:
    """The one line a user sees for a mistake they can fix."""
    print(f"{prog}: error: {error}", file=sys.stderr)


def run_console(prog: str, body: Callable[[], int | None], logs: Logs | None = STDERR_LOGS) -> int:
    """Configure `logs` (None: the body does it, or nothing logs), run `body`, return its exit status.

    A TelemetryError out of `body` becomes `<prog>: error: <message>` and status 1; any other
    exception is a bug and keeps its traceback. A body that returns None succeeded (status 0).
    """
    if logs is not None:
        logs.configure()
    try:
        status = body()
    except TelemetryError as error:
        report_error(prog, error)
        return 1
    return 0 if status is None else int(status)


def stop_on_signals() -> threading.Event:
    """An event that SIGINT and SIGTERM set: how a process that runs until told to stop (a
    supervisor's SIGTERM, a user's Ctrl-C) learns it should close its sessions and files."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
