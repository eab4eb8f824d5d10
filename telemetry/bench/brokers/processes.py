"""The brokers benchmark's broker processes: which transports, where their daemons are, how
each is configured and run as our child, and how it is stopped (by pid, telemetry.process).

Brokers come from the Debian packages (a missing one is skipped with the command that installs
it). Every socket has TCP_NODELAY, as Zenoh and nats-server set by themselves, so Nagle's
algorithm does not decide the comparison.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from telemetry.errors import TelemetryError
from telemetry.process import poll_until, spawn_logged, stop_processes

__all__ = ["HOST", "READY_TIMEOUT_S", "STOP_TIMEOUT_S", "TRANSPORTS", "ZENOH", "BrokerFailed", "Transport",
           "broker", "broker_command", "broker_versions", "find_broker", "mosquitto_config", "skipped_note"]

HOST = "127.0.0.1"
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


class BrokerFailed(TelemetryError):
    """A broker did not come up or a client could not reach it: says which, and its log."""


@dataclass(frozen=True)
class Transport:
    name: str  # the row's label
    protocol: str  # "zenoh", "mqtt" or "nats"
    broker: str  # the broker's executable ("" for Zenoh: our own router)
    qos: int = 0

    @property
    def slug(self) -> str:
        return self.name.replace(" ", "-")


ZENOH = Transport("zenoh router", "zenoh", "")
TRANSPORTS = (ZENOH, Transport("mqtt qos0", "mqtt", "mosquitto", 0),
              Transport("mqtt qos1", "mqtt", "mosquitto", 1), Transport("nats", "nats", "nats-server"))


def find_broker(executable: str, extra_dirs: Sequence[str] = ("/usr/sbin", "/usr/local/sbin")) -> Path | None:
    """The broker on PATH, else in the sbin folders Debian installs daemons to (often not on a user's PATH)."""
    found = shutil.which(executable) or shutil.which(executable, path=":".join(extra_dirs))
    return Path(found) if found else None


def skipped_note(transport: Transport) -> str:
    """Why a transport has no row, and the one command that gives it one (Debian package = executable)."""
    return (f"{transport.name} skipped: {transport.broker} is not installed; "
            f"install it with `apt-get install {transport.broker}`")


def mosquitto_config(port: int) -> str:
    return ("# telemetry bench brokers: loopback only, anonymous, no persistence\n"
            f"listener {port} {HOST}\n"
            "allow_anonymous true\n"
            "set_tcp_nodelay true\n")


def broker_command(transport: Transport, executable: Path, port: int, folder: Path) -> list[str]:
    if transport.protocol == "mqtt":
        config = folder / "mosquitto.conf"
        config.write_text(mosquitto_config(port), encoding="utf-8")
        return [str(executable), "-c", str(config)]
    return [str(executable), "-a", HOST, "-p", str(port)]


def _wait_for_port(process: subprocess.Popen[bytes], port: int, what: str, log_path: Path) -> None:
    def listening() -> bool | None:
        if process.poll() is not None:
            raise BrokerFailed(f"{what} (pid {process.pid}) exited with code {process.returncode}; log: {log_path}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return True
        except OSError:
            return None

    if poll_until(listening, READY_TIMEOUT_S) is None:
        raise BrokerFailed(f"{what} (pid {process.pid}) not listening on {HOST}:{port} after "
                           f"{READY_TIMEOUT_S:g} s; its log: {log_path}")


@contextmanager
def broker(transport: Transport, executable: Path, port: int, folder: Path) -> Iterator[int]:
    """The broker as our child, listening; yields its pid and stops it by that pid."""
    log_path = folder / f"{transport.broker}.log"
    process = spawn_logged(broker_command(transport, executable, port, folder), log_path, append=True)
    try:
        _wait_for_port(process, port, transport.broker, log_path)
        yield process.pid
    finally:
        stop_processes([process], STOP_TIMEOUT_S, [transport.broker])


def broker_versions() -> dict[str, str]:
    """What `mosquitto -h` and `nats-server --version` say first (both print their version there)."""
    versions = {}
    for executable, flag in (("mosquitto", "-h"), ("nats-server", "--version")):
        path = find_broker(executable)
        if path is not None:
            done = subprocess.run([str(path), flag], capture_output=True, text=True, timeout=10, check=False)
            versions[executable] = next(iter((done.stdout + done.stderr).splitlines()), "?").strip()
    return versions
