"""Zenoh session set-up: the only place in the package that configures and opens sessions.

`zenoh_config` builds a `zenoh.Config` from a JSON5 file plus command-line overrides,
`session_flags` adds those overrides' flags to a program's parser, and `session` opens
sessions (in a background thread where a client must wait for its router); `router` runs a
Zenoh router from such a file. Everything else receives an open `zenoh.Session`.
"""

from __future__ import annotations

from telemetry.net.session import BackgroundSession, SessionError, open_config, open_session
from telemetry.net.session_flags import add_session_arguments, options_from_args, parse_cfg_override
from telemetry.net.zenoh_config import (
    MODES,
    SessionOptions,
    build_config,
    configured_endpoints,
    configured_mode,
    file_settings,
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
    "file_settings",
    "open_config",
    "open_session",
    "options_from_args",
    "parse_cfg_override",
]
