"""check_ports_free: before the demo starts anything, every router's TCP port must be free.

Each test listens (or not) on a port the OS just handed out, on loopback only.
"""

from __future__ import annotations

import errno
import re
import socket
from collections.abc import Iterator

import pytest
from support.processes import free_port

from telemetry.demo.ports import PortTaken, check_ports_free
from telemetry.errors import TelemetryError


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """A socket listening on 127.0.0.1:<free port>, as a router of another demo would."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", free_port()))
        server.listen()
        yield server


def _port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def test_a_port_with_a_listener_raises_port_taken_naming_the_endpoint_and_its_router(
    listening: socket.socket,
) -> None:
    endpoint = f"tcp/127.0.0.1:{_port(listening)}"

    message = rf"^{re.escape(endpoint)} \(eu-west router\): port {_port(listening)} is taken; "
    message += r"is another demo or router running\? Stop it, or give the routers other ports in the fleet config$"
    with pytest.raises(PortTaken, match=message):
        check_ports_free({endpoint: "eu-west router"})


def test_port_taken_is_a_telemetry_error_so_the_cli_prints_it_without_a_traceback() -> None:
    assert issubclass(PortTaken, TelemetryError)


def test_free_ports_pass_and_stay_free_for_the_routers() -> None:
    ports = [free_port(), free_port()]

    check_ports_free({f"tcp/127.0.0.1:{port}": "router" for port in ports})  # passes: PortTaken not raised

    for port in ports:  # the probe let go: a router can listen there now
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as router:
            router.bind(("127.0.0.1", port))
            router.listen()


def test_an_empty_fleet_of_endpoints_passes() -> None:
    check_ports_free({})


def test_the_first_taken_endpoint_is_the_one_reported(listening: socket.socket) -> None:
    taken = f"tcp/127.0.0.1:{_port(listening)}"
    endpoints = {f"tcp/127.0.0.1:{free_port()}": "cloud router", taken: "us-east router"}

    with pytest.raises(PortTaken, match=rf"^{re.escape(taken)} \(us-east router\): port \d+ is taken"):
        check_ports_free(endpoints)


def test_a_listener_on_all_interfaces_takes_the_loopback_endpoint_too() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("0.0.0.0", 0))
        server.listen()
        endpoint = f"tcp/127.0.0.1:{_port(server)}"

        with pytest.raises(PortTaken, match=rf"^{re.escape(endpoint)} \(cloud router\): .* is taken"):
            check_ports_free({endpoint: "cloud router"})


def test_a_websocket_endpoint_is_checked_as_tcp(listening: socket.socket) -> None:
    endpoint = f"ws/127.0.0.1:{_port(listening)}"
    with pytest.raises(PortTaken, match=rf"^{re.escape(endpoint)} \(cloud router\): port \d+ is taken"):
        check_ports_free({endpoint: "cloud router"})


def test_an_ipv6_endpoint_in_brackets_is_checked_on_that_address() -> None:
    try:
        server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        server.bind(("::1", 0))
    except OSError as error:
        pytest.skip(f"no IPv6 loopback here: {error}")
    with server:
        server.listen()
        endpoint = f"tcp/[::1]:{_port(server)}"

        with pytest.raises(PortTaken, match=rf"^{re.escape(endpoint)} \(cloud router\): port \d+ is taken"):
            check_ports_free({endpoint: "cloud router"})


def test_endpoint_options_after_the_port_do_not_hide_a_taken_port(listening: socket.socket) -> None:
    endpoint = f"tcp/127.0.0.1:{_port(listening)}#iface=lo"
    with pytest.raises(PortTaken, match=r"is taken"):
        check_ports_free({endpoint: "cloud router"})


@pytest.mark.parametrize("protocol", ["udp", "quic"])
def test_udp_based_endpoints_are_left_to_the_router_even_on_a_taken_tcp_port(
    listening: socket.socket, protocol: str
) -> None:
    check_ports_free({f"{protocol}/127.0.0.1:{_port(listening)}": "cloud router"})


def test_unix_socket_endpoints_are_left_to_the_router() -> None:
    check_ports_free({"unixsock-stream//tmp/telemetry-demo-router.sock": "cloud router"})


def test_a_tls_endpoint_is_checked_as_tcp(listening: socket.socket) -> None:
    endpoint = f"tls/127.0.0.1:{_port(listening)}"
    with pytest.raises(PortTaken, match=rf"^{re.escape(endpoint)} \(cloud router\): port \d+ is taken"):
        check_ports_free({endpoint: "cloud router"})


def _port_in_time_wait(listener_reuses_address: bool) -> int:
    """Listen, connect, accept, close both sides (server first), close the listener: the
    server's end of the connection stays in TIME_WAIT for a minute, holding the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        if listener_reuses_address:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", free_port()))
        server.listen()
        port = _port(server)
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()
        client.close()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as plain, pytest.raises(OSError) as in_use:
        plain.bind(("127.0.0.1", port))  # the precondition: a plain bind finds the port busy
    assert in_use.value.errno == errno.EADDRINUSE
    return port


def test_a_port_a_previous_router_left_in_time_wait_passes_as_the_next_router_can_bind_it() -> None:
    """A demo that just stopped leaves its routers' connections in TIME_WAIT; the next demo
    must start at once all the same. Zenoh's routers listen with SO_REUSEADDR (checked by
    hand against a zenoh router: its TIME_WAIT ports pass this check and a new router binds)."""
    port = _port_in_time_wait(listener_reuses_address=True)

    check_ports_free({f"tcp/127.0.0.1:{port}": "eu-west router"})


def test_time_wait_of_a_listener_without_reuse_address_counts_as_taken_as_it_does_for_a_router() -> None:
    """Linux lets a SO_REUSEADDR bind share a port only with TIME_WAIT sockets that had the
    flag themselves; a Zenoh router fails to bind here too ("Address already in use")."""
    port = _port_in_time_wait(listener_reuses_address=False)

    with pytest.raises(PortTaken, match=rf"^tcp/127\.0\.0\.1:{port} \(eu-west router\): port {port} is taken"):
        check_ports_free({f"tcp/127.0.0.1:{port}": "eu-west router"})


def test_an_address_this_machine_does_not_have_says_it_cannot_listen_there() -> None:
    endpoint = f"tcp/192.0.2.1:{free_port()}"  # TEST-NET-1: never a local address
    with pytest.raises(PortTaken, match=rf"^{re.escape(endpoint)} \(us-east router\): cannot listen there: \S"):
        check_ports_free({endpoint: "us-east router"})
