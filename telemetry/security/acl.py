"""The routers' `access_control` sections, written from the fleet config (`telemetry acl`).

Zenoh's own access control, default deny. Each party is known by its certificate's common
name over mutual TLS (`telemetry pki issue`): a vehicle by its name, the routers as
`cloud-router` and `<region>-router`, then `aggregator` and `dashboard`.

A router filters each message twice: once arriving from a party (ingress) and once leaving
towards one (egress). So a vehicle's sample passes its regional router's ingress rules for
that vehicle, the regional router's egress rules for the cloud link, the cloud router's
ingress rules for that region, and its egress rules for the aggregator. Every rule below
names the one direction it is for; nothing is allowed both ways by habit.

What each party may do:

- vehicle: put under its own `data|batch/<region>/<vehicle>/**`, hold its own liveliness
  token, declare and answer its own `meta` and `clock` queryables. It may learn that
  someone subscribes to the data (a publisher needs that to send at all), nothing more.
- regional router, seen from the cloud: everything its vehicles may do, for its region only.
- aggregator: subscribe to all data, batches and liveliness, ask every vehicle's meta and
  clock, publish and answer stats and the fleet summary.
- dashboard: subscribe to stats, the fleet summary and liveliness; ask the fleet summary;
  ask the recorders' history and watch their status.
- recorder: subscribe to all data (not the bridges' health), stats and the fleet summary;
  serve history; publish its status. A vehicle cannot ask for history: no rule lets a
  vehicle's query past its regional router.

Zenoh matches a rule only when the message's key expression is included in the rule's:
a subscriber on `telemetry/data/**` does not match a rule for `telemetry/data/eu-west/**`.
So subscription rules name the exact selectors the aggregator and dashboard declare.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telemetry.config import FleetConfig, VehicleSource
from telemetry.errors import ConfigError
from telemetry.keys import KeyKind, KeySpace

__all__ = [
    "AGGREGATOR",
    "CLOUD_ROUTER",
    "DASHBOARD",
    "RECORDER",
    "Flow",
    "Message",
    "Rule",
    "access_control",
    "parties",
    "region_router_name",
    "router_names",
]

CLOUD_ROUTER = "cloud-router"
AGGREGATOR = "aggregator"
DASHBOARD = "dashboard"
RECORDER = "recorder"


def region_router_name(region: str) -> str:
    """The common name a region's router presents (and is known by at the cloud)."""
    return f"{region}-router"


class Message(StrEnum):
    PUT = "put"
    DECLARE_SUBSCRIBER = "declare_subscriber"
    QUERY = "query"
    REPLY = "reply"
    DECLARE_QUERYABLE = "declare_queryable"
    LIVELINESS_TOKEN = "liveliness_token"
    LIVELINESS_QUERY = "liveliness_query"
    DECLARE_LIVELINESS_SUBSCRIBER = "declare_liveliness_subscriber"


class Flow(StrEnum):
    INGRESS = "ingress"  # from the party to this router
    EGRESS = "egress"  # from this router to the party


@dataclass(frozen=True)
class Rule:
    """Allow `messages` on `keys` in one direction, for the party with common name `subject`."""

    subject: str
    what: str  # short words for the rule's id
    flow: Flow
    messages: tuple[Message, ...]
    keys: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.subject}: {self.what} ({self.flow.value})"


_SUBSCRIBE = (Message.DECLARE_SUBSCRIBER,)
_LIVELINESS_READ = (Message.DECLARE_LIVELINESS_SUBSCRIBER, Message.LIVELINESS_QUERY)
_SERVE = (Message.DECLARE_QUERYABLE, Message.REPLY)


def router_names(fleet: FleetConfig) -> list[str]:
    """The routers a fleet has, by the name `telemetry acl` writes them under."""
    return ["cloud"] + [region.name for region in fleet.regions]


def access_control(fleet: FleetConfig, router: str) -> dict[str, Any]:
    """Zenoh's `access_control` section for `router` ("cloud" or a region's name)."""
    _check_names(fleet)
    keys = KeySpace(fleet.key_root)
    if router == "cloud":
        rules = _cloud_rules(fleet, keys)
    elif router in {region.name for region in fleet.regions}:
        rules = _region_rules(fleet, keys, router)
    else:
        raise ConfigError(f"router {router!r}: not in the fleet config (routers: {', '.join(router_names(fleet))})")
    return _section(rules)


def _section(rules: list[Rule]) -> dict[str, Any]:
    subjects = list(dict.fromkeys(rule.subject for rule in rules))
    return {
        "enabled": True,
        "default_permission": "deny",
        "rules": [
            {"id": rule.id, "permission": "allow", "flows": [rule.flow.value],
             "messages": [m.value for m in rule.messages], "key_exprs": list(rule.keys)}
            for rule in rules
        ],
        "subjects": [{"id": name, "cert_common_names": [name]} for name in subjects],
        "policies": [
            {"id": f"{name} may", "subjects": [name], "rules": [rule.id for rule in rules if rule.subject == name]}
            for name in subjects
        ],
    }


