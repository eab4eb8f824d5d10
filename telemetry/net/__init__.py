"""Zenoh session set-up: the only place in the package that configures and opens sessions.

`session` builds a `zenoh.Config` from a JSON5 file plus command-line overrides and opens
sessions (in a background thread where a client must wait for its router); `router` runs a
Zenoh router from such a file. Everything else receives an open `zenoh.Session`.
"""

from __future__ import annotations

from telemetry.net.session import (
    MODES,
    BackgroundSession,
    SessionError,
    SessionOptions,
    add_session_arguments,
    build_config,
    configured_endpoints,
    configured_mode,
    open_config,
    open_session,
    options_from_args,
    parse_cfg_override,
)

__all__ = [
    "MODES",
    "BackgroundSession",
    "SessionError",
    "SessionOptions",
    "add_session_arguments",
    "build_config",
    "configured_endpoints",
    "configured_mode",
    "open_config",
    "open_session",
    "options_from_args",
    "parse_cfg_override",
]
