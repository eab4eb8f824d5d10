"""The one way this package configures and opens Zenoh sessions.

Every process (router, bridge, aggregator, dashboard) builds its `zenoh.Config` here, in one
order: the JSON5 file first (the same file `zenohd -c` takes), then the command-line flags
(`--mode`, `--connect`, `--listen`), then each `--cfg KEY:VALUE`, so the most specific word
wins. Last come this fleet's defaults, written only into keys that are still unset
(`Config.get_json` reports `null` for a key nobody set):

- multicast scouting off: fleets are wired explicitly, and a stray peer on the LAN must not
  join the data path;
- connect forever and retry quickly (`connect/timeout_ms` -1, `exit_on_failure` false, retry
  every 250 ms growing to 1 s): a vehicle or regional router that starts before its router
  waits for it instead of failing (with Zenoh's client default, 0, `open` raises "Unable to
  connect"), and a router that comes back is picked up within about a second.

Because `zenoh.open` of a client then blocks until a router answers, `BackgroundSession`
opens in a daemon thread so the main thread stays free to react to SIGINT and SIGTERM.
A session is always closed in `finally`: a process that exits with a callback subscriber
declared and its session open hangs forever at interpreter exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zenoh

from telemetry.errors import ConfigError, TelemetryError
from telemetry.net.zenoh_errors import zenoh_message

__all__ = [
    "MODES",
    "BackgroundSession",
    "SessionError",
    "SessionOptions",
    "add_session_arguments",
    "build_config",
    "configured_endpoints",
    "configured_mode",
    "file_settings",
    "open_config",
    "open_session",
    "options_from_args",
    "parse_cfg_override",
]

_log = logging.getLogger(__name__)

#: Zenoh's session modes; a session whose config names none is a peer.
MODES = ("router", "peer", "client")
_ZENOH_DEFAULT_MODE = "peer"

#: Written into keys that neither the file, the flags nor `--cfg` set (see the module doc).
_FLEET_DEFAULTS: tuple[tuple[str, object], ...] = (
    ("scouting/multicast/enabled", False),
    ("connect/timeout_ms", -1),
    ("connect/exit_on_failure", False),
)
#: Zenoh cannot write `connect/retry/<field>` on its own ("unknown key", even when
#: `connect/retry` is set), so missing fields are merged into the object and it is written whole.
_RETRY_KEY = "connect/retry"
_RETRY_DEFAULTS: tuple[tuple[str, int], ...] = (("period_init_ms", 250), ("period_max_ms", 1000))


class SessionError(TelemetryError):
    """A Zenoh session could not be opened (address in use, transport refused, ...)."""


@dataclass(frozen=True)
class SessionOptions:
    """How to configure one session: a Zenoh JSON5 file plus command-line overrides.

    `overrides` are `--cfg` pairs: a Zenoh config path and a JSON5 value, applied last.
    `default_mode` is used only when neither the file nor the flags name a mode, so a
    file's `mode: "client"` is not silently replaced by a program's default.
    """

    config_path: Path | None = None
    mode: str | None = None
    connect: tuple[str, ...] = ()
    listen: tuple[str, ...] = ()
    overrides: tuple[tuple[str, str], ...] = ()
    default_mode: str = _ZENOH_DEFAULT_MODE

    def __post_init__(self) -> None:
        for what, mode in (("mode", self.mode), ("default mode", self.default_mode)):
            if mode is not None and mode not in MODES:
                raise ConfigError(f"{what} {mode!r}: expected one of {', '.join(MODES)}")


# --- building a config ------------------------------------------------------------------


def build_config(options: SessionOptions) -> zenoh.Config:
    """The session config: file, then flags, then `--cfg`, then the fleet's defaults where unset.

    Every mistake is a ConfigError naming its source (the file, the flag or the `--cfg`
    key) with Zenoh's own explanation.
    """
    config = _load_file(options.config_path)
    if options.mode is not None:
        _insert(config, "mode", json.dumps(options.mode), f"--mode {options.mode}")
    if options.connect:
        _insert(
            config,
            "connect/endpoints",
            json.dumps(list(options.connect)),
            _flag("--connect", options.connect),
        )
    if options.listen:
        _insert(
            config, "listen/endpoints", json.dumps(list(options.listen)), _flag("--listen", options.listen)
        )
    for key, value in options.overrides:
        _insert(config, key, value, f"--cfg {key}:{value}", typed=True)
    _apply_fleet_defaults(config, options.default_mode)
    return config


def _load_file(path: Path | None) -> zenoh.Config:
    if path is None:
        return zenoh.Config()
    if not Path(path).is_file():
        # Zenoh's own message names neither the file nor the problem clearly ("os error 2").
        raise ConfigError(f"{path}: Zenoh config file not found")
    try:
        return zenoh.Config.from_file(str(path))
    except zenoh.ZError as error:
        raise ConfigError(f"{path}: invalid Zenoh config: {zenoh_message(error)}") from None


def _insert(config: zenoh.Config, key: str, value_json5: str, source: str, typed: bool = False) -> None:
    """Write one key; `source` is what the user typed, so the error points back at it.

    `typed` says the user wrote `value_json5` themselves, so a line and column in it help;
    for flags this module turned into JSON they would point into text nobody wrote.
    """
    try:
        config.insert_json5(key, value_json5)
    except zenoh.ZError as error:
        message = zenoh_message(error, location=typed)
        raise ConfigError(f"{source}: {message}{_unknown_key_hint(config, key, message)}") from None


def _unknown_key_hint(config: zenoh.Config, key: str, message: str) -> str:
    """Zenoh sets some sections only whole (`connect/retry`): say so when the parent exists."""
    parent, slash, field = key.rpartition("/")
    if message != "unknown key" or not slash:
        return ""
    try:
        config.get_json(parent)
    except zenoh.ZError:
        return ""
    return f" (Zenoh sets {parent!r} only as a whole: --cfg '{parent}:{{{field}: ...}}')"


def _flag(name: str, values: Iterable[str]) -> str:
    return " ".join(f"{name} {value}" for value in values)


def _get(config: zenoh.Config, key: str) -> Any:
    """The value at `key` as Python data; None when the key is unset."""
    return json.loads(config.get_json(key))


def _apply_fleet_defaults(config: zenoh.Config, default_mode: str) -> None:
    if _get(config, "mode") is None:
        config.insert_json5("mode", json.dumps(default_mode))
    for key, value in _FLEET_DEFAULTS:
        if _get(config, key) is None:
            config.insert_json5(key, json.dumps(value))
    retry = {field: value for field, value in (_get(config, _RETRY_KEY) or {}).items() if value is not None}
    merged = {**dict(_RETRY_DEFAULTS), **retry}
    if merged != retry:
        config.insert_json5(_RETRY_KEY, json.dumps(merged))


def configured_mode(config: zenoh.Config) -> str:
    """The mode the session will run in (Zenoh's default, peer, when none is set)."""
    mode = _get(config, "mode")
    return str(mode) if mode is not None else _ZENOH_DEFAULT_MODE


def file_settings(path: Path, keys: Iterable[str]) -> dict[str, Any]:
    """The values at `keys` of a Zenoh JSON5 file, as Zenoh reads it (its defaults filled in).

    For tools that write configs derived from a shipped one, so that the two never disagree
    on what a setting is (Zenoh, not a second JSON5 parser, decides)."""
    config = _load_file(path)
    return {key: _get(config, key) for key in keys}


def configured_endpoints(config: zenoh.Config, which: str) -> tuple[str, ...]:
    """The `listen` or `connect` endpoints the config gives this session's mode.

    Zenoh lets a file give endpoints per mode (`{router: [...], peer: [...]}`); this
    resolves that, for log lines that show where a process listens or connects.
    """
    if which not in ("listen", "connect"):
        raise ValueError(f"which must be 'listen' or 'connect', got {which!r}")
    endpoints = _get(config, f"{which}/endpoints")
    if isinstance(endpoints, dict):
        endpoints = endpoints.get(configured_mode(config)) or []
    return tuple(str(endpoint) for endpoint in endpoints or ())


# --- command line ------------------------------------------------------------------------


def add_session_arguments(
    parser: argparse.ArgumentParser,
    default_mode: str,
    *,
    modes: Sequence[str] = MODES,
    config_flags: Sequence[str] = ("--zenoh-config",),
) -> None:
    """Add the Zenoh session flags; `options_from_args` turns them into `SessionOptions`.

    `config_flags` names the file flag: `--zenoh-config` where `--config` means the
    program's own config, `-c/--config` for the router, whose only config is Zenoh's.
    `modes` narrows `--mode` for programs that only make sense in some modes.
    """
    if default_mode not in modes:
        raise ValueError(f"default_mode {default_mode!r} is not one of {list(modes)}")
    group = parser.add_argument_group("zenoh session")
    group.add_argument(
        *config_flags,
        dest="zenoh_config",
        metavar="FILE",
        type=Path,
        help="Zenoh JSON5 config file (the format `zenohd -c` takes); the flags below override it",
    )
    group.add_argument(
        "--mode",
        choices=list(modes),
        default=None,
        help=f"Zenoh session mode (always {default_mode} here)"
        if len(modes) == 1
        else f"Zenoh session mode (default: the file's, else {default_mode})",
    )
    group.add_argument(
        "-e",
        "--connect",
        metavar="ENDPOINT",
        action="append",
        default=[],
        help="endpoint to connect to, e.g. tcp/127.0.0.1:7447 (repeatable; replaces the file's)",
    )
    group.add_argument(
        "-l",
        "--listen",
        metavar="ENDPOINT",
        action="append",
        default=[],
        help="endpoint to listen on, e.g. tcp/127.0.0.1:7448 (repeatable; replaces the file's)",
    )
    group.add_argument(
        "--cfg",
        metavar="KEY:VALUE",
        action="append",
        default=[],
        help="set any Zenoh config key to a JSON5 value, applied last, e.g. "
        "--cfg 'scouting/multicast/enabled:true' (repeatable)",
    )
    parser.set_defaults(zenoh_default_mode=default_mode)


def options_from_args(args: argparse.Namespace) -> SessionOptions:
    """The session options a parser built by `add_session_arguments` collected."""
    return SessionOptions(
        config_path=args.zenoh_config,
        mode=args.mode,
        connect=tuple(args.connect),
        listen=tuple(args.listen),
        overrides=tuple(parse_cfg_override(text) for text in args.cfg),
        default_mode=args.zenoh_default_mode,
    )


def parse_cfg_override(text: str) -> tuple[str, str]:
    """Split `KEY:VALUE` at the first colon (endpoint values contain colons of their own)."""
    key, colon, value = text.partition(":")
    key = key.strip().strip("/")
    if not colon or not key or not value.strip():
        raise ConfigError(
            f"--cfg {text!r}: expected KEY:VALUE with a Zenoh config path and a JSON5 value, "
            "e.g. 'scouting/multicast/enabled:true'"
        )
    return key, value


# --- opening -----------------------------------------------------------------------------


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
    session.close()  # type: ignore[no-untyped-call]  # zenoh's stub leaves close() unannotated


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
            except Exception:  # a callback boundary: one bad callback must not kill the opener
                _log.exception("%s: on_open callback %r failed", self._name, callback)
