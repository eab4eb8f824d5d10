"""The `telemetry history`, `telemetry recover` and `telemetry replay` subcommands: their
flags, and the step from flags to the functions that do the work."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from telemetry.codec import TypeStore
from telemetry.config import load_fleet_config
from telemetry.console import stop_on_signals
from telemetry.errors import TelemetryError
from telemetry.keys import KeySpace
from telemetry.net.session import open_session
from telemetry.net.session_flags import add_session_arguments, options_from_args
from telemetry.recorder.history_client import HistoryRequest, fetch_history, write_jsonl, write_mcap
from telemetry.recorder.recover import recover_segment
from telemetry.recorder.time_range import TimeRangeError, parse_duration_s, parse_time_range

__all__ = ["add_history_parser", "add_recover_parser", "add_replay_parser"]

_Commands = argparse._SubParsersAction


def add_history_parser(commands: _Commands[argparse.ArgumentParser]) -> None:
    history = commands.add_parser(
        "history", allow_abbrev=False, help="a vehicle's recorded samples, from the recorders over Zenoh",
        description="Ask the fleet's recorders for a vehicle's samples of a time range "
        "(telemetry/history/<region>/<vehicle>/<topic>?_time=[..]) and write them as JSON lines or MCAP.",
    )
    history.add_argument("vehicle")
    history.add_argument("topic", nargs="?", help="a ROS topic, e.g. /imu (default: every topic)")
    history.add_argument("--since", default="1m", metavar="AGO",
                         help="start this long ago (5m, 30s, 1.5h) or at an RFC 3339 time (default 1m)")
    history.add_argument("--until", metavar="AGO", help="end this long ago or at an RFC 3339 time (default: now)")
    history.add_argument("--region", help="the vehicle's region (default: any)")
    output = history.add_mutually_exclusive_group()
    output.add_argument("--out", type=Path, metavar="FILE.mcap", help="write an MCAP file (ros2 bag, Foxglove)")
    output.add_argument("--jsonl", action="store_true", help="one JSON object per sample on stdout (the default)")
    history.add_argument("--config", type=Path, help="fleet config: its key root and cloud router")
    history.add_argument("--timeout", type=float, default=60.0, metavar="S", help="give up after S seconds")
    add_session_arguments(history, default_mode="client")
    history.set_defaults(run=run_history)


def time_value(since: str, until: str | None) -> str:
    """The `_time` value for `--since` and `--until`: durations ago or instants, checked here
    so that a typo is an error on the command line rather than from the recorder."""
    def bound(text: str) -> str:
        try:
            return f"now(-{parse_duration_s(text)}s)"
        except TimeRangeError:
            return text  # an instant: parse_time_range below says if it is not one
    value = f"[{bound(since)}..{bound(until) if until else ''}]"
    try:
        parse_time_range(value, 0)
    except TimeRangeError as error:
        raise TelemetryError(f"--since/--until: {error}") from None
    return value


def run_history(args: argparse.Namespace) -> int:
    store = TypeStore.from_environment()
    fleet = load_fleet_config(args.config, store) if args.config else None
    request = HistoryRequest(KeySpace(fleet.key_root) if fleet else KeySpace(), args.vehicle,
                             time_value(args.since, args.until), args.topic, args.region)
    options = options_from_args(args)
    if fleet is not None and not options.connect and options.config_path is None:
        options = replace(options, connect=fleet.cloud.listen)
    session = open_session(options)
    try:
        samples = fetch_history(session, request, args.timeout)
        if args.out is not None:
            count = write_mcap(samples, store, args.out, {"source": request.selector()})
            print(f"wrote {count} samples to {args.out}", file=sys.stderr)
        else:
            count = write_jsonl(samples, store, sys.stdout)
            print(f"{count} samples", file=sys.stderr)
    finally:
        session.close()
    return 0 if count else 1


def add_recover_parser(commands: _Commands[argparse.ArgumentParser]) -> None:
    recover = commands.add_parser(
        "recover", allow_abbrev=False, help="repair MCAP segments a crashed recorder left as .part",
        description="Rewrite every sample that can be read from FILE into a valid MCAP file: FILE.mcap.part "
        "becomes FILE.mcap (the .part is removed); any other FILE gives FILE.recovered.mcap beside it.",
    )
    recover.add_argument("files", nargs="+", type=Path, metavar="FILE")
    recover.set_defaults(run=run_recover)


def run_recover(args: argparse.Namespace) -> int:
    for path in args.files:
        saved = recover_segment(path)
        print(f"{path}: {saved.samples} samples on {saved.channels} topics saved in {saved.path}")
    return 0




def add_replay_parser(commands: _Commands[argparse.ArgumentParser]) -> None:
    from telemetry.recorder.replay import DEFAULT_REPLAY_ROOT

    replay = commands.add_parser(
        "replay", allow_abbrev=False, help="put recorded MCAP segments back onto Zenoh or into ROS 2, timing kept",
        description="Republish closed segments, merged in receive order, with the recorded gaps divided by --rate: "
        "onto Zenoh as <key-root>/data/<region>/<vehicle>/<topic> with each sample's recorded sequence and latency, "
        "or (--to ros) into ROS 2 topics of --domain, under /<vehicle> when several vehicles are replayed.",
    )
    replay.add_argument("files", nargs="+", type=Path, metavar="FILE.mcap")
    replay.add_argument("--key-root", default=DEFAULT_REPLAY_ROOT,
                        help=f"key root to put under (default {DEFAULT_REPLAY_ROOT}: never the live one)")
    replay.add_argument("--rate", type=float, default=1.0, help="speed factor (default 1: as recorded)")
    replay.add_argument("--start", metavar="TIME",
                        help="first receive time: seconds from the recording's start (12.5) or RFC 3339")
    replay.add_argument("--end", metavar="TIME", help="last receive time, like --start")
    replay.add_argument("--loop", action="store_true", help="start again after the last sample, until Ctrl-C")
    replay.add_argument("--to", choices=["zenoh", "ros"], default="zenoh", help="where to publish (default zenoh)")
    replay.add_argument("--domain", type=int, metavar="N",
                        help="with --to ros: the ROS domain id (default: ROS_DOMAIN_ID's)")
    replay.add_argument("--wait-subscribers", type=float, default=0.0, metavar="S",
                        help="wait up to S seconds for a subscriber on every key or topic before the first sample")
    add_session_arguments(replay, default_mode="client")
    replay.set_defaults(run=run_replay_command)


def run_replay_command(args: argparse.Namespace) -> int:
    from telemetry.recorder.replay import ReplayOptions, open_sources, recording_start_ns, resolve_time_ns, run_replay

    sources = open_sources(args.files)
    begin_ns = recording_start_ns(sources)
    options = ReplayOptions(tuple(args.files), args.key_root, args.rate, resolve_time_ns(args.start, begin_ns),
                            resolve_time_ns(args.end, begin_ns), args.loop, args.wait_subscribers)
    stop = stop_on_signals()
    if args.to == "ros":
        from telemetry.ros.replay_ros import run_replay_ros  # imports rclpy: only when asked for

        report = run_replay_ros(options, args.domain, stop, sources)
    else:
        report = run_replay(options, options_from_args(args), TypeStore.from_environment(), stop, sources)
    timing = report.timing_error
    print(f"replayed {report.samples} samples in {report.duration_s:.3f} s ({report.passes} passes); timing error "
          f"p50 {timing.p50_us:.0f} µs, p99 {timing.p99_us:.0f} µs, max {timing.max_us:.0f} µs")
    return 0
