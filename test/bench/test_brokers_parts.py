"""The brokers benchmark's pure parts: broker configs, topics, recording, rows and ratios.
No processes, no sockets: the run itself is exercised by `telemetry bench brokers`."""

from __future__ import annotations

import math
import stat
from pathlib import Path
from typing import Any

import pytest

from telemetry.bench import brokers
from telemetry.bench.brokers import Recorder, Transport, Window
from telemetry.bench.brokers.subscribers import PUBLISHERS
from telemetry.bench.results import BenchResult
from telemetry.codec.attachment import pack_fields

MOSQUITTO = Transport("mqtt qos0", "mqtt", "mosquitto", 0)
NATS = Transport("nats", "nats", "nats-server")


def _record(topic: str, sequence: int, source_ns: int, latency_ns: int, size: int = 316) -> brokers.Record:
    return topic, source_ns + latency_ns, pack_fields(sequence, source_ns, source_ns, stamp_from_header=True), size


def _row(transport: str, p50: float, p90: float, p99: float, p999: float, top: float) -> dict[str, Any]:
    return {"transport": transport, "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "p99.9_ms": p999, "max_ms": top}


def test_mosquitto_config_listens_only_on_loopback_at_the_port_and_allows_anonymous_clients() -> None:
    lines = brokers.mosquitto_config(18830).splitlines()

    assert "listener 18830 127.0.0.1" in lines
    assert "allow_anonymous true" in lines


def test_broker_command_for_mosquitto_writes_its_config_into_the_folder(tmp_path: Path) -> None:
    command = brokers.broker_command(MOSQUITTO, Path("/usr/sbin/mosquitto"), 18831, tmp_path)

    assert command == ["/usr/sbin/mosquitto", "-c", str(tmp_path / "mosquitto.conf")]
    assert (tmp_path / "mosquitto.conf").read_text(encoding="utf-8") == brokers.mosquitto_config(18831)


def test_broker_command_for_nats_server_binds_loopback_at_the_port(tmp_path: Path) -> None:
    command = brokers.broker_command(NATS, Path("/usr/sbin/nats-server"), 4333, tmp_path)

    assert command == ["/usr/sbin/nats-server", "-a", "127.0.0.1", "-p", "4333"]


def test_find_broker_looks_in_sbin_folders_that_are_not_on_path(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    daemon = tmp_path / "fake-broker"
    daemon.write_text("#!/bin/sh\n", encoding="utf-8")
    daemon.chmod(daemon.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", "/nonexistent")

    assert brokers.find_broker("fake-broker", extra_dirs=(str(tmp_path),)) == daemon
    assert brokers.find_broker("no-such-broker", extra_dirs=(str(tmp_path),)) is None


def test_skipped_note_names_the_apt_command_that_installs_the_broker() -> None:
    assert "`apt-get install mosquitto`" in brokers.skipped_note(MOSQUITTO)
    assert "`apt-get install nats-server`" in brokers.skipped_note(NATS)


@pytest.mark.parametrize("protocol, subscription", [("zenoh", "telemetry/data/**"), ("mqtt", "telemetry/data/#"),
                                                     ("nats", "telemetry.data.>")])
def test_topics_are_one_per_publisher_under_the_subscription(protocol: str, subscription: str) -> None:
    names, matching = brokers.topics(protocol)

    assert matching == subscription
    assert len(set(names)) == PUBLISHERS
    assert all(name.startswith(subscription.rstrip("#*>")) for name in names)


def test_recorder_keeps_only_heads_the_size_of_an_attachment_and_take_empties_it() -> None:
    recorder = Recorder()
    recorder.record("a", 5, bytes(32), 316)
    recorder.record("a", 6, bytes(31), 31)

    assert recorder.take() == [("a", 5, bytes(32), 316)]
    assert recorder.take() == []


def test_transport_row_pools_percentiles_over_publishers_and_sums_their_loss() -> None:
    records = [_record("t1", 1, 1_000, 100_000), _record("t1", 3, 2_000, 100_000),  # t1 lost sequence 2
               _record("t2", 1, 1_000, 300_000), _record("t2", 2, 2_000, 300_000)]
    window = Window(records, window_s=2.0, broker_cpu_s=0.5, publishers_cpu_s=1.0, subscriber_cpu_s=0.2)

    row = brokers.transport_row("mqtt qos0", window, ["t1", "t2"])

    assert row["samples"] == 4
    assert row["lost"] == 1
    assert row["rate_hz"] == 1.0
    assert row["p50_ms"] == pytest.approx(0.2)
    assert row["max_ms"] == pytest.approx(0.3)
    assert (row["broker_cpu_pct"], row["publishers_cpu_pct"], row["subscriber_cpu_pct"]) == (25.0, 50.0, 10.0)


def test_transport_row_reports_zero_rate_when_a_publisher_was_never_heard() -> None:
    window = Window([_record("t1", 1, 1_000, 50_000)], 1.0, 0.0, 0.0, 0.0)

    assert brokers.transport_row("nats", window, ["t1", "t2"])["rate_hz"] == 0.0


def test_ratio_rows_divide_each_percentile_by_the_zenoh_row() -> None:
    rows = [_row("zenoh router", 0.1, 0.2, 0.4, 1.0, 2.0), _row("nats", 0.2, 0.3, 0.4, 0.5, 4.0)]

    assert brokers.ratio_rows(rows) == [{"transport": "nats", "p50": 2.0, "p90": 1.5, "p99": 1.0, "p99.9": 0.5,
                                         "max": 2.0}]


def test_ratio_rows_are_empty_without_a_zenoh_row() -> None:
    assert brokers.ratio_rows([_row("nats", 0.2, 0.3, 0.4, 0.5, 4.0)]) == []


def test_zenoh_ahead_is_met_only_when_every_ratio_is_above_one() -> None:
    ahead = brokers.zenoh_ahead([{"transport": "nats", "p50": 2.0, "p90": 1.5, "p99": 1.1, "p99.9": 1.2, "max": 3.0}])
    behind = brokers.zenoh_ahead([{"transport": "mqtt qos0", "p50": 2.0, "p90": 1.5, "p99": 1.0, "p99.9": 1.2,
                                   "max": 3.0}])

    assert ahead.met is True
    assert behind.met is False
    assert behind.measured == "lowest ratio 1.00x (mqtt qos0 p99)"


def test_zenoh_ahead_is_not_measured_without_ratios_or_with_a_missing_percentile() -> None:
    assert brokers.zenoh_ahead([]).met is None
    nan_row = {"transport": "nats", "p50": math.nan, "p90": 1.5, "p99": 1.1, "p99.9": 1.2, "max": 3.0}
    assert brokers.zenoh_ahead([nan_row]).met is None


def test_plot_draws_one_bar_per_transport_and_percentile_on_a_log_axis() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [_row("zenoh router", 0.1, 0.2, 0.4, 1.0, 2.0), _row("nats", 0.2, 0.3, 0.4, 0.5, 4.0)]
    figure, axes = plt.subplots()
    try:
        brokers.plot(axes, BenchResult("brokers", "brokers", rows))

        assert len(axes.patches) == 2 * len(brokers.LATENCY_NAMES)
        assert axes.get_yscale() == "log"
    finally:
        plt.close(figure)
