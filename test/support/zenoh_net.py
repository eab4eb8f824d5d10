"""Zenoh pieces for integration tests: router processes and client sessions that clean up.

Sessions are opened through telemetry.net (the package's one way to open them), in the
background so a test waits with a timeout instead of hanging when no router answers.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import zenoh

from support.processes import REPO_ROOT, ChildProcess, ProcessGroup
from telemetry.net import BackgroundSession, SessionOptions

__all__ = [
    "ROUTER_MODULE",
    "ZENOH_CONFIGS",
    "ClientSessions",
    "RouterProcess",
    "endpoint",
    "publish_until_received",
    "recording_subscriber",
    "start_router",
]

ZENOH_CONFIGS = REPO_ROOT / "config" / "zenoh"
ROUTER_MODULE = "telemetry.net.router"


def endpoint(port: int) -> str:
    return f"tcp/127.0.0.1:{port}"


@dataclass(frozen=True)
class RouterProcess:
    """A router child that printed its ready line: it listens on `endpoint`."""

    process: ChildProcess
    zid: str
    endpoint: str
    spawned_s: float  # time.monotonic() just before the process was started
    ready_s: float  # time.monotonic() when the ready line arrived (it listens ~0.5 s earlier)


def start_router(
    processes: ProcessGroup,
    port: int,
    config: str | Path = "cloud.json5",
    connect: tuple[str, ...] = (),
    name: str | None = None,
    timeout_s: float = 10.0,
) -> RouterProcess:
    """Start `python -m telemetry.net.router` listening on 127.0.0.1:`port` and wait until it is up.

    `config` is a file under config/zenoh/ or a path; `connect` replaces the file's connect
    endpoints (shipped regional files point at the fixed cloud port, tests use free ports).
    """
    path = config if isinstance(config, Path) else ZENOH_CONFIGS / config
    args = ["--config", str(path), "--listen", endpoint(port)]
    for target in connect:
        args += ["--connect", target]
    spawned_s = time.monotonic()
    process = processes.start_module(ROUTER_MODULE, *args, name=name or f"router:{port}")
    line = process.wait_for_line(
        lambda text: text.startswith("router ") and " listening on " in text, timeout_s
    )
    return RouterProcess(process, line.split()[1], endpoint(port), spawned_s, time.monotonic())


class ClientSessions:
    """Client sessions for one test, each opened in the background and closed at teardown."""

    def __init__(self) -> None:
        self._opened: list[BackgroundSession] = []

    def start(self, *endpoints: str) -> BackgroundSession:
        """Begin opening a client of `endpoints`; it connects whenever a router answers."""
        background = BackgroundSession(
            SessionOptions(mode="client", connect=endpoints), name=f"client->{','.join(endpoints)}"
        ).start()
        self._opened.append(background)
        return background

    def open(self, *endpoints: str, timeout_s: float = 10.0) -> zenoh.Session:
        """A client session of a router that is already up; fails the test after `timeout_s`."""
        session = self.start(*endpoints).wait(timeout_s)
        assert session is not None, f"client of {endpoints} did not connect within {timeout_s} s"
        return session

    def close_all(self) -> None:
        for background in reversed(self._opened):
            background.close()


@contextmanager
def recording_subscriber(session: zenoh.Session, key: str) -> Iterator[queue.Queue[bytes]]:
    """A subscriber whose callback only records payloads into a queue the test reads."""
    received: queue.Queue[bytes] = queue.Queue()
    with session.declare_subscriber(key, lambda sample: received.put(sample.payload.to_bytes())):
        yield received


def publish_until_received(
    session: zenoh.Session, key: str, received: queue.Queue[bytes], timeout_s: float, period_s: float = 0.02
) -> float | None:
    """Put on `key` every `period_s` until something arrives; seconds it took, or None.

    A single put could race route propagation after a (re)connection; a steady stream
    is also what the fleet sends, so "first arrival" is the figure that matters.
    """
    start = time.monotonic()
    deadline = start + timeout_s
    with session.declare_publisher(key) as publisher:
        counter = 0
        while time.monotonic() < deadline:
            counter += 1
            try:
                publisher.put(f"sample {counter}".encode())
            except zenoh.ZError:
                pass  # the session is between routers; keep trying until the deadline
            try:
                received.get(timeout=period_s)
            except queue.Empty:
                continue
            return time.monotonic() - start
        return None
