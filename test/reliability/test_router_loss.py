"""A router killed under a running fleet and started again 5 s later (issue 8, "Router loss").

What a user relies on: nothing else restarts or needs a hand (same pids, the bridge attached
once, no sequence reset), the aggregator says what happened to the vehicle while the router
was away and that it is back afterwards, the outage shows up as loss of about its length,
and data flows again within 2 s of the router's return.

What the aggregator says, measured: the vehicle goes OFFLINE, not STALE. A liveliness token
lives in the routers; when the router between the vehicle and the aggregator dies, the
token goes with it (the cloud undeclares what came through the dead regional router, and an
aggregator whose own router died drops every token it knew), and that happens within one
tick, long before the 3 s after which silent streams would make the vehicle stale. When the
router is back, the token comes back and the vehicle is ONLINE at once.

The 2 s are measured from the new router's ready line (looked for every 5 ms) to the first
IMU sample at a client of the cloud router, the aggregator's vantage point. Measured here:
0.2-0.3 s (0.8-0.9 s from the new router's process start; a router listens ~0.5 s before
it prints its line). Figures are logged: `-o log_cli=true --log-cli-level=INFO` shows them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from support.fleet_watch import (
    SequenceRecorder,
    StatsSample,
    StatsTimeline,
    at_rate,
    fresh,
    status_runs,
)
from support.live_fleet import BRIDGE, CLOUD, REGION, REGION_ROUTER, VEHICLE, LiveFleet
from support.zenoh_net import ClientSessions

from telemetry.codec import TypeStore

OUTAGE_S = 5.0
REJOIN_BOUND_S = 2.0
#: The aggregator ticks every 0.5 s: a status change shows within a tick, plus slack.
STATUS_BOUND_S = 1.5
IMU_HZ = 1000.0
IMU_KEY = f"telemetry/data/{REGION}/{VEHICLE}/imu"
STATS_KEY = f"telemetry/stats/{REGION}/{VEHICLE}"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outage:
    """One kill, wait, restart, as a client of the cloud router and the aggregator saw it."""

    killed_ns: int  # time.monotonic_ns()
    killed_s: float  # time.time(), to place the aggregator's log lines
    changes_before: int  # status changes the aggregator had logged before the kill
    ready_ns: int  # the new router's ready line
    ready_s: float
    spawned_ns: int  # the new router's process started
    last_before: tuple[int, int]  # (arrival_ns, sequence) of the last IMU sample before the kill
    first_after: tuple[int, int]  # ... and of the first one after the restart
    before: StatsSample  # the aggregator's last steady stats before the kill
    online: StatsSample  # its first stats after the restart with the vehicle online, IMU fresh
    after: StatsSample  # its first steady stats after the restart (the window refilled)

    @property
    def rejoin_s(self) -> float:
        """From the new router's ready line to the first IMU sample."""
        return (self.first_after[0] - self.ready_ns) / 1e9

    @property
    def gap_samples(self) -> int:
        """IMU sequence numbers that never reached the cloud client."""
        return self.first_after[1] - self.last_before[1] - 1

    @property
    def lost(self) -> int:
        """IMU samples the aggregator counted lost over the outage."""
        lost: int = self.after.stream("/imu").lost_total - self.before.stream("/imu").lost_total
        return lost


def kill_and_restart(fleet: LiveFleet, router: str, stats: StatsTimeline, imu: SequenceRecorder) -> Outage:
    before = stats.wait_for(at_rate, 30.0, what=f"{VEHICLE} online with the IMU at its rate")
    last_before = imu.last()
    assert last_before is not None
    changes_before = len(fleet.status_changes())  # each is logged before the stats that show it
    killed_ns, killed_s = time.monotonic_ns(), time.time()
    fleet.kill(router)
    time.sleep(OUTAGE_S)  # the outage itself: a fixed time, there is no condition to wait on
    restart = fleet.restart(router)
    first_after = imu.wait_for_sample(restart.spawned_ns, timeout_s=15.0)
    assert first_after is not None, f"no IMU sample within 15 s of the {router}'s return\n{fleet.log(BRIDGE)[-3000:]}"
    online = stats.wait_for(fresh, 20.0, since_ns=first_after[0], what=f"{VEHICLE} back online")
    after = stats.wait_for(at_rate, 20.0, since_ns=online.arrival_ns, what=f"{VEHICLE} back at its rate")
    outage = Outage(killed_ns, killed_s, changes_before, restart.ready_ns, restart.ready_s, restart.spawned_ns,
                    last_before, first_after, before, online, after)
    _log.info("%s: IMU at a cloud client %.3f s after the new router's ready line (%.3f s after its process"
              " started); stats online again after %.3f s, at full rate after %.3f s; IMU gap %d samples,"
              " aggregator lost %d; statuses published %s, logged %s",
              router, outage.rejoin_s, (first_after[0] - restart.spawned_ns) / 1e9,
              (online.arrival_ns - restart.ready_ns) / 1e9, (after.arrival_ns - restart.ready_ns) / 1e9,
              outage.gap_samples, outage.lost, status_runs(stats.samples(killed_ns)),
              [(round(c.at_s - killed_s, 3), c.new) for c in fleet.status_changes()[changes_before:]])
    return outage


