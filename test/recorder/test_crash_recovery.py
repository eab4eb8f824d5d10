"""A recorder killed with SIGKILL loses at most its last second: the `.part` it leaves is repaired
at the next start (and by `telemetry recover`) into a valid file holding everything older.

One recording is made for the module: a paced 1 kHz Imu publisher in this process (real CDR,
real attachments, sequences from 1, each sample's send time kept), a recorder child killed
mid-stream, a copy of its `.part` taken, and a second recorder started on the same folder.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcap.exceptions import McapError
from mcap.reader import make_reader
from rosbags.rosbag2 import Reader
from support.paced_publisher import PacedPublisher
from support.processes import ProcessGroup, free_port, wait_until
from support.synthetic import IMU_TYPE, imu_payload_template, stamped_payload
from support.zenoh_net import ClientSessions, start_router

from telemetry.codec import TypeStore
from telemetry.keys import KeySpace
from telemetry.recorder.layout import PART_SUFFIX, closed_path, vehicle_segment_path
from telemetry.recorder.segment import ChannelSpec, SegmentWriter

REGION = "eu-west"
VEHICLE = "rover-07"
TOPIC = "/imu"
RATE_HZ = 1000.0
RECORD_S = 3.0
#: The recorder flushes every 0.5 s; what it received this long before the kill is on disk.
SAFE_AGE_NS = 1_000_000_000
RECORDER = "crashy"
_REPAIRED = re.compile(r"^recorder: repaired (?P<part>\S+): (?P<count>\d+) samples saved in (?P<name>\S+)$")
_RECOVERED = re.compile(r"^(?P<file>\S+): (?P<count>\d+) samples on (?P<topics>\d+) topics saved in (?P<out>\S+)$")


@dataclass(frozen=True)
class CrashRun:
    """What the module's recording left: the repaired segment and what was known at the kill."""

    folder: Path
    part_copy: Path  # the `.part` as the kill left it, copied before the restart
    repaired: Path  # the same segment after the restarted recorder repaired it
    repaired_count: int  # what the restarted recorder said it saved
    repair_lines: tuple[str, ...]
    send_ns: tuple[int, ...]  # by sequence - 1
    kill_ns: int


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashRun]:
    """Record ~3 s of 1 kHz Imu, SIGKILL the recorder, copy its `.part`, start it again on the folder."""
    root = tmp_path_factory.mktemp("crash")
    folder = root / "recordings"
    store = TypeStore.from_environment()
    template = imu_payload_template(store)
    processes, sessions = ProcessGroup(), ClientSessions()
    try:
        router = start_router(processes, free_port())
        recorder_args = ("-e", router.endpoint, "--folder", str(folder), "--name", RECORDER)
        first = processes.start_module("telemetry.recorder.service", *recorder_args, name="recorder-1")
        first.wait_for_line(f"recorder {RECORDER} ready", 20.0)
        session = sessions.open(router.endpoint)
        publisher = PacedPublisher(session, KeySpace().data(REGION, VEHICLE, TOPIC), IMU_TYPE, RATE_HZ,
                                   lambda source_ns: stamped_payload(template, source_ns)).start()
        try:
            assert wait_until(lambda: publisher.sent >= RECORD_S * RATE_HZ, RECORD_S + 10.0), "publisher stalled"
            kill_ns = time.time_ns()
            assert first.kill() == -9, first.output()
        finally:
            publisher.close()
        parts = sorted(folder.rglob("*" + PART_SUFFIX))
        assert len(parts) == 1, f"expected the vehicle's one open segment, found {parts}"
        assert not list(folder.rglob("*.mcap")), "nothing was closed before the kill"
        part_copy = root / "by_hand" / parts[0].name
        part_copy.parent.mkdir()
        shutil.copyfile(parts[0], part_copy)

        second = processes.start_module("telemetry.recorder.service", *recorder_args, name="recorder-2")
        second.wait_for_line(f"recorder {RECORDER} ready", 20.0)
        repair_lines = tuple(line for line in second.lines() if line.startswith("recorder: repaired"))
        assert len(repair_lines) == 1, second.output()
        match = _REPAIRED.match(repair_lines[0])
        assert match is not None, repair_lines
        assert Path(match["part"]) == parts[0]
        yield CrashRun(folder, part_copy, closed_path(parts[0]), int(match["count"]), repair_lines,
                       tuple(publisher.send_ns), kill_ns)
    finally:
        sessions.close_all()
        processes.stop_all()


def mcap_sequences(path: Path) -> list[int]:
    """Sequences of every message of a valid (indexed) MCAP file, in log-time order."""
    with path.open("rb") as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        assert summary is not None and summary.statistics is not None, f"{path}: no summary"
        sequences = [message.sequence for _, _, message in reader.iter_messages()]
        assert summary.statistics.message_count == len(sequences)
        return sequences


def rosbags_messages(path: Path) -> list[tuple[Any, int, bytes]]:
    """(connection, log time, raw CDR) of every message, as rosbags' rosbag2 reader sees the file."""
    with Reader(path) as reader:
        assert [(c.topic, c.msgtype) for c in reader.connections] == [(TOPIC, IMU_TYPE)]
        messages = list(reader.messages())
        assert reader.message_count == len(messages)
        return messages


def test_restarted_recorder_says_it_repaired_the_part_file_with_its_sample_count(crash_run: CrashRun) -> None:
    assert crash_run.repaired.is_file()
    assert not list(crash_run.folder.rglob("*" + PART_SUFFIX)), "the .part is gone once repaired"
    assert crash_run.repair_lines[0].endswith(f"saved in {crash_run.repaired.name}")
    assert crash_run.repaired_count == len(mcap_sequences(crash_run.repaired))


