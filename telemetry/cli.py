"""`telemetry`: the umbrella command. Each subcommand parses its arguments and hands ready
objects to a function in the package: `config` checks a fleet config, `demo` runs a fleet,
`bench` measures it, `pki` makes development certificates for mutual TLS, `acl` writes
the routers' access control and a secure deployment's Zenoh configs; `history`, `recover`
and `replay` read what the recorder wrote (their flags live in telemetry/recorder/commands.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from telemetry.config import default_fleet_config_path, load_fleet_config
from telemetry.console import Logs, run_console
from telemetry.describe import describe_fleet
from telemetry.errors import TelemetryError
from telemetry.recorder.commands import add_history_parser, add_recover_parser, add_replay_parser

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="telemetry", description="Fleet telemetry for ROS 2 over Zenoh.", allow_abbrev=False
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config = commands.add_parser(
        "config", help="check a fleet config and show its routers, vehicles and stream keys"
    )
    config.add_argument(
        "path", nargs="?", type=Path, help="fleet config (default: the shipped config/fleet.yaml)"
    )
    config.set_defaults(run=_run_config)
    _add_demo_parser(commands)
    _add_bench_parser(commands)
    _add_pki_parser(commands)
    _add_acl_parser(commands)
    add_history_parser(commands)
    add_recover_parser(commands)
    add_replay_parser(commands)
    return parser


def _add_pki_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pki = commands.add_parser("pki", allow_abbrev=False,
                              help="a development fleet CA and certificates for Zenoh's mutual TLS")
    actions = pki.add_subparsers(dest="pki_command", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="create a fleet CA (ca.pem, ca.key) in DIR")
    init.add_argument("dir", type=Path)
    issue = actions.add_parser("issue", help="issue NAME.pem and NAME.key, signed by DIR's CA")
    issue.add_argument("dir", type=Path)
    issue.add_argument("name", help="the party's name: a vehicle's name for a vehicle")
    issue.add_argument("--role", required=True, choices=["vehicle", "router", "aggregator", "dashboard", "recorder"])
    fleet = actions.add_parser("fleet", help="issue a certificate for every party the fleet's access control names")
    fleet.add_argument("dir", type=Path)
    fleet.add_argument("config", nargs="?", type=Path, help="fleet config (default: the shipped config/fleet.yaml)")
    pki.set_defaults(run=_run_pki)


def _run_pki(args: argparse.Namespace) -> int:
    from telemetry.security import pki
    from telemetry.security.acl import parties

    if args.pki_command == "init":
        issued = [pki.init(args.dir)]
    elif args.pki_command == "issue":
        issued = [pki.issue(args.dir, args.name, args.role)]
    else:
        fleet = load_fleet_config(args.config or default_fleet_config_path())
        issued = [pki.issue(args.dir, name, role) for name, role in parties(fleet)]
    for files in issued:
        print(f"wrote {files.certificate} and {files.key}")
    return 0


def _add_acl_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    acl = commands.add_parser(
        "acl", allow_abbrev=False, help="the routers' access control from a fleet config; with --out, "
        "every party's Zenoh config for a secure deployment",
        description="Print each router's Zenoh access_control section (default deny; parties known by their "
        "certificate's common name over mutual TLS). With --out DIR, write a complete Zenoh config per router "
        "and per client instead: TLS endpoints, mutual TLS with PKI's certificates, and the access control.",
    )
    acl.add_argument("config", nargs="?", type=Path, help="fleet config (default: the shipped config/fleet.yaml)")
    acl.add_argument("--router", help="only this router (cloud, or a region's name)")
    acl.add_argument("--out", type=Path, metavar="DIR", help="write every party's secure Zenoh config here")
    acl.add_argument("--pki", default="pki", metavar="DIR",
                     help="with --out: where the configs say the certificates are (default: pki, relative to "
                     "where each process runs); make them with `telemetry pki init` and `telemetry pki fleet`")
    acl.set_defaults(run=_run_acl)


def _run_acl(args: argparse.Namespace) -> int:
    import json

    from telemetry.security.acl import CLOUD_ROUTER, access_control, region_router_name, router_names
    from telemetry.security.deployment import write_secure_configs

    fleet = load_fleet_config(args.config or default_fleet_config_path())
    if args.out is not None:
        config = args.config or Path("config") / "fleet.yaml"
        made_by = f"telemetry acl {config} --out {args.out} --pki {args.pki}"
        for path in write_secure_configs(fleet, args.out, args.pki, made_by):
            print(f"wrote {path}")
        return 0
    for router in [args.router] if args.router else router_names(fleet):
        section = access_control(fleet, router)
        name = CLOUD_ROUTER if router == "cloud" else region_router_name(router)
        print(f"// {router} router ({name}): put this in its Zenoh config")
        print(json.dumps({"access_control": section}, indent=2))
    return 0


def _add_bench_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from telemetry.bench.runner import BENCHMARKS

    bench = commands.add_parser(
        "bench", allow_abbrev=False, help="run a benchmark: print a table, write JSON and a PNG plot",
        description="Benchmarks on this machine, all on loopback: " + ", ".join(BENCHMARKS) + ", or all.",
    )
    bench.add_argument("name", choices=[*BENCHMARKS, "all"])
    bench.add_argument("--duration", type=float, metavar="S", help="measured seconds per run (default: per benchmark)")
    bench.add_argument("--quick", action="store_true", help="short runs, for a smoke test (no verdicts)")
    bench.add_argument("--out", type=Path, default=Path("bench") / "results", metavar="DIR",
                       help="where JSON, PNG and logs go (default bench/results)")
    bench.set_defaults(run=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    from telemetry.bench.runner import ALL, run_benchmarks

    if args.duration is not None and args.duration <= 0:
        raise TelemetryError(f"--duration: must be > 0, got {args.duration:g}")
    names = list(ALL) if args.name == "all" else [args.name]
    return run_benchmarks(names, args.duration, args.quick, args.out.resolve())


def _add_demo_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo", allow_abbrev=False, help="run the whole fleet of a config on this machine, with the dashboard",
        description="Start the routers, the aggregator and every vehicle's sensor_sim and zenoh_bridge "
        "(each vehicle in its own ROS domain), then the dashboard. q or Ctrl-C stops everything.",
    )
    demo.add_argument("--config", type=Path, help="fleet config (default: the shipped config/fleet.yaml)")
    demo.add_argument("--vehicles", type=int, metavar="N", help="resize the fleet to N vehicles over its regions")
    demo.add_argument("--rmw-zenoh-vehicles", type=int, metavar="N",
                      help="add N robots on rmw_zenoh (simulated by rmw_zenoh_sim; nothing of ours on them)")
    demo.add_argument("--headless", action="store_true",
                      help="no dashboard: run --duration seconds, then judge (exit 0: every stream within "
                      "5 %% of its rate and nothing lost)")
    demo.add_argument("--duration", type=float, default=20.0, metavar="S", help="headless run length (default 20)")
    demo.add_argument("--json", type=Path, metavar="FILE", help="headless: write the fleet status here")
    demo.add_argument("--secure", action="store_true",
                      help="mutual TLS and the generated access control: a fresh development CA, a certificate "
                      "per party and every Zenoh config are made in the log folder")
    demo.add_argument("--log-dir", type=Path, metavar="DIR",
                      help="where each process logs (default: log/demo/<date-time>, one folder per run)")
    demo.add_argument("--no-record", action="store_true",
                      help="no recorder (by default the fleet is recorded into the log folder's recording/)")
    demo.add_argument("--start-timeout", type=float, default=60.0, metavar="S",
                      help="give up when a part is not ready after this long (default 60)")
    demo.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from telemetry.codec import TypeStore
    from telemetry.demo.fleet_yaml import fleet_to_yaml
    from telemetry.demo.runner import DemoOptions, run_demo
    from telemetry.demo.scale import scaled_fleet, with_rmw_zenoh_vehicles
    from telemetry.demo.secure import prepare_secure_run
    from telemetry.security.deployment import secure_fleet

    if args.duration <= 0 or args.start_timeout <= 0:
        raise TelemetryError(f"--duration and --start-timeout: must be > 0, got {args.duration:g}, "
                             f"{args.start_timeout:g}")
    store = TypeStore.from_environment()
    config_path = (args.config or default_fleet_config_path()).resolve()
    fleet = load_fleet_config(config_path, store)
    log_dir = (args.log_dir or Path("log") / "demo" / time.strftime("%Y%m%d-%H%M%S")).resolve()
    changes = []
    if args.vehicles is not None:
        fleet = scaled_fleet(fleet, args.vehicles)
        changes.append(f"--vehicles {args.vehicles}")
    if args.rmw_zenoh_vehicles is not None:
        if args.secure:
            raise TelemetryError("--rmw-zenoh-vehicles with --secure: the access rules for rmw_zenoh vehicles "
                                 "are not generated yet")
        fleet = with_rmw_zenoh_vehicles(fleet, args.rmw_zenoh_vehicles)
        changes.append(f"--rmw-zenoh-vehicles {args.rmw_zenoh_vehicles}")
    if args.secure:
        fleet = secure_fleet(fleet)
        changes.append("--secure (TLS endpoints)")
    if changes:
        log_dir.mkdir(parents=True, exist_ok=True)
        config_path = log_dir / "fleet.yaml"
        config_path.write_text(fleet_to_yaml(fleet, f"{config_path.name}: made by `telemetry demo "
                                             f"{' '.join(changes)}` from {fleet.source}"))
        fleet = load_fleet_config(config_path, store)
    zenoh_dir = prepare_secure_run(fleet, log_dir) if args.secure else None
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a supervisor's SIGTERM: stop like Ctrl-C
    options = DemoOptions(fleet, config_path, log_dir, args.headless, args.duration, args.json, args.start_timeout,
                          zenoh_dir, None if args.no_record else log_dir / "recording")
    return run_demo(options, store)


def _run_config(args: argparse.Namespace) -> int:
    path = args.path if args.path is not None else default_fleet_config_path()
    print(describe_fleet(load_fleet_config(path)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_console("telemetry", lambda: int(args.run(args)), Logs(verbose=args.verbose))


if __name__ == "__main__":
    sys.exit(main())
