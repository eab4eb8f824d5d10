"""`router`: a Zenoh router run from a standard JSON5 config (the file `zenohd -c` takes).

    router --config config/zenoh/eu-west.json5 [--listen ENDPOINT] [--connect ENDPOINT] [--cfg KEY:VALUE]

Once the router listens it prints one line to stdout, `router <zid> listening on <endpoints>`,
so a supervisor or a test can wait for it instead of sleeping; logs go to stderr. SIGINT or
SIGTERM close the session and the process exits 0.

A regional router connects on to the cloud router. Zenoh's router mode does not wait for
its connect endpoints (measured: `zenoh.open` returns in ~0.5 s with the cloud down, even
with `connect/timeout_ms` -1), and with `exit_on_failure` false it keeps retrying in the
background, so a region serves its vehicles at once and joins the cloud when it appears.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import FrameType

import zenoh

from telemetry.console import Logs, run_console
from telemetry.net.session import open_config
from telemetry.net.session_flags import add_session_arguments, options_from_args
from telemetry.net.zenoh_config import SessionOptions, build_config, configured_endpoints

__all__ = ["main", "ready_line", "run_router"]

_log = logging.getLogger(__name__)
#: How often the main thread wakes to run signal handlers that arrived on another thread.
_SIGNAL_POLL_S = 0.2


def ready_line(zid: str, listen: Sequence[str]) -> str:
    """The one stdout line that says the router is up; supervisors match its first words."""
    return f"router {zid} listening on {', '.join(listen) or '(no listen endpoints)'}"


def run_router(
    options: SessionOptions, stop: threading.Event, ready: Callable[[str], None] | None = None
) -> None:
    """Run a router until `stop` is set, then close it; router mode whatever `options` say.

    `ready` receives the ready line once the session is open, which for a router means
    it listens. Raises ConfigError or SessionError if the router cannot start.
    """
    config = build_config(replace(options, mode="router"))
    listen = configured_endpoints(config, "listen")
    connect = configured_endpoints(config, "connect")
    with open_config(config) as session:  # closes the session however this block ends
        zid = str(session.info.zid())
        _log.info("router %s listening on %s", zid, ", ".join(listen) or "(nothing)")
        if connect:
            _log.info(
                "router %s connects to %s (retrying in the background while unreachable)",
                zid,
                ", ".join(connect),
            )
        with session.info.declare_transport_events_listener(_log_transport_event, history=True):
            if ready is not None:
                ready(ready_line(zid, listen))
            # Not `stop.wait()`: SIGTERM may be delivered to one of Zenoh's threads, and Python
            # runs its handler only when the main thread executes again. A wait without a
            # timeout then never returns (1 router in ~12 clean-clone test runs stayed until
            # SIGKILL, without its "received SIGTERM" line); a bounded wait lets it run.
            while not stop.wait(_SIGNAL_POLL_S):
                pass
        _log.info("router %s stopping", zid)


def _log_transport_event(event: zenoh.TransportEvent) -> None:
    """Operators want to see a region join and leave the cloud; logging only, no Zenoh calls."""
    verb = "connected" if event.kind == zenoh.SampleKind.PUT else "disconnected"
    _log.info("%s %s %s", verb, str(event.transport.whatami).lower(), event.transport.zid)


def _print_ready(line: str) -> None:
    print(line, flush=True)


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGINT and SIGTERM set `stop`; the main thread waits on it and shuts down in order."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        _log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="router", description="Run a Zenoh router from a JSON5 config (the file zenohd -c takes)."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    add_session_arguments(
        parser, "router", modes=("router",), config_flags=("-c", "--config", "--zenoh-config")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_console("router", lambda: _serve(args), Logs(verbose=args.verbose))


def _serve(args: argparse.Namespace) -> None:
    stop = threading.Event()
    _stop_on_signals(stop)
    run_router(options_from_args(args), stop, _print_ready)


if __name__ == "__main__":
    sys.exit(main())