def assert_offline_then_online(fleet: LiveFleet, outage: Outage) -> None:
    """The aggregator's log: OFFLINE within a tick or two of the kill, ONLINE once the router is back."""
    logged = fleet.status_changes()[outage.changes_before:]
    assert [(c.old, c.new) for c in logged] == [("ONLINE", "OFFLINE"), ("OFFLINE", "ONLINE")], logged
    offline, online = logged
    assert offline.at_s - outage.killed_s <= STATUS_BOUND_S
    # A router listens ~0.5 s before its ready line; the log's stamps are to the millisecond.
    assert outage.ready_s - 1.0 <= online.at_s <= outage.ready_s + REJOIN_BOUND_S


def assert_nothing_else_restarted(fleet: LiveFleet, pids_before: dict[str, int], restarted: str,
                                  outage: Outage) -> None:
    running = fleet.running()
    assert {n: p for n, p in running.items() if n != restarted} == {
        n: p for n, p in pids_before.items() if n != restarted}, running
    assert restarted in running and running[restarted] != pids_before[restarted]
    assert fleet.log(BRIDGE).count("forwarding 4 streams as ") == 1  # attached once: the same session
    assert [s.restarts_total for s in outage.after.stats.streams] == [0, 0, 0, 0]
    assert outage.first_after[1] > outage.last_before[1]  # the sequence went on: a gap, not a restart


def assert_the_gap_is_counted_as_loss(outage: Outage, tolerance: int) -> None:
    """Loss of about the outage's length: at least the 5 s the router was away, at most that
    plus a few seconds of reconnection; and what the aggregator counted matches the gap a
    client of the same router saw, within `tolerance` samples."""
    assert OUTAGE_S * IMU_HZ * 0.95 <= outage.gap_samples <= (OUTAGE_S + 3) * IMU_HZ
    assert OUTAGE_S * IMU_HZ * 0.95 <= outage.lost <= (OUTAGE_S + 3) * IMU_HZ
    assert abs(outage.lost - outage.gap_samples) <= tolerance, (outage.lost, outage.gap_samples)


def test_a_regional_router_back_after_5_s_brings_its_vehicle_back_within_2_s_without_restarting_anything(
    fleet: LiveFleet, zenoh_clients: ClientSessions, store: TypeStore
) -> None:
    observer = zenoh_clients.open(fleet.cloud_endpoint)
    with StatsTimeline(observer, STATS_KEY, store) as stats, SequenceRecorder(observer, IMU_KEY) as imu:
        pids = fleet.running()
        outage = kill_and_restart(fleet, REGION_ROUTER, stats, imu)
        published = status_runs(stats.samples(outage.killed_ns, outage.online.arrival_ns + 1))

    assert outage.rejoin_s <= REJOIN_BOUND_S
    assert_offline_then_online(fleet, outage)
    # The cloud stayed up, so a dashboard saw both changes too (perhaps one last ONLINE first).
    assert published[-2:] == ["OFFLINE", "ONLINE"] and len(published) <= 3, published
    assert_nothing_else_restarted(fleet, pids, REGION_ROUTER, outage)
    # The aggregator and the observing client hang off the same (surviving) cloud router.
    assert_the_gap_is_counted_as_loss(outage, tolerance=round(0.01 * outage.gap_samples))


def test_the_cloud_router_back_after_5_s_brings_the_fleet_back_within_2_s_without_restarting_anything(
    fleet: LiveFleet, zenoh_clients: ClientSessions, store: TypeStore
) -> None:
    observer = zenoh_clients.open(fleet.cloud_endpoint)
    with StatsTimeline(observer, STATS_KEY, store) as stats, SequenceRecorder(observer, IMU_KEY) as imu:
        pids = fleet.running()
        outage = kill_and_restart(fleet, CLOUD, stats, imu)

    assert outage.rejoin_s <= REJOIN_BOUND_S
    # The aggregator lost its router too: it marked the vehicle offline (nobody could see that
    # message) and online again once both it and the region had reconnected.
    assert_offline_then_online(fleet, outage)
    assert_nothing_else_restarted(fleet, pids, CLOUD, outage)
    # The observer and the aggregator each reconnect on their own retry timer (at most 1 s apart).
    assert_the_gap_is_counted_as_loss(outage, tolerance=round(IMU_HZ * 1.0))
