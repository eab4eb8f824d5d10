"""One paho-mqtt client set up the way the brokers benchmark compares transports.

Both ends (the publisher processes and the measuring subscriber) connect the same way:
MQTT v5 callbacks (paho's API version 2), and TCP_NODELAY on the socket, as Zenoh and
nats-server set by themselves, so Nagle's algorithm does not decide the comparison.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

__all__ = ["connected_client"]


def connected_client(host: str, port: int, client_id: str, configure: Callable[[Any], None]) -> Any:
    """A client whose callbacks `configure` set before it connects to `host:port`; the
    caller starts its network loop (`loop_start()`) and disconnects it."""
    import paho.mqtt.client as mqtt  # only the MQTT runs need it
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    configure(client)
    client.connect(host, port)
    connection = client.socket()
    if isinstance(connection, socket.socket):  # None only when connect() failed, which raised
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client
