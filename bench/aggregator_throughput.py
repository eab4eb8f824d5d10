"""How many samples per second the aggregator sustains on one core, and its memory at 1 000 streams.

    .venv/bin/python bench/aggregator_throughput.py [--out bench/results] [--streams 1000]
        [--skip-in-process] [--skip-e2e] [--e2e-batched-rates-hz 500 1000]   (default run: < 1 min)

Two levels, each with single samples and with batches (DESIGN.md's targets: >= 200 000
samples/s single, >= 1 000 000 samples/s batched, RSS <= 200 MB at 1 000 streams):

1. In process. The Python side of the aggregator alone: `Ingest.on_data` / `on_batch` called
   with stand-in samples (the attributes a zenoh.Sample has), then each tick's `drain()`,
   `FleetEngine.ingest` and `FleetEngine.snapshot` (stats and CDR for every vehicle), on a
   simulated clock: each tick stands for 0.5 s of a fleet sending `--rate-hz` per stream, so
   the 5 s window holds what it would hold live. Measured: CPU seconds of this thread
   (time.thread_time) per sample, once the window is full. Not included: Zenoh's own receive
   work in its Rust threads and the Rust -> Python call of each callback.

2. End to end. A router, the aggregator process (`python -m telemetry.aggregator.service`),
   and blaster processes (telemetry/bench/blaster.py) putting real samples (32-byte attachments) or
   real msg/SampleBatch messages, with congestion control BLOCK, on `--streams` streams.
   Single samples go as fast as the blasters can; batches at each of `--e2e-batched-rates-hz`
   per stream. Measured over `--seconds` once the window is full: the samples/s the
   aggregator itself reports (FleetStatus.samples_per_s), what the blasters sent, its CPU
   from /proc/<pid>/stat (all its threads, Zenoh's included), its RSS (VmRSS, VmHWM), and
   the interval between its FleetStatus publications ("kept up" when every interval stays
   under 1.5 ticks). Everything shares the machine's cores, so the delivered rate is bounded
   by the blasters and the router too; samples per aggregator CPU-second is the one-core
   figure. A run whose aggregator passes RSS_GUARD_MB is stopped early and says so.

Prints a table and writes JSON to --out (default bench/results/).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "test"), str(REPO / "bench")]

from telemetry.bench.blaster import PAYLOAD_BYTES, BatchTemplate  # noqa: E402
from support.engine_input import FakeBytes, FakeSample  # noqa: E402

import telemetry.aggregator.ingest as ingest_module  # noqa: E402
from telemetry.aggregator.engine import EngineSettings, FleetEngine  # noqa: E402
from telemetry.aggregator.ingest import ATTACHMENT_DTYPE, Ingest  # noqa: E402
from telemetry.codec import TypeStore  # noqa: E402
from telemetry.codec.batch import BATCH_ENCODING  # noqa: E402
from telemetry.keys import KeySpace  # noqa: E402

TARGETS = {"single_samples_per_s": 200_000, "batched_samples_per_s": 1_000_000, "rss_mb_at_1000_streams": 200}
TICK_S = 0.5
WINDOW_S = 5.0
NS = 1_000_000_000


# --- in process ---------------------------------------------------------------------------


@dataclass
class InProcessResult:
    mode: str
    streams: int
    simulated_rate_hz: float  # per stream
    samples_measured: int
    callback_cpu_s: float
    tick_cpu_s: float
    tick_ms_mean: float
    tick_ms_max: float
    samples_per_cpu_s: float
    callback_ns_per_sample: float
    rss_mb: float
    ingest_ms_mean: float = math.nan  # the tick's two phases: FleetEngine.ingest (drain included)...
    snapshot_ms_mean: float = math.nan  # ...and FleetEngine.snapshot (stats and CDR)
    tick_alloc_peak_mb: float = math.nan  # with --tracemalloc: the most a tick held in new allocations


class _SimulatedClock:
    """Replaces `time` in the ingest module: time_ns() walks evenly through the current tick.

    `itertools.count(...).__next__` is a C callable, so a callback pays about what
    time.time_ns() costs.
    """

    def __init__(self) -> None:
        self.time_ns: Callable[[], int] = itertools.count().__next__

    def start_tick(self, start_ns: int, step_ns: int) -> None:
        self.time_ns = itertools.count(start_ns, max(1, step_ns)).__next__


def _single_samples(keys: list[str], first_sequence: int, rounds: int, source_ns: int) -> list[FakeSample]:
    """`rounds` samples of every stream, interleaved as they would arrive."""
    records = np.zeros(rounds, dtype=ATTACHMENT_DTYPE)
    records["version"], records["flags"] = 1, 1
    records["sequence"] = np.arange(first_sequence, first_sequence + rounds, dtype=np.uint64)
    records["source_ns"] = records["send_ns"] = source_ns + np.arange(rounds, dtype=np.int64) * 1000
    raw = records.tobytes()
    attachments = [FakeBytes(raw[i * 32 : (i + 1) * 32]) for i in range(rounds)]
    payload = FakeBytes(b"\x00\x01\x00\x00" + bytes(PAYLOAD_BYTES - 4))
    return [FakeSample(key, payload, attachment) for attachment in attachments for key in keys]


def _tick_chunks(
    keys: list[str], template: BatchTemplate | None, first_sequence: int, per_tick: int, source_ns: int
) -> Iterator[list[FakeSample]]:
    """One tick's input in arrival order, in chunks of about 100 000 samples. Batches go as
    the bridge sends them: on the stream's data key, no attachment, the batch encoding."""
    if template is None:
        rounds = max(1, 100_000 // len(keys))
        for first in range(0, per_tick, rounds):
            yield _single_samples(keys, first_sequence + first, min(rounds, per_tick - first), source_ns)
        return
    batches = per_tick // template.count
    for index in range(batches):
        sequence = first_sequence + index * template.count
        payload = FakeBytes(template.make(sequence, source_ns))
        yield [FakeSample(key, payload, encoding=BATCH_ENCODING) for key in keys]


def in_process(
    mode: str, streams: int, rate_hz: float, batch: int, ticks: int, store: TypeStore, trace: bool = False
) -> InProcessResult:
    """Feed the callbacks and run the ticks on a simulated clock; CPU time of the measured ticks
    and of each phase. With `trace`, tracemalloc measures each tick's peak of new allocations
    (and slows everything down: its CPU figures are not comparable)."""
    keyspace = KeySpace()
    keys = [f"telemetry/data/bench/v{i // 100}/s{i % 100}" for i in range(streams)]
    ingest, engine = Ingest(keyspace), FleetEngine(store, EngineSettings(WINDOW_S, 600.0))
    clock = _SimulatedClock()
    original_time = ingest_module.time  # type: ignore[attr-defined]  # the module's own `import time`
    ingest_module.time = clock  # type: ignore[attr-defined,assignment]
    template = BatchTemplate(store, batch) if batch else None
    per_tick = round(rate_hz * TICK_S)  # samples per stream per tick
    warmup = int(WINDOW_S / TICK_S)
    now_ns = 1_800_000_000 * NS
    measured = callback_cpu = tick_cpu = 0.0
    tick_ms: list[float] = []
    phase_ms: list[tuple[float, float]] = []
    alloc_peak_mb = math.nan
    if trace:
        tracemalloc.start()
    try:
        for tick in range(warmup + ticks):
            chunks = _tick_chunks(keys, template, tick * per_tick + 1, per_tick, now_ns)
            callback = ingest.on_data
            clock.start_tick(now_ns, int(TICK_S * NS) // max(1, len(keys) * per_tick // (batch or 1)))
            count, spent = 0, 0.0
            for chunk in chunks:  # built outside the timed part, a chunk at a time to bound memory
                gc.collect()
                t0 = time.thread_time()
                for sample in chunk:
                    callback(sample)
                spent += time.thread_time() - t0
                count += len(chunk) * (batch or 1)
            del chunks
            if trace:
                tracemalloc.reset_peak()
                held = tracemalloc.get_traced_memory()[0]
            t1 = time.thread_time()
            now_ns += int(TICK_S * NS)
            engine.ingest(ingest.drain(), now_ns)
            t_ingest = time.thread_time()
            engine.snapshot(now_ns, lambda r, v: None, lambda r, v: None)
            t2 = time.thread_time()
            if tick >= warmup:
                measured += count
                callback_cpu += spent
                tick_cpu += t2 - t1
                tick_ms.append((t2 - t1) * 1000)
                phase_ms.append(((t_ingest - t1) * 1000, (t2 - t_ingest) * 1000))
                if trace:
                    peak_mb = (tracemalloc.get_traced_memory()[1] - held) / 1e6
                    alloc_peak_mb = peak_mb if math.isnan(alloc_peak_mb) else max(alloc_peak_mb, peak_mb)
    finally:
        ingest_module.time = original_time  # type: ignore[attr-defined]
        if trace:
            tracemalloc.stop()
    return InProcessResult(
        mode,
        streams,
        rate_hz,
        int(measured),
        callback_cpu,
        tick_cpu,
        float(np.mean(tick_ms)),
        float(np.max(tick_ms)),
        measured / (callback_cpu + tick_cpu),
        callback_cpu / measured * 1e9,
        _rss_mb(os.getpid())[0],
        float(np.mean([ingest_ms for ingest_ms, _ in phase_ms])),
        float(np.mean([snapshot_ms for _, snapshot_ms in phase_ms])),
        alloc_peak_mb,
    )


# --- end to end ---------------------------------------------------------------------------


@dataclass
class EndToEndResult:
    mode: str
    streams: int
    publishers: int
    offered_rate_hz: float  # per stream, asked of the blasters; 0 = as fast as they can
    sent_samples_per_s: float  # what the blasters managed over their whole run
    delivered_samples_per_s: float  # FleetStatus.samples_per_s, mean over the measurement
    aggregator_cpu: float  # cores, over the measurement
    samples_per_aggregator_cpu_s: float
    tick_interval_s_mean: float  # between FleetStatus publications; 0.5 when the aggregator keeps up
    tick_interval_s_max: float
    kept_up: bool  # every tick on time (interval <= 1.5 x tick) and memory bounded
    rss_mb: float
    rss_peak_mb: float
    lost_in_window: int
    cpu_by_process: dict[str, float] = field(default_factory=dict)
    note: str = ""


#: Stop a run whose aggregator grows past this: it is not keeping up, and the machine matters more.
RSS_GUARD_MB = 1200.0


def end_to_end(
    mode: str, streams: int, publishers: int, rate_hz: float, batch: int, seconds: float, store: TypeStore
) -> EndToEndResult:
    """One run: router, aggregator, blasters; measured over `seconds` once the window is full."""
    from support.processes import ProcessGroup, free_port, wait_until
    from support.zenoh_net import ClientSessions, start_router

    group, clients = ProcessGroup(), ClientSessions()
    try:
        router = start_router(group, free_port(), "cloud.json5", name="router")
        aggregator = group.start_module("telemetry.aggregator.service", "-e", router.endpoint, name="aggregator")
        aggregator.wait_for_line(" ready", 15.0)
        env = {"PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "bench")])}
        blasters = [
            group.start_module(
                "telemetry.bench.blaster",
                "--connect",
                router.endpoint,
                "--prefix",
                f"p{index}",
                "--vehicles",
                str(streams // publishers // 100),
                "--streams-per-vehicle",
                "100",
                "--rate-hz",
                f"{rate_hz:g}",
                "--batch",
                str(batch),
                name=f"blaster{index}",
                env=env,
            )
            for index in range(publishers)
        ]
        for blaster in blasters:
            blaster.wait_for_line("blaster ready", 30.0)
        session = clients.open(router.endpoint)
        statuses: list[tuple[float, Any]] = []

        def record(sample: Any) -> None:
            statuses.append((time.monotonic(), store.decode("telemetry/msg/FleetStatus", sample.payload.to_bytes())))

        subscriber = session.declare_subscriber("telemetry/fleet", record)
        seen_all = wait_until(lambda: bool(statuses) and statuses[-1][1].streams >= streams, 30.0)
        assert seen_all, f"the aggregator did not see all {streams} streams\n{aggregator.output()}"
        note = _run_for(WINDOW_S, aggregator.pid)  # the window fills
        pids = {"aggregator": aggregator.pid, "router": router.process.pid, **{b.name: b.pid for b in blasters}}
        cpu_before = {name: _cpu_s(pid) for name, pid in pids.items()}
        first, started = len(statuses), time.monotonic()
        if note:  # already past the guard: one short look, no more
            time.sleep(1.0)
        else:
            note = _run_for(seconds, aggregator.pid)
        ended = time.monotonic()
        elapsed = ended - started
        cpu = {name: (_cpu_s(pid) - cpu_before[name]) / elapsed for name, pid in pids.items()}
        rss, peak = _rss_mb(aggregator.pid)
        subscriber.undeclare()
        window = statuses[max(0, first - 1) :]
        assert aggregator.returncode is None, aggregator.output()
        sent = sum(_sent_rate(blaster) for blaster in blasters)
    finally:
        clients.close_all()
        group.stop_all()
    # Up to the end of the measurement: a tick still running counts with the time it has taken so far.
    intervals = np.diff([*(at for at, _ in window), ended])
    delivered = float(np.mean([status.samples_per_s for _, status in window[1:] or window]))
    kept_up = not note and float(intervals.max()) <= 1.5 * TICK_S
    return EndToEndResult(
        mode,
        streams,
        publishers,
        rate_hz,
        sent,
        delivered,
        cpu["aggregator"],
        delivered / cpu["aggregator"] if cpu["aggregator"] > 0 else math.nan,
        float(intervals.mean()),
        float(intervals.max()),
        kept_up,
        rss,
        peak,
        int(window[-1][1].lost),
        {name: round(value, 2) for name, value in cpu.items()},
        note,
    )


def _run_for(seconds: float, aggregator_pid: int) -> str:
    """Let the load run for `seconds`, watching the aggregator's memory; a note if it ran away."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
        rss = _rss_mb(aggregator_pid)[0]
        if rss > RSS_GUARD_MB:
            return f"stopped early: aggregator RSS {rss:.0f} MB > {RSS_GUARD_MB:.0f} MB (not keeping up)"
    return ""


def _sent_rate(blaster: Any) -> float:
    """Stop a blaster and read its `blaster sent N samples in S s` line: samples/s it sent."""
    blaster.stop()
    line = blaster.wait_for_line("blaster sent", 5.0)
    words = line.split()
    return int(words[2]) / float(words[5])


def _cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            name, amount, _unit = line.split()
            values[name[:-1]] = int(amount) / 1024
    return values["VmRSS"], values["VmHWM"]


# --- report -------------------------------------------------------------------------------


def _table(inproc: list[InProcessResult], e2e: list[EndToEndResult]) -> str:
    lines = [
        "In process (Python side of the aggregator, one thread, simulated clock, window full):",
        f"  {'mode':8} {'streams':>7} {'sim Hz/stream':>13} {'samples/CPU-s':>14} {'callback ns':>11} "
        f"{'tick ms mean/max':>17} {'ingest/snapshot ms':>18} {'tick alloc MB':>13} {'bench RSS MB':>12}",
    ]
    for r in inproc:
        lines.append(
            f"  {r.mode:8} {r.streams:7d} {r.simulated_rate_hz:13.0f} {r.samples_per_cpu_s:14,.0f} "
            f"{r.callback_ns_per_sample:11.0f} {r.tick_ms_mean:8.1f}/{r.tick_ms_max:<8.1f} "
            f"{r.ingest_ms_mean:9.1f}/{r.snapshot_ms_mean:<8.1f} {r.tick_alloc_peak_mb:13.1f} {r.rss_mb:12.1f}"
        )
    if e2e:
        lines += [
            "",
            "End to end (blasters -> router -> aggregator process, loopback, congestion control BLOCK):",
            f"  {'mode':8} {'streams':>7} {'offered Hz':>10} {'sent/s':>10} {'delivered/s':>11} {'agg CPU':>7} "
            f"{'samples/agg-CPU-s':>17} {'tick s mean/max':>15} {'kept up':>7} {'RSS/peak MB':>12}  CPU by process",
        ]
        for run in e2e:
            offered = "max" if not run.offered_rate_hz else f"{run.offered_rate_hz:g}"
            lines.append(
                f"  {run.mode:8} {run.streams:7d} {offered:>10} {run.sent_samples_per_s:10,.0f} "
                f"{run.delivered_samples_per_s:11,.0f} {run.aggregator_cpu:7.2f} "
                f"{run.samples_per_aggregator_cpu_s:17,.0f} "
                f"{run.tick_interval_s_mean:7.2f}/{run.tick_interval_s_max:<7.2f} {'yes' if run.kept_up else 'NO':>7} "
                f"{run.rss_mb:5.0f}/{run.rss_peak_mb:<6.0f}  {run.cpu_by_process}"
                + (f"  {run.note}" if run.note else "")
            )
    lines += ["", "Targets: " + ", ".join(f"{k} {v:,}" for k, v in TARGETS.items())]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--streams", type=int, default=1000, help="a multiple of 100 (100 streams per vehicle)")
    parser.add_argument("--rate-hz", type=float, default=200.0, help="in-process single: simulated rate per stream")
    parser.add_argument("--batched-rate-hz", type=float, default=1000.0, help="in-process batched: rate per stream")
    parser.add_argument("--batch", type=int, default=50, help="samples per SampleBatch")
    parser.add_argument("--ticks", type=int, default=6, help="in-process ticks measured after the window is full")
    parser.add_argument("--seconds", type=float, default=5.0, help="end-to-end measurement per mode")
    parser.add_argument("--publishers", type=int, default=2, help="end-to-end blaster processes")
    parser.add_argument(
        "--e2e-rate-hz", type=float, default=0.0, help="end-to-end single: rate per stream; 0: flat out"
    )
    parser.add_argument(
        "--e2e-batched-rates-hz",
        type=float,
        nargs="*",
        default=[500.0, 1000.0],
        help="end-to-end batched: one run per rate per stream (0: flat out; see RSS_GUARD_MB)",
    )
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="in process: also each tick's peak of new allocations (slower; CPU figures not comparable)")
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args()

    store = TypeStore.from_environment()
    inproc = (
        []
        if args.skip_in_process
        else [
            in_process("single", args.streams, args.rate_hz, 0, args.ticks, store, args.tracemalloc),
            in_process("batched", args.streams, args.batched_rate_hz, args.batch, args.ticks, store, args.tracemalloc),
        ]
    )
    e2e = (
        []
        if args.skip_e2e
        else [
            end_to_end("single", args.streams, args.publishers, args.e2e_rate_hz, 0, args.seconds, store),
            *(
                end_to_end("batched", args.streams, args.publishers, rate, args.batch, args.seconds, store)
                for rate in args.e2e_batched_rates_hz
            ),
        ]
    )
    print(_table(inproc, e2e))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"aggregator_throughput-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "targets": TARGETS,
                "arguments": {k: str(v) for k, v in vars(args).items()},
                "in_process": [asdict(r) for r in inproc],
                "end_to_end": [asdict(r) for r in e2e],
            },
            indent=2,
        )
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
