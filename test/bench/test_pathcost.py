"""CPU per delivered sample, per process and for the path, from hand-made windows."""

from __future__ import annotations

import math

import pytest

from telemetry.bench.pathcost import Role, path_cost, process_rows, process_samples, role_of

REGIONS = {"rover-01": "eu-west", "rover-02": "eu-west", "rover-03": "us-east"}
PER_VEHICLE = {"rover-01": 1000, "rover-02": 1000, "rover-03": 2000}


def test_a_process_role_comes_from_its_part_name() -> None:
    assert role_of("rover-01 sensor_sim") is Role.SENSOR_SIM
    assert role_of("rover-01 zenoh_bridge") is Role.BRIDGE
    assert role_of("rover-02 publisher") is Role.PUBLISHER
    assert role_of("eu-west router") is Role.REGION_ROUTER
    assert role_of("cloud router") is Role.CLOUD_ROUTER
    assert role_of("aggregator") is Role.AGGREGATOR


def test_a_process_the_bench_does_not_start_has_no_role() -> None:
    with pytest.raises(ValueError, match="'probe': not a part of the bench's fleet"):
        role_of("probe")
    with pytest.raises(ValueError, match="' router': not a part"):
        role_of(" router")


def test_each_process_carries_its_vehicles_samples_and_the_cloud_side_carries_all() -> None:
    assert process_samples("rover-03 zenoh_bridge", PER_VEHICLE, REGIONS) == 2000
    assert process_samples("eu-west router", PER_VEHICLE, REGIONS) == 2000
    assert process_samples("us-east router", PER_VEHICLE, REGIONS) == 2000
    assert process_samples("cloud router", PER_VEHICLE, REGIONS) == 4000
    assert process_samples("aggregator", PER_VEHICLE, REGIONS) == 4000
    assert process_samples("rover-09 sensor_sim", PER_VEHICLE, REGIONS) == 0


def test_process_rows_give_percent_of_a_core_and_us_per_sample_and_nan_when_nothing_crossed() -> None:
    rows = process_rows({"cloud router": 0.2, "rover-09 zenoh_bridge": 0.1}, 2.0, PER_VEHICLE, REGIONS)
    assert rows[0] == {"process": "cloud router", "cpu_pct": 10.0, "samples": 4000, "us_per_sample": 50.0}
    assert rows[1]["samples"] == 0 and math.isnan(rows[1]["us_per_sample"])


def test_the_path_cost_sums_bridges_routers_and_aggregator_and_leaves_sensor_sim_apart() -> None:
    cpu_s = {
        "rover-01 sensor_sim": 0.08, "rover-02 sensor_sim": 0.08, "rover-03 sensor_sim": 0.20,
        "rover-01 zenoh_bridge": 0.1, "rover-02 zenoh_bridge": 0.1, "rover-03 zenoh_bridge": 0.3,
        "eu-west router": 0.1, "us-east router": 0.1, "cloud router": 0.2, "aggregator": 0.4,
    }
    cost = path_cost(cpu_s, 10.0, PER_VEHICLE, REGIONS)
    assert cost.sensor_sim_us == pytest.approx((80 + 80 + 100) / 3)  # mean of vehicles
    assert cost.bridge_us == pytest.approx((100 + 100 + 150) / 3)
    assert cost.region_routers_us == pytest.approx(1e6 * 0.2 / 4000)  # summed CPU over summed samples
    assert cost.cloud_router_us == pytest.approx(50.0)
    assert cost.aggregator_us == pytest.approx(100.0)
    assert cost.path_us == pytest.approx(1e6 * (0.5 + 0.2 + 0.2 + 0.4) / 4000)
    assert cost.cpu_pct == pytest.approx(100 * 1.66 / 10)


def test_the_floor_publishers_stand_where_the_bridges_stand_and_missing_roles_are_nan() -> None:
    cpu_s = {"rover-01 publisher": 0.05, "eu-west router": 0.05, "cloud router": 0.05}
    cost = path_cost(cpu_s, 1.0, {"rover-01": 1000}, REGIONS)
    assert cost.bridge_us == pytest.approx(50.0) and cost.path_us == pytest.approx(150.0)
    assert math.isnan(cost.sensor_sim_us) and math.isnan(cost.aggregator_us)
    assert set(cost.as_columns()) == {"sensor_sim_us", "bridge_us", "region_routers_us", "cloud_router_us",
                                      "aggregator_us", "path_us", "cpu_pct"}
