"""A full disk stops the recorder's writing, not the recorder: it keeps running, says so in its
status and log, keeps the segments it closed valid, resumes by itself once there is room, and
never slows the live path.

The disk is a small tmpfs (root mounts it; the module is skipped only if the mount fails)
with a ballast file that leaves ~3 MiB free. A paced publisher in this process puts 4 KiB
Images of random bytes (zstd cannot shrink them) at 500 Hz, which fills that in about two
seconds; deleting the ballast gives back more than the recorder's 8 MiB resume threshold.
One run serves the module: its phases are recorded, and each test checks one promise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import zenoh
from mcap.reader import make_reader
from support.paced_publisher import PacedPublisher
from support.processes import ChildProcess, ProcessGroup, free_port, poll_until
from support.zenoh_net import ClientSessions, start_router

from telemetry.codec import TypeStore
from telemetry.codec.names import RECORDER_STATUS
from telemetry.codec.stamp import stamp_to_ns
from telemetry.fleet.vehicle_key import VehicleKey
from telemetry.keys import KeySpace
from telemetry.recorder.archive import read_samples
from telemetry.recorder.layout import PART_SUFFIX, SEGMENT_SUFFIX, list_segments
from telemetry.recorder.segment import ChannelSpec
from telemetry.recorder.writer import MIN_FREE_BYTES, Recording, SegmentLimits

IMAGE = "sensor_msgs/msg/Image"
REGION = "eu-west"
VEHICLE = "rover-09"
TOPIC = "/camera/raw"
RATE_HZ = 500.0
PIXELS = 4096
DISK_MIB = 24
ROOM_MIB = 3  # free space the ballast leaves the recorder
FULL_HOLD_S = 2.0  # how long the disk stays full before the ballast goes
RECORDER = "filler"


@contextmanager
def mounted_tmpfs(mount_point: Path, size_mib: int) -> Iterator[Path]:
    """A `size_mib` tmpfs on `mount_point`, unmounted afterwards even on failure (lazily if a
    child still holds it); the test is skipped when it cannot be mounted."""
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True, timeout=30, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill (needs root): {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=30, check=False).returncode:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, timeout=30, check=False)


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mounted_tmpfs(tmp_path_factory.mktemp("small_disk"), DISK_MIB) as disk:
        yield disk


def random_image_payload(store: TypeStore) -> Callable[[int], bytes]:
    """Image CDR whose pixels (the message's last field) are fresh random bytes each call."""
    template = store.encode(store.new(IMAGE, height=1, width=PIXELS, encoding="mono8", step=PIXELS,
                                      data=bytes(PIXELS)))
    head = template[:-PIXELS]
    return lambda _source_ns: head + os.urandom(PIXELS)


@dataclass(frozen=True)
class Status:
    """The fields of one msg/RecorderStatus the tests look at, and when it arrived."""

    at_s: float  # time.monotonic() at arrival
    sent_ns: int
    disk_full: bool
    samples_written: int
    samples_dropped: int
    segments_closed: int
    free_disk_bytes: int
    last_error: str


class StatusWatcher:
    """Keeps the recorder's status messages; the callback only records bytes and time."""

    def __init__(self, session: zenoh.Session, name: str, store: TypeStore) -> None:
        self._store = store
        self._raw: deque[tuple[float, bytes]] = deque(maxlen=1000)
        self._subscriber = session.declare_subscriber(
            KeySpace().recorder(name), lambda sample: self._raw.append((time.monotonic(), sample.payload.to_bytes())))

    def statuses(self) -> list[Status]:
        decoded = []
        for at_s, data in list(self._raw):
            message = self._store.decode(RECORDER_STATUS, data)
            decoded.append(Status(at_s, stamp_to_ns(message.stamp.sec, message.stamp.nanosec), message.disk_full,
                                  message.samples_written, message.samples_dropped, message.segments_closed,
                                  message.free_disk_bytes, message.last_error))
        return decoded

    def wait_for(self, condition: Callable[[Status], bool], timeout_s: float, what: str) -> Status:
        found = poll_until(lambda: next((s for s in reversed(self.statuses()) if condition(s)), None),
                           timeout_s, 0.05)
        assert found is not None, f"no recorder status {what} within {timeout_s} s; last: {self.statuses()[-3:]}"
        return found

    def close(self) -> None:
        self._subscriber.undeclare()


@dataclass(frozen=True)
class FullDiskRun:
    """What one run recorded, phase by phase."""

    folder: Path
    recorder: ChildProcess
    running_while_full: bool
    full: Status  # the first status saying disk_full
    held: Status  # a status FULL_HOLD_S later, still full
    closed_while_full: tuple[Path, ...]
    samples_on_disk_while_full: int  # readable in every segment, closed or `.part`, at `held`
    resumed: Status  # the first status after the ballast went that says it writes again
    exit_code: int  # after SIGTERM, once resumed
    live_received_s: tuple[float, ...]  # a second session's arrivals, time.monotonic()
    sent_s: tuple[float, ...]


def fill_with_ballast(disk: Path, leave_bytes: int) -> Path:
    """A file taking all of `disk`'s free space but `leave_bytes`."""
    ballast = disk / "ballast.bin"
    remaining = shutil.disk_usage(disk).free - leave_bytes
    block = bytes(1 << 20)
    with ballast.open("wb") as stream:
        while remaining > 0:
            remaining -= stream.write(block[: min(remaining, len(block))])
    return ballast


@pytest.fixture(scope="module")
def full_disk_run(small_disk: Path) -> Iterator[FullDiskRun]:
    store = TypeStore.from_environment()
    folder = small_disk / "recordings"
    ballast = fill_with_ballast(small_disk, ROOM_MIB << 20)
    processes, sessions = ProcessGroup(), ClientSessions()
    try:
        router = start_router(processes, free_port())
        recorder = processes.start_module(
            "telemetry.recorder.service", "-e", router.endpoint, "--folder", str(folder), "--name", RECORDER,
            "--segment-mb", "0.5", name="recorder")
        recorder.wait_for_line(f"recorder {RECORDER} ready", 20.0)
        watcher_session = sessions.open(router.endpoint)
        watcher = StatusWatcher(watcher_session, RECORDER, store)
        live_received_s: list[float] = []
        key = KeySpace().data(REGION, VEHICLE, TOPIC)
        live = watcher_session.declare_subscriber(key, lambda _sample: live_received_s.append(time.monotonic()))
        publisher = PacedPublisher(sessions.open(router.endpoint), key, IMAGE, RATE_HZ,
                                   random_image_payload(store), stamp_from_header=False).start()
        try:
            full = watcher.wait_for(lambda s: s.disk_full, 20.0, "saying disk_full")
            held = watcher.wait_for(lambda s: s.disk_full and s.at_s >= full.at_s + FULL_HOLD_S,
                                    FULL_HOLD_S + 5.0, f"still disk_full {FULL_HOLD_S} s later")
            running_while_full = recorder.returncode is None
            closed_while_full = tuple(sorted(folder.rglob("*" + SEGMENT_SUFFIX)))
            on_disk = sum(1 for segment in list_segments(folder) for _ in read_samples(segment.path))
            ballast.unlink()
            resumed = watcher.wait_for(
                lambda s: not s.disk_full and s.samples_written > held.samples_written, 15.0,
                "saying it writes again after the ballast went")
        finally:
            publisher.close()
            live.undeclare()
            watcher.close()
        exit_code = recorder.stop(10.0)
        yield FullDiskRun(folder, recorder, running_while_full, full, held, closed_while_full, on_disk, resumed,
                          exit_code, tuple(live_received_s), tuple(publisher.sent_s))
    finally:
        sessions.close_all()
        processes.stop_all()


def test_recorder_keeps_running_and_its_status_says_disk_full_and_counts_drops(full_disk_run: FullDiskRun) -> None:
    run = full_disk_run
    assert run.running_while_full, run.recorder.output()
    assert run.held.disk_full
    assert run.held.samples_dropped > run.full.samples_dropped, "every sample that arrives while full is dropped"
    assert "disk full" in run.held.last_error
    assert run.held.free_disk_bytes < MIN_FREE_BYTES
    assert run.held.samples_written == run.full.samples_written, "nothing is written while the disk is full"


def test_samples_reported_written_while_the_disk_is_full_are_the_samples_on_disk(full_disk_run: FullDiskRun) -> None:
    run = full_disk_run
    lost = run.held.samples_written - run.samples_on_disk_while_full
    assert lost == 0, f"{lost} samples counted as written are on no disk (and not in samples_dropped)"


def test_recorder_log_says_the_disk_is_full_and_that_recording_resumed(full_disk_run: FullDiskRun) -> None:
    log = full_disk_run.recorder.lines("stderr")
    run_log = "\n".join(log)
    full_lines = [line for line in log if "disk full in" in line and "dropping samples until there is room" in line]
    assert full_lines, run_log
    assert any("recording resumed" in line for line in log), run_log
    assert not any("Traceback" in line for line in log), run_log


def test_segments_closed_before_the_disk_filled_stay_valid(full_disk_run: FullDiskRun) -> None:
    assert full_disk_run.closed_while_full, "--segment-mb 0.5 closes segments before the disk fills"
    for path in full_disk_run.closed_while_full:
        with path.open("rb") as stream:
            reader = make_reader(stream)
            summary = reader.get_summary()
            assert summary is not None and summary.statistics is not None, path
            assert summary.statistics.message_count == sum(1 for _ in reader.iter_messages()) > 0, path


def test_recorder_resumes_by_itself_once_there_is_room_again(full_disk_run: FullDiskRun) -> None:
    run = full_disk_run
    assert not run.resumed.disk_full
    assert run.resumed.samples_written > run.held.samples_written
    assert run.resumed.last_error == ""
    assert run.resumed.free_disk_bytes >= MIN_FREE_BYTES


def test_after_a_clean_stop_every_segment_is_a_valid_closed_file(full_disk_run: FullDiskRun) -> None:
    assert full_disk_run.exit_code == 0, full_disk_run.recorder.output()
    assert not list(full_disk_run.folder.rglob("*" + PART_SUFFIX)), "abandoned segments were repaired on resume"
    segments = sorted(full_disk_run.folder.rglob("*" + SEGMENT_SUFFIX))
    assert len(segments) > len(full_disk_run.closed_while_full)
    for path in segments:
        with path.open("rb") as stream:
            list(make_reader(stream).iter_messages())


def test_live_subscribers_get_the_full_rate_while_the_disk_is_full(full_disk_run: FullDiskRun) -> None:
    run = full_disk_run
    start_s, end_s = run.full.at_s, run.held.at_s
    received = sum(1 for at_s in run.live_received_s if start_s <= at_s < end_s)
    sent = sum(1 for at_s in run.sent_s if start_s <= at_s < end_s)
    window_s = end_s - start_s
    assert window_s >= FULL_HOLD_S
    assert sent >= 0.8 * RATE_HZ * window_s, f"the publisher itself fell behind: {sent} in {window_s:.2f} s"
    assert received >= 0.95 * sent, f"live: {received} of {sent} samples in {window_s:.2f} s while the disk was full"


def test_recording_resumes_when_the_cut_segment_itself_was_deleted_to_make_room(
    tmp_path: Path, store: TypeStore
) -> None:
    """An operator freeing space may delete the newest, broken `.part`: nothing is left to repair."""
    with mounted_tmpfs(tmp_path, DISK_MIB) as disk:
        ballast = fill_with_ballast(disk, ROOM_MIB << 20)
        recording = Recording(disk / "recordings", store, SegmentLimits(), {"recorder": "unit"},
                              lambda _source, topic, ros_type: ChannelSpec(topic, ros_type))
        payload = random_image_payload(store)
        source = VehicleKey(REGION, VEHICLE)
        now_ns = time.time_ns()
        with recording.lock:
            for index in range(10_000):
                receive_ns = now_ns + index * 2_000_000
                recording.write(source, TOPIC, IMAGE, receive_ns, receive_ns, index + 1, payload(receive_ns))
                recording.tick(receive_ns)
                if recording.disk_full:
                    break
        assert recording.disk_full and "disk full" in recording.last_error
        cut = list((disk / "recordings").rglob("*" + PART_SUFFIX))
        assert cut, "the segment open when the disk filled is left as a .part"
        for part in cut:
            part.unlink()
        ballast.unlink()
        with recording.lock:
            recording.tick(time.time_ns())
            assert not recording.disk_full, recording.last_error
            assert recording.last_error == ""
            written = recording.counters.samples_written
            recording.write(source, TOPIC, IMAGE, time.time_ns(), time.time_ns(), 1, payload(0))
            assert recording.counters.samples_written == written + 1
            recording.close_all()
