"""`dashboard`: the fleet's live rates, latency and health in the terminal.

    dashboard [--config config/fleet.yaml] [--router tcp/127.0.0.1:7447] [--embedded]

By default it connects to the cloud router of the fleet config and reads what the
aggregator publishes; `--embedded` also runs an aggregator in this process if none answers.
Logs go to a file (the terminal belongs to the dashboard): `--log`, printed on exit.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from telemetry.aggregator.engine import EngineSettings
from telemetry.aggregator.service import ServiceSettings, expected_rates
from telemetry.codec import TypeStore
from telemetry.config import AlertThresholds, default_fleet_config_path, load_fleet_config
from telemetry.dashboard.options import DashboardOptions
from telemetry.errors import ConfigError, TelemetryError
from telemetry.keys import KeySpace
from telemetry.net import add_session_arguments, options_from_args

__all__ = ["DashboardOptions", "build_parser", "main", "options_from_cli"]

_DEFAULT_LOG = Path(tempfile.gettempdir()) / "telemetry-dashboard.log"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="fleet config (default: the shipped config/fleet.yaml)")
    parser.add_argument("--router", dest="connect", action="append", default=[], metavar="ENDPOINT",
                        help="router to connect to (default: the fleet config's cloud router); same as -e")
    parser.add_argument("--embedded", action="store_true",
                        help="run an aggregator in this process when none answers (one-machine setups)")
    parser.add_argument("--min-rate-ratio", type=float, metavar="R",
                        help="alert when a stream is below this share of its expected rate (default: config, 0.9)")
    parser.add_argument("--max-p99-ms", type=float, metavar="MS",
                        help="alert when a stream's p99 latency is above this (default: config, 10 ms)")
    parser.add_argument("--key-root", metavar="ROOT",
                        help="first key chunk to read (default: the config's key_root); `replay` shows a replay")
    parser.add_argument("--refresh", type=float, default=0.5, metavar="S",
                        help="seconds between screen updates (default 0.5, the aggregator's period)")
    parser.add_argument("--log", type=Path, default=_DEFAULT_LOG, help=f"log file (default {_DEFAULT_LOG})")
    add_session_arguments(parser, default_mode="client")
    return parser


def options_from_cli(args: argparse.Namespace, store: TypeStore) -> DashboardOptions:
    """Check the flags against the fleet config; every problem is a TelemetryError to print."""
    fleet = load_fleet_config(args.config or default_fleet_config_path(), store)
    if args.key_root:
        fleet = replace(fleet, key_root=KeySpace(args.key_root).root)
    thresholds = fleet.alerts
    try:
        thresholds = AlertThresholds(
            thresholds.min_rate_ratio if args.min_rate_ratio is None else args.min_rate_ratio,
            thresholds.max_latency_p99_ms if args.max_p99_ms is None else args.max_p99_ms,
        )
    except ConfigError as error:
        flag = "--min-rate-ratio" if "min_rate_ratio" in str(error) else "--max-p99-ms"
        raise ConfigError(f"{flag}: {str(error).split(': ', 1)[1]}") from None
    if not args.refresh > 0:
        raise TelemetryError(f"--refresh: must be > 0, got {args.refresh:g}")
    session = options_from_args(args)
    if not session.connect and session.config_path is None:
        session = replace(session, connect=fleet.cloud.listen)
    keys = KeySpace(fleet.key_root)
    embedded = None
    if args.embedded:
        embedded = ServiceSettings(keys, engine=EngineSettings(expected_hz=expected_rates(fleet)))
    return DashboardOptions(fleet, session, thresholds, embedded, args.refresh, args.log)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    store = TypeStore.from_environment()
    try:
        options = options_from_cli(args, store)
    except TelemetryError as error:
        print(f"dashboard: error: {error}", file=sys.stderr)
        return 1
    logging.basicConfig(filename=options.log_path, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from telemetry.dashboard.run import run_dashboard  # textual is imported only once the flags are good

    run_dashboard(options, store)
    print(f"dashboard: log in {options.log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
