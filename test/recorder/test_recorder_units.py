"""The recorder's pure parts, without processes: retention, selection and thinning, file names,
a segment written and read back (closed, and open after a flush), the QoS and schema that
rosbags reads from it, and the fleet file's `recording:` section."""

from __future__ import annotations

import copy
import random
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from rosbags.interfaces import (
    ConnectionExtRosbag2,
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import Reader
from rosbags.rosbag2.metadata import parse_qos
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from support.config_cases import BASE_FLEET
from support.message_values import filled

from telemetry.codec import TypeStore
from telemetry.config import RecordedStreams, RecordingConfig, RetentionConfig, parse_fleet_config
from telemetry.errors import ConfigError
from telemetry.recorder.archive import RecordedSample, file_metadata, read_samples
from telemetry.recorder.layout import (
    SegmentFile,
    closed_path,
    fleet_segment_path,
    list_segments,
    part_path,
    segment_start_ns,
    vehicle_segment_path,
)
from telemetry.recorder.retention import segments_to_delete
from telemetry.recorder.segment import ChannelSpec, SegmentWriter, qos_profiles_yaml
from telemetry.recorder.selection import Selection, Thinning

IMU = "sensor_msgs/msg/Imu"
BATTERY = "sensor_msgs/msg/BatteryState"
#: 2023-11-14T22:13:20.123456789Z
T0_NS = 1_700_000_000_123_456_789
MS = 1_000_000


# -- retention -------------------------------------------------------------------------


def segment(name: str, size: int, modified_s: float, closed: bool = True) -> SegmentFile:
    return SegmentFile(Path(name), size, modified_s, closed)


def test_retention_deletes_the_oldest_closed_segments_until_under_the_size_limit() -> None:
    segments = [segment("a", 100, 1.0), segment("b", 100, 2.0, closed=False), segment("c", 100, 3.0),
                segment("d", 100, 4.0), segment("e", 100, 5.0)]
    assert segments_to_delete(segments, 250, None, 10.0) == [segments[0], segments[2], segments[3]]
    assert segments_to_delete(segments, 500, None, 10.0) == []


def test_retention_deletes_closed_segments_older_than_the_age_limit_but_never_an_open_one() -> None:
    segments = [segment("old-open", 10, 100.0, closed=False), segment("old", 10, 850.0),
                segment("exactly", 10, 900.0), segment("young", 10, 950.0)]
    assert segments_to_delete(segments, None, 100.0, 1000.0) == [segments[1]]


def test_retention_applies_both_limits_and_none_means_no_limit() -> None:
    segments = [segment("a", 100, 100.0), segment("b", 100, 990.0), segment("c", 100, 995.0)]
    assert segments_to_delete(segments, 250, 500.0, 1000.0) == [segments[0]]
    assert segments_to_delete(segments, 150, 500.0, 1000.0) == [segments[0], segments[1]]
    assert segments_to_delete(segments, None, None, 1e12) == []


def test_retention_never_deletes_a_part_file_even_when_it_alone_is_over_the_limit() -> None:
    assert segments_to_delete([segment("big.part", 10_000, 0.0, closed=False)], 1, 1.0, 1e9) == []


# -- selection and thinning ------------------------------------------------------------


def test_selection_with_no_vehicles_and_no_streams_keeps_everything_unthinned() -> None:
    assert Selection().choose("rover-01", "/anything/at/all") == (True, None)


def test_selection_keeps_only_listed_vehicles() -> None:
    chosen = Selection(vehicles=("rover-01", "rover-03"))
    assert chosen.choose("rover-01", "/imu") == (True, None)
    assert chosen.choose("rover-02", "/imu") == (False, None)


def test_selection_takes_the_rate_of_the_first_pattern_that_matches() -> None:
    chosen = Selection(streams=(RecordedStreams("/imu*", 100.0), RecordedStreams("/imu/raw", 5.0),
                                RecordedStreams("/battery")))
    assert chosen.choose("rover-01", "/imu/raw") == (True, 100.0)
    assert chosen.choose("rover-01", "/imu") == (True, 100.0)
    assert chosen.choose("rover-01", "/battery") == (True, None)
    assert chosen.choose("rover-01", "/camera") == (False, None)
    assert chosen.choose("rover-01", "/IMU") == (False, None), "patterns are case-sensitive"
    assert list(chosen.patterns()) == ["/imu*", "/imu/raw", "/battery"]


def kept_indices(thinning: Thinning, times_ns: list[int]) -> list[int]:
    return [index for index, source_ns in enumerate(times_ns) if thinning.keep(source_ns)]


def test_thinning_a_steady_1_khz_stream_to_100_hz_keeps_every_tenth_sample() -> None:
    times = [T0_NS + index * MS for index in range(1000)]
    assert kept_indices(Thinning(100.0), times) == list(range(0, 1000, 10))


def test_thinning_a_jittery_1_khz_stream_keeps_100_hz_not_fewer() -> None:
    rng = random.Random(7)
    times = [T0_NS + index * MS + rng.randint(-300_000, 300_000) for index in range(10_000)]
    kept = kept_indices(Thinning(100.0), times)
    assert 999 <= len(kept) <= 1001, "restarting from each kept sample would thin to ~95 Hz"
    gaps = {b - a for a, b in pairwise(kept)}
    assert gaps <= {9, 10, 11}


def test_thinning_restarts_its_grid_after_a_gap_instead_of_bursting() -> None:
    before = [T0_NS + index * MS for index in range(100)]
    restart_ns = before[-1] + 500 * MS + 300_000  # half a second of silence, off the old grid
    after = [restart_ns + index * MS for index in range(100)]
    kept = kept_indices(Thinning(100.0), before + after)
    assert [i - 100 for i in kept if i >= 100] == list(range(0, 100, 10))


def test_thinning_without_a_rate_or_above_the_stream_rate_keeps_every_sample() -> None:
    times = [T0_NS + index * MS for index in range(200)]
    assert kept_indices(Thinning(None), times) == list(range(200))
    assert kept_indices(Thinning(2000.0), times) == list(range(200))


# -- layout ----------------------------------------------------------------------------


def test_a_vehicle_segment_is_named_after_its_vehicle_and_utc_start_to_the_millisecond() -> None:
    path = vehicle_segment_path(Path("/rec"), "eu-west", "rover-01", T0_NS)
    assert path == Path("/rec/vehicles/eu-west/rover-01/rover-01_20231114T221320.123Z.mcap")
    assert fleet_segment_path(Path("/rec"), T0_NS) == Path("/rec/fleet/fleet_20231114T221320.123Z.mcap")
    assert part_path(path) == path.with_name(path.name + ".part")
    assert closed_path(part_path(path)) == path


@pytest.mark.parametrize("start_ns", [T0_NS, 0, 1_000_000_000_999_999_999, 2_000_000_000_000_000_000])
def test_segment_start_time_reads_back_from_the_name_to_the_millisecond(start_ns: int) -> None:
    expected = start_ns // MS * MS
    path = vehicle_segment_path(Path("/rec"), "eu-west", "rover_with_underscores", start_ns)
    assert segment_start_ns(path) == expected
    assert segment_start_ns(part_path(path)) == expected
    assert segment_start_ns(fleet_segment_path(Path("/rec"), start_ns)) == expected


@pytest.mark.parametrize("name", ["notes.mcap", "rover-01_yesterday.mcap", "rover-01_20231114T221320Z.mcap"])
def test_a_name_this_layout_did_not_make_has_no_start_time(name: str) -> None:
    assert segment_start_ns(Path(name)) is None


def test_list_segments_gives_closed_and_open_segments_of_every_vehicle_oldest_first(tmp_path: Path) -> None:
    made = [
        part_path(vehicle_segment_path(tmp_path, "us-east", "rover-03", T0_NS + 2000 * MS)),
        vehicle_segment_path(tmp_path, "eu-west", "rover-01", T0_NS + 3000 * MS),
        fleet_segment_path(tmp_path, T0_NS),
        vehicle_segment_path(tmp_path, "eu-west", "rover-01", T0_NS + 1000 * MS),
    ]
    for size, path in enumerate(made, start=1):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    (made[1].parent / "notes.txt").write_text("not a segment")
    (made[1].parent / "rover-01_20231114T221325.000Z.mcap.repairing").write_bytes(b"")
    found = list_segments(tmp_path)
    assert [s.path for s in found] == [made[2], made[3], made[0], made[1]]
    assert [(s.size, s.closed) for s in found] == [(3, True), (4, True), (1, False), (2, True)]
    assert list_segments(tmp_path / "nothing-here") == []


# -- a segment written and read back ---------------------------------------------------


def sample_stream(store: TypeStore, count: int) -> list[RecordedSample]:
    """Interleaved Imu and BatteryState samples with real CDR, every value drawn from a seeded rng."""
    rng = random.Random(11)
    samples = []
    for index in range(count):
        topic, ros_type = ("/battery", BATTERY) if index % 4 == 3 else ("/imu", IMU)
        receive_ns = T0_NS + index * MS + rng.randint(0, 400_000)
        source_ns = receive_ns - rng.randint(100_000, 900_000)
        data = store.encode(filled(store, ros_type, rng, array_len=2))
        samples.append(RecordedSample(topic, ros_type, receive_ns, source_ns, index + 1, data))
    return samples


def open_segment(folder: Path, store: TypeStore, metadata: dict[str, str]) -> SegmentWriter:
    writer = SegmentWriter(vehicle_segment_path(folder, "eu-west", "rover-01", T0_NS), store, metadata, T0_NS)
    writer.add_channel(ChannelSpec("/imu", IMU))
    writer.add_channel(ChannelSpec("/battery", BATTERY, reliable=True, depth=10))
    return writer


def write_all(writer: SegmentWriter, samples: list[RecordedSample]) -> None:
    for s in samples:
        writer.write(s.topic, s.receive_ns, s.source_ns, s.sequence, s.data)


def test_a_closed_segment_reads_back_every_sample_as_written(tmp_path: Path, store: TypeStore) -> None:
    samples = sample_stream(store, 400)
    metadata = {"recorder": "unit", "region": "eu-west", "vehicle": "rover-01"}
    writer = open_segment(tmp_path, store, metadata)
    write_all(writer, samples)
    closed = writer.close()
    assert closed.is_file() and not writer.part.exists()
    assert list(read_samples(closed)) == samples
    assert list(read_samples(closed, topics={"/battery"})) == [s for s in samples if s.topic == "/battery"]
    first, last = samples[100].receive_ns, samples[199].receive_ns
    assert list(read_samples(closed, start_ns=first, end_ns=last)) == samples[100:200], "both ends inclusive"
    assert file_metadata(closed) == metadata


def test_an_open_segment_reads_back_what_was_flushed_and_nothing_after(tmp_path: Path, store: TypeStore) -> None:
    samples = sample_stream(store, 300)
    writer = open_segment(tmp_path, store, {"recorder": "unit"})
    write_all(writer, samples[:200])
    writer.flush()
    write_all(writer, samples[200:])
    assert list(read_samples(writer.part)) == samples[:200]
    assert list(read_samples(writer.part, topics={"/imu"}, start_ns=samples[50].receive_ns)) == [
        s for s in samples[50:200] if s.topic == "/imu"]
    writer.flush()
    assert list(read_samples(writer.part)) == samples
    assert file_metadata(writer.part) == {"recorder": "unit"}
    assert list(read_samples(writer.close())) == samples


def test_a_sequence_beyond_32_bits_is_recorded_modulo_2_pow_32(tmp_path: Path, store: TypeStore) -> None:
    writer = open_segment(tmp_path, store, {})
    data = store.encode(store.new(IMU))
    writer.write("/imu", T0_NS, T0_NS, 2**32 + 7, data)
    assert [s.sequence for s in read_samples(writer.close())] == [7]


# -- what rosbags reads from it --------------------------------------------------------


def expected_qos(reliability: QosReliability, depth: int) -> Qos:
    zero = QosTime(0, 0)
    return Qos(QosHistory.KEEP_LAST, depth, reliability, QosDurability.VOLATILE, zero, zero,
               QosLiveliness.AUTOMATIC, zero, False)


def test_offered_qos_profiles_are_rosbag2_yaml_that_rosbags_parses() -> None:
    assert parse_qos(qos_profiles_yaml(True, 10)) == [expected_qos(QosReliability.RELIABLE, 10)]
    assert parse_qos(qos_profiles_yaml(False, 5)) == [expected_qos(QosReliability.BEST_EFFORT, 5)]


def test_rosbags_reads_each_topics_qos_type_and_messages_from_a_segment(
    tmp_path: Path, store: TypeStore, rosbags_store: Any
) -> None:
    samples = sample_stream(store, 40)
    writer = open_segment(tmp_path, store, {})
    write_all(writer, samples)
    with Reader(writer.close()) as reader:
        connections = {c.topic: c for c in reader.connections}
        assert {t: c.msgtype for t, c in connections.items()} == {"/imu": IMU, "/battery": BATTERY}
        offered = {}
        for topic, connection in connections.items():
            assert isinstance(connection.ext, ConnectionExtRosbag2), topic
            offered[topic] = connection.ext.offered_qos_profiles
        assert offered == {"/imu": [expected_qos(QosReliability.BEST_EFFORT, 5)],
                           "/battery": [expected_qos(QosReliability.RELIABLE, 10)]}
        read = [(c.topic, t, data) for c, t, data in reader.messages()]
    assert read == [(s.topic, s.receive_ns, s.data) for s in samples]
    battery = next(s for s in samples if s.topic == "/battery")
    decoded = rosbags_store.deserialize_cdr(battery.data, BATTERY)
    assert decoded.voltage == pytest.approx(store.decode(BATTERY, battery.data).voltage)


def test_the_full_imu_definition_builds_rosbags_types_that_decode_our_cdr(store: TypeStore) -> None:
    definition = store.full_definition(IMU)
    dependencies = sorted(line for line in definition.splitlines() if line.startswith("MSG: "))
    rosbags_own, _ = get_typestore(Stores.ROS2_JAZZY).generate_msgdef(IMU, ros_version=2)
    assert dependencies == sorted(line for line in rosbags_own.splitlines() if line.startswith("MSG: "))
    assert re.search(r"^={80}$", definition, re.MULTILINE), "rosbag2's separator line"

    types = get_types_from_msg(definition, IMU)
    assert set(types) == {IMU, "std_msgs/msg/Header", "builtin_interfaces/msg/Time",
                          "geometry_msgs/msg/Quaternion", "geometry_msgs/msg/Vector3"}
    typestore = get_typestore(Stores.EMPTY)
    typestore.register(types)
    ours = filled(store, IMU, random.Random(3), array_len=0)
    theirs: Any = typestore.deserialize_cdr(store.encode(ours), IMU)
    assert (theirs.header.stamp.sec, theirs.header.stamp.nanosec, theirs.header.frame_id) == (
        ours.header.stamp.sec, ours.header.stamp.nanosec, ours.header.frame_id)
    assert (theirs.orientation.w, theirs.linear_acceleration.z) == (ours.orientation.w, ours.linear_acceleration.z)
    np.testing.assert_array_equal(theirs.angular_velocity_covariance, np.array(ours.angular_velocity_covariance))


# -- the fleet file's `recording:` section ---------------------------------------------


def parse_recording(recording: object, store: TypeStore) -> RecordingConfig:
    """The `recording:` section of a valid fleet given `recording` (None: the key left empty)."""
    fleet = copy.deepcopy(BASE_FLEET)
    fleet["recording"] = recording
    return parse_fleet_config(yaml.safe_dump(fleet, sort_keys=False), "fleet.yaml", store).recording


def test_recording_section_values_are_read_and_topics_get_a_leading_slash(store: TypeStore) -> None:
    recording = parse_recording({
        "folder": "/data/recordings", "segment_s": 60, "segment_mb": 100,
        "retention": {"max_total_mb": 2000, "max_age_h": 48},
        "streams": [{"topic": "imu", "max_rate_hz": 100}, {"topic": "/battery*"}],
        "vehicles": ["rover-01", "rover-03"],
    }, store)
    assert recording == RecordingConfig(
        "/data/recordings", 60.0, 100.0, RetentionConfig(2000.0, 48.0),
        (RecordedStreams("/imu", 100.0), RecordedStreams("/battery*", None)), ("rover-01", "rover-03"))


def test_an_empty_or_missing_recording_section_keeps_the_defaults(store: TypeStore) -> None:
    assert parse_recording({}, store) == RecordingConfig()
    assert parse_recording(None, store) == RecordingConfig()
    fleet_without = yaml.safe_dump(BASE_FLEET, sort_keys=False)
    assert parse_fleet_config(fleet_without, "fleet.yaml", store).recording == RecordingConfig()


@pytest.mark.parametrize(("recording", "message"), [
    ({"segment_s": 0}, "recording.segment_s: must be > 0, got 0"),
    ({"segment_mb": -5}, "recording.segment_mb: must be > 0, got -5"),
    ({"segment_s": "ten"}, "recording.segment_s: must be a number, got 'ten'"),
    ({"folder": ""}, "recording.folder: must be a non-empty string, got ''"),
    ({"segment_sec": 10}, "recording.segment_sec: unknown field (expected one of: folder, segment_s, segment_mb, "
                          "retention, streams, vehicles); did you mean 'segment_s'?"),
    ({"retention": {"max_total_mb": -1}}, "recording.retention.max_total_mb: must be > 0, got -1"),
    ({"retention": {"keep": 3}}, "recording.retention.keep: unknown field (expected one of: max_total_mb, max_age_h)"),
    ({"streams": []}, "recording.streams: must list at least one stream"),
    ({"streams": [{"max_rate_hz": 5}]}, "recording.streams[0].topic: missing"),
    ({"streams": [{"topic": "/imu", "max_rate_hz": 0}]}, "recording.streams[0].max_rate_hz: must be > 0, got 0"),
    ({"vehicles": ["rover-99"]},
     "recording.vehicles: unknown vehicle 'rover-99' (known: rover-01, rover-02, rover-03)"),
    ({"vehicles": ["bad*name"]}, "recording.vehicles[0]: vehicle 'bad*name': must not contain '*'"),
])
def test_a_bad_recording_section_is_an_error_naming_the_file_and_path(
    recording: object, message: str, store: TypeStore
) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape('fleet.yaml: ' + message)}$"):
        parse_recording(recording, store)


def test_the_fast_raw_writer_writes_byte_for_byte_what_the_mcap_library_writes() -> None:
    import io

    from mcap.writer import Writer

    from telemetry.recorder.segment import RawMessageWriter

    def written(writer_class: type[Writer]) -> bytes:
        out = io.BytesIO()
        writer = writer_class(out, chunk_size=4096)  # small chunks: several chunks and their indexes
        writer.start(profile="ros2", library="test")
        schema = writer.register_schema("sensor_msgs/msg/Imu", "ros2msg", b"float64 x\n")
        channels = [writer.register_channel(topic, "cdr", schema, {"k": "v"}) for topic in ("/a", "/b", "/c")]
        for i in range(500):
            # out-of-order log times too: the statistics and chunk bounds must track min and max
            log_time = 1_000_000_000 + i * 1000 - (7000 if i % 17 == 0 else 0)
            writer.add_message(channels[i % 3], log_time, bytes([i % 256]) * (i % 40), log_time - 500, i)
            if i == 250:
                writer.flush()
        writer.finish()
        return out.getvalue()

    assert written(RawMessageWriter) == written(Writer)