def _check_names(fleet: FleetConfig) -> None:
    """A vehicle named like a service would get that service's rights."""
    services = {CLOUD_ROUTER, AGGREGATOR, DASHBOARD, RECORDER} | {region_router_name(r.name) for r in fleet.regions}
    for index, vehicle in enumerate(fleet.vehicles):
        if vehicle.source is VehicleSource.RMW_ZENOH:
            raise ConfigError(f"{fleet.source}: vehicles[{index}]: {vehicle.name!r} runs rmw_zenoh; access rules "
                              "for rmw_zenoh vehicles are not generated yet (run that fleet without --secure)")
        if vehicle.name in services:
            raise ConfigError(f"{fleet.source}: vehicles[{index}].name: {vehicle.name!r} is the certificate name "
                              f"of a fleet service ({', '.join(sorted(services))}); rename the vehicle")


def _selectors(keys: KeySpace, kind: KeyKind, fleet: FleetConfig) -> tuple[str, ...]:
    """What the aggregator may declare for `kind`: the whole fleet, or one region (--region)."""
    return (keys.selector(kind), *(keys.selector(kind, region.name) for region in fleet.regions))


#: What a vehicle publishes: its samples (alone and batched, on one key) and its bridge's health reports.
_PUBLISHED = (KeyKind.DATA, KeyKind.HEALTH)


def _published(keys: KeySpace, fleet: FleetConfig) -> tuple[str, ...]:
    """What the aggregator may subscribe to: every kind a vehicle publishes, fleet-wide or per region."""
    return tuple(selector for kind in _PUBLISHED for selector in _selectors(keys, kind, fleet))


def _region_rules(fleet: FleetConfig, keys: KeySpace, region: str) -> list[Rule]:
    rules: list[Rule] = []
    interest = _published(keys, fleet)
    for vehicle in (v for v in fleet.vehicles if v.region == region):
        name = vehicle.name
        own = (keys.meta(region, name), keys.clock(region, name))
        rules += [
            Rule(name, "publish its own data", Flow.INGRESS, (Message.PUT,),
                 tuple(keys.selector(kind, region, name) for kind in _PUBLISHED)),
            Rule(name, "hold its own token", Flow.INGRESS, (Message.LIVELINESS_TOKEN,), (keys.alive(region, name),)),
            Rule(name, "serve its own meta and clock", Flow.INGRESS, _SERVE, own),
            Rule(name, "be asked its meta and clock", Flow.EGRESS, (Message.QUERY,), own),
            Rule(name, "learn its data is wanted", Flow.EGRESS, _SUBSCRIBE, interest),
        ]
    rules += _region_link_rules(fleet, keys, region, CLOUD_ROUTER, towards_cloud=Flow.EGRESS)
    return rules


def _region_link_rules(fleet: FleetConfig, keys: KeySpace, region: str, peer: str, towards_cloud: Flow) -> list[Rule]:
    """The regional router <-> cloud router link, from either end: `towards_cloud` is the
    flow that carries the region's data up (egress at the region, ingress at the cloud)."""
    towards_region = Flow.INGRESS if towards_cloud is Flow.EGRESS else Flow.EGRESS
    served = (keys.selector(KeyKind.META, region), keys.selector(KeyKind.CLOCK, region))
    return [
        Rule(peer, f"carry {region}'s data", towards_cloud, (Message.PUT,),
             tuple(keys.selector(kind, region) for kind in _PUBLISHED)),
        Rule(peer, f"carry {region}'s tokens", towards_cloud, (Message.LIVELINESS_TOKEN,),
             (keys.selector(KeyKind.ALIVE, region),)),
        Rule(peer, f"carry {region}'s meta and clock", towards_cloud, _SERVE, served),
        Rule(peer, "carry subscriptions to data", towards_region, _SUBSCRIBE, _published(keys, fleet)),
        Rule(peer, "carry liveliness interest", towards_region, _LIVELINESS_READ,
             _selectors(keys, KeyKind.ALIVE, fleet)),
        Rule(peer, f"carry questions to {region}'s vehicles", towards_region, (Message.QUERY,), served),
    ]


