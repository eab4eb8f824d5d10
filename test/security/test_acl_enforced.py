"""What the generated access control really blocks, on real routers over mutual TLS.

The cloud router and the eu-west router run the configs `telemetry acl --out` writes (TLS
endpoints on free ports, a fresh development CA, one certificate per party). Each party is
then a Zenoh client session with its own certificate, doing what an attacker holding that
certificate could do. Every "not delivered" is checked next to a legitimate message on
the same path that was delivered, so a test cannot pass because nothing flowed at all.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zenoh
from support.fleet_files import shipped_fleet_on_free_ports
from support.processes import ProcessGroup, wait_until

from telemetry.codec import TypeStore
from telemetry.config import FleetConfig, load_fleet_config
from telemetry.net import BackgroundSession, SessionOptions
from telemetry.net.declarations import undeclare_all
from telemetry.security import pki
from telemetry.security.acl import parties
from telemetry.security.deployment import secure_fleet, write_secure_configs

ROVER_01_IMU = "telemetry/data/eu-west/rover-01/imu"
ROVER_02_IMU = "telemetry/data/eu-west/rover-02/imu"
STATS = "telemetry/stats/eu-west/rover-01"


@dataclass
class SecureNet:
    fleet: FleetConfig
    zenoh_dir: Path
    sessions: list[BackgroundSession]

    def open(self, party: str, timeout_s: float = 15.0) -> zenoh.Session:
        """A client session presenting `party`'s certificate, connected to its router."""
        background = BackgroundSession(SessionOptions(config_path=self.zenoh_dir / f"{party}.json5"), name=party)
        self.sessions.append(background.start())
        session = background.wait(timeout_s)
        assert session is not None, f"{party} did not connect within {timeout_s} s"
        return session


@pytest.fixture(scope="module")
def secure_net(tmp_path_factory: pytest.TempPathFactory, store: TypeStore) -> Iterator[SecureNet]:
    folder = tmp_path_factory.mktemp("secure")
    fleet = secure_fleet(load_fleet_config(shipped_fleet_on_free_ports(folder / "fleet.yaml"), store))
    pki.init(folder / "pki")
    for name, role in parties(fleet):
        pki.issue(folder / "pki", name, role)
    write_secure_configs(fleet, folder / "zenoh", folder / "pki", "test")
    routers = ProcessGroup()
    net = SecureNet(fleet, folder / "zenoh", [])
    try:
        for router in ("cloud", "eu-west"):
            child = routers.start_module("telemetry.net.router", "-c", str(folder / "zenoh" / f"{router}.json5"),
                                         name=f"{router} router")
            child.wait_for_line(" listening on ", 15)
        yield net
    finally:
        for background in reversed(net.sessions):
            background.close()
        routers.stop_all()


#: Where the denied sender has no allowed path to the same receiver (a dashboard may put
#: nothing a dashboard hears; a vehicle may hear nothing at all), no sentinel can follow
#: its denied messages, so the test waits this long after the allowed ones have arrived:
#: on loopback a message that passed would be there in well under a millisecond.
_NO_ALLOWED_PATH_S = 0.3

def _recorder(session: zenoh.Session, key: str) -> tuple[zenoh.Subscriber[None], queue.Queue[tuple[str, bytes]]]:
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    subscriber = session.declare_subscriber(key, lambda s: received.put((str(s.key_expr), s.payload.to_bytes())))
    return subscriber, received


def _gather(
    arrived: list[tuple[str, bytes]], received: queue.Queue[tuple[str, bytes]]
) -> list[tuple[str, bytes]]:
    """`arrived` with what has arrived appended: a condition for wait_until that keeps every sample."""
    arrived.extend(_drain(received))
    return arrived


