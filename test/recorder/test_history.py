"""The recorder's history queryable, asked over Zenoh the way a user asks it.

One real cloud router and one real recorder process serve the whole module; each test feeds
the recorder from a small publisher of its own (real Imu CDR with real 32-byte attachments,
on `telemetry/data/eu-west/<vehicle>/imu`, one vehicle per test), so every check knows the
exact samples that went in. Receive times are the recorder's own: a test learns them by first
asking for everything (`_time=[..]`), then picks its bounds between them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
import zenoh
from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from support.fleet_files import DEFAULT_STREAMS, next_domain_id
from support.processes import ProcessGroup, free_port, wait_until
from support.recorder_side import start_recorder, stop_recorder
from support.zenoh_net import ClientSessions

from telemetry.codec import TypeStore
from telemetry.codec.attachment import FLAG_STAMP_FROM_HEADER, pack_fields, unpack_fields
from telemetry.codec.stamp import ns_to_stamp
from telemetry.config import load_fleet_config
from telemetry.demo.plan import router_parts
from telemetry.demo.supervisor import Supervisor
from telemetry.recorder.layout import PART_SUFFIX
from telemetry.recorder.time_range import format_instant

IMU = "sensor_msgs/msg/Imu"
REGION = "eu-west"
#: One vehicle per test, so no test sees another's samples.
RANGE_VEHICLE = "rover-range"
RECENT_VEHICLE = "rover-recent"
LIMIT_VEHICLE = "rover-limit"
CLI_VEHICLE = "rover-cli"
WARMUP_VEHICLE = "rover-warmup"
VEHICLES = (RANGE_VEHICLE, RECENT_VEHICLE, LIMIT_VEHICLE, CLI_VEHICLE, WARMUP_VEHICLE)
#: The second recorder's key root: its history never mixes with the module recorder's.
LIMITED_ROOT = "limited"
QUERY_LIMIT = 50
#: Generous for a slow 2-core machine: how long samples may take to be on disk and served.
SERVED_TIMEOUT_S = 30.0
QUERY_TIMEOUT_S = 20.0
_IMU_ENCODING = zenoh.Encoding.APPLICATION_CDR.with_schema(IMU)


@dataclass(frozen=True)
class Published:
    """One sample the test put: its sequence, source time (its header.stamp) and CDR bytes."""

    sequence: int
    source_ns: int
    data: bytes


@dataclass(frozen=True)
class Served:
    """One ok reply of a history query, its attachment read back."""

    key: str
    encoding: str
    sequence: int
    source_ns: int
    receive_ns: int  # the recorder's receive time, in the attachment's send-time field
    flags: int
    data: bytes


@dataclass(frozen=True)
class Answer:
    """Every reply to one query, in arrival order: samples, and the error texts after them."""

    samples: list[Served]
    errors: list[str]
    ok_after_error: bool  # an ok reply arrived after an error reply


@dataclass(frozen=True)
class Rig:
    """The module's router and recorder, a client session of the router, and what they need."""

    config_path: Path
    folder: Path  # the recorder's --folder
    session: zenoh.Session
    supervisor: Supervisor
    store: TypeStore


def write_fleet(path: Path, cloud_endpoint: str, key_root: str = "telemetry") -> Path:
    """A one-region fleet of this module's vehicles, the cloud router on `cloud_endpoint`."""
    fleet = {
        "key_root": key_root,
        "cloud": {"router": {"listen": [cloud_endpoint]}},
        "regions": [{"name": REGION, "router": {"listen": [f"tcp/127.0.0.1:{free_port()}"]}}],
        "vehicles": [{"name": name, "region": REGION, "ros_domain_id": next_domain_id(),
                      "streams": [dict(s) for s in DEFAULT_STREAMS]} for name in VEHICLES],
    }
    path.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
    return path


class ImuPublisher:
    """Puts numbered Imu samples on one vehicle's data key, each with the bridge's attachment."""

    def __init__(self, session: zenoh.Session, store: TypeStore, vehicle: str, root: str = "telemetry") -> None:
        self._session = session
        self._store = store
        self._vehicle = vehicle
        self.key = f"{root}/data/{REGION}/{vehicle}/imu"
        self.published: list[Published] = []

    def put(self) -> Published:
        sequence = len(self.published) + 1
        source_ns = time.time_ns()
        sec, nanosec = ns_to_stamp(source_ns)
        store = self._store
        header = store.new("std_msgs/msg/Header", stamp=store.new("builtin_interfaces/msg/Time", sec=sec,
                                                                  nanosec=nanosec),
                           frame_id=f"{self._vehicle}/imu_link")
        imu = store.new(IMU, header=header,
                        linear_acceleration=store.new("geometry_msgs/msg/Vector3", x=sequence * 0.001, y=0.0, z=9.81))
        sample = Published(sequence, source_ns, store.encode(imu))
        attachment = pack_fields(sequence, source_ns, time.time_ns(), stamp_from_header=True)
        self._session.put(self.key, sample.data, encoding=_IMU_ENCODING, attachment=attachment)
        self.published.append(sample)
        return sample

    def put_many(self, count: int, period_s: float = 0.002) -> list[Published]:
        """`count` samples about `period_s` apart (so their receive times differ)."""
        deadline = time.monotonic()
        for _ in range(count):
            self.put()
            deadline += period_s
            time.sleep(max(0.0, deadline - time.monotonic()))
        return self.published


