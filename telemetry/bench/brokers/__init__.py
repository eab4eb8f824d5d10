"""brokers: the same path with the broker swapped. 3 publisher processes (1 kHz, 316 B, the
bridge's 32-byte attachment) → ONE broker → ONE measuring subscriber in this process, for
Zenoh through one router (the reference), MQTT via mosquitto at QoS 0 and 1 (paho-mqtt) and
NATS via nats-server (nats-py). One transport at a time on a fresh broker, so they never
share the 2 cores; all in one run, so the ratios to Zenoh compare like with like.

Latency is receive time minus the attachment's source time (one clock), pooled over the
publishers; loss is sequence gaps per publisher. Brokers come from the Debian packages (a
missing one is skipped with the command that installs it). Every socket has TCP_NODELAY, as
Zenoh and nats-server set by themselves, so Nagle's algorithm does not decide the comparison.

`processes` starts and finds the brokers, `subscribers` records what arrives, `report` turns
records into the rows; this module runs one transport after another.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from telemetry.bench.brokers.processes import (
    READY_TIMEOUT_S,
    STOP_TIMEOUT_S,
    TRANSPORTS,
    BrokerFailed,
    Transport,
    broker,
    broker_command,
    broker_versions,
    find_broker,
    mosquitto_config,
    skipped_note,
)
from telemetry.bench.brokers.report import LATENCY_NAMES, Window, plot, ratio_rows, transport_row, zenoh_ahead
from telemetry.bench.brokers.subscribers import (
    PUBLISHERS,
    Record,
    Recorder,
    mqtt_subscriber,
    nats_subscriber,
    topics,
    zenoh_subscriber,
)
from telemetry.bench.floor import IMU_BYTES, publisher_part
from telemetry.bench.network import BenchFleet, free_endpoint
from telemetry.bench.procstat import cpu_seconds
from telemetry.bench.results import BenchResult
from telemetry.demo.plan import Part, PartKind, router_parts
from telemetry.demo.supervisor import Supervisor
from telemetry.errors import TelemetryError

__all__ = ["LATENCY_NAMES", "TRANSPORTS", "BrokerFailed", "Record", "Recorder", "Transport", "Window", "broker_command",
           "find_broker", "mosquitto_config", "plot", "ratio_rows", "run", "skipped_note", "topics", "transport_row",
           "zenoh_ahead"]

RATE_HZ = 1000.0


def _window(recorder: Recorder, broker_pid: int, publisher_pids: Sequence[int], warmup_s: float,
            duration_s: float) -> Window:
    time.sleep(warmup_s)
    broker_s, publishers_s = cpu_seconds(broker_pid), sum(map(cpu_seconds, publisher_pids))
    self_s = time.process_time()
    started = time.monotonic()
    recorder.take()  # the warm-up's
    time.sleep(duration_s)
    records = recorder.take()
    window_s = time.monotonic() - started
    return Window(records, window_s, cpu_seconds(broker_pid) - broker_s,
                  sum(map(cpu_seconds, publisher_pids)) - publishers_s, time.process_time() - self_s)


def _run_zenoh(folder: Path, warmup_s: float, duration_s: float) -> Window:
    names, selector = topics("zenoh")
    recorder = Recorder()
    with BenchFleet(PUBLISHERS, folder) as net:
        router = net.start(router_parts(net.fleet)[0], " listening on ")
        with zenoh_subscriber(net.cloud_endpoint, selector, recorder):
            publishers = [net.start(publisher_part(f"zenoh publisher {i}", net.cloud_endpoint, topic),
                                    "publisher ready") for i, topic in enumerate(names, 1)]
            return _window(recorder, router.pid, [p.pid for p in publishers], warmup_s, duration_s)


def _broker_publisher(transport: Transport, index: int, port: int, topic: str) -> Part:
    args = ("--transport", transport.protocol, "--port", str(port), "--topic", topic, "--rate-hz",
            f"{RATE_HZ:g}", "--size", str(IMU_BYTES), "--qos", str(transport.qos))
    return Part(f"{transport.slug} publisher {index}", PartKind.TOOL, args,
                tool_module="telemetry.bench.broker_publisher")


def _run_broker(transport: Transport, executable: Path, folder: Path, warmup_s: float, duration_s: float) -> Window:
    names, subscription = topics(transport.protocol)
    port = int(free_endpoint().rsplit(":", 1)[1])
    recorder = Recorder()
    supervisor = Supervisor(folder)
    subscriber = (mqtt_subscriber(port, subscription, transport.qos, recorder) if transport.protocol == "mqtt"
                  else nats_subscriber(port, subscription, recorder))
    with broker(transport, executable, port, folder) as broker_pid, subscriber:
        try:
            publishers = [supervisor.start(_broker_publisher(transport, i, port, topic))
                          for i, topic in enumerate(names, 1)]
            for child in publishers:
                supervisor.wait_for_line(child, "publisher ready", READY_TIMEOUT_S)
            return _window(recorder, broker_pid, [p.pid for p in publishers], warmup_s, duration_s)
        finally:
            supervisor.stop_all(STOP_TIMEOUT_S)


def run(duration_s: float, log_dir: Path | None = None, warmup_s: float = 3.0) -> BenchResult:
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="telemetry-bench-brokers-"))
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for transport in TRANSPORTS:
        folder = log_dir / transport.slug
        folder.mkdir(parents=True, exist_ok=True)
        executable = find_broker(transport.broker) if transport.broker else None
        if transport.broker and executable is None:
            notes.append(skipped_note(transport))
            continue
        try:
            if executable is None:
                window = _run_zenoh(folder, warmup_s, duration_s)
            else:
                window = _run_broker(transport, executable, folder, warmup_s, duration_s)
        except (TelemetryError, OSError, TimeoutError) as error:  # one broken broker must not cost the others
            notes.append(f"{transport.name} failed: {error}")
            continue
        rows.append(transport_row(transport.name, window, topics(transport.protocol)[0]))
    ratios = ratio_rows(rows)
    notes.append(f"payload {IMU_BYTES} B: Zenoh carries the 32-byte attachment beside it, MQTT and NATS "
                 "inside it (their messages are 32 bytes smaller)")
    return BenchResult(
        "brokers", f"brokers: {PUBLISHERS} publishers x {RATE_HZ:g} Hz -> one broker -> one subscriber", rows,
        params={"duration_s": duration_s, "warmup_s": warmup_s, "publishers": PUBLISHERS, "rate_hz": RATE_HZ,
                "payload_bytes": IMU_BYTES, "brokers": broker_versions()},
        targets=[zenoh_ahead(ratios)], notes=notes, tables={"ratio to Zenoh, per percentile": ratios},
    )
