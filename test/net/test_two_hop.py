"""vehicle -> regional router -> cloud router -> subscriber, as real router processes.

The regional router runs from the shipped eu-west.json5 with its ports moved to free ones,
so what is tested is the file an operator runs.
"""

from __future__ import annotations

import logging
import time

from support.processes import ProcessGroup, free_port
from support.zenoh_net import (
    ClientSessions,
    endpoint,
    publish_until_received,
    recording_subscriber,
    start_router,
)

KEY = "telemetry/data/eu-west/rover-01/imu"
_log = logging.getLogger(__name__)


def test_data_published_on_the_region_reaches_a_subscriber_on_the_cloud(
    processes: ProcessGroup, zenoh_clients: ClientSessions
) -> None:
    cloud = start_router(processes, free_port(), "cloud.json5", name="cloud")
    region = start_router(processes, free_port(), "eu-west.json5", connect=(cloud.endpoint,), name="eu-west")

    subscriber = zenoh_clients.open(cloud.endpoint)
    vehicle = zenoh_clients.open(region.endpoint)
    with recording_subscriber(subscriber, KEY) as received:
        assert publish_until_received(vehicle, KEY, received, timeout_s=5.0) is not None


def test_region_started_before_the_cloud_serves_at_once_and_joins_the_cloud_later(
    processes: ProcessGroup, zenoh_clients: ClientSessions
) -> None:
    cloud_port = free_port()
    region = start_router(
        processes, free_port(), "eu-west.json5", connect=(endpoint(cloud_port),), name="eu-west"
    )
    vehicle = zenoh_clients.open(region.endpoint, timeout_s=5.0)  # the region listens with no cloud

    # The scenario's gap: the cloud comes up 2 s later; meanwhile the region must keep running.
    assert region.process.wait_exit(2.0) is None, region.process.output()

    cloud = start_router(processes, cloud_port, "cloud.json5", name="cloud")
    subscriber = zenoh_clients.open(cloud.endpoint)
    with recording_subscriber(subscriber, KEY) as received:
        first_s = publish_until_received(vehicle, KEY, received, timeout_s=5.0)
    assert first_s is not None, region.process.output()
    _log.info(
        "region -> late cloud: first sample %.3f s after the cloud process started",
        time.monotonic() - cloud.spawned_s,
    )
    region.process.wait_for_line(f"connected router {cloud.zid}", timeout_s=2.0, stream="stderr")
