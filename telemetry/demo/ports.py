"""Before starting anything: is every router's TCP port free? A taken port is a clear error
now, not a router that dies with a bind error after half the fleet has started."""

from __future__ import annotations

import errno
import re
import socket

from telemetry.errors import TelemetryError

__all__ = ["PortTaken", "check_ports_free"]

_TCP = re.compile(r"^(?:tcp|tls|ws)/(?P<host>\[[^\]]+\]|[^:/]+):(?P<port>\d+)")


class PortTaken(TelemetryError):
    """A router of the demo cannot listen where the fleet config says."""


def check_ports_free(endpoints: dict[str, str]) -> None:
    """`endpoints`: endpoint -> the part that listens there. Raises PortTaken for the first taken."""
    for endpoint, owner in endpoints.items():
        match = _TCP.match(endpoint)
        if match is None:
            continue  # udp, quic, unix sockets: the router reports those itself (tls and ws run on TCP)
        host, port = match["host"].strip("[]"), int(match["port"])
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As the router does: connections of a previous run in TIME_WAIT do not block it,
            # only a socket still listening there does.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise PortTaken(
                        f"{endpoint} ({owner}): port {port} is taken; is another demo or router running? "
                        "Stop it, or give the routers other ports in the fleet config"
                    ) from None
                raise PortTaken(f"{endpoint} ({owner}): cannot listen there: {error.strerror}") from None