def test_repaired_file_holds_every_sample_received_over_a_second_before_the_kill(crash_run: CrashRun) -> None:
    sequences = mcap_sequences(crash_run.repaired)
    assert len(sequences) == len(set(sequences)), "no sample is written twice"
    first = min(sequences)
    # The recorder was subscribed before the publisher started: it gets the stream from its start.
    assert crash_run.send_ns[first - 1] - crash_run.send_ns[0] < 200_000_000, f"first recorded sequence {first}"
    deadline_ns = crash_run.kill_ns - SAFE_AGE_NS
    expected = {seq for seq in range(first, len(crash_run.send_ns) + 1) if crash_run.send_ns[seq - 1] < deadline_ns}
    assert len(expected) > (len(crash_run.send_ns) - RATE_HZ) * 0.9
    missing = sorted(expected - set(sequences))
    assert not missing, f"{len(missing)} samples older than 1 s at the kill are lost: {missing[:10]}..."
    assert max(sequences) <= len(crash_run.send_ns)


def test_repaired_file_is_read_by_rosbags_with_the_bytes_and_stamps_published(
    crash_run: CrashRun, rosbags_store: Any
) -> None:
    messages = rosbags_messages(crash_run.repaired)
    assert len(messages) == crash_run.repaired_count
    with crash_run.repaired.open("rb") as stream:
        publish_ns = {m.log_time: m.publish_time for _, _, m in make_reader(stream).iter_messages()}
    for connection, log_ns, data in messages[:: max(1, len(messages) // 50)]:
        imu = rosbags_store.deserialize_cdr(data, connection.msgtype)
        assert imu.header.stamp.sec * 1_000_000_000 + imu.header.stamp.nanosec == publish_ns[log_ns]
        assert imu.linear_acceleration.z == pytest.approx(9.81)


def test_recover_command_repairs_a_copied_part_file_like_the_restart_did(
    crash_run: CrashRun, processes: ProcessGroup
) -> None:
    recover = processes.start_module("telemetry.cli", "recover", str(crash_run.part_copy), name="recover")
    assert recover.wait_exit(30.0) == 0, recover.output()
    match = _RECOVERED.match(recover.lines()[-1])
    assert match is not None, recover.output()
    out = closed_path(crash_run.part_copy)
    assert (Path(match["out"]), int(match["count"]), match["topics"]) == (out, crash_run.repaired_count, "1")
    assert not crash_run.part_copy.exists()
    assert mcap_sequences(out) == mcap_sequences(crash_run.repaired)
    assert len(rosbags_messages(out)) == crash_run.repaired_count


def write_closed_segment(folder: Path, store: TypeStore, count: int, flush_every: int) -> Path:
    """A closed segment as the recorder writes one: Imu samples, a chunk ended every `flush_every`."""
    template = imu_payload_template(store)
    start_ns = time.time_ns()
    writer = SegmentWriter(vehicle_segment_path(folder, REGION, VEHICLE, start_ns), store,
                           {"recorder": "test", "region": REGION, "vehicle": VEHICLE}, start_ns)
    writer.add_channel(ChannelSpec(TOPIC, IMU_TYPE))
    for index in range(count):
        source_ns = start_ns + index * 1_000_000
        writer.write(TOPIC, source_ns + 300_000, source_ns, index + 1, stamped_payload(template, source_ns))
        if (index + 1) % flush_every == 0:
            writer.flush()
    return writer.close()


def test_recover_command_saves_the_readable_part_of_a_file_cut_at_60_percent(
    tmp_path: Path, processes: ProcessGroup, store: TypeStore
) -> None:
    closed = write_closed_segment(tmp_path, store, count=3000, flush_every=250)
    cut = tmp_path / "cut.mcap"
    data = closed.read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])
    with cut.open("rb") as stream, pytest.raises(McapError):  # the indexed reader gives up on a cut file
        list(make_reader(stream).iter_messages())

    recover = processes.start_module("telemetry.cli", "recover", str(cut), name="recover")
    assert recover.wait_exit(30.0) == 0, recover.output()
    match = _RECOVERED.match(recover.lines()[-1])
    assert match is not None, recover.output()
    out = tmp_path / "cut.recovered.mcap"
    assert Path(match["out"]) == out
    saved = int(match["count"])
    assert 3000 * 0.4 < saved < 3000 * 0.7, "every whole chunk before the cut, nothing after"
    assert mcap_sequences(out) == list(range(1, saved + 1))
    assert len(rosbags_messages(out)) == saved
    assert cut.stat().st_size == len(data) * 6 // 10, "a file that is not a .part is kept as it was"


@pytest.mark.parametrize("name", ["notes.txt", "garbage.mcap.part"])
def test_recover_command_rejects_a_file_that_is_not_mcap(tmp_path: Path, processes: ProcessGroup, name: str) -> None:
    bad = tmp_path / name
    bad.write_bytes(b"this is not a recording\n" * 200)
    before = sorted(p.name for p in tmp_path.iterdir())
    recover = processes.start_module("telemetry.cli", "recover", str(bad), name="recover")
    code = recover.wait_exit(30.0)
    assert code is not None and code != 0, recover.output()
    assert f"telemetry: error: {bad}: not an MCAP file" in recover.lines("stderr"), recover.output()
    assert "Traceback" not in recover.output()
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "no output file is left behind"
