"""`telemetry`: the umbrella command. Each subcommand parses its arguments and hands ready
objects to a function in the package; later issues add `demo` and `bench` here.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from telemetry.config import default_fleet_config_path, load_fleet_config
from telemetry.describe import describe_fleet
from telemetry.errors import TelemetryError

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="telemetry", description="Fleet telemetry for ROS 2 over Zenoh.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config = commands.add_parser(
        "config", help="check a fleet config and show its routers, vehicles and stream keys"
    )
    config.add_argument(
        "path", nargs="?", type=Path, help="fleet config (default: the shipped config/fleet.yaml)"
    )
    config.set_defaults(run=_run_config)
    return parser


def _run_config(args: argparse.Namespace) -> int:
    path = args.path if args.path is not None else default_fleet_config_path()
    print(describe_fleet(load_fleet_config(path)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args))
    except TelemetryError as error:
        print(f"telemetry: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
