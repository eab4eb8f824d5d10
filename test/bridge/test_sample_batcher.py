"""SampleBatcher: real ROS CDR samples in, one msg/SampleBatch out that two decoders read back.

The samples are serialized by rclpy (ROS 2's own serializer), the batch is decoded by the
project's codec and by rosbags (an independent CDR implementation, with msg/SampleBatch.msg
registered from the same file), and each sample cut back out of the batch is compared byte
for byte with what went in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Imu

from telemetry.bridge.batcher import SampleBatcher
from telemetry.codec import TypeStore
from telemetry.codec.batch import read_batch

MS = 1_000_000
START_NS = 1_795_000_000_123_456_789
IMU = "sensor_msgs/msg/Imu"
BATCH_TYPE = "telemetry/msg/SampleBatch"


def imu_sample(index: int) -> tuple[int, bytes]:
    """(header stamp in ns, CDR bytes) of an Imu message that differs per index."""
    stamp_ns = START_NS + index * MS
    message = Imu()
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    message.header.frame_id = "rover-01/imu_link" + "x" * (index % 3)  # samples of different sizes
    message.linear_acceleration.z = 9.80665
    message.angular_velocity.z = 0.01 * index
    return stamp_ns, bytes(serialize_message(message))


def fill(batcher: SampleBatcher, count: int, first: int = 0) -> list[tuple[int, int, bytes]]:
    """Add `count` samples, one per ms; (sequence, source time, payload) of each."""
    added = []
    for index in range(first, first + count):
        stamp_ns, payload = imu_sample(index)
        batcher.add(index + 1, stamp_ns, payload)
        added.append((index + 1, stamp_ns, payload))
    return added


def split(data: bytes, sizes: list[int]) -> list[bytes]:
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    return [bytes(data[offsets[i]:offsets[i + 1]]) for i in range(len(sizes))]


def imu_batcher(store: TypeStore, stamp_from_header: bool = True) -> SampleBatcher:
    return SampleBatcher(IMU, stamp_from_header, store.constant(BATCH_TYPE, "VERSION"))


def test_a_batch_round_trips_through_the_codec(store: TypeStore) -> None:
    batcher = imu_batcher(store)
    added = fill(batcher, 20)
    send_ns = START_NS + 25 * MS
    encoded = batcher.take_batch(send_ns)

    batch = store.decode(BATCH_TYPE, encoded)
    assert batch.version == 1
    assert batch.stamp.sec * 1_000_000_000 + batch.stamp.nanosec == send_ns
    assert batch.ros_type == IMU
    assert batch.stamp_from_header is True
    assert list(batch.sequence) == [sequence for sequence, _, _ in added]
    assert list(batch.source_time_ns) == [stamp for _, stamp, _ in added]
    assert list(batch.size) == [len(payload) for _, _, payload in added]
    samples = split(bytes(batch.data), list(batch.size))
    assert samples == [payload for _, _, payload in added]
    for (_, stamp_ns, _), sample in zip(added, samples, strict=True):
        imu = store.decode(IMU, sample)
        assert imu.header.stamp.sec * 1_000_000_000 + imu.header.stamp.nanosec == stamp_ns
        assert deserialize_message(sample, Imu).linear_acceleration.z == 9.80665


def test_rosbags_reads_the_batch_and_the_samples_inside_it(store: TypeStore, rosbags_store: Any) -> None:
    batcher = imu_batcher(store, stamp_from_header=False)
    added = fill(batcher, 7)
    encoded = batcher.take_batch(START_NS)

    batch = rosbags_store.deserialize_cdr(encoded, BATCH_TYPE)
    assert batch.version == 1 and batch.ros_type == IMU and batch.stamp_from_header is False
    assert batch.sequence.tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert batch.source_time_ns.tolist() == [stamp for _, stamp, _ in added]
    samples = split(batch.data.tobytes(), batch.size.tolist())
    assert samples == [payload for _, _, payload in added]
    for index, sample in enumerate(samples):
        imu = rosbags_store.deserialize_cdr(sample, IMU)
        assert imu.angular_velocity.z == pytest.approx(0.01 * index)
    # Same bytes as rosbags would write for the same values.
    assert bytes(rosbags_store.serialize_cdr(batch, BATCH_TYPE)) == encoded


def test_the_batcher_holds_its_samples_in_the_order_they_were_added(store: TypeStore) -> None:
    batcher = imu_batcher(store)
    added = fill(batcher, 3)
    assert len(batcher) == 3
    assert batcher.sequence == [1, 2, 3]
    assert batcher.source_time_ns == [stamp for _, stamp, _ in added]
    assert batcher.payloads == [payload for _, _, payload in added]


def test_take_batch_empties_the_batcher_and_the_next_batch_holds_only_later_samples(store: TypeStore) -> None:
    batcher = imu_batcher(store)
    fill(batcher, 3)
    batcher.take_batch(START_NS)
    assert len(batcher) == 0 and batcher.sequence == [] and batcher.payloads == []

    (added,) = fill(batcher, 1, first=9)
    second = read_batch(store, batcher.take_batch(START_NS + 103 * MS))
    assert second.samples() == [added]
    assert second.send_ns == START_NS + 103 * MS


def test_clear_drops_the_waiting_samples_without_encoding_them(store: TypeStore) -> None:
    batcher = imu_batcher(store)
    fill(batcher, 4)
    batcher.clear()
    assert len(batcher) == 0
    assert read_batch(store, batcher.take_batch(START_NS)).samples() == []  # an empty batch, still valid
