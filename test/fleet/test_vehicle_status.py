"""Vehicle presence: online, stale and offline from the liveliness token and the streams' staleness."""

from __future__ import annotations

from pathlib import Path

from telemetry.codec import parse_msg
from telemetry.fleet.status import StatusChange, VehiclePresence, VehicleStatus, presence_status

SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND
MSG_DIR = Path(__file__).resolve().parents[2] / "msg"


def test_the_status_values_equal_the_constants_of_the_vehicle_stats_message() -> None:
    path = MSG_DIR / "VehicleStats.msg"
    definition = parse_msg(path.read_text(), "telemetry/msg/VehicleStats", str(path))
    constants = {constant.name: int(constant.value) for constant in definition.constants}
    assert constants == {f"STATUS_{status.name}": status.value for status in VehicleStatus}


def test_online_stale_online_offline_transitions_are_returned_with_their_times() -> None:
    presence = VehiclePresence(T0)
    assert presence.status is VehicleStatus.OFFLINE and presence.since_ns == T0
    changes = [
        presence.update(T0 + 1 * SECOND, token_present=True, streams_stale=[]),
        presence.update(T0 + 2 * SECOND, token_present=True, streams_stale=[False, False]),
        presence.update(T0 + 9 * SECOND, token_present=True, streams_stale=[True, True]),
        presence.update(T0 + 10 * SECOND, token_present=True, streams_stale=[True, True]),
        presence.update(T0 + 12 * SECOND, token_present=True, streams_stale=[True, False]),
        presence.update(T0 + 20 * SECOND, token_present=False, streams_stale=[False, False]),
    ]
    assert changes == [
        StatusChange(VehicleStatus.OFFLINE, VehicleStatus.ONLINE, T0 + 1 * SECOND),
        None,
        StatusChange(VehicleStatus.ONLINE, VehicleStatus.STALE, T0 + 9 * SECOND),
        None,
        StatusChange(VehicleStatus.STALE, VehicleStatus.ONLINE, T0 + 12 * SECOND),
        StatusChange(VehicleStatus.ONLINE, VehicleStatus.OFFLINE, T0 + 20 * SECOND),
    ]
    assert presence.status is VehicleStatus.OFFLINE and presence.since_ns == T0 + 20 * SECOND


def test_a_vehicle_that_never_sent_data_is_online_until_the_grace_after_its_token_passes() -> None:
    presence = VehiclePresence(T0, grace_ns=3 * SECOND)
    assert presence.update(T0 + SECOND, token_present=True) is not None
    assert presence.update(T0 + 4 * SECOND, token_present=True) is None
    change = presence.update(T0 + 4 * SECOND + 1, token_present=True)
    assert change == StatusChange(VehicleStatus.ONLINE, VehicleStatus.STALE, T0 + 4 * SECOND + 1)


def test_a_returning_token_gets_a_fresh_grace_even_if_its_streams_are_stale() -> None:
    presence = VehiclePresence(T0, grace_ns=3 * SECOND)
    presence.update(T0, token_present=True, streams_stale=[False])
    presence.update(T0 + 5 * SECOND, token_present=False, streams_stale=[True])
    change = presence.update(T0 + 6 * SECOND, token_present=True, streams_stale=[True])
    assert change == StatusChange(VehicleStatus.OFFLINE, VehicleStatus.ONLINE, T0 + 6 * SECOND)
    assert presence.token_since_ns == T0 + 6 * SECOND
    change = presence.update(T0 + 9 * SECOND + 1, token_present=True, streams_stale=[True])
    assert change is not None and change.new is VehicleStatus.STALE


def test_the_pure_rule_puts_the_token_first() -> None:
    assert presence_status(token_present=False, streams_stale=[False], in_grace=True) is VehicleStatus.OFFLINE
    assert presence_status(token_present=True, streams_stale=[True], in_grace=True) is VehicleStatus.ONLINE
    assert presence_status(token_present=True, streams_stale=[True, False], in_grace=False) is VehicleStatus.ONLINE
    assert presence_status(token_present=True, streams_stale=[True, True], in_grace=False) is VehicleStatus.STALE
    assert presence_status(token_present=True, streams_stale=[], in_grace=False) is VehicleStatus.STALE
