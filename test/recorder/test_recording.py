"""A running fleet recorded to MCAP: files that ROS 2 tools open, holding exactly what was sent.

One fleet for the module, the demo's own parts (telemetry.demo.plan) on free ports with a ROS
domain per vehicle: the cloud router, the eu-west and us-east routers, the aggregator, the
recorder, and two vehicles (rover-01 in eu-west, rover-03 in us-east; the shipped fleet's
third vehicle is left out to keep a 2-core machine from falling behind) publishing the
shipped streams: /imu 1 kHz in 3 ms batches, /odom 100 Hz, /gnss 10 Hz, /battery 1 Hz.

Beside the recorder, the test's own Zenoh subscriber on the cloud router keeps every data
message it gets. After ~10 s the recorder is stopped with SIGTERM (so every segment closes),
then the rest. The files are then read with two independent readers (rosbags' rosbag2 reader
and the `mcap` library) and compared, stream by stream, with what the subscriber saw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
import zenoh
from mcap.reader import make_reader
from rosbags.interfaces import ConnectionExtRosbag2, QosHistory, QosReliability
from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from support.fleet_files import shipped_fleet_on_free_ports
from support.recorder_side import start_recorder, stop_recorder
from support.zenoh_net import ClientSessions

from telemetry.codec import TypeStore
from telemetry.codec.attachment import unpack_fields
from telemetry.codec.batch import is_batch, read_batch
from telemetry.codec.names import FLEET_STATUS, VEHICLE_STATS
from telemetry.config import FleetConfig, load_fleet_config
from telemetry.demo.plan import PartKind, aggregator_part, router_parts, vehicle_parts
from telemetry.demo.supervisor import Supervisor
from telemetry.keys import KeySpace
from telemetry.recorder.layout import list_segments

#: The shipped vehicles kept: one per region.
VEHICLES = ("rover-01", "rover-03")
#: About 10 s of recording: the 1 Hz stream has sent this many samples to the test's subscriber.
BATTERY_SAMPLES = 10
START_TIMEOUT_S = 60.0
RECORD_TIMEOUT_S = 60.0
#: What a stream's compared interval must at least hold: 4 s at its rate, at half that rate
#: (a slow host runs the fleet below rate; the point is that the interval is not trivial).
MIN_COMPARED_S = 2.0
TYPES = {"/imu": "sensor_msgs/msg/Imu", "/odom": "nav_msgs/msg/Odometry", "/gnss": "sensor_msgs/msg/NavSatFix",
         "/battery": "sensor_msgs/msg/BatteryState"}

# (sequence, source time ns, CDR bytes) of one sample, as the bridge sent it or the recorder wrote it.
Sample = tuple[int, int, bytes]
# (region, vehicle, topic)
Stream = tuple[str, str, str]


@dataclass(frozen=True)
class Arrival:
    """One data message as the test's subscriber got it, kept raw (the callback only records)."""

    key: str
    payload: bytes
    attachment: bytes | None
    encoding: str


@dataclass(frozen=True)
class RecordedFleet:
    """What the module's fleet left behind: the recorder's folder, and the subscriber's messages."""

    fleet: FleetConfig
    folder: Path
    arrivals: list[Arrival]

    def vehicle_file(self, region: str, vehicle: str) -> Path:
        [path] = sorted((self.folder / "vehicles" / region / vehicle).glob("*.mcap"))
        return path

    def fleet_file(self) -> Path:
        [path] = sorted((self.folder / "fleet").glob("*.mcap"))
        return path


def two_vehicle_fleet(path: Path) -> Path:
    """The shipped fleet on free ports, fresh ROS domains, with the vehicles in VEHICLES only."""
    shipped_fleet_on_free_ports(path)
    fleet = yaml.safe_load(path.read_text(encoding="utf-8"))
    fleet["vehicles"] = [vehicle for vehicle in fleet["vehicles"] if vehicle["name"] in VEHICLES]
    assert [vehicle["name"] for vehicle in fleet["vehicles"]] == list(VEHICLES)
    path.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
    return path


def sent_samples(arrivals: list[Arrival], keys: KeySpace, store: TypeStore) -> dict[Stream, list[Sample]]:
    """Every sample the subscriber got, by stream, in arrival order; batches split into their samples."""
    streams: dict[Stream, list[Sample]] = defaultdict(list)
    for arrival in arrivals:
        parsed = keys.parse(arrival.key)
        assert parsed.region is not None and parsed.vehicle is not None and parsed.topic is not None
        samples = streams[(parsed.region, parsed.vehicle, parsed.topic)]
        if arrival.attachment is None:
            assert is_batch(arrival.encoding), f"{arrival.key}: no attachment, and not a batch: {arrival.encoding}"
            samples.extend(read_batch(store, arrival.payload).samples())
        else:
            _, sequence, source_ns, _ = unpack_fields(arrival.attachment)
            samples.append((sequence, source_ns, arrival.payload))
    return streams