def ask(session: zenoh.Session, selector: str, timeout_s: float = QUERY_TIMEOUT_S) -> Answer:
    """Every reply to `selector` from every recorder, unconsolidated, as `telemetry history` asks."""
    replies = session.get(selector, target=zenoh.QueryTarget.ALL, consolidation=zenoh.ConsolidationMode.NONE,
                          timeout=timeout_s)
    samples: list[Served] = []
    errors: list[str] = []
    ok_after_error = False
    for reply in replies:
        sample = reply.ok
        if sample is None:
            error = reply.err
            errors.append(error.payload.to_string() if error is not None else "(an error reply without a payload)")
            continue
        ok_after_error = ok_after_error or bool(errors)
        assert sample.attachment is not None, f"{sample.key_expr}: a history reply without its attachment"
        flags, sequence, source_ns, receive_ns = unpack_fields(sample.attachment.to_bytes())
        samples.append(Served(str(sample.key_expr), str(sample.encoding), sequence, source_ns, receive_ns, flags,
                              sample.payload.to_bytes()))
    return Answer(samples, errors, ok_after_error)


def history_key(vehicle: str, root: str = "telemetry") -> str:
    return f"{root}/history/{REGION}/{vehicle}/imu"


def wait_for_all(session: zenoh.Session, vehicle: str, count: int) -> list[Served]:
    """Ask for everything of `vehicle` until the recorder serves `count` samples; those samples."""
    last: list[Answer] = []

    def served() -> bool:
        answer = ask(session, f"{history_key(vehicle)}?_time=[..]")
        last[:] = [answer]
        return len(answer.samples) >= count or bool(answer.errors)

    wait_until(served, SERVED_TIMEOUT_S, interval_s=0.1)
    answer = last[0]
    assert not answer.errors, answer.errors
    assert len(answer.samples) == count, f"the recorder serves {len(answer.samples)} of {count} samples"
    return answer.samples


def wait_until_recording(session: zenoh.Session, store: TypeStore, root: str = "telemetry") -> None:
    """Put warm-up samples until the recorder under `root` serves one: its subscription and
    queryable have reached the router (a put just after its ready line may still miss it)."""
    warmup = ImuPublisher(session, store, WARMUP_VEHICLE, root)

    def served() -> bool:
        warmup.put()
        return bool(ask(session, f"{history_key(WARMUP_VEHICLE, root)}?_time=[..]").samples)

    assert wait_until(served, SERVED_TIMEOUT_S, interval_s=0.2), f"the recorder of {root}/** never served a sample"


def assert_served_as_published(served: list[Served], published: list[Published], vehicle: str) -> None:
    """The replies are the published samples in order: key, encoding, bytes, sequence, source time."""
    assert [s.sequence for s in served] == [p.sequence for p in published]
    assert [s.data for s in served] == [p.data for p in published]
    assert [s.source_ns for s in served] == [p.source_ns for p in published]
    assert {s.key for s in served} == {history_key(vehicle)}
    assert {s.encoding for s in served} == {f"application/cdr;{IMU}"}
    assert all(s.flags & FLAG_STAMP_FROM_HEADER for s in served), "Imu's source time is its header.stamp"
    receive = [s.receive_ns for s in served]
    assert receive == sorted(receive), "replies go out in receive order"


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, store: TypeStore) -> Iterator[Rig]:
    """A cloud router, the recorder, and a client session; the recorder is known to be
    recording and serving (a warm-up sample came back) before any test runs."""
    folder = tmp_path_factory.mktemp("history")
    config_path = write_fleet(folder / "fleet.yaml", f"tcp/127.0.0.1:{free_port()}")
    fleet = load_fleet_config(config_path)
    supervisor = Supervisor(folder / "logs")
    supervisor.log_dir.mkdir()
    sessions = ClientSessions()
    try:
        cloud = supervisor.start(router_parts(fleet)[0])
        supervisor.wait_for_line(cloud, " listening on ", 60.0)
        start_recorder(supervisor, config_path, folder / "recording")
        session = sessions.open(fleet.cloud.listen[0], timeout_s=30.0)
        wait_until_recording(session, store)
        yield Rig(config_path, folder / "recording", session, supervisor, store)
    finally:
        sessions.close_all()
        supervisor.stop_all()


