"""Tests for telemetry.config.model: the lookups FleetConfig offers once a file is read.

A lookup that misses names the file and lists what is known, because a typo in a --vehicle flag
ends up here.
"""

from __future__ import annotations

import pytest
from support.config_cases import SHIPPED_FLEET

from telemetry.codec import TypeStore
from telemetry.config import ConfigError, load_fleet_config

# --- lookups ---------------------------------------------------------------------------------


def test_shipped_fleet_lookups_find_regions_and_vehicles_by_name(store: TypeStore) -> None:
    config = load_fleet_config(SHIPPED_FLEET, store)
    assert config.region("us-east").router.listen == ("tcp/127.0.0.1:7449",)
    assert config.vehicle("rover-02").region == "eu-west"
    assert [v.name for v in config.vehicles_in("eu-west")] == ["rover-01", "rover-02"]


def test_lookup_of_an_unknown_vehicle_lists_the_known_ones(store: TypeStore) -> None:
    config = load_fleet_config(SHIPPED_FLEET, store)
    with pytest.raises(
        ConfigError, match=r"fleet\.yaml: no vehicle 'rover-09' \(known: rover-01, rover-02, rover-03\)"
    ):
        config.vehicle("rover-09")
    with pytest.raises(ConfigError, match=r"no region 'mars' \(known: eu-west, us-east\)"):
        config.vehicles_in("mars")
