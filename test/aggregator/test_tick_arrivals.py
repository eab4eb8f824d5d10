"""A tick's arrivals of one stream (single samples, batches, both), as the engine hands them to
its buffer: hand-made columns in, arrival order and per-sample latencies out."""

from __future__ import annotations

import numpy as np
import pytest
from support.engine_input import MS, T0, arrivals, batch_payload, data_inbox, drained
from support.engine_run import EU, ROVER, TICK, Run

from telemetry.aggregator.engine import TickArrivals, batch_arrivals, merge_arrivals, single_arrivals
from telemetry.codec import TypeStore
from telemetry.codec.batch import batch_head


def test_single_samples_are_one_arrival_each_with_their_latency() -> None:
    tick = single_arrivals(np.array([T0 + 5, T0 + 9]), np.array([T0, T0 + 1]), np.array([7, 8], np.uint64),
                           np.array([316, 320]))
    assert tick.samples.tolist() == [1, 1] and tick.payload_bytes.tolist() == [316, 320]
    assert tick.sequence.tolist() == [7, 8] and tick.latency_ns.tolist() == [5, 8]


def test_the_samples_of_a_batch_take_its_receive_time_for_their_latency() -> None:
    tick = batch_arrivals(np.array([T0 + 100, T0 + 200]), np.array([2, 3], np.int32), np.array([632, 948]),
                          np.arange(1, 6, dtype=np.uint64), T0 + np.array([10, 20, 110, 120, 130]))
    assert tick.receive_ns.tolist() == [T0 + 100, T0 + 200] and tick.samples.tolist() == [2, 3]
    assert tick.latency_ns.tolist() == [90, 80, 90, 80, 70]


def test_merging_puts_arrivals_in_receive_order_and_moves_their_samples_along() -> None:
    single = TickArrivals(np.array([10, 30, 50]), np.ones(3, np.int32), np.array([1, 1, 1]),
                          np.array([1, 5, 6], np.uint64), np.array([100, 500, 600]))
    batched = TickArrivals(np.array([20, 50]), np.array([3, 1], np.int32), np.array([3, 1]),
                           np.array([2, 3, 4, 7], np.uint64), np.array([200, 300, 400, 700]))
    merged = merge_arrivals(single, batched)
    assert merged.receive_ns.tolist() == [10, 20, 30, 50, 50]  # a tie keeps the single sample first
    assert merged.samples.tolist() == [1, 3, 1, 1, 1]
    assert merged.sequence.tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert merged.latency_ns.tolist() == [100, 200, 300, 400, 500, 600, 700]


def test_a_stream_sending_alone_and_batched_in_one_tick_is_counted_in_arrival_order(store: TypeStore) -> None:
    run = Run(store)
    run.token(EU, ROVER, True, T0)
    samples = arrivals(100, 0.4, start_ns=T0 + 1)  # 40 samples, 10 ms apart
    alone = np.ones(40, bool)
    alone[10:20] = False  # 11..20 leave as one batch when the 20th is ready
    key, inbox = data_inbox(EU, ROVER, "/imu", samples.select(alone))
    batch_receive_ns = int(samples.receive_ns[19])
    payload = batch_payload(store, samples.select(slice(10, 20)), batch_receive_ns)
    inbox.batches.append((batch_receive_ns, *batch_head(payload)))
    run.engine.ingest(drained((key, inbox)), T0 + TICK)

    imu = run.stream(run.snapshot(T0 + TICK), EU, ROVER, "/imu")
    assert imu.batched and imu.received == imu.received_total == 40
    assert imu.lost_total == 0 and imu.lost == 0
    # In arrival order the batch's samples share the 20th's receive time: intervals of 10 ms,
    # one of 100 ms (10th -> the batch), nine of 0, then 10 ms again.
    receive_ns = np.where(alone, samples.receive_ns, batch_receive_ns)
    assert imu.jitter_ms == pytest.approx(float(np.std(np.diff(receive_ns))) / MS)
    assert imu.latency_max_ms == pytest.approx((batch_receive_ns - int(samples.source_ns[10])) / MS)