def test_time_range_of_instants_returns_exactly_the_samples_received_in_it(rig: Rig) -> None:
    published = ImuPublisher(rig.session, rig.store, RANGE_VEHICLE).put_many(60)
    everything = wait_for_all(rig.session, RANGE_VEHICLE, len(published))
    assert_served_as_published(everything, published, RANGE_VEHICLE)
    receive = [s.receive_ns for s in everything]
    first, last = 15, 44
    assert receive[first - 1] < receive[first] and receive[last] < receive[last + 1]

    def between(start_ns: int, end_ns: int, brackets: str = "[]") -> list[Served]:
        selector = f"{history_key(RANGE_VEHICLE)}?_time={brackets[0]}{format_instant(start_ns)}.." \
                   f"{format_instant(end_ns)}{brackets[1]}"
        answer = ask(rig.session, selector)
        assert not answer.errors, answer.errors
        return answer.samples

    # Bounds between samples: exactly the ones inside.
    start_ns = (receive[first - 1] + receive[first] + 1) // 2
    end_ns = (receive[last] + receive[last + 1]) // 2
    assert between(start_ns, end_ns) == everything[first:last + 1]
    # Bounds on samples: `[` and `]` include them, `]` and `[` facing outward exclude them.
    assert between(receive[first], receive[last]) == everything[first:last + 1]
    assert between(receive[first], receive[last], "][") == everything[first + 1:last]
    # A range between two samples holds none.
    assert between(receive[first - 1] + 1, receive[first] - 1) == []


def test_now_relative_range_serves_the_last_seconds_of_the_open_segment(rig: Rig) -> None:
    publisher = ImuPublisher(rig.session, rig.store, RECENT_VEHICLE)
    stop = threading.Event()

    def publish() -> None:  # 100 Hz until the test has asked
        while not stop.wait(0.01):
            publisher.put()

    thread = threading.Thread(target=publish, name="recent-publisher", daemon=True)
    thread.start()
    try:
        # Older samples than the window must exist, and must be left out.
        assert wait_until(lambda: len(publisher.published) >= 350, 30.0, interval_s=0.05)
        before_ns = time.time_ns()
        recent = ask(rig.session, f"{history_key(RECENT_VEHICLE)}?_time=[now(-2s)..]")
        after_ns = time.time_ns()
        vehicle_files = sorted(p.name for p in (rig.folder / "vehicles" / REGION / RECENT_VEHICLE).iterdir())
    finally:
        stop.set()
        thread.join(5.0)
    assert vehicle_files and all(name.endswith(PART_SUFFIX) for name in vehicle_files), \
        f"the samples must have come from the open segment, before any closed: {vehicle_files}"
    assert not recent.errors, recent.errors
    assert recent.samples, "nothing from the last 2 s while the publisher runs"

    everything = wait_for_all(rig.session, RECENT_VEHICLE, len(publisher.published))
    assert_served_as_published(everything, publisher.published, RECENT_VEHICLE)
    # `now` is the recorder's clock when it answers: after `before_ns`, before `after_ns`.
    assert min(s.receive_ns for s in recent.samples) >= before_ns - 2_000_000_000
    assert len(recent.samples) < len(everything), "samples older than 2 s were served"
    # Contiguous: a suffix of the recording, up to about the time of the query (the recorder
    # writes what arrived every 20 ms; 0.5 s of slack for a busy machine).
    start = everything.index(recent.samples[0])
    assert recent.samples == everything[start:start + len(recent.samples)]
    must_hold = [s for s in everything if after_ns - 2_000_000_000 <= s.receive_ns <= before_ns - 500_000_000]
    assert must_hold, "the publisher ran long enough for a window of samples the answer must hold"
    assert {s.sequence for s in must_hold} <= {s.sequence for s in recent.samples}


def test_bad_time_range_gets_an_error_reply_naming_the_unit(rig: Rig) -> None:
    answer = ask(rig.session, f"{history_key(RANGE_VEHICLE)}?_time=[now(-5x)..]")
    assert answer.samples == []
    assert len(answer.errors) == 1, answer.errors
    assert "unknown unit 'x'" in answer.errors[0] and "_time=[now(-5x)..]" in answer.errors[0], answer.errors


