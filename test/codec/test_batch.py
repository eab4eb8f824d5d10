"""msg/SampleBatch by hand: the aggregator's reader (numpy columns straight from the CDR) and the
bridge's encoder, each checked against pycdr2's decode and encode of the same values."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest

from telemetry.codec import TypeStore
from telemetry.codec.batch import BATCH_TYPE, BatchEncoder, batch_head, read_batch, read_batch_reference
from telemetry.errors import CodecError


def _batch(store: TypeStore, sizes: list[int], ros_type: str = "sensor_msgs/msg/Imu", **fields: Any) -> bytes:
    data = b"".join(bytes([i % 251]) * size for i, size in enumerate(sizes))
    values: dict[str, Any] = {
        "version": 1,
        "stamp": store.new("builtin_interfaces/msg/Time", sec=1_767_268_800, nanosec=123_456_789),
        "ros_type": ros_type,
        "stamp_from_header": True,
        "sequence": [1000 + i for i in range(len(sizes))],
        "source_time_ns": [1_767_268_800_000_000_000 + 1_000_000 * i for i in range(len(sizes))],
        "size": sizes,
        "data": data,
    }
    values.update(fields)
    return store.encode(store.new(BATCH_TYPE, **values))


@pytest.mark.parametrize("sizes", [[], [316], [316] * 50, [1, 2, 3, 4, 5, 6, 7], [0, 9, 0, 17]])
@pytest.mark.parametrize("ros_type", ["sensor_msgs/msg/Imu", "a/msg/B", "nav_msgs/msg/Odometry"])
def test_the_columns_equal_what_pycdr2_decodes_for_every_layout(
    store: TypeStore, sizes: list[int], ros_type: str
) -> None:
    payload = _batch(store, sizes, ros_type)
    fast, slow = read_batch(store, payload), read_batch_reference(store, payload)
    assert (fast.ros_type, fast.stamp_from_header, fast.send_ns) == (slow.ros_type, slow.stamp_from_header,
                                                                     slow.send_ns)
    assert fast.send_ns == 1_767_268_800_123_456_789
    for column in ("sequence", "source_ns", "size", "data"):
        assert np.array_equal(getattr(fast, column), getattr(slow, column)), column
    assert fast.sequence.dtype == np.uint64 and fast.source_ns.dtype == np.int64 and fast.size.dtype == np.int64


def test_a_truncated_batch_is_a_codec_error_naming_the_type(store: TypeStore) -> None:
    payload = _batch(store, [316] * 5)
    for cut in (3, 10, 40, len(payload) - 100):
        with pytest.raises(CodecError, match=r"^telemetry/msg/SampleBatch: "):
            read_batch(store, payload[:cut])


def test_columns_of_different_lengths_are_refused(store: TypeStore) -> None:
    payload = _batch(store, [4, 4], sequence=[1, 2, 3])
    with pytest.raises(CodecError, match=r"columns differ in length \(sequence 3, source_time_ns 2, size 2\)"):
        read_batch(store, payload)


def test_sizes_that_do_not_add_up_to_the_data_are_refused(store: TypeStore) -> None:
    payload = _batch(store, [4, 4], size=[4, 5])
    with pytest.raises(CodecError, match=r"sizes add up to 9 bytes, data holds 8"):
        read_batch(store, payload)


def test_an_unknown_version_is_refused(store: TypeStore) -> None:
    with pytest.raises(CodecError, match=r"unknown version 7 \(this build reads 1\)"):
        read_batch(store, _batch(store, [1], version=7))


def test_a_big_endian_or_garbage_payload_is_refused(store: TypeStore) -> None:
    payload = bytearray(_batch(store, [1]))
    payload[1] = 0  # CDR big endian
    with pytest.raises(CodecError, match="bad encapsulation header"):
        read_batch(store, bytes(payload))
    with pytest.raises(CodecError):
        read_batch(store, b"\x00\x01\x00\x00" + struct.pack("<B3xiII", 1, 0, 0, 2**31))


@pytest.mark.parametrize("sizes", [[], [316], [316] * 50, [1, 2, 3]])
def test_a_batch_head_reads_to_the_same_columns_without_the_data(store: TypeStore, sizes: list[int]) -> None:
    payload = _batch(store, sizes)
    head, data_len = batch_head(payload)
    assert data_len == sum(sizes) and len(head) + 4 + data_len == len(payload)
    whole, part = read_batch(store, payload), read_batch(store, head, data_len)
    for column in ("sequence", "source_ns", "size"):
        assert np.array_equal(getattr(whole, column), getattr(part, column)), column
    assert part.data.size == 0 and part.ros_type == whole.ros_type


def test_a_batch_head_of_a_truncated_or_garbage_payload_is_a_value_error(store: TypeStore) -> None:
    payload = _batch(store, [316] * 3)
    for bad in (payload[:-1], payload[:30], b"\x00\x01\x00\x00garbage", b""):
        with pytest.raises((ValueError, struct.error)):
            batch_head(bad)


def test_a_head_whose_sizes_disagree_with_the_data_length_is_refused(store: TypeStore) -> None:
    head, data_len = batch_head(_batch(store, [4, 4]))
    with pytest.raises(CodecError, match="sizes add up to 8 bytes, data holds 9"):
        read_batch(store, head, data_len + 1)


# --- the bridge's hand-written encoder ----------------------------------------------------

SEND_NS = 1_767_268_800_123_456_789
#: ros_type names of every length mod 8 (so every padding the columns can need), and real ones.
ROS_TYPES = [*("a/msg/" + "X" * n for n in range(1, 9)), "sensor_msgs/msg/Imu", "nav_msgs/msg/Odometry"]
SAMPLE_SIZES = [[], [316], [1, 2, 3, 4, 5, 6, 7], [0, 9, 0, 17], [316] * 50]


def _samples(sizes: list[int]) -> tuple[list[int], list[int], list[bytes]]:
    """(sequence, source ns, payloads) of len(sizes) samples, each payload distinct."""
    payloads = [bytes([(i * 7 + j) % 256 for j in range(size)]) for i, size in enumerate(sizes)]
    sequence = [2**40 + i for i in range(len(sizes))]
    source_ns = [SEND_NS - 1_000_000 * (len(sizes) - i) for i in range(len(sizes))]
    return sequence, source_ns, payloads


def _pycdr2_batch(store: TypeStore, ros_type: str, stamp_from_header: bool, sizes: list[int]) -> bytes:
    sequence, source_ns, payloads = _samples(sizes)
    sec, nanosec = divmod(SEND_NS, 1_000_000_000)
    return store.encode(store.new(
        BATCH_TYPE,
        version=store.constant(BATCH_TYPE, "VERSION"),
        stamp=store.new("builtin_interfaces/msg/Time", sec=sec, nanosec=nanosec),
        ros_type=ros_type,
        stamp_from_header=stamp_from_header,
        sequence=sequence,
        source_time_ns=source_ns,
        size=[len(p) for p in payloads],
        data=b"".join(payloads),
    ))


def _encoder(store: TypeStore, ros_type: str, stamp_from_header: bool) -> BatchEncoder:
    return BatchEncoder(ros_type, stamp_from_header, store.constant(BATCH_TYPE, "VERSION"))


@pytest.mark.parametrize("stamp_from_header", [True, False])
@pytest.mark.parametrize("sizes", SAMPLE_SIZES, ids=lambda sizes: f"{len(sizes)}-samples")
@pytest.mark.parametrize("ros_type", ROS_TYPES)
def test_the_encoder_writes_the_same_bytes_as_pycdr2_for_every_alignment(
    store: TypeStore, ros_type: str, sizes: list[int], stamp_from_header: bool
) -> None:
    encoded = _encoder(store, ros_type, stamp_from_header).encode(SEND_NS, *_samples(sizes))
    assert encoded == _pycdr2_batch(store, ros_type, stamp_from_header, sizes)


def test_the_encoder_can_be_reused_for_batch_after_batch(store: TypeStore) -> None:
    encoder = _encoder(store, "sensor_msgs/msg/Imu", True)
    for sizes in ([316] * 3, [], [316], [5, 6]):
        assert encoder.encode(SEND_NS, *_samples(sizes)) == _pycdr2_batch(store, "sensor_msgs/msg/Imu", True, sizes)


def test_rosbags_writes_the_same_bytes_as_the_encoder(store: TypeStore, rosbags_store: Any) -> None:
    encoded = _encoder(store, "nav_msgs/msg/Odometry", False).encode(SEND_NS, *_samples([7, 0, 12]))
    batch = rosbags_store.deserialize_cdr(encoded, BATCH_TYPE)
    assert batch.ros_type == "nav_msgs/msg/Odometry" and batch.stamp_from_header is False
    assert bytes(rosbags_store.serialize_cdr(batch, BATCH_TYPE)) == encoded


@pytest.mark.parametrize("stamp_from_header", [True, False])
@pytest.mark.parametrize("sizes", SAMPLE_SIZES, ids=lambda sizes: f"{len(sizes)}-samples")
def test_read_batch_reads_back_what_the_encoder_wrote(
    store: TypeStore, sizes: list[int], stamp_from_header: bool
) -> None:
    sequence, source_ns, payloads = _samples(sizes)
    batch = read_batch(store, _encoder(store, "a/msg/XYZ", stamp_from_header).encode(
        SEND_NS, sequence, source_ns, payloads))
    assert (batch.ros_type, batch.stamp_from_header, batch.send_ns) == ("a/msg/XYZ", stamp_from_header, SEND_NS)
    assert batch.sequence.tolist() == sequence and batch.source_ns.tolist() == source_ns
    assert batch.size.tolist() == [len(p) for p in payloads]
    assert batch.data.tobytes() == b"".join(payloads)


@pytest.mark.parametrize("sizes", SAMPLE_SIZES, ids=lambda sizes: f"{len(sizes)}-samples")
def test_samples_gives_each_sample_with_its_sequence_and_source_time(store: TypeStore, sizes: list[int]) -> None:
    sequence, source_ns, payloads = _samples(sizes)
    batch = read_batch(store, _encoder(store, "sensor_msgs/msg/Imu", True).encode(
        SEND_NS, sequence, source_ns, payloads))
    assert batch.samples() == list(zip(sequence, source_ns, payloads, strict=True))
    for _, _, payload in batch.samples():
        assert type(payload) is bytes


def test_samples_of_a_pycdr2_batch_are_its_data_cut_by_size(store: TypeStore) -> None:
    columns = read_batch(store, _batch(store, [3, 0, 2]))
    data = b"".join(bytes([i % 251]) * size for i, size in enumerate([3, 0, 2]))
    assert [payload for _, _, payload in columns.samples()] == [data[:3], b"", data[3:]]
    assert [sequence for sequence, _, _ in columns.samples()] == [1000, 1001, 1002]
