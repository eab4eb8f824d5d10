"""scaled_fleet: `telemetry demo --vehicles N` resizes the config's fleet over its regions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from telemetry.config import (
    MAX_ROS_DOMAIN_ID,
    ConfigError,
    FleetConfig,
    RegionConfig,
    RouterConfig,
    StreamConfig,
    VehicleConfig,
)
from telemetry.demo.scale import scaled_fleet

_IMU = (StreamConfig("/imu", "sensor_msgs/msg/Imu", 1000.0),)
_ODOM = (StreamConfig("/odom", "nav_msgs/msg/Odometry", 100.0, max_rate_hz=50.0),)
_GNSS = (StreamConfig("/gnss", "sensor_msgs/msg/NavSatFix", 10.0, batch_ms=100.0, reliable=True),)


def _three_region_fleet() -> FleetConfig:
    """Three regions, three vehicles with different streams; the lowest domain id is not the first."""
    return FleetConfig(
        source="hand-made.yaml",
        key_root="telemetry",
        cloud=RouterConfig(("tcp/127.0.0.1:17447",)),
        regions=tuple(
            RegionConfig(name, RouterConfig((f"tcp/127.0.0.1:{port}",)))
            for name, port in (("north", 17448), ("south", 17449), ("west", 17450))
        ),
        vehicles=(
            VehicleConfig("drone_07", "west", 40, _IMU),
            VehicleConfig("drone_08", "west", 30, _ODOM),
            VehicleConfig("drone_09", "north", 50, _GNSS),
        ),
    )


def test_vehicles_are_named_like_the_configs_with_two_digits_counting_from_one(shipped: FleetConfig) -> None:
    fleet = scaled_fleet(shipped, 12)
    assert [v.name for v in fleet.vehicles] == [f"rover-{i:02d}" for i in range(1, 13)]


@pytest.mark.parametrize(
    ("count", "first", "last"),
    [(1, "rover-01", "rover-01"), (99, "rover-01", "rover-99"), (100, "rover-001", "rover-100"),
     (222, "rover-001", "rover-222")],
)
def test_the_number_width_grows_with_the_count_so_names_sort_in_order(
    shipped: FleetConfig, count: int, first: str, last: str
) -> None:
    names = [v.name for v in scaled_fleet(shipped, count).vehicles]

    assert (len(names), names[0], names[-1]) == (count, first, last)
    assert names == sorted(names)
    assert len(set(names)) == count


def test_vehicles_go_round_robin_over_the_regions_in_config_order(shipped: FleetConfig) -> None:
    fleet = scaled_fleet(shipped, 5)
    assert [v.region for v in fleet.vehicles] == ["eu-west", "us-east", "eu-west", "us-east", "eu-west"]


def test_domain_ids_count_up_from_the_configs_lowest(shipped: FleetConfig) -> None:
    fleet = scaled_fleet(shipped, 6)
    assert [v.ros_domain_id for v in fleet.vehicles] == [11, 12, 13, 14, 15, 16]


def test_every_vehicle_gets_the_streams_of_the_config_vehicle_at_its_position_cycled() -> None:
    fleet = scaled_fleet(_three_region_fleet(), 7)

    assert [v.streams for v in fleet.vehicles] == [_IMU, _ODOM, _GNSS, _IMU, _ODOM, _GNSS, _IMU]


def test_a_hand_made_fleet_scales_over_its_own_regions_prefix_and_lowest_domain() -> None:
    fleet = scaled_fleet(_three_region_fleet(), 4)

    assert [(v.name, v.region, v.ros_domain_id) for v in fleet.vehicles] == [
        ("drone-01", "north", 30),
        ("drone-02", "south", 31),
        ("drone-03", "west", 32),
        ("drone-04", "north", 33),
    ]


def test_a_vehicle_name_without_a_word_falls_back_to_vehicle() -> None:
    fleet = _three_region_fleet()
    fleet = replace(fleet, vehicles=(replace(fleet.vehicles[0], name="42"),))
    assert [v.name for v in scaled_fleet(fleet, 2).vehicles] == ["vehicle-01", "vehicle-02"]


def test_everything_but_the_vehicles_is_kept(shipped: FleetConfig) -> None:
    fleet = scaled_fleet(shipped, 8)
    assert replace(fleet, vehicles=shipped.vehicles) == shipped


def test_scaling_to_the_configs_own_size_keeps_names_domains_and_streams_but_deals_regions_anew(
    shipped: FleetConfig,
) -> None:
    fleet = scaled_fleet(shipped, 3)

    assert [(v.name, v.ros_domain_id, v.streams) for v in fleet.vehicles] == [
        (v.name, v.ros_domain_id, v.streams) for v in shipped.vehicles
    ]
    # The shipped fleet has two vehicles in eu-west; round-robin moves rover-02 to us-east.
    assert [v.region for v in fleet.vehicles] == ["eu-west", "us-east", "eu-west"]


def test_fewer_than_one_vehicle_is_an_error_naming_the_flag(shipped: FleetConfig) -> None:
    with pytest.raises(ConfigError, match=r"^--vehicles: must be >= 1, got 0$"):
        scaled_fleet(shipped, 0)
    with pytest.raises(ConfigError, match=r"^--vehicles: must be >= 1, got -3$"):
        scaled_fleet(shipped, -3)


def test_the_most_vehicles_that_fit_in_the_domain_ids_is_accepted(shipped: FleetConfig) -> None:
    fleet = scaled_fleet(shipped, MAX_ROS_DOMAIN_ID - 11 + 1)
    assert fleet.vehicles[-1].ros_domain_id == MAX_ROS_DOMAIN_ID == 232


def test_more_vehicles_than_domain_ids_left_is_an_error_saying_how_many_fit(shipped: FleetConfig) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^--vehicles: at most 222 vehicles fit in ROS domain ids 11\.\.232 \(one per vehicle\), got 223$",
    ):
        scaled_fleet(shipped, 223)


def test_the_limit_counts_from_the_lowest_domain_id_in_the_config() -> None:
    with pytest.raises(ConfigError, match=r"at most 203 vehicles fit in ROS domain ids 30\.\.232 .*got 500$"):
        scaled_fleet(_three_region_fleet(), 500)