def _drain(received: queue.Queue[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    items: list[tuple[str, bytes]] = []
    while True:
        try:
            items.append(received.get_nowait())
        except queue.Empty:
            return items


def _until_flowing(session: zenoh.Session, key: str, received: queue.Queue[tuple[str, bytes]]) -> None:
    """Put on `key` until one arrives: routes and subscriptions are in place after a connect."""
    assert wait_until(lambda: session.put(key, b"warm-up") or not received.empty(), 15, interval_s=0.05), (
        f"nothing on {key} arrived: the legitimate path does not work")
    time.sleep(0.2)
    _drain(received)


def test_a_vehicle_publishing_under_another_vehicles_key_is_not_delivered(secure_net: SecureNet) -> None:
    aggregator = secure_net.open("aggregator")
    rover_01, rover_02 = secure_net.open("rover-01"), secure_net.open("rover-02")
    subscriber, received = _recorder(aggregator, "telemetry/data/**")
    _until_flowing(rover_01, ROVER_01_IMU, received)
    for _ in range(50):
        rover_01.put(ROVER_01_IMU, b"genuine")
        rover_02.put(ROVER_01_IMU, b"spoofed")  # rover-02's certificate, rover-01's key
        rover_02.put(ROVER_02_IMU, b"own")
        time.sleep(0.002)
    # Each sender's last put goes the way its others went, after them: once both arrived,
    # nothing of the burst is still in flight, whatever the routers let through.
    rover_01.put(ROVER_01_IMU, b"sentinel")
    rover_02.put(ROVER_02_IMU, b"sentinel")
    arrived: list[tuple[str, bytes]] = []
    sentinels = {(ROVER_01_IMU, b"sentinel"), (ROVER_02_IMU, b"sentinel")}
    assert wait_until(lambda: sentinels <= set(_gather(arrived, received)), 10), arrived[-5:]
    assert arrived.count((ROVER_01_IMU, b"genuine")) == 50
    assert arrived.count((ROVER_02_IMU, b"own")) == 50
    assert (ROVER_01_IMU, b"spoofed") not in arrived
    subscriber.undeclare()


def test_a_vehicle_cannot_hold_another_vehicles_token_or_answer_its_meta(secure_net: SecureNet) -> None:
    """rover-01 is away; rover-02 pretends to be it. The aggregator sees only rover-02 itself."""
    rover_02 = secure_net.open("rover-02")
    own_token = rover_02.liveliness().declare_token("telemetry/alive/eu-west/rover-02")
    stolen_token = rover_02.liveliness().declare_token("telemetry/alive/eu-west/rover-01")
    fake_meta = rover_02.declare_queryable("telemetry/meta/eu-west/rover-01", lambda q: q.reply(q.key_expr, b"fake"))
    own_meta = rover_02.declare_queryable("telemetry/meta/eu-west/rover-02", lambda q: q.reply(q.key_expr, b"own"))
    aggregator = secure_net.open("aggregator")
    alive: queue.Queue[str] = queue.Queue()
    watcher = aggregator.liveliness().declare_subscriber("telemetry/alive/*/*", lambda s: alive.put(str(s.key_expr)),
                                                         history=True)
    seen: list[str] = []
    assert wait_until(lambda: "telemetry/alive/eu-west/rover-02" in _gather_keys(seen, alive), 10)

    def answers(key: str) -> list[bytes]:
        return [r.ok.payload.to_bytes() for r in aggregator.get(key, timeout=2.0) if r.ok is not None]

    assert answers("telemetry/meta/eu-west/rover-02") == [b"own"]
    assert answers("telemetry/meta/eu-west/rover-01") == []
    time.sleep(_NO_ALLOWED_PATH_S)  # the stolen token, had it passed, arrives within this
    seen += _drain_keys(alive)
    assert "telemetry/alive/eu-west/rover-01" not in seen
    watcher.undeclare()
    for queryable in (own_meta, fake_meta):
        queryable.undeclare()
    for token in (stolen_token, own_token):
        token.undeclare()


def _gather_keys(seen: list[str], alive: queue.Queue[str]) -> list[str]:
    """`seen` with what has arrived appended: a condition for wait_until that keeps every key."""
    seen.extend(_drain_keys(alive))
    return seen


def _drain_keys(alive: queue.Queue[str]) -> list[str]:
    keys: list[str] = []
    while not alive.empty():
        keys.append(alive.get_nowait())
    return keys


def test_a_dashboard_or_a_vehicle_cannot_publish_stats(secure_net: SecureNet) -> None:
    aggregator, watcher = secure_net.open("aggregator"), secure_net.open("dashboard")
    forger, rover_01 = secure_net.open("dashboard"), secure_net.open("rover-01")
    subscriber, received = _recorder(watcher, "telemetry/stats/*/*")
    _until_flowing(aggregator, STATS, received)
    for _ in range(20):
        aggregator.put(STATS, b"aggregator")
        forger.put(STATS, b"forged by a dashboard")
        rover_01.put(STATS, b"forged by a vehicle")
        time.sleep(0.005)
    arrived: list[tuple[str, bytes]] = []
    wait_until(lambda: len(_gather(arrived, received)) >= 20, 10)
    time.sleep(_NO_ALLOWED_PATH_S)  # a forged put, had it passed, arrives within this
    payloads = [payload for _, payload in arrived + _drain(received)]
    assert payloads.count(b"aggregator") == 20
    assert set(payloads) == {b"aggregator"}
    subscriber.undeclare()


def test_a_vehicle_cannot_read_the_fleets_data(secure_net: SecureNet) -> None:
    aggregator = secure_net.open("aggregator")
    rover_01, rover_02 = secure_net.open("rover-01"), secure_net.open("rover-02")
    legit, legit_received = _recorder(aggregator, "telemetry/data/**")
    spy, spied = _recorder(rover_02, "telemetry/data/**")
    _until_flowing(rover_01, ROVER_01_IMU, legit_received)
    for _ in range(20):
        rover_01.put(ROVER_01_IMU, b"private")
    assert wait_until(lambda: legit_received.qsize() >= 20, 10)
    time.sleep(_NO_ALLOWED_PATH_S)  # a leaked sample, had it passed, arrives within this
    assert _drain(spied) == []
    for declared in (spy, legit):
        declared.undeclare()


HISTORY = "telemetry/history/eu-west/rover-01/imu"


def _history_replies(session: zenoh.Session) -> list[bytes]:
    replies = session.get(f"{HISTORY}?_time=[..]", target=zenoh.QueryTarget.ALL,
                          consolidation=zenoh.ConsolidationMode.NONE, timeout=3.0)
    return [reply.ok.payload.to_bytes() for reply in replies if reply.ok is not None]


def test_the_recorder_records_data_and_serves_history_to_a_dashboard_but_not_to_a_vehicle(
    secure_net: SecureNet,
) -> None:
    recorder, dashboard = secure_net.open("recorder"), secure_net.open("dashboard")
    rover_01 = secure_net.open("rover-01")
    subscriber, received = _recorder(recorder, "telemetry/data/**")
    _until_flowing(rover_01, ROVER_01_IMU, received)  # the recorder hears the fleet's data
    queryable = recorder.declare_queryable(
        "telemetry/history/**", lambda query: query.reply(HISTORY, b"recorded sample"))
    assert wait_until(lambda: _history_replies(dashboard) == [b"recorded sample"], 15, interval_s=0.2), (
        "a dashboard's history query got no answer: the legitimate path does not work")
    assert _history_replies(rover_01) == []  # a vehicle's query never reaches the recorder
    undeclare_all([queryable, subscriber])
