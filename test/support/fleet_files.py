"""Fleet config files written for one test, and a ROS domain id of its own for each test.

Both nodes (sensor_sim and zenoh_bridge) take their ROS domain from the vehicle's
`ros_domain_id` and the bridge connects to the vehicle's region router `listen` endpoint,
so a test that writes its own config with a free port and a fresh domain id gets a
vehicle that sees nothing of any other test's.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from support.processes import free_port

__all__ = [
    "DEFAULT_STREAMS",
    "next_domain_id",
    "shipped_fleet_on_free_ports",
    "stream",
    "with_stream_options",
    "write_fleet_config",
]

#: Highest id whose DDS ports stay valid (telemetry.config.MAX_ROS_DOMAIN_ID).
_MAX_DOMAIN_ID = 232
#: A random base per pytest session, so two sessions on one machine rarely share a domain;
#: counting up from it gives every test in this session its own.
_domain_ids = itertools.count(random.SystemRandom().randint(20, 90))


def next_domain_id() -> int:
    """A ROS_DOMAIN_ID no other test of this session uses."""
    domain_id = next(_domain_ids)
    assert domain_id <= _MAX_DOMAIN_ID, "more ROS tests than domain ids: lower the random base"
    return domain_id


def stream(topic: str, ros_type: str, rate_hz: float, **options: Any) -> dict[str, Any]:
    """One `streams:` entry; `options` are the optional fields (`max_rate_hz=50`, `batch_ms=20`)."""
    return {"topic": topic, "type": ros_type, "rate_hz": rate_hz, **options}


def _shipped_streams() -> tuple[dict[str, Any], ...]:
    """The `defaults.streams` of the shipped config/fleet.yaml, as written there: tests run
    vehicles the way the demo does, and a change to the shipped defaults reaches them."""
    shipped = yaml.safe_load((Path(__file__).resolve().parents[2] / "config" / "fleet.yaml").read_text())
    return tuple(dict(entry) for entry in shipped["defaults"]["streams"])


#: The demo fleet's streams (config/fleet.yaml): what sensor_sim publishes by default.
DEFAULT_STREAMS: tuple[dict[str, Any], ...] = _shipped_streams()


def with_stream_options(
    streams: Iterable[Mapping[str, Any]], topic: str, **options: Any
) -> list[dict[str, Any]]:
    """A copy of `streams` where the entry for `topic` gets `options` (e.g. `type=...` or `batch_ms=20`)."""
    changed = [dict(entry, **options) if entry["topic"] == topic else dict(entry) for entry in streams]
    assert any(entry["topic"] == topic for entry in changed), f"no stream {topic} to change"
    return changed


def write_fleet_config(
    path: Path,
    *,
    vehicle: str,
    domain_id: int,
    router_port: int,
    region: str = "eu-west",
    streams: Sequence[Mapping[str, Any]] = DEFAULT_STREAMS,
) -> Path:
    """A one-region, one-vehicle fleet file whose region router listens on 127.0.0.1:`router_port`.

    The cloud router gets a port of its own (the config requires distinct endpoints) that no
    test listens on: the vehicle side never talks to it.
    """
    fleet = {
        "key_root": "telemetry",
        "cloud": {"router": {"listen": [f"tcp/127.0.0.1:{free_port()}"]}},
        "regions": [{"name": region, "router": {"listen": [f"tcp/127.0.0.1:{router_port}"]}}],
        "vehicles": [
            {"name": vehicle, "region": region, "ros_domain_id": domain_id, "streams": [dict(s) for s in streams]}
        ],
    }
    path.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
    return path


def shipped_fleet_on_free_ports(path: Path) -> Path:
    """The shipped config/fleet.yaml with every router on a free port and every vehicle in a
    fresh ROS domain: the demo fleet as shipped, isolated from other tests and other demos."""
    from telemetry.config import default_fleet_config_path

    fleet = yaml.safe_load(default_fleet_config_path().read_text(encoding="utf-8"))
    fleet["cloud"]["router"]["listen"] = [f"tcp/127.0.0.1:{free_port()}"]
    for region in fleet["regions"]:
        region["router"]["listen"] = [f"tcp/127.0.0.1:{free_port()}"]
    for vehicle in fleet["vehicles"]:
        vehicle["ros_domain_id"] = next_domain_id()
    path.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
    return path