def recorded_samples(path: Path) -> dict[str, list[Sample]]:
    """Every message of a segment by topic, in the order written: (MCAP sequence, publish_time, data)."""
    topics: dict[str, list[Sample]] = defaultdict(list)
    with path.open("rb") as stream:
        for _, channel, message in make_reader(stream).iter_messages(log_time_order=False):
            topics[channel.topic].append((message.sequence, message.publish_time, message.data))
    return topics


def overlap(sent: list[Sample], recorded: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """Both lists cut to the sequence interval both cover (the recorder starts and stops at
    slightly different moments than the test's subscriber)."""
    low = max(sent[0][0], recorded[0][0])
    high = min(sent[-1][0], recorded[-1][0])
    return ([s for s in sent if low <= s[0] <= high], [s for s in recorded if low <= s[0] <= high])


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordedFleet]:
    """The fleet up, recorded for ~10 s; the recorder stopped by SIGTERM, then everything else."""
    folder = tmp_path_factory.mktemp("recording")
    config_path = two_vehicle_fleet(folder / "fleet.yaml")
    fleet = load_fleet_config(config_path)
    keys = KeySpace(fleet.key_root)
    supervisor = Supervisor(folder / "logs")
    supervisor.log_dir.mkdir()
    sessions = ClientSessions()
    arrivals: list[Arrival] = []

    def record(sample: zenoh.Sample) -> None:
        attachment = sample.attachment
        arrivals.append(Arrival(str(sample.key_expr), sample.payload.to_bytes(),
                                None if attachment is None else attachment.to_bytes(), str(sample.encoding)))

    try:
        for part in router_parts(fleet):
            supervisor.wait_for_line(supervisor.start(part), " listening on ", START_TIMEOUT_S)
        supervisor.wait_for_line(supervisor.start(aggregator_part(fleet, config_path)), " ready", START_TIMEOUT_S)
        recorder = start_recorder(supervisor, config_path, folder / "recording")
        session = sessions.open(fleet.cloud.listen[0], timeout_s=30.0)
        subscriber = session.declare_subscriber(f"{keys.root}/data/**", record)
        vehicles = []
        for vehicle in fleet.vehicles:
            for part in vehicle_parts(vehicle, config_path):
                child = supervisor.start(part)
                vehicles.append(child)
                if part.kind is PartKind.BRIDGE:
                    supervisor.wait_for_line(child, "forwarding ", START_TIMEOUT_S)

        def battery_samples() -> dict[str, int]:
            counts = dict.fromkeys(VEHICLES, 0)
            for arrival in list(arrivals):
                parsed = keys.parse(arrival.key)
                if parsed.topic == "/battery" and parsed.vehicle in counts:
                    counts[parsed.vehicle] += 1
            return counts

        supervisor.wait_for_any(
            [*vehicles, recorder],
            lambda: "yes" if min(battery_samples().values()) >= BATTERY_SAMPLES else None,
            RECORD_TIMEOUT_S, f"{BATTERY_SAMPLES} /battery samples of every vehicle", interval_s=0.2)
        stop_recorder(recorder)
        subscriber.undeclare()
        supervisor.stop_all()
        yield RecordedFleet(fleet, folder / "recording", arrivals)
    finally:
        sessions.close_all()
        supervisor.stop_all()


def test_every_segment_opens_in_rosbags_and_mcap_as_a_ros2_bag(recorded: RecordedFleet) -> None:
    segments = list_segments(recorded.folder)
    assert segments and all(segment.closed for segment in segments), [s.path.name for s in segments]
    vehicle_files = {recorded.vehicle_file(v.region, v.name): v for v in recorded.fleet.vehicles}
    assert sorted(s.path for s in segments) == sorted([*vehicle_files, recorded.fleet_file()])
    for path in sorted(s.path for s in segments):
        vehicle = vehicle_files.get(path)
        count = check_rosbags_reads(path, reliable=vehicle is None)
        check_mcap_reads(path, count)
        metadata = mcap_metadata(path)
        if vehicle is not None:
            assert (metadata.get("region"), metadata.get("vehicle")) == (vehicle.region, vehicle.name), metadata
            assert count_by_topic(path).keys() == TYPES.keys()
        else:
            assert "vehicle" not in metadata, metadata


