"""The aggregator's Zenoh callbacks, called directly with stand-in samples: what they record and count."""

from __future__ import annotations

import time

import numpy as np
import pytest
from support.engine_input import FakeBytes, FakeSample, arrivals, batch_payload

import telemetry.aggregator.ingest as ingest_module
from telemetry.aggregator.ingest import BadInput, Ingest, parse_attachments
from telemetry.codec import TypeStore
from telemetry.codec.attachment import ATTACHMENT_SIZE, pack_fields
from telemetry.codec.batch import BATCH_ENCODING, batch_head
from telemetry.keys import KeySpace

KEY = "telemetry/data/eu-west/rover-01/imu"
PAYLOAD = FakeBytes(b"\x00\x01\x00\x00" + bytes(312))


def attachment(sequence: int, source_ns: int = 1_700_000_000_000_000_000) -> FakeBytes:
    return FakeBytes(pack_fields(sequence, source_ns, source_ns + 1000, True))


def test_a_good_sample_is_recorded_with_its_receive_time_size_and_raw_attachment() -> None:
    ingest = Ingest(KeySpace())
    before = time.time_ns()
    ingest.on_data(FakeSample(KEY, PAYLOAD, attachment(7)))
    drained = ingest.drain()

    inbox = drained.inboxes[KEY]
    assert inbox.parsed.topic == "/imu" and inbox.ros_type == "sensor_msgs/msg/Imu"
    records = parse_attachments(inbox.attachments)
    assert records["sequence"].tolist() == [7]
    assert before <= inbox.receive_ns[0] <= time.time_ns()
    assert list(inbox.size) == [316]
    assert drained.bad == {}


def test_drain_hands_over_everything_and_the_callbacks_start_on_empty_buffers() -> None:
    ingest = Ingest(KeySpace())
    for sequence in range(1, 4):
        ingest.on_data(FakeSample(KEY, PAYLOAD, attachment(sequence)))
    first = ingest.drain()
    second = ingest.drain()
    assert len(first.inboxes[KEY].receive_ns) == 3
    assert len(second.inboxes[KEY].receive_ns) == 0  # the stream is remembered, its buffers are fresh
    assert second.inboxes[KEY].ros_type == "sensor_msgs/msg/Imu"


def test_a_sample_without_attachment_is_counted_for_its_vehicle_and_not_recorded() -> None:
    ingest = Ingest(KeySpace())
    ingest.on_data(FakeSample(KEY, PAYLOAD))
    drained = ingest.drain()
    assert drained.bad == {("eu-west", "rover-01"): {BadInput.NO_ATTACHMENT: 1}}
    assert len(drained.inboxes[KEY].receive_ns) == 0


def test_an_attachment_of_the_wrong_length_is_counted_as_bad_attachment() -> None:
    ingest = Ingest(KeySpace())
    raw = pack_fields(1, 0, 0, True)
    for wrong in (raw[:-1], raw + b"\x00", b""):
        ingest.on_data(FakeSample(KEY, PAYLOAD, FakeBytes(wrong)))
    drained = ingest.drain()
    assert drained.bad == {("eu-west", "rover-01"): {BadInput.BAD_ATTACHMENT: 3}}
    assert len(drained.inboxes[KEY].attachments) == 0


def test_an_unknown_attachment_version_is_recorded_for_the_tick_to_count() -> None:
    """The callback only checks the length; the engine counts versions in one numpy pass."""
    ingest = Ingest(KeySpace())
    raw = bytearray(pack_fields(1, 0, 0, True))
    raw[0] = 2
    ingest.on_data(FakeSample(KEY, PAYLOAD, FakeBytes(bytes(raw))))
    drained = ingest.drain()
    assert drained.bad == {}
    assert len(drained.inboxes[KEY].attachments) == ATTACHMENT_SIZE
    assert parse_attachments(drained.inboxes[KEY].attachments)["version"].tolist() == [2]


def test_a_key_whose_topic_does_not_parse_is_a_bad_key_of_the_vehicle_it_names_every_time() -> None:
    ingest = Ingest(KeySpace())
    for _ in range(3):  # the second and later times come from the remembered verdict
        ingest.on_data(FakeSample("telemetry/data/eu-west/rover-01/9lives", PAYLOAD, attachment(1)))
    drained = ingest.drain()
    assert drained.bad == {("eu-west", "rover-01"): {BadInput.BAD_KEY: 3}}
    assert drained.inboxes == {}