def test_query_past_the_sample_limit_gets_the_limit_then_an_error_saying_where_to_go_on(
    rig: Rig, tmp_path: Path
) -> None:
    # A second recorder under its own key root, so its replies never mix with the module's.
    cloud_endpoint = load_fleet_config(rig.config_path).cloud.listen[0]
    config_path = write_fleet(tmp_path / "limited.yaml", cloud_endpoint, key_root=LIMITED_ROOT)
    child = start_recorder(rig.supervisor, config_path, tmp_path / "recording", "--max-query-samples",
                           str(QUERY_LIMIT), name="limited")
    try:
        wait_until_recording(rig.session, rig.store, LIMITED_ROOT)
        published = ImuPublisher(rig.session, rig.store, LIMIT_VEHICLE, root=LIMITED_ROOT).put_many(80)
        key = history_key(LIMIT_VEHICLE, LIMITED_ROOT)
        first: list[Answer] = []
        rest: list[Answer] = []

        def all_served() -> bool:
            first[:] = [ask(rig.session, f"{key}?_time=[..]")]
            match = re.search(r"received at (\S+Z)", " ".join(first[0].errors))
            if match is None:
                return False
            rest[:] = [ask(rig.session, f"{key}?_time=]{match.group(1)}..]")]
            return len(first[0].samples) + len(rest[0].samples) >= len(published)

        assert wait_until(all_served, SERVED_TIMEOUT_S, interval_s=0.2), first or "no answer"
    finally:
        stop_recorder(child)
    answer, more = first[0], rest[0]
    assert len(answer.samples) == QUERY_LIMIT
    assert len(answer.errors) == 1 and not answer.ok_after_error, answer
    assert f"limit of {QUERY_LIMIT} samples" in answer.errors[0] and f"({QUERY_LIMIT} samples," in answer.errors[0]
    # The error's instant continues the query: the rest, nothing twice, nothing left out.
    assert not more.errors, more.errors
    assert [s.sequence for s in answer.samples + more.samples] == [p.sequence for p in published]
    assert [s.data for s in answer.samples + more.samples] == [p.data for p in published]


def run_history_cli(processes: ProcessGroup, config_path: Path, *args: str) -> tuple[int, list[str], str]:
    """`python -m telemetry.cli history rover-cli /imu --since 30s ...` to its end: exit code,
    stdout lines, stderr."""
    child = processes.start_module("telemetry.cli", "history", CLI_VEHICLE, "/imu", "--since", "30s",
                                   "--config", str(config_path), *args, name="telemetry history")
    code = child.wait_exit(60.0)
    assert code is not None, f"telemetry history did not finish within 60 s\n{child.output()}"
    child.stop()  # exited already: this reaps it and joins its output readers
    return code, child.lines("stdout"), "\n".join(child.lines("stderr"))


def test_history_command_writes_mcap_and_json_lines(rig: Rig, processes: ProcessGroup, tmp_path: Path) -> None:
    published = ImuPublisher(rig.session, rig.store, CLI_VEHICLE).put_many(40)
    served = wait_for_all(rig.session, CLI_VEHICLE, len(published))

    out = tmp_path / "rover-cli.mcap"
    code, _, stderr = run_history_cli(processes, rig.config_path, "--out", str(out))
    assert code == 0, stderr
    assert f"wrote {len(published)} samples to {out}" in stderr
    typestore = get_typestore(Stores.EMPTY)
    with Reader(out) as reader:
        assert reader.message_count == len(published)
        [connection] = reader.connections
        assert (connection.topic, connection.msgtype) == ("/imu", IMU)
        typestore.register(get_types_from_msg(connection.msgdef.data, IMU))
        messages = list(reader.messages())
    assert [data for _, _, data in messages] == [p.data for p in published]
    assert [timestamp for _, timestamp, _ in messages] == [s.receive_ns for s in served]
    decoded: list[Any] = [typestore.deserialize_cdr(data, IMU) for _, _, data in messages]
    stamps = [message.header.stamp for message in decoded]
    assert [(s.sec, s.nanosec) for s in stamps] == [ns_to_stamp(p.source_ns) for p in published]

    code, lines, stderr = run_history_cli(processes, rig.config_path, "--jsonl")
    assert code == 0, stderr
    records: list[dict[str, Any]] = [json.loads(line) for line in lines]
    assert len(records) == len(published), stderr
    for record, sample in zip(records, published, strict=True):
        assert (record["region"], record["vehicle"], record["topic"], record["type"]) == (
            REGION, CLI_VEHICLE, "/imu", IMU)
        assert (record["sequence"], record["source_time_ns"], record["size"]) == (
            sample.sequence, sample.source_ns, len(sample.data))
        message = record["message"]
        sec, nanosec = ns_to_stamp(sample.source_ns)
        assert message["header"]["stamp"] == {"sec": sec, "nanosec": nanosec}
        assert message["header"]["frame_id"] == f"{CLI_VEHICLE}/imu_link"
        assert message["linear_acceleration"]["x"] == pytest.approx(sample.sequence * 0.001)
