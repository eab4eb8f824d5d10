"""`telemetry demo`: start the fleet in order, wait for each part, then watch it or judge it.

Order: routers (each until it prints that it listens), the aggregator and the recorder (each
until it says it is ready), then each vehicle's sensor_sim and zenoh_bridge; the fleet is up when every
vehicle's liveliness token and first stats with all its streams have been seen. Then the
dashboard runs in the foreground, or (`--headless`) the run lasts `duration_s` and ends with
a JSON file and a verdict. Whatever happens, every child is stopped by its pid on the way out.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from telemetry.codec import TypeStore
from telemetry.config import FleetConfig
from telemetry.dashboard.source import ZenohFleetSource
from telemetry.dashboard.state import FleetState, StateSettings
from telemetry.dashboard.view import FleetView
from telemetry.demo.plan import PartKind, aggregator_part, recorder_part, region_endpoint, router_parts, vehicle_parts
from telemetry.demo.ports import check_ports_free
from telemetry.demo.supervisor import Child, PartFailed, Supervisor
from telemetry.demo.verdict import baseline_of, fleet_json, judge
from telemetry.keys import KeySpace
from telemetry.net import SessionOptions

__all__ = ["DemoOptions", "run_demo"]


@dataclass(frozen=True)
class DemoOptions:
    fleet: FleetConfig
    config_path: Path  # the file the children read (the user's, or the scaled fleet's copy)
    log_dir: Path
    headless: bool = False
    duration_s: float = 20.0
    json_path: Path | None = None
    start_timeout_s: float = 60.0
    zenoh_dir: Path | None = None  # a secure run's generated Zenoh configs (telemetry.demo.secure)
    record_folder: Path | None = None  # where the recorder writes; None: no recorder


class Progress:
    """Start-up lines on the terminal: what came up, its pid and how long it took."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._start = time.monotonic()

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self._start:5.1f} s] {text}", file=self._out, flush=True)


def run_demo(options: DemoOptions, store: TypeStore, out: TextIO = sys.stdout) -> int:
    """Exit code: 0 when the run ended normally (headless: and passed), 1 otherwise."""
    check_ports_free(_listen_endpoints(options.fleet))
    options.log_dir.mkdir(parents=True, exist_ok=True)
    progress = Progress(out)
    progress.say(f"logs in {options.log_dir}")
    supervisor = Supervisor(options.log_dir)
    source = _stats_source(options, store)
    try:
        source.start()
        _start_fleet(options, supervisor, source, progress)
        if options.headless:
            return _headless(options, supervisor, source, progress)
        source.close()
        return _dashboard(options, store)
    except PartFailed as error:
        progress.say(f"FAILED: {error}")
        return 1
    except KeyboardInterrupt:
        progress.say("interrupted")
        return 130
    finally:
        source.close()
        progress.say("stopping every process the demo started")
        codes = supervisor.stop_all()
        crashed = {name: code for name, code in codes.items() if code not in (0, -15)}
        for name, code in crashed.items():
            progress.say(f"  {name} ended with code {code}")
        progress.say(f"stopped {len(codes)} processes")


def _listen_endpoints(fleet: FleetConfig) -> dict[str, str]:
    owners = dict.fromkeys(fleet.cloud.listen, "cloud router")
    for region in fleet.regions:
        owners.update(dict.fromkeys(region.router.listen, f"{region.name} router"))
    return owners


def _stats_source(options: DemoOptions, store: TypeStore) -> ZenohFleetSource:
    """What the demo watches the fleet with: a dashboard's session (its certificate, when secure)."""
    fleet = options.fleet
    if options.zenoh_dir is not None:
        session = SessionOptions(config_path=options.zenoh_dir / "dashboard.json5", connect=fleet.cloud.listen)
    else:
        session = SessionOptions(mode="client", connect=fleet.cloud.listen)
    state = FleetState(StateSettings(thresholds=fleet.alerts))
    return ZenohFleetSource(session, KeySpace(fleet.key_root), store, state)


