"""The aggregator's batch reader: numpy columns straight from the CDR, equal to pycdr2's decode."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest

from telemetry.codec import TypeStore
from telemetry.codec.batch import BATCH_TYPE, batch_head, read_batch, read_batch_reference
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
