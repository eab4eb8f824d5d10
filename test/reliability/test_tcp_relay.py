"""The WAN relay itself, on plain sockets: it forwards bytes intact, delays each direction,
drops connections while accepting new ones, and stalls without closing anything.

The fleet tests trust these four behaviours; checking them against an echo server here
means a fleet test that fails points at the product, not at the relay.
"""

from __future__ import annotations

import os
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest
from support.processes import wait_until
from support.tcp_relay import TcpRelay


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo_port() -> Iterator[int]:
    with _EchoServer(("127.0.0.1", 0), _Echo) as server:
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="echo", daemon=True)
        thread.start()
        try:
            yield int(server.server_address[1])
        finally:
            server.shutdown()
            thread.join(timeout=5)


@pytest.fixture
def relay(echo_port: int) -> Iterator[TcpRelay]:
    with TcpRelay("127.0.0.1", echo_port) as running:
        yield running


def _connect(relay: TcpRelay, timeout_s: float = 5.0) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", relay.port), timeout=timeout_s)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client


def _receive(client: socket.socket, size: int) -> bytes:
    received = bytearray()
    while len(received) < size:
        chunk = client.recv(size - len(received))
        if not chunk:
            break
        received += chunk
    return bytes(received)


def _round_trip_s(client: socket.socket, message: bytes = b"ping") -> float:
    start = time.monotonic()
    client.sendall(message)
    assert _receive(client, len(message)) == message
    return time.monotonic() - start


def test_the_relay_forwards_a_megabyte_both_ways_unchanged(relay: TcpRelay) -> None:
    data = os.urandom(1 << 20)
    with _connect(relay) as client:
        sender = threading.Thread(target=client.sendall, args=(data,))
        sender.start()
        echoed = _receive(client, len(data))
        sender.join()
    assert echoed == data
    # The relay counts a chunk once its write has drained, which may be just after the client read it.
    assert wait_until(lambda: relay.counters.downstream_bytes == len(data), 5), relay.counters
    assert relay.counters.upstream_bytes == len(data)


def test_a_delay_holds_each_direction_that_long_and_keeps_the_byte_order(relay: TcpRelay) -> None:
    with _connect(relay) as client:
        baseline_s = min(_round_trip_s(client) for _ in range(5))
        relay.set_delay(0.05)
        delayed_s = min(_round_trip_s(client) for _ in range(5))
        # Many small writes, each its own chunk, must come back in the order sent.
        pieces = [f"{n:06d}".encode() for n in range(2000)]
        for piece in pieces:
            client.sendall(piece)
        echoed = _receive(client, 6 * len(pieces))
    assert baseline_s < 0.02
    assert 0.1 <= delayed_s < 0.2, delayed_s  # 50 ms up and 50 ms down
    assert echoed == b"".join(pieces)


def test_drop_closes_open_connections_and_a_new_one_is_relayed(relay: TcpRelay) -> None:
    with _connect(relay) as first:
        _round_trip_s(first)
        assert relay.drop() == 1
        # Either end may see the close first; what matters is that the socket is dead.
        try:
            ended = first.recv(1) == b""
        except ConnectionResetError:
            ended = True
    assert ended
    assert wait_until(lambda: relay.connections == 0, timeout_s=2.0)

    with _connect(relay) as second:
        assert _round_trip_s(second) < 1.0
    assert relay.counters.accepted == 2 and relay.counters.dropped == 1


def test_a_stall_holds_every_byte_until_resumed_and_keeps_the_connection(relay: TcpRelay) -> None:
    with _connect(relay) as client:
        _round_trip_s(client)
        relay.pause()
        client.sendall(b"held")
        client.settimeout(0.5)
        with pytest.raises(TimeoutError):
            client.recv(4)  # nothing comes back while stalled

        relay.resume()
        client.settimeout(5.0)
        assert _receive(client, 4) == b"held"
        assert relay.connections == 1
    assert relay.counters.dropped == 0
