"""Zenoh config building: the one order in which every process's `zenoh.Config` is made.

Every process (router, bridge, aggregator, dashboard) builds its config here: the JSON5 file
first (the same file `zenohd -c` takes), then the command-line flags (`--mode`, `--connect`,
`--listen`), then each `--cfg KEY:VALUE`, so the most specific word wins. Last come this
fleet's defaults, written only into keys that are still unset (`Config.get_json` reports
`null` for a key nobody set):

- multicast scouting off: fleets are wired explicitly, and a stray peer on the LAN must not
  join the data path;
- connect forever and retry quickly (`connect/timeout_ms` -1, `exit_on_failure` false, retry
  every 250 ms growing to 1 s): a vehicle or regional router that starts before its router
  waits for it instead of failing (with Zenoh's client default, 0, `open` raises "Unable to
  connect"), and a router that comes back is picked up within about a second.

The flags that fill `SessionOptions` are in telemetry/net/session_flags.py; opening a
session from the config is telemetry/net/session.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zenoh

from telemetry.errors import ConfigError
from telemetry.net.zenoh_errors import zenoh_message

__all__ = [
    "MODES",
    "SessionOptions",
    "build_config",
    "configured_endpoints",
    "configured_mode",
    "file_settings",
]

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
