"""BackgroundSession: opening in a thread, callbacks, failures, and closing at any moment."""

from __future__ import annotations

import logging
import threading

import pytest
import zenoh
from support.processes import ProcessGroup, free_port, wait_until
from support.zenoh_net import endpoint, start_router

from telemetry.errors import ConfigError
from telemetry.net import BackgroundSession, SessionError, SessionOptions


def client_of(router_endpoint: str) -> SessionOptions:
    return SessionOptions(mode="client", connect=(router_endpoint,))


def opener_alive(name: str) -> bool:
    return any(thread.name == f"{name}-open" for thread in threading.enumerate())


def test_a_bad_config_fails_in_the_constructor_not_in_the_thread() -> None:
    with pytest.raises(ConfigError, match=r"^--connect nowhere: Endpoints must be of the form"):
        BackgroundSession(SessionOptions(mode="client", connect=("nowhere",)))


def test_callbacks_run_with_the_session_before_wait_returns_and_a_failing_one_is_logged(
    processes: ProcessGroup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="telemetry.net.session")
    router = start_router(processes, free_port())
    seen: list[zenoh.Session] = []

    def broken(_session: zenoh.Session) -> None:
        raise RuntimeError("boom")

    with BackgroundSession(client_of(router.endpoint), on_open=[broken, seen.append]) as opener:
        session = opener.wait(5.0)
        assert session is not None and opener.session is session
        assert seen == [session]
    assert session.is_closed()
    assert opener.session is None
    assert "on_open callback" in caplog.text and "boom" in caplog.text
    assert "connected (zid " in caplog.text


def test_wait_raises_the_session_error_when_opening_fails(processes: ProcessGroup) -> None:
    router = start_router(processes, free_port())
    taken = SessionOptions(mode="router", listen=(router.endpoint,))
    with (
        BackgroundSession(taken) as opener,
        pytest.raises(SessionError, match=r"^cannot open Zenoh router session"),
    ):
        opener.wait(10.0)


def test_close_before_the_router_appears_makes_the_late_open_close_itself(
    processes: ProcessGroup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="telemetry.net.session")
    port = free_port()
    called: list[zenoh.Session] = []
    opener = BackgroundSession(client_of(endpoint(port)), on_open=[called.append], name="late").start()
    assert opener.wait(0.3) is None
    assert "waiting for router at " + endpoint(port) in caplog.text
    opener.close()
    assert opener.wait(0.0) is None  # close() wakes waiters

    start_router(processes, port)
    assert wait_until(lambda: not opener_alive("late"), timeout_s=5.0), "opener thread still blocked"
    assert called == [] and opener.session is None
    assert "opened after close(); closing it again" in caplog.text


def test_start_twice_is_a_programming_error() -> None:
    opener = BackgroundSession(client_of(endpoint(free_port()))).start()
    try:
        with pytest.raises(RuntimeError, match="called twice"):
            opener.start()
    finally:
        opener.close()
