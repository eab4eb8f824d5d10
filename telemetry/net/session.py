"""Opening Zenoh sessions: the only place in the package that calls `zenoh.open`.

With the fleet defaults (telemetry/net/zenoh_config.py), `zenoh.open` of a client blocks
until a router answers, so `BackgroundSession` opens in a daemon thread and the main thread
stays free to react to SIGINT and SIGTERM. A session is always closed in `finally`: a
process that exits with a callback subscriber declared and its session open hangs forever
at interpreter exit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import zenoh

from telemetry.errors import TelemetryError
from telemetry.net.zenoh_config import SessionOptions, build_config, configured_endpoints, configured_mode
from telemetry.net.zenoh_errors import zenoh_message

__all__ = ["BackgroundSession", "SessionCallback", "SessionError", "open_config", "open_session"]

_log = logging.getLogger(__name__)


class SessionError(TelemetryError):
    """A Zenoh session could not be opened (address in use, transport refused, ...)."""


def open_session(options: SessionOptions) -> zenoh.Session:
    """Build the config and open a session; the caller owns it and closes it in `finally`.

    With the fleet defaults, a client or a connecting peer blocks here until a router
    answers: use `BackgroundSession` where the thread must stay responsive.
    """
    return open_config(build_config(options))


def open_config(config: zenoh.Config) -> zenoh.Session:
    """Open a session from a config `build_config` made; a SessionError says why it failed."""
    try:
        return zenoh.open(config)
    except zenoh.ZError as error:
        mode = configured_mode(config)
        places = [
            f"{which} {', '.join(eps)}"
            for which in ("listen", "connect")
            if (eps := configured_endpoints(config, which))
        ]
        where = f" ({'; '.join(places)})" if places else ""
        raise SessionError(f"cannot open Zenoh {mode} session{where}: {zenoh_message(error)}") from None


SessionCallback = Callable[[zenoh.Session], None]


def _close(session: zenoh.Session) -> None:
    session.close()


class BackgroundSession:
    """A session opened in a daemon thread, so that waiting for a router never blocks the caller.

    With `connect/timeout_ms` -1, `zenoh.open` returns only once a router is reachable, and
    a main thread blocked inside it cannot act on SIGINT or SIGTERM. The config is built in
    the constructor, so a bad config still fails fast in the caller. `on_open` callbacks run
    in the opener thread with the new session (declare subscribers there) before `wait`
    returns it. `close()` closes the session if it opened and makes an open that completes
    later close itself at once; use the object as a context manager to get both.
    """

    def __init__(
        self, options: SessionOptions, on_open: Iterable[SessionCallback] = (), name: str = "zenoh"
    ) -> None:
        self._config = build_config(options)
        self._on_open = tuple(on_open)
        self._name = name
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._session: zenoh.Session | None = None
        self._error: SessionError | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self) -> BackgroundSession:
        """Start opening; returns self so `BackgroundSession(...).start()` reads as one step."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("BackgroundSession.start() called twice")
            self._thread = threading.Thread(target=self._open, name=f"{self._name}-open", daemon=True)
            self._thread.start()
        return self

    def __enter__(self) -> BackgroundSession:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def session(self) -> zenoh.Session | None:
        """The open session, or None until it opened (and again after `close`)."""
        with self._lock:
            return self._session

    def wait(self, timeout_s: float | None = None) -> zenoh.Session | None:
        """The session once open and its callbacks ran; None on timeout or after `close`.

        Raises the SessionError if opening failed (for example, a listen address in use).
        """
        self._done.wait(timeout_s)
        with self._lock:
            if self._error is not None:
                raise self._error
            return self._session

    def wait_or_stop(self, stop: threading.Event) -> zenoh.Session | None:
        """The session once open, or None when `stop` is set first (a process told to end while
        it still waits for its router); raises the SessionError if opening failed."""
        session = None
        while session is None and not stop.is_set():
            session = self.wait(0.2)
        return session

    def close(self) -> None:
        """Close the session if it is open; an open still in progress closes itself when done."""
        with self._lock:
            self._closed = True
            session, self._session = self._session, None
        self._done.set()
        if session is not None:
            _close(session)

    def _open(self) -> None:
        mode = configured_mode(self._config)
        connect = configured_endpoints(self._config, "connect")
        if connect:
            _log.info("%s: %s waiting for router at %s", self._name, mode, ", ".join(connect))
        else:
            _log.info("%s: opening %s session", self._name, mode)
        try:
            session = open_config(self._config)
        except SessionError as error:
            _log.error("%s: %s", self._name, error)
            with self._lock:
                self._error = error
            self._done.set()
            return
        with self._lock:
            late = self._closed
            if not late:
                self._session = session
        if late:
            _log.info("%s: opened after close(); closing it again", self._name)
            _close(session)
            return
        _log.info("%s: connected (zid %s)", self._name, session.info.zid())
        self._run_callbacks(session)
        self._done.set()

    def _run_callbacks(self, session: zenoh.Session) -> None:
        for callback in self._on_open:
            try:
                callback(session)
            except Exception:  # noqa: BLE001 - a callback boundary: one bad callback must not kill the opener
                _log.exception("%s: on_open callback %r failed", self._name, callback)
