"""The `router` entry point as a real process on loopback, and `run_router` in-process.

Routers listen on free ports (the shipped files' fixed ports may be taken by a running
demo), started from the shipped config/zenoh/cloud.json5 with `--listen` overriding it.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.processes import ProcessGroup, free_port
from support.zenoh_net import (
    ROUTER_MODULE,
    ZENOH_CONFIGS,
    ClientSessions,
    endpoint,
    publish_until_received,
    recording_subscriber,
    start_router,
)

from telemetry.net import SessionError, SessionOptions, open_session
from telemetry.net.router import run_router

KEY = "telemetry/test/router"


def test_router_prints_its_ready_line_and_forwards_between_clients(
    processes: ProcessGroup, zenoh_clients: ClientSessions
) -> None:
    port = free_port()
    router = start_router(processes, port, "cloud.json5")
    assert re.fullmatch(r"[0-9a-f]{1,32}", router.zid)  # hex without leading zeros: length varies

    subscriber = zenoh_clients.open(router.endpoint)
    publisher = zenoh_clients.open(router.endpoint)
    assert [str(zid) for zid in subscriber.info.routers_zid()] == [router.zid]
    with recording_subscriber(subscriber, KEY) as received:
        assert publish_until_received(publisher, KEY, received, timeout_s=5.0) is not None


def test_router_exits_0_on_sigterm_within_a_few_seconds(
    processes: ProcessGroup, zenoh_clients: ClientSessions
) -> None:
    router = start_router(processes, free_port(), "cloud.json5")
    client = zenoh_clients.open(router.endpoint)
    with recording_subscriber(client, KEY):
        start = time.monotonic()
        code = router.process.stop(timeout_s=5.0)
        elapsed_s = time.monotonic() - start
    assert code == 0, router.process.output()
    assert elapsed_s < 5.0
    router.process.wait_for_line("received SIGTERM", timeout_s=1.0, stream="stderr")


def test_router_exits_0_on_sigint(processes: ProcessGroup) -> None:
    router = start_router(processes, free_port(), "cloud.json5")
    router.process.send_signal(signal.SIGINT)
    assert router.process.wait_exit(5.0) == 0, router.process.output()


def test_router_with_a_missing_config_exits_1_naming_the_file(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.json5"
    child = processes.start_module(ROUTER_MODULE, "--config", str(missing))
    assert child.wait_exit(10.0) == 1
    assert f"router: error: {missing}: Zenoh config file not found" in child.output()


def test_router_with_a_malformed_cfg_exits_1_naming_it(processes: ProcessGroup) -> None:
    child = processes.start_module(
        ROUTER_MODULE, "--config", str(ZENOH_CONFIGS / "cloud.json5"), "--cfg", "nocolon"
    )
    assert child.wait_exit(10.0) == 1
    assert "router: error: --cfg 'nocolon': expected KEY:VALUE" in child.output()


def test_router_on_a_taken_port_exits_1_with_a_session_error(processes: ProcessGroup) -> None:
    first = start_router(processes, free_port(), "cloud.json5")
    second = processes.start_module(
        ROUTER_MODULE, "--config", str(ZENOH_CONFIGS / "cloud.json5"), "--listen", first.endpoint
    )
    assert second.wait_exit(10.0) == 1
    assert f"router: error: cannot open Zenoh router session (listen {first.endpoint}" in second.output()


@pytest.fixture
def in_process_router() -> Iterator[tuple[str, str]]:
    """`run_router` in a thread of this process: (endpoint, ready line); stopped afterwards."""
    port = free_port()
    stop = threading.Event()
    lines: list[str] = []
    ready = threading.Event()

    def on_ready(line: str) -> None:
        lines.append(line)
        ready.set()

    options = SessionOptions(config_path=ZENOH_CONFIGS / "cloud.json5", listen=(endpoint(port),))
    thread = threading.Thread(target=run_router, args=(options, stop, on_ready), daemon=True)
    thread.start()
    try:
        assert ready.wait(10.0), "run_router did not report ready"
        yield endpoint(port), lines[0]
    finally:
        stop.set()
        thread.join(5.0)
        assert not thread.is_alive(), "run_router did not return after stop was set"


def test_run_router_in_process_reports_ready_and_routes(
    in_process_router: tuple[str, str], zenoh_clients: ClientSessions
) -> None:
    router_endpoint, line = in_process_router
    assert line.startswith("router ") and line.endswith(f" listening on {router_endpoint}")
    subscriber = zenoh_clients.open(router_endpoint)
    publisher = zenoh_clients.open(router_endpoint)
    with recording_subscriber(subscriber, KEY) as received:
        assert publish_until_received(publisher, KEY, received, timeout_s=5.0) is not None


def test_open_session_on_a_taken_port_is_a_session_error(in_process_router: tuple[str, str]) -> None:
    router_endpoint, _line = in_process_router
    with (
        pytest.raises(
            SessionError, match=rf"^cannot open Zenoh router session \(listen {router_endpoint}\): "
        ),
        open_session(SessionOptions(mode="router", listen=(router_endpoint,))),
    ):
        pass
