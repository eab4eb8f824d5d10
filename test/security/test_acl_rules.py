"""`telemetry acl`: the access control written from the fleet config, and the secure
deployment's configs, checked as data (and by Zenoh's own config parser). What the rules
really block on a running router is in test_acl_enforced.py."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
import zenoh

from telemetry.cli import main
from telemetry.codec import TypeStore
from telemetry.config import (
    FleetConfig,
    default_fleet_config_path,
    load_fleet_config,
    shipped_file,
)
from telemetry.errors import ConfigError
from telemetry.security.acl import access_control, parties, router_names
from telemetry.security.deployment import secure_configs, secure_fleet, tls_endpoint


@pytest.fixture(scope="module")
def fleet(store: TypeStore) -> FleetConfig:
    return load_fleet_config(default_fleet_config_path(), store)


def _rules_of(section: dict[str, Any], subject: str) -> list[dict[str, Any]]:
    (policy,) = [p for p in section["policies"] if p["subjects"] == [subject]]
    return [r for r in section["rules"] if r["id"] in policy["rules"]]


def test_every_router_denies_by_default_and_names_parties_by_certificate(fleet: FleetConfig) -> None:
    assert router_names(fleet) == ["cloud", "eu-west", "us-east"]
    for router in router_names(fleet):
        section = access_control(fleet, router)
        assert section["enabled"] is True
        assert section["default_permission"] == "deny"
        assert all(rule["permission"] == "allow" and len(rule["flows"]) == 1 for rule in section["rules"])
        assert all(subject["cert_common_names"] == [subject["id"]] for subject in section["subjects"])
        rule_ids = {rule["id"] for rule in section["rules"]}
        assert len(rule_ids) == len(section["rules"])
        assert all(set(policy["rules"]) <= rule_ids for policy in section["policies"])


def test_a_vehicle_may_only_publish_and_serve_under_its_own_keys(fleet: FleetConfig) -> None:
    section = access_control(fleet, "eu-west")
    assert {s["id"] for s in section["subjects"]} == {"rover-01", "rover-02", "cloud-router"}  # rover-03 is us-east
    for vehicle in ("rover-01", "rover-02"):
        ingress = [r for r in _rules_of(section, vehicle) if r["flows"] == ["ingress"]]
        assert {m for r in ingress for m in r["messages"]} == {"put", "liveliness_token", "declare_queryable", "reply"}
        for rule in ingress:
            assert all(f"/eu-west/{vehicle}" in key for key in rule["key_exprs"]), rule
        puts = [key for r in ingress if "put" in r["messages"] for key in r["key_exprs"]]
        assert puts == [f"telemetry/data/eu-west/{vehicle}/**", f"telemetry/health/eu-west/{vehicle}"]
        # Nothing of the fleet's data flows out to a vehicle, and it subscribes to nothing.
        egress = [r for r in _rules_of(section, vehicle) if r["flows"] == ["egress"]]
        assert {m for r in egress for m in r["messages"]} == {"query", "declare_subscriber"}


def test_the_dashboard_may_read_stats_fleet_and_liveliness_but_publish_nothing(fleet: FleetConfig) -> None:
    rules = _rules_of(access_control(fleet, "cloud"), "dashboard")
    ingress = {m for r in rules if r["flows"] == ["ingress"] for m in r["messages"]}
    assert ingress == {"declare_subscriber", "declare_liveliness_subscriber", "liveliness_query", "query"}
    keys = {key for r in rules for key in r["key_exprs"]}
    assert not any("/data/" in key or "/health/" in key for key in keys)


def test_the_aggregator_may_read_all_data_and_write_stats(fleet: FleetConfig) -> None:
    rules = _rules_of(access_control(fleet, "cloud"), "aggregator")
    subscribed = {key for r in rules if r["flows"] == ["ingress"] and "declare_subscriber" in r["messages"]
                  for key in r["key_exprs"]}
    # Zenoh matches a subscription only against a rule that includes it: the exact selectors
    # the aggregator declares, whole fleet or one region (--region).
    assert {"telemetry/data/**", "telemetry/health/*/*", "telemetry/data/eu-west/**"} <= subscribed
    puts = {key for r in rules if r["flows"] == ["ingress"] and "put" in r["messages"] for key in r["key_exprs"]}
    assert puts == {"telemetry/stats/*/*", "telemetry/stats/eu-west/*", "telemetry/stats/us-east/*", "telemetry/fleet"}


def test_zenoh_itself_accepts_every_generated_config(fleet: FleetConfig, tmp_path: Path) -> None:
    for name, config in secure_configs(fleet, tmp_path).items():
        loaded = zenoh.Config()
        for key, value in config.items():
            loaded.insert_json5(key, json.dumps(value))
        assert json.loads(loaded.get_json("mode")) == config["mode"], name
        if "access_control" in config:
            assert json.loads(loaded.get_json("access_control/default_permission")) == "deny"


def test_the_secure_configs_use_tls_everywhere_and_each_party_its_own_certificate(fleet: FleetConfig) -> None:
    configs = secure_configs(fleet, "/etc/fleet-pki")
    assert set(configs) == {"cloud.json5", "eu-west.json5", "us-east.json5", "rover-01.json5", "rover-02.json5",
                            "rover-03.json5", "aggregator.json5", "dashboard.json5", "recorder.json5"}
    assert configs["eu-west.json5"]["listen"]["endpoints"] == ["tls/127.0.0.1:7448"]
    assert configs["eu-west.json5"]["connect"]["endpoints"] == ["tls/127.0.0.1:7447"]
    assert configs["rover-03.json5"]["connect"]["endpoints"] == ["tls/127.0.0.1:7449"]  # us-east's router
    tls = configs["rover-03.json5"]["transport"]["link"]["tls"]
    assert tls == {"root_ca_certificate": "/etc/fleet-pki/ca.pem", "enable_mtls": True,
                   "connect_certificate": "/etc/fleet-pki/rover-03.pem",
                   "connect_private_key": "/etc/fleet-pki/rover-03.key"}
    # The plain configs' send queues (see config/zenoh/vehicle.json5) carry over.
    queue = configs["rover-03.json5"]["transport"]["link"]["tx"]["queue"]
    assert queue["size"]["data_high"] == 16 and queue["congestion_control"]["drop"]["wait_before_drop"] == 10000


def test_the_shipped_secure_configs_are_what_telemetry_acl_writes_today(fleet: FleetConfig) -> None:
    """config/zenoh/secure/ is generated; a change to the fleet or the rules must regenerate it."""
    folder = shipped_file("config/zenoh/secure/cloud.json5").parent
    for name, config in secure_configs(fleet, "pki").items():
        text = (folder / name).read_text(encoding="utf-8")
        assert text.startswith("// Generated by `telemetry acl config/fleet.yaml --out config/zenoh/secure --pki pki`")
        assert json.loads(text.split("\n", 1)[1]) == config, (
            f"config/zenoh/secure/{name} is stale: run `telemetry acl config/fleet.yaml --out config/zenoh/secure`")


def test_endpoints_become_tls_and_other_protocols_are_refused() -> None:
    assert tls_endpoint("tcp/10.0.0.5:7447") == "tls/10.0.0.5:7447"
    assert tls_endpoint("tls/[::1]:7447") == "tls/[::1]:7447"
    with pytest.raises(ConfigError, match=r"udp/127.0.0.1:7447: a secure fleet needs tcp/ or tls/ endpoints"):
        tls_endpoint("udp/127.0.0.1:7447")


def test_secure_fleet_moves_every_router_to_tls(fleet: FleetConfig) -> None:
    secured = secure_fleet(fleet)
    assert secured.cloud.listen == ("tls/127.0.0.1:7447",)
    assert [r.router.listen for r in secured.regions] == [("tls/127.0.0.1:7448",), ("tls/127.0.0.1:7449",)]
    assert secured.vehicles == fleet.vehicles


def test_a_vehicle_named_like_a_service_is_refused_naming_the_field(fleet: FleetConfig) -> None:
    impostor = dataclasses.replace(fleet.vehicles[1], name="aggregator")
    bad = dataclasses.replace(fleet, vehicles=(fleet.vehicles[0], impostor, fleet.vehicles[2]))
    with pytest.raises(ConfigError, match=re.escape("vehicles[1].name: 'aggregator' is the certificate name of "
                                                    "a fleet service")):
        access_control(bad, "cloud")


def test_an_unknown_router_is_a_clear_error(fleet: FleetConfig) -> None:
    message = r"router 'mars': not in the fleet config \(routers: cloud, eu-west, us-east\)"
    with pytest.raises(ConfigError, match=message):
        access_control(fleet, "mars")


def test_parties_are_every_certificate_the_rules_name(fleet: FleetConfig) -> None:
    named = {s["id"] for router in router_names(fleet) for s in access_control(fleet, router)["subjects"]}
    issued = dict(parties(fleet))
    assert named == set(issued)
    assert issued["rover-01"] == "vehicle" and issued["eu-west-router"] == "router"


def test_telemetry_acl_prints_one_section_per_router(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["acl", "--router", "us-east"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("// us-east router (us-east-router): put this in its Zenoh config\n")
    section = json.loads(out.split("\n", 1)[1])["access_control"]
    assert {s["id"] for s in section["subjects"]} == {"rover-03", "cloud-router"}


def test_telemetry_acl_out_writes_every_partys_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["acl", str(default_fleet_config_path()), "--out", str(tmp_path / "secure"), "--pki", "/srv/pki"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 9
    rover = json.loads((tmp_path / "secure" / "rover-01.json5").read_text().split("\n", 1)[1])
    assert rover["transport"]["link"]["tls"]["connect_certificate"] == "/srv/pki/rover-01.pem"


def test_a_fleet_with_an_endpoint_tls_cannot_carry_names_the_file_and_field(fleet: FleetConfig) -> None:
    udp = dataclasses.replace(fleet.regions[1], router=dataclasses.replace(fleet.regions[1].router,
                                                                            listen=("udp/127.0.0.1:7449",)))
    bad = dataclasses.replace(fleet, regions=(fleet.regions[0], udp))
    with pytest.raises(ConfigError, match=re.escape(f"{fleet.source}: regions[1].router.listen[0]: udp/127.0.0.1:7449: "
                                                    "a secure fleet needs tcp/ or tls/ endpoints")):
        secure_fleet(bad)