def _start_fleet(options: DemoOptions, supervisor: Supervisor, source: ZenohFleetSource, progress: Progress) -> None:
    timeout_s = options.start_timeout_s
    for part in router_parts(options.fleet, options.zenoh_dir):
        child = supervisor.start(part)
        line = supervisor.wait_for_line(child, " listening on ", timeout_s)
        progress.say(f"{part.name:<24} up    (pid {child.pid}) {line.split(' listening on ')[-1]}")
    child = supervisor.start(aggregator_part(options.fleet, options.config_path, options.zenoh_dir))
    supervisor.wait_for_line(child, " ready", timeout_s)
    progress.say(f"{'aggregator':<24} up    (pid {child.pid})")
    if options.record_folder is not None:
        child = supervisor.start(recorder_part(options.fleet, options.config_path, options.record_folder,
                                               options.zenoh_dir))
        supervisor.wait_for_line(child, " ready", timeout_s)
        progress.say(f"{'recorder':<24} up    (pid {child.pid}) into {options.record_folder}")
    vehicles: list[tuple[str, list[Child]]] = []
    for vehicle in options.fleet.vehicles:
        parts = vehicle_parts(vehicle, options.config_path, options.zenoh_dir,
                              region_router=region_endpoint(options.fleet, vehicle))
        children = [supervisor.start(part) for part in parts]
        vehicles.append((f"{vehicle.region}/{vehicle.name}", children))
        for child in children:
            progress.say(f"{child.part.name:<24} start (pid {child.pid})")
    for vehicle_config, (key, children) in zip(options.fleet.vehicles, vehicles, strict=True):
        topics = {stream.topic for stream in vehicle_config.streams}
        bridge = next((c for c in children if c.part.kind is PartKind.BRIDGE), None)
        ready = functools.partial(_streaming, key=key, topics=topics, bridged=bridge is not None)
        _wait_for_view(supervisor, children, source, ready,
                       timeout_s, f"{key}'s token and first stats of {', '.join(sorted(topics))}")
        via = f"bridge pid {bridge.pid}" if bridge is not None else f"rmw_zenoh, pid {children[0].pid}"
        progress.say(f"{key:<24} streaming ({via})")
    progress.say(f"fleet up: {len(options.fleet.vehicles)} vehicles, {len(supervisor.children)} processes")


def _streaming(view: FleetView, key: str, topics: set[str], bridged: bool) -> bool:
    """Every stream in the stats, and the bridge's counters with them (its first health report
    has arrived), so the baseline taken next holds the start-up's drops. An rmw_zenoh vehicle
    has no bridge to report."""
    vehicle = view.vehicle(key)
    return (vehicle is not None and topics <= {stream.topic for stream in vehicle.streams}
            and not (bridged and math.isnan(vehicle.bridge_cpu_share)))


def _wait_for_view(
    supervisor: Supervisor, children: list[Child], source: ZenohFleetSource,
    ready: Callable[[FleetView], bool], timeout_s: float, what: str,
) -> None:
    """Until `ready(view)`; a child of this vehicle that exits first fails the start-up."""
    supervisor.wait_for_any(children, lambda: what if ready(source.collect()) else None, timeout_s, what,
                            interval_s=0.1)


def _headless(options: DemoOptions, supervisor: Supervisor, source: ZenohFleetSource, progress: Progress) -> int:
    baseline = baseline_of(source.collect())
    progress.say(f"running for {options.duration_s:g} s")
    deadline = time.monotonic() + options.duration_s
    exited: list[str] = []
    while time.monotonic() < deadline:
        for child in supervisor.exited():
            exited.append(f"{child.part.name} (pid {child.pid}) exited with code {child.process.returncode} "
                          f"during the run; its log: {child.log_path}")
            progress.say(exited[-1])
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    view = source.collect()
    reasons = judge(view, options.fleet, baseline, exited=exited)
    report = fleet_json(view, options.fleet, options.duration_s, reasons, baseline)
    if options.json_path is not None:
        options.json_path.parent.mkdir(parents=True, exist_ok=True)
        options.json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        progress.say(f"fleet status written to {options.json_path}")
    if reasons:
        progress.say("FAILED:")
        for reason in reasons:
            progress.say(f"  {reason}")
        return 1
    streams = sum(len(v.streams) for v in options.fleet.vehicles)
    progress.say(f"PASSED: {streams} streams within 5 % of their rate, nothing lost")
    return 0


def _dashboard(options: DemoOptions, store: TypeStore) -> int:
    from telemetry.dashboard.app import (  # textual only when it is shown
        DashboardApp,
        DashboardSettings,
    )

    app = DashboardApp(_stats_source(options, store), DashboardSettings())
    app.run()
    return 0
