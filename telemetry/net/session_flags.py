"""The Zenoh session flags every console script shares, and their `SessionOptions`.

One set of flags (`--zenoh-config FILE`, `--mode`, `-e/--connect`, `-l/--listen`,
`--cfg KEY:VALUE`) so that a Zenoh setting is spelt the same for the router, the bridge,
the aggregator and the dashboard; telemetry/net/zenoh_config.py says in which order they apply.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from telemetry.errors import ConfigError
from telemetry.net.zenoh_config import MODES, SessionOptions

__all__ = ["add_session_arguments", "options_from_args", "parse_cfg_override"]


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
