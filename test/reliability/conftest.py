"""Fixtures of the fault tests: a running one-vehicle fleet, the same with a WAN relay on its
region-to-cloud hop, and what a test watches it with. Every process is stopped by pid
afterwards (SIGTERM, then SIGKILL), whether the test passed or not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.live_fleet import LiveFleet
from support.tcp_relay import TcpRelay

#: The relay's socket buffers: a WAN path's window rather than the megabytes loopback allows.
RELAY_BUFFER_BYTES = 64 * 1024


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[LiveFleet]:
    """Cloud and eu-west routers, the aggregator and rover-01, up and forwarding."""
    running = LiveFleet(tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@contextmanager
def fleet_behind_relay(folder: Path, region_sndbuf_bytes: int | None = None) -> Iterator[tuple[LiveFleet, TcpRelay]]:
    """The fleet, with the eu-west router reaching the cloud router through a TcpRelay.

    `region_sndbuf_bytes` caps the eu-west router's send buffer on that one link (Zenoh's
    `so_sndbuf` endpoint option), for a WAN path that holds less than the ~4 MB Linux lets a
    loopback socket buffer; None keeps the shipped configuration."""
    running = LiveFleet(folder)
    host, port = running.cloud_endpoint.removeprefix("tcp/").rsplit(":", 1)
    with TcpRelay(host, int(port), buffer_bytes=RELAY_BUFFER_BYTES) as relay:
        options = "" if region_sndbuf_bytes is None else f"#so_sndbuf={region_sndbuf_bytes}"
        try:
            running.start(region_connect=relay.endpoint + options)
            yield running, relay
        finally:
            running.stop()


@pytest.fixture
def relayed_fleet(tmp_path: Path) -> Iterator[tuple[LiveFleet, TcpRelay]]:
    """The shipped fleet with a relay on its WAN hop."""
    with fleet_behind_relay(tmp_path) as running:
        yield running


@pytest.fixture
def narrow_relayed_fleet(tmp_path: Path) -> Iterator[tuple[LiveFleet, TcpRelay]]:
    """The same, with 64 kB of send buffer on the WAN hop: a stall of seconds overflows it."""
    with fleet_behind_relay(tmp_path, region_sndbuf_bytes=64 * 1024) as running:
        yield running