def _cloud_rules(fleet: FleetConfig, keys: KeySpace) -> list[Rule]:
    rules: list[Rule] = []
    for region in fleet.regions:
        router = region_router_name(region.name)
        rules += _region_link_rules(fleet, keys, region.name, router, towards_cloud=Flow.INGRESS)
    all_data = tuple(keys.selector(kind) for kind in _PUBLISHED)
    every_vehicle = (keys.selector(KeyKind.META), keys.selector(KeyKind.CLOCK))
    stats = (*_selectors(keys, KeyKind.STATS, fleet), keys.fleet())
    alive = _selectors(keys, KeyKind.ALIVE, fleet)
    rules += [
        Rule(AGGREGATOR, "subscribe to data", Flow.INGRESS, _SUBSCRIBE, _published(keys, fleet)),
        Rule(AGGREGATOR, "receive data", Flow.EGRESS, (Message.PUT,), all_data),
        Rule(AGGREGATOR, "watch liveliness", Flow.INGRESS, _LIVELINESS_READ, alive),
        Rule(AGGREGATOR, "see tokens", Flow.EGRESS, (Message.LIVELINESS_TOKEN,), (keys.selector(KeyKind.ALIVE),)),
        Rule(AGGREGATOR, "ask vehicles", Flow.INGRESS, (Message.QUERY,), every_vehicle),
        Rule(AGGREGATOR, "hear vehicles' answers", Flow.EGRESS, (Message.REPLY,), every_vehicle),
        Rule(AGGREGATOR, "publish stats", Flow.INGRESS, (Message.PUT,), stats),
        Rule(AGGREGATOR, "serve stats", Flow.INGRESS, _SERVE, stats),
        Rule(AGGREGATOR, "learn stats are wanted", Flow.EGRESS, _SUBSCRIBE, stats),
        Rule(AGGREGATOR, "be asked for stats", Flow.EGRESS, (Message.QUERY,), stats),
        Rule(DASHBOARD, "subscribe to stats", Flow.INGRESS, _SUBSCRIBE, stats),
        Rule(DASHBOARD, "receive stats", Flow.EGRESS, (Message.PUT,), stats),
        Rule(DASHBOARD, "watch liveliness", Flow.INGRESS, _LIVELINESS_READ, alive),
        Rule(DASHBOARD, "see tokens", Flow.EGRESS, (Message.LIVELINESS_TOKEN,), (keys.selector(KeyKind.ALIVE),)),
        Rule(DASHBOARD, "ask for stats", Flow.INGRESS, (Message.QUERY,), stats),
        Rule(DASHBOARD, "hear stats answers", Flow.EGRESS, (Message.REPLY,), stats),
        Rule(DASHBOARD, "learn stats are served", Flow.EGRESS, (Message.DECLARE_QUERYABLE,), stats),
    ]
    return rules + _recorder_rules(fleet, keys, stats)


def _recorder_rules(fleet: FleetConfig, keys: KeySpace, stats: tuple[str, ...]) -> list[Rule]:
    """The recorder at the cloud, and what the dashboard may do with it."""
    recorded = (*_selectors(keys, KeyKind.DATA, fleet), *stats)
    history = _selectors(keys, KeyKind.HISTORY, fleet)
    status = (keys.selector(KeyKind.RECORDER),)
    return [
        Rule(RECORDER, "subscribe to data and stats", Flow.INGRESS, _SUBSCRIBE, recorded),
        Rule(RECORDER, "receive data and stats", Flow.EGRESS, (Message.PUT,), (keys.selector(KeyKind.DATA), *stats)),
        Rule(RECORDER, "serve history", Flow.INGRESS, _SERVE, history),
        Rule(RECORDER, "be asked for history", Flow.EGRESS, (Message.QUERY,), history),
        Rule(RECORDER, "publish its status", Flow.INGRESS, (Message.PUT,), status),
        Rule(RECORDER, "learn its status is wanted", Flow.EGRESS, _SUBSCRIBE, status),
        Rule(DASHBOARD, "ask for history", Flow.INGRESS, (Message.QUERY,), history),
        Rule(DASHBOARD, "hear history answers", Flow.EGRESS, (Message.REPLY,), history),
        Rule(DASHBOARD, "learn history is served", Flow.EGRESS, (Message.DECLARE_QUERYABLE,), history),
        Rule(DASHBOARD, "watch recorders", Flow.INGRESS, _SUBSCRIBE, status),
        Rule(DASHBOARD, "receive recorders' status", Flow.EGRESS, (Message.PUT,), status),
    ]


def parties(fleet: FleetConfig) -> Iterable[tuple[str, str]]:
    """(common name, pki role) of every party the fleet's ACLs name: what `telemetry pki issue` needs."""
    yield CLOUD_ROUTER, "router"
    for region in fleet.regions:
        yield region_router_name(region.name), "router"
    yield AGGREGATOR, "aggregator"
    yield DASHBOARD, "dashboard"
    yield RECORDER, "recorder"
    for vehicle in fleet.vehicles:
        yield vehicle.name, "vehicle"