def check_rosbags_reads(path: Path, reliable: bool) -> int:
    """rosbags' rosbag2 Reader opens the single file; every topic is CDR with the QoS it was
    offered; rosbags' message count is what it reads. That count."""
    with Reader(path) as reader:
        assert reader.connections, f"{path.name}: no topics"
        for connection in reader.connections:
            assert isinstance(connection.ext, ConnectionExtRosbag2), connection
            assert connection.ext.serialization_format == "cdr"
            [qos] = connection.ext.offered_qos_profiles
            expected = QosReliability.RELIABLE if reliable else QosReliability.BEST_EFFORT
            assert (qos.reliability, qos.history) == (expected, QosHistory.KEEP_LAST), (path.name, connection.topic)
            assert qos.depth >= 1
            if connection.topic in TYPES:
                assert connection.msgtype == TYPES[connection.topic]
        count = sum(1 for _ in reader.messages())
        assert count == reader.message_count > 0
    return count


def check_mcap_reads(path: Path, rosbags_count: int) -> None:
    """The `mcap` reader: profile ros2, CDR channels with their QoS, ros2msg schemas whose text
    alone builds types that decode every message, statistics that count them."""
    with path.open("rb") as stream:
        reader = make_reader(stream)
        assert reader.get_header().profile == "ros2"
        summary = reader.get_summary()
        assert summary is not None and summary.statistics is not None
        typestores: dict[int, Any] = {}
        for schema in summary.schemas.values():
            assert schema.encoding == "ros2msg", schema.name
            typestore = get_typestore(Stores.EMPTY)  # nothing but the file's own schema text
            typestore.register(get_types_from_msg(schema.data.decode(), schema.name))
            typestores[schema.id] = typestore
        for channel in summary.channels.values():
            assert channel.message_encoding == "cdr", channel.topic
            assert "offered_qos_profiles" in channel.metadata, channel.topic
        counts: dict[int, int] = defaultdict(int)
        for message_schema, channel, message in reader.iter_messages(log_time_order=False):
            assert message_schema is not None
            typestores[message_schema.id].deserialize_cdr(message.data, message_schema.name)
            counts[channel.id] += 1
    statistics = summary.statistics
    assert statistics.message_count == sum(counts.values()) == rosbags_count
    assert dict(statistics.channel_message_counts) == dict(counts)


def mcap_metadata(path: Path) -> dict[str, str]:
    """The file's `telemetry` metadata record."""
    with path.open("rb") as stream:
        records = [record for record in make_reader(stream).iter_metadata() if record.name == "telemetry"]
    assert len(records) == 1, f"{path.name}: {len(records)} `telemetry` metadata records"
    return dict(records[0].metadata)


def count_by_topic(path: Path) -> dict[str, int]:
    return {topic: len(samples) for topic, samples in recorded_samples(path).items()}


def test_recorded_samples_equal_what_the_bridges_sent_byte_for_byte(recorded: RecordedFleet, store: TypeStore) -> None:
    sent = sent_samples(recorded.arrivals, KeySpace(recorded.fleet.key_root), store)
    for vehicle in recorded.fleet.vehicles:
        in_file = recorded_samples(recorded.vehicle_file(vehicle.region, vehicle.name))
        for config in vehicle.streams:
            name = f"{vehicle.region}/{vehicle.name}{config.topic}"
            seen, written = sent[(vehicle.region, vehicle.name, config.topic)], in_file[config.topic]
            assert seen and written, f"{name}: {len(seen)} samples sent, {len(written)} recorded"
            seen, written = overlap(seen, written)
            assert len(seen) >= config.rate_hz * MIN_COMPARED_S, f"{name}: only {len(seen)} samples to compare"
            assert [s[0] for s in written] == [s[0] for s in seen], f"{name}: MCAP sequence != the bridge's"
            assert [s[1] for s in written] == [s[1] for s in seen], f"{name}: publish_time != the source time"
            assert written == seen, f"{name}: recorded bytes differ from what the bridge sent"


def test_fleet_file_holds_the_aggregator_stats_decodable(recorded: RecordedFleet, store: TypeStore) -> None:
    with recorded.fleet_file().open("rb") as stream:
        messages = [(schema.name if schema else "", channel.topic, message.data)
                    for schema, channel, message in make_reader(stream).iter_messages()]
    stats_topics = {f"/{v.region}/{v.name}/stats": v for v in recorded.fleet.vehicles}
    assert {topic for _, topic, _ in messages} == {"/fleet", *stats_topics}
    for type_name, topic, data in messages:
        if topic == "/fleet":
            assert type_name == FLEET_STATUS
            status = store.decode(FLEET_STATUS, data)
            assert set(status.vehicles) <= {f"{v.region}/{v.name}" for v in recorded.fleet.vehicles}
        else:
            assert type_name == VEHICLE_STATS
            stats = store.decode(VEHICLE_STATS, data)
            vehicle = stats_topics[topic]
            assert (stats.region, stats.vehicle) == (vehicle.region, vehicle.name)
    assert any(set(store.decode(FLEET_STATUS, data).vehicles) == {f"{v.region}/{v.name}"
                                                                  for v in recorded.fleet.vehicles}
               for _, topic, data in messages if topic == "/fleet"), "no /fleet message knows both vehicles"
