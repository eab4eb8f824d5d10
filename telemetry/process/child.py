"""Start a child with its output in a log file; stop children by their pid, even on failure.

A Zenoh process that does not exit cleanly can hang forever, and a child left behind holds its
port for the next run: so stopping is SIGTERM to each pid, one bounded wait shared by all of
them, then SIGKILL for whoever did not listen. Signals go to the child's own pid (not its
process group): a test's children share the test runner's group.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["signal_pid", "spawn_logged", "stop_processes"]

_log = logging.getLogger(__name__)


def spawn_logged(argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None,
                 cwd: Path | None = None, append: bool = False) -> subprocess.Popen[bytes]:
    """`argv` in its own session (a terminal's Ctrl-C reaches only its supervisor), stdout and
    stderr into `log_path`: fresh unless `append`, so an earlier run's ready line cannot count."""
    with Path(log_path).open("ab" if append else "wb") as log:
        return subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=None if env is None else dict(env), cwd=cwd, start_new_session=True,
        )


def signal_pid(process: subprocess.Popen[Any], signum: signal.Signals) -> None:
    """Signal the child by its pid, unless it already exited (then wait() reaps it)."""
    if process.poll() is not None:
        return
    try:
        os.kill(process.pid, signum)
    except ProcessLookupError:
        pass  # it exited between poll() and kill()


def stop_processes(processes: Sequence[subprocess.Popen[Any]], timeout_s: float,
                   names: Sequence[str] | None = None) -> list[int]:
    """SIGTERM every running one, wait up to `timeout_s` in all, SIGKILL the rest; their exit
    codes in the same order (negative: the signal that ended it)."""
    for process in processes:
        signal_pid(process, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    codes = []
    for index, process in enumerate(processes):
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            name = names[index] if names is not None else str(process.args)
            _log.warning("%s (pid %d) ignored SIGTERM for %g s: killing it", name, process.pid, timeout_s)
            signal_pid(process, signal.SIGKILL)
            process.wait(timeout=timeout_s)
        codes.append(process.returncode)
    return codes
