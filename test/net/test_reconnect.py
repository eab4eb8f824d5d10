"""A client outlives its router: it waits for the first one and finds a restarted one again.

The fleet's reliability target is data flowing within 2 s of a router's return; the test
bound is a generous 3 s from starting the new router process (Python start-up included),
and the measured figures are logged (`-o log_cli=true --log-cli-level=INFO` shows them).
"""

from __future__ import annotations

import logging
import time

import zenoh
from support.processes import ProcessGroup, free_port, wait_until
from support.zenoh_net import (
    ClientSessions,
    endpoint,
    publish_until_received,
    recording_subscriber,
    start_router,
)

KEY = "telemetry/data/eu-west/rover-01/odom"
REJOIN_BOUND_S = 3.0
#: Longer than the retry back-off's climb to its 1 s ceiling (0.25 + 0.5 + 1 s), so the
#: restart is found by a client retrying at its slowest, the case that sets the bound.
DOWNTIME_S = 2.0
_log = logging.getLogger(__name__)


def connected_to(session: zenoh.Session) -> list[str]:
    return [str(zid) for zid in session.info.routers_zid()]


def test_client_started_before_any_router_connects_when_the_router_comes_up(
    processes: ProcessGroup, zenoh_clients: ClientSessions
) -> None:
    port = free_port()
    waiting = zenoh_clients.start(endpoint(port))
    assert waiting.wait(0.5) is None and waiting.session is None

    router = start_router(processes, port, "eu-west.json5", connect=())
    session = waiting.wait(5.0)
    assert session is not None, router.process.output()
    _log.info(
        "client started before its router: open %.3f s after the router process started",
        time.monotonic() - router.spawned_s,
    )
    assert connected_to(session) == [router.zid]


def test_publisher_reaches_subscriber_again_after_the_router_is_killed_and_restarted(
    processes: ProcessGroup, zenoh_clients: ClientSessions
) -> None:
    port = free_port()
    first = start_router(processes, port, "eu-west.json5", connect=(), name="router-first")
    vehicle = zenoh_clients.open(first.endpoint)
    subscriber = zenoh_clients.open(first.endpoint)

    with recording_subscriber(subscriber, KEY) as received:
        assert publish_until_received(vehicle, KEY, received, timeout_s=5.0) is not None

        first.process.kill()  # no goodbye to the clients: as if the machine died
        assert wait_until(lambda: not connected_to(vehicle) and not connected_to(subscriber), timeout_s=5.0)
        # The router stays away for DOWNTIME_S; the clients must neither exit nor reconnect.
        assert not wait_until(lambda: bool(connected_to(vehicle)), timeout_s=DOWNTIME_S)

        second = start_router(processes, port, "eu-west.json5", connect=(), name="router-second")
        assert publish_until_received(vehicle, KEY, received, timeout_s=REJOIN_BOUND_S + 2.0) is not None
        rejoin_s = time.monotonic() - second.spawned_s

    _log.info(
        "router restart: first sample %.3f s after the new router process started"
        " (%.3f s after its ready line)",
        rejoin_s,
        time.monotonic() - second.ready_s,
    )
    assert rejoin_s < REJOIN_BOUND_S, second.process.output()
    assert connected_to(vehicle) == [second.zid]
