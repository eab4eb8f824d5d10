"""FleetEngine presence from hand-made ticks: online, stale, offline, the token's grace, and
eviction of silent streams and departed vehicles after evict_after_s."""

from __future__ import annotations

from support.engine_input import MS, SECOND, T0, arrivals
from support.engine_run import EU, ROVER, TICK, Run

from telemetry.codec import TypeStore
from telemetry.fleet.status import VehicleStatus

# --- presence, staleness, eviction --------------------------------------------------------


def test_a_vehicle_goes_stale_when_its_streams_stop_and_online_when_they_resume(store: TypeStore) -> None:
    run = Run(store, expected_hz={(EU, ROVER, "/imu"): 1000.0})
    run.token(EU, ROVER, True, T0)
    imu = (EU, ROVER, "/imu")
    run.ticks({imu: arrivals(1000, 4)}, T0, T0 + 4 * SECOND)
    assert run.vehicle(run.snapshots[-1], EU, ROVER).status == VehicleStatus.ONLINE

    silent = run.ticks({}, T0 + 4 * SECOND, T0 + 6 * SECOND)  # 1 kHz: stale after max(1 s, 3 ms)
    vehicle = run.vehicle(silent, EU, ROVER)
    assert vehicle.status == VehicleStatus.STALE
    assert run.stream(silent, EU, ROVER, "/imu").stale
    stale_at = T0 + 5 * SECOND  # the first tick more than 1 s after the last sample (T0 + 3.999 s)
    assert vehicle.status_since.sec * SECOND + vehicle.status_since.nanosec == stale_at
    assert run.fleet(silent).vehicles_stale == 1

    resumed = run.ticks(
        {imu: arrivals(1000, 1, start_ns=T0 + 6 * SECOND, first_sequence=4001)}, T0 + 6 * SECOND, T0 + 7 * SECOND
    )
    assert run.vehicle(resumed, EU, ROVER).status == VehicleStatus.ONLINE
    changes = [(c.old, c.new) for snapshot in run.snapshots for _, _, c in snapshot.changes]
    assert changes == [
        (VehicleStatus.OFFLINE, VehicleStatus.ONLINE),
        (VehicleStatus.ONLINE, VehicleStatus.STALE),
        (VehicleStatus.STALE, VehicleStatus.ONLINE),
    ]
    assert run.stream(resumed, EU, ROVER, "/imu").lost_total == 0


def test_a_vehicle_whose_token_goes_is_offline_even_while_data_arrives(store: TypeStore) -> None:
    run = Run(store)
    run.token(EU, ROVER, True, T0)
    imu = (EU, ROVER, "/imu")
    run.ticks({imu: arrivals(100, 2)}, T0, T0 + 2 * SECOND)
    run.token(EU, ROVER, False, T0 + 2 * SECOND)
    gone = run.ticks(
        {imu: arrivals(100, 1, start_ns=T0 + 2 * SECOND, first_sequence=201)}, T0 + 2 * SECOND, T0 + 3 * SECOND
    )
    assert run.vehicle(gone, EU, ROVER).status == VehicleStatus.OFFLINE
    assert run.fleet(gone).vehicles_offline == 1 and bytes(run.fleet(gone).vehicle_status) == b"\x02"
    run.token(EU, ROVER, True, T0 + 3 * SECOND)
    back = run.ticks(
        {imu: arrivals(100, 1, start_ns=T0 + 3 * SECOND, first_sequence=301)}, T0 + 3 * SECOND, T0 + 4 * SECOND
    )
    assert run.vehicle(back, EU, ROVER).status == VehicleStatus.ONLINE


def test_a_vehicle_with_a_token_and_no_data_is_online_during_the_grace_then_stale(store: TypeStore) -> None:
    run = Run(store)
    run.token(EU, ROVER, True, T0)
    # The grace (3 s) counts from the first tick that sees the token (T0 + 1 s here).
    assert run.vehicle(run.snapshot(T0 + SECOND), EU, ROVER).status == VehicleStatus.ONLINE
    assert run.vehicle(run.snapshot(T0 + 4 * SECOND), EU, ROVER).status == VehicleStatus.ONLINE
    assert run.vehicle(run.snapshot(T0 + 4 * SECOND + TICK), EU, ROVER).status == VehicleStatus.STALE


def test_silent_streams_and_departed_vehicles_are_evicted_after_evict_after_s(store: TypeStore) -> None:
    run = Run(store, evict_after_s=2.0)
    for vehicle in (ROVER, "rover-02"):
        run.token(EU, vehicle, True, T0)
    run.ticks({(EU, ROVER, "/imu"): arrivals(100, 1), (EU, "rover-02", "/imu"): arrivals(100, 1)}, T0, T0 + SECOND)
    run.token(EU, ROVER, False, T0 + SECOND)  # rover-01 leaves; rover-02 keeps its token but goes quiet

    kept = run.snapshot(T0 + 2 * SECOND + 900 * MS)  # last sample at T0 + 0.99 s: 1.91 s ago
    assert kept.evicted == [] and kept.evicted_streams == []

    # The vehicle's last activity is the tick that ingested its last samples (T0 + 1 s).
    evicted = run.snapshot(T0 + 3 * SECOND + TICK)
    assert sorted(evicted.evicted_streams) == [
        "telemetry/data/eu-west/rover-01/imu",
        "telemetry/data/eu-west/rover-02/imu",
    ]
    assert evicted.evicted == [(EU, ROVER)]
    assert set(evicted.vehicle_stats) == {(EU, "rover-02")}  # its token is still there
    assert run.fleet(evicted).streams == 0
    later = run.snapshot(T0 + 5 * SECOND)  # past the token's grace, with no stream at all
    assert later.evicted == [] and run.vehicle(later, EU, "rover-02").status == VehicleStatus.STALE


def test_an_evicted_stream_that_returns_starts_afresh(store: TypeStore) -> None:
    run = Run(store, evict_after_s=2.0)
    run.token(EU, ROVER, True, T0)
    imu = (EU, ROVER, "/imu")
    run.ticks({imu: arrivals(100, 1)}, T0, T0 + SECOND)
    assert run.snapshot(T0 + 4 * SECOND).evicted_streams == ["telemetry/data/eu-west/rover-01/imu"]
    back = run.ticks(
        {imu: arrivals(100, 1, start_ns=T0 + 4 * SECOND, first_sequence=401)}, T0 + 4 * SECOND, T0 + 5 * SECOND
    )
    stream = run.stream(back, EU, ROVER, "/imu")
    assert stream.received_total == 100 and stream.lost_total == 0
