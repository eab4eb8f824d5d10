"""brokers: the same path with the broker swapped. 3 publisher processes (1 kHz, 316 B, the
bridge's 32-byte attachment) → ONE broker → ONE measuring subscriber in this process, for
Zenoh through one router (the reference), MQTT via mosquitto at QoS 0 and 1 (paho-mqtt) and
NATS via nats-server (nats-py). One transport at a time on a fresh broker, so they never
share the 2 cores; all in one run, so the ratios to Zenoh compare like with like.

Latency is receive time minus the attachment's source time (one clock), pooled over the
publishers; loss is sequence gaps per publisher. Brokers come from the Debian packages (a
missing one is skipped with the command that installs it). Every socket has TCP_NODELAY, as
Zenoh and nats-server set by themselves, so Nagle's algorithm does not decide the comparison.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from telemetry.aggregator.ingest import ATTACHMENT_DTYPE
from telemetry.bench.floor import IMU_BYTES, publisher_part
from telemetry.bench.latency import StreamMeasure, measure_stream
from telemetry.bench.network import BenchFleet, free_endpoint
from telemetry.bench.procstat import cpu_seconds
from telemetry.bench.results import BenchResult, Target
from telemetry.codec.attachment import ATTACHMENT_SIZE
from telemetry.demo.plan import Part, PartKind, router_parts
from telemetry.demo.supervisor import Supervisor
from telemetry.errors import TelemetryError
from telemetry.net import BackgroundSession, SessionOptions

__all__ = ["TRANSPORTS", "BrokerFailed", "Record", "Recorder", "Transport", "Window", "find_broker",
           "mosquitto_config", "plot", "ratio_rows", "run", "skipped_note", "topics", "transport_row", "zenoh_ahead"]

PUBLISHERS = 3
RATE_HZ = 1000.0
HOST = "127.0.0.1"
LATENCY_NAMES = ("p50", "p90", "p99", "p99.9", "max")
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
_MAX_RECORDS = 4_000_000  # ~20 min at 3 kHz: bounds memory if a run is left going
#: topic, receive time (ns), the first 32 bytes (the attachment), message size
Record = tuple[str, int, bytes, int]


class BrokerFailed(TelemetryError):
    """A broker did not come up or a client could not reach it: says which, and its log."""


@dataclass(frozen=True)
class Transport:
    name: str  # the row's label
    protocol: str  # "zenoh", "mqtt" or "nats"
    broker: str  # the broker's executable ("" for Zenoh: our own router)
    qos: int = 0

    @property
    def slug(self) -> str:
        return self.name.replace(" ", "-")


ZENOH = Transport("zenoh router", "zenoh", "")
TRANSPORTS = (ZENOH, Transport("mqtt qos0", "mqtt", "mosquitto", 0),
              Transport("mqtt qos1", "mqtt", "mosquitto", 1), Transport("nats", "nats", "nats-server"))


def find_broker(executable: str, extra_dirs: Sequence[str] = ("/usr/sbin", "/usr/local/sbin")) -> Path | None:
    """The broker on PATH, else in the sbin folders Debian installs daemons to (often not on a user's PATH)."""
    found = shutil.which(executable) or shutil.which(executable, path=":".join(extra_dirs))
    return Path(found) if found else None


def skipped_note(transport: Transport) -> str:
    """Why a transport has no row, and the one command that gives it one (Debian package = executable)."""
    return (f"{transport.name} skipped: {transport.broker} is not installed; "
            f"install it with `apt-get install {transport.broker}`")


def mosquitto_config(port: int) -> str:
    return ("# telemetry bench brokers: loopback only, anonymous, no persistence\n"
            f"listener {port} {HOST}\n"
            "allow_anonymous true\n"
            "set_tcp_nodelay true\n")


def broker_command(transport: Transport, executable: Path, port: int, folder: Path) -> list[str]:
    if transport.protocol == "mqtt":
        config = folder / "mosquitto.conf"
        config.write_text(mosquitto_config(port), encoding="utf-8")
        return [str(executable), "-c", str(config)]
    return [str(executable), "-a", HOST, "-p", str(port)]


def topics(protocol: str) -> tuple[list[str], str]:
    """One topic per publisher and the subscription that matches them all."""
    if protocol == "nats":
        return [f"telemetry.data.bench.publisher-{i}.imu" for i in range(1, PUBLISHERS + 1)], "telemetry.data.>"
    names = [f"telemetry/data/bench/publisher-{i}/imu" for i in range(1, PUBLISHERS + 1)]
    return names, "telemetry/data/**" if protocol == "zenoh" else "telemetry/data/#"


class Recorder:
    """What every measuring subscriber's callback calls: one append under a lock, nothing else."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[Record] = []

    def record(self, topic: str, receive_ns: int, head: bytes, size: int) -> None:
        if len(head) != ATTACHMENT_SIZE:
            return
        with self._lock:
            if len(self._records) < _MAX_RECORDS:
                self._records.append((topic, receive_ns, head, size))

    def take(self) -> list[Record]:
        with self._lock:
            records, self._records = self._records, []
        return records


def measure_records(records: Sequence[Record],
                    window_s: float) -> tuple[dict[str, StreamMeasure], StreamMeasure]:
    """Per topic (for rate and loss) and pooled over all topics (for the percentiles)."""
    by_topic: dict[str, list[Record]] = {}
    for record in records:
        by_topic.setdefault(record[0], []).append(record)
    streams = {topic: _measure(rows, window_s) for topic, rows in sorted(by_topic.items())}
    return streams, _measure(records, window_s)


def _measure(records: Sequence[Record], window_s: float) -> StreamMeasure:
    fields = np.frombuffer(b"".join(r[2] for r in records), dtype=ATTACHMENT_DTYPE)
    return measure_stream(np.array([r[1] for r in records], dtype=np.int64), fields["source_ns"],
                          fields["sequence"], np.array([r[3] for r in records], dtype=np.int64), window_s)


@dataclass(frozen=True)
class Window:
    records: list[Record]
    window_s: float
    broker_cpu_s: float
    publishers_cpu_s: float
    subscriber_cpu_s: float  # this whole process: the subscriber's client threads and callbacks


def transport_row(name: str, window: Window, expected_topics: Sequence[str]) -> dict[str, Any]:
    """One table row: pooled percentiles, the slowest publisher's delivered rate, total loss, CPU."""
    streams, pooled = measure_records(window.records, window.window_s)
    rate_hz = min(streams[t].rate_hz if t in streams else 0.0 for t in expected_topics)
    return {"transport": name, "samples": pooled.samples, "rate_hz": round(rate_hz, 1),
            "lost": sum(m.lost for m in streams.values()),
            **{f"{p}_ms": round(pooled.latency_ms[p], 3) for p in LATENCY_NAMES},
            **{f"{who}_cpu_pct": round(100 * cpu_s / window.window_s, 1) for who, cpu_s in
               (("broker", window.broker_cpu_s), ("publishers", window.publishers_cpu_s),
                ("subscriber", window.subscriber_cpu_s))}}


def ratio_rows(rows: Sequence[dict[str, Any]], reference: str = ZENOH.name) -> list[dict[str, Any]]:
    """Each other transport's percentiles divided by the reference's (> 1: the reference is faster)."""
    base = next((row for row in rows if row["transport"] == reference), None)
    if base is None:
        return []
    return [{"transport": row["transport"], **{p: _ratio(row[f"{p}_ms"], base[f"{p}_ms"]) for p in LATENCY_NAMES}}
            for row in rows if row is not base]


def _ratio(value_ms: float, base_ms: float) -> float:
    return round(value_ms / base_ms, 2) if base_ms > 0 and not math.isnan(value_ms) else math.nan


def zenoh_ahead(ratios: Sequence[dict[str, Any]]) -> Target:
    """The issue's target: Zenoh faster at every percentile than every other transport measured."""
    cells = [(r[p], r["transport"], p) for r in ratios for p in LATENCY_NAMES]
    name, goal = "Zenoh ahead of MQTT and NATS at every percentile", "every ratio to Zenoh > 1"
    if not cells or any(math.isnan(value) for value, _, _ in cells):
        return Target(name, goal, "not measured", None)
    value, transport, percentile = min(cells)
    return Target(name, goal, f"lowest ratio {value:.2f}x ({transport} {percentile})", value > 1.0)


def _wait_for_port(process: subprocess.Popen[bytes], port: int, what: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise BrokerFailed(f"{what} (pid {process.pid}) exited with code {process.returncode}; log: {log_path}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise BrokerFailed(f"{what} (pid {process.pid}) not listening on {HOST}:{port} after "
                                   f"{READY_TIMEOUT_S:g} s; its log: {log_path}") from None
            time.sleep(0.02)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def _broker(transport: Transport, executable: Path, port: int, folder: Path) -> Iterator[int]:
    """The broker as our child, listening; yields its pid and stops it by that pid."""
    log_path = folder / f"{transport.broker}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(broker_command(transport, executable, port, folder), stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_port(process, port, transport.broker, log_path)
        yield process.pid
    finally:
        _stop(process)


@contextmanager
def _mqtt_subscriber(port: int, subscription: str, qos: int, recorder: Recorder) -> Iterator[None]:
    import paho.mqtt.client as mqtt

    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-subscriber")
    client.on_message = lambda _c, _u, msg: recorder.record(msg.topic, time.time_ns(), msg.payload[:32],
                                                            len(msg.payload))
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect(HOST, port)
    client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.loop_start()
    try:
        client.subscribe(subscription, qos=qos)
        if not subscribed.wait(READY_TIMEOUT_S):
            raise BrokerFailed(f"mosquitto on {HOST}:{port} did not confirm the subscription {subscription!r}")
        yield
    finally:
        client.disconnect()
        client.loop_stop()


@contextmanager
def _nats_subscriber(port: int, subject: str, recorder: Recorder) -> Iterator[None]:
    """nats-py on its own asyncio loop in a thread, as paho has its network thread."""
    import nats
    import nats.errors

    async def on_message(msg: Any) -> None:
        recorder.record(msg.subject, time.time_ns(), msg.data[:32], len(msg.data))

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="nats-subscriber", daemon=True)
    thread.start()

    def call(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(READY_TIMEOUT_S)

    client = None
    try:
        try:
            client = call(nats.connect(f"nats://{HOST}:{port}", allow_reconnect=False))
        except nats.errors.NoServersError as error:
            raise BrokerFailed(f"nats-server on {HOST}:{port} refused the measuring subscriber: {error}") from None
        call(client.subscribe(subject, cb=on_message))
        call(client.flush())  # the server has our SUB before any publisher starts
        yield
    finally:
        if client is not None:
            call(client.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT_S)
        loop.close()


@contextmanager
def _zenoh_subscriber(endpoint: str, selector: str, recorder: Recorder) -> Iterator[None]:
    def on_sample(sample: Any) -> None:
        receive_ns = time.time_ns()
        if sample.attachment is not None:
            recorder.record(str(sample.key_expr), receive_ns, sample.attachment.to_bytes(), len(sample.payload))

    with BackgroundSession(SessionOptions(mode="client", connect=(endpoint,)), name="brokers-probe") as link:
        session = link.wait(30)
        if session is None:
            raise BrokerFailed(f"the measuring subscriber could not reach the Zenoh router at {endpoint}")
        subscriber = session.declare_subscriber(selector, on_sample)
        try:
            yield
        finally:
            subscriber.undeclare()


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
        with _zenoh_subscriber(net.cloud_endpoint, selector, recorder):
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
    with _broker(transport, executable, port, folder) as broker_pid:
        with (_mqtt_subscriber(port, subscription, transport.qos, recorder) if transport.protocol == "mqtt"
              else _nats_subscriber(port, subscription, recorder)):
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
                "payload_bytes": IMU_BYTES, "brokers": _broker_versions()},
        targets=[zenoh_ahead(ratios)], notes=notes, tables={"ratio to Zenoh, per percentile": ratios},
    )


def _broker_versions() -> dict[str, str]:
    """What `mosquitto -h` and `nats-server --version` say first (both print their version there)."""
    versions = {}
    for executable, flag in (("mosquitto", "-h"), ("nats-server", "--version")):
        path = find_broker(executable)
        if path is not None:
            done = subprocess.run([str(path), flag], capture_output=True, text=True, timeout=10, check=False)
            versions[executable] = next(iter((done.stdout + done.stderr).splitlines()), "?").strip()
    return versions


def plot(axes: Any, result: BenchResult) -> None:
    """Grouped bars: one group per percentile, one bar per transport; log scale."""
    width = 0.8 / len(result.rows)
    for index, row in enumerate(result.rows):
        positions = [i + (index - (len(result.rows) - 1) / 2) * width for i in range(len(LATENCY_NAMES))]
        axes.bar(positions, [row[f"{p}_ms"] for p in LATENCY_NAMES], width, label=row["transport"])
    axes.set_xticks(range(len(LATENCY_NAMES)), list(LATENCY_NAMES))
    axes.set_yscale("log")
    axes.set_ylabel("latency, ms (log)")
    axes.legend()