def test_a_batch_that_does_not_parse_is_kept_whole_for_the_tick_to_count() -> None:
    ingest = Ingest(KeySpace())
    key = "telemetry/data/us-east/truck-01/imu"
    ingest.on_data(FakeSample(key, FakeBytes(b"not decoded here"), encoding=BATCH_ENCODING))
    ((receive_ns, payload, data_len),) = ingest.drain().inboxes[key].batches
    assert payload == b"not decoded here" and data_len is None and receive_ns > 0


def test_a_batch_is_kept_without_its_samples_bytes(store: TypeStore) -> None:
    ingest = Ingest(KeySpace())
    key = "telemetry/data/us-east/truck-01/imu"
    payload = batch_payload(store, arrivals(1000, 0.05), 1)
    ingest.on_data(FakeSample(key, FakeBytes(payload), encoding=BATCH_ENCODING))
    ((_, head, data_len),) = ingest.drain().inboxes[key].batches
    assert data_len == 50 * 316 and len(head) + 4 + data_len == len(payload)
    assert payload.startswith(head)


def test_batches_beyond_what_a_tick_may_hold_are_dropped_as_overload_and_counted(
    store: TypeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = batch_payload(store, arrivals(1000, 0.05), 1)
    head, _ = batch_head(payload)
    kept = len(head) + ingest_module.KEPT_BATCH_OVERHEAD_BYTES  # what one batch is charged
    monkeypatch.setattr(ingest_module, "MAX_PENDING_BATCH_BYTES", 3 * kept)
    ingest = Ingest(KeySpace())
    for _ in range(5):
        ingest.on_data(FakeSample(KEY, FakeBytes(payload), encoding=BATCH_ENCODING))
    drained = ingest.drain()
    assert len(drained.inboxes[KEY].batches) == 3
    assert drained.bad == {("eu-west", "rover-01"): {BadInput.OVERLOAD: 2}}
    ingest.on_data(FakeSample(KEY, FakeBytes(payload), encoding=BATCH_ENCODING))  # the next tick starts afresh
    assert len(ingest.drain().inboxes[KEY].batches) == 1


def test_liveliness_put_and_delete_become_presence_records() -> None:
    ingest = Ingest(KeySpace())
    ingest.on_liveliness(FakeSample("telemetry/alive/eu-west/rover-01", FakeBytes(b""), kind="SampleKind.PUT"))
    ingest.on_liveliness(FakeSample("telemetry/alive/eu-west/rover-01", FakeBytes(b""), kind="SampleKind.DELETE"))
    ingest.on_liveliness(FakeSample("telemetry/alive/eu-west", FakeBytes(b""), kind="SampleKind.PUT"))  # ignored
    presence = ingest.drain().presence
    assert [(region, vehicle, alive) for region, vehicle, alive, _ in presence] == [
        ("eu-west", "rover-01", True),
        ("eu-west", "rover-01", False),
    ]


def test_a_rogue_inventing_keys_cannot_grow_the_remembered_keys_without_bound() -> None:
    ingest = Ingest(KeySpace())
    for index in range(12_000):
        ingest.on_data(FakeSample(f"telemetry/data/eu-west/rogue/{index}bad", PAYLOAD, attachment(1)))
    assert len(ingest._parsed) <= 10_000
    assert ingest.drain().bad == {("eu-west", "rogue"): {BadInput.BAD_KEY: 12_000}}


def test_forget_drops_a_stream_and_it_comes_back_when_it_sends_again() -> None:
    ingest = Ingest(KeySpace())
    ingest.on_data(FakeSample(KEY, PAYLOAD, attachment(1)))
    ingest.drain()
    ingest.forget(KEY)
    assert KEY not in ingest.drain().inboxes
    ingest.on_data(FakeSample(KEY, PAYLOAD, attachment(2)))
    assert np.frombuffer(ingest.drain().inboxes[KEY].receive_ns, np.int64).size == 1


def test_samples_alone_and_batched_of_one_stream_fill_one_inbox_named_by_its_data_key(store: TypeStore) -> None:
    ingest = Ingest(KeySpace())
    ingest.on_data(FakeSample("telemetry/data/us-east/truck-01/imu", PAYLOAD, attachment(1)))
    batch = FakeBytes(batch_payload(store, arrivals(1000, 0.003), 2))
    ingest.on_data(FakeSample("telemetry/data/us-east/truck-01/imu", batch, encoding=BATCH_ENCODING))
    drained = ingest.drain()
    assert list(drained.inboxes) == ["telemetry/data/us-east/truck-01/imu"]
    inbox = drained.inboxes["telemetry/data/us-east/truck-01/imu"]
    assert len(inbox.receive_ns) == 1 and len(inbox.batches) == 1
