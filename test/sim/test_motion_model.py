"""The simulated vehicle's state is one consistent motion: every sensor reads the same loop.

Each quantity the model reports directly (heading, yaw rate, accelerations, GNSS) is checked
against what follows from its position and speed by numerical differentiation or by
independent geometry, so a sensor that disagrees with the odometry cannot slip through.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from telemetry.sim.motion import MotionModel, VehicleState, model_for_vehicle

#: Central-difference step: small against the 20 s speed period, large against float noise.
STEP_S = 1e-4
TIMES_S = np.linspace(0.0, 120.0, 241)
MODELS = [MotionModel(), model_for_vehicle("rover-01"), model_for_vehicle("probe-1")]
EARTH_RADIUS_M = 6_378_137.0  # WGS84 equatorial radius, for the haversine cross-check


def derivative(f: Callable[[float], float], t_s: float) -> float:
    """Central difference of `f` at `t_s`."""
    return (f(t_s + STEP_S) - f(t_s - STEP_S)) / (2.0 * STEP_S)


def angle_difference(a_rad: float, b_rad: float) -> float:
    return abs(math.remainder(a_rad - b_rad, 2.0 * math.pi))


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@pytest.fixture(params=MODELS, ids=["default", "rover-01", "probe-1"])
def model(request: pytest.FixtureRequest) -> MotionModel:
    return request.param  # type: ignore[no-any-return]


def test_state_at_is_a_pure_function_of_time(model: MotionModel) -> None:
    assert model.state_at(12.345) == model.state_at(12.345)
    assert isinstance(model.state_at(0.0), VehicleState)
    assert model.state_at(7.0).t_s == 7.0


def test_position_stays_on_the_circle_of_radius_r_around_0_r(model: MotionModel) -> None:
    for t_s in TIMES_S:
        state = model.state_at(float(t_s))
        distance = math.hypot(state.x_m, state.y_m - model.radius_m)
        assert distance == pytest.approx(model.radius_m, rel=1e-9), t_s


def test_the_loop_is_driven_far_enough_to_cover_the_circle(model: MotionModel) -> None:
    yaws = np.unwrap([model.state_at(float(t)).yaw_rad for t in TIMES_S])
    assert yaws[-1] - yaws[0] > 2.0 * math.pi  # 120 s at >= 1 m/s on a <= 45 m radius: > one lap


def test_heading_is_the_direction_of_travel(model: MotionModel) -> None:
    for t_s in TIMES_S[1:]:
        t = float(t_s)
        vx = derivative(lambda s: model.state_at(s).x_m, t)
        vy = derivative(lambda s: model.state_at(s).y_m, t)
        state = model.state_at(t)
        assert angle_difference(math.atan2(vy, vx), state.yaw_rad) < 1e-6, t
        assert math.hypot(vx, vy) == pytest.approx(state.speed_mps, rel=1e-6), t


def test_yaw_rate_is_speed_over_radius_and_the_derivative_of_yaw(model: MotionModel) -> None:
    for t_s in TIMES_S[1:]:
        t = float(t_s)
        state = model.state_at(t)
        assert state.yaw_rate_rps == pytest.approx(state.speed_mps / model.radius_m, rel=1e-12)
        before, after = model.state_at(t - STEP_S).yaw_rad, model.state_at(t + STEP_S).yaw_rad
        numeric = math.remainder(after - before, 2.0 * math.pi) / (2.0 * STEP_S)
        assert numeric == pytest.approx(state.yaw_rate_rps, rel=1e-6), t


def test_lateral_acceleration_is_centripetal(model: MotionModel) -> None:
    for t_s in TIMES_S:
        state = model.state_at(float(t_s))
        assert state.accel_lateral_mps2 == pytest.approx(state.speed_mps**2 / model.radius_m, rel=1e-12)
        assert state.accel_lateral_mps2 == pytest.approx(state.speed_mps * state.yaw_rate_rps, rel=1e-12)


def test_forward_acceleration_is_the_derivative_of_speed(model: MotionModel) -> None:
    for t_s in TIMES_S[1:]:
        t = float(t_s)
        numeric = derivative(lambda s: model.state_at(s).speed_mps, t)
        assert numeric == pytest.approx(model.state_at(t).accel_forward_mps2, abs=1e-6), t


def test_speed_swings_around_the_mean_and_never_reverses(model: MotionModel) -> None:
    speeds = np.array([model.state_at(float(t)).speed_mps for t in TIMES_S])
    assert speeds.min() >= model.mean_speed_mps - model.speed_swing_mps - 1e-9
    assert speeds.max() <= model.mean_speed_mps + model.speed_swing_mps + 1e-9
    assert speeds.min() > 0.0
    assert speeds.max() - speeds.min() > model.speed_swing_mps  # it does swing


def test_battery_drains_monotonically_and_stops_at_empty(model: MotionModel) -> None:
    times = np.linspace(0.0, 10_000.0, 1001)  # past the two-hour charge
    fractions = np.array([model.state_at(float(t)).battery_fraction for t in times])
    voltages = np.array([model.state_at(float(t)).battery_voltage_v for t in times])
    assert fractions[0] == pytest.approx(model.battery_start_fraction)
    assert np.all(np.diff(fractions) <= 0.0)
    assert np.all(np.diff(fractions[fractions > 0.0]) < 0.0)  # strictly while charge is left
    assert fractions[-1] == 0.0 and fractions.min() >= 0.0
    assert np.all(np.diff(voltages) <= 0.0)
    assert voltages.min() >= 12.8 - 1e-9 and voltages.max() <= 16.8 + 1e-9
    assert all(model.state_at(float(t)).battery_current_a < 0.0 for t in TIMES_S)  # discharging


def test_gnss_moves_by_the_metres_the_vehicle_drove(model: MotionModel) -> None:
    for t1, t2 in [(0.0, 1.0), (10.0, 10.5), (33.0, 40.0), (60.0, 61.0)]:
        a, b = model.state_at(t1), model.state_at(t2)
        planar_m = math.hypot(b.x_m - a.x_m, b.y_m - a.y_m)
        on_earth_m = haversine_m(a.latitude_deg, a.longitude_deg, b.latitude_deg, b.longitude_deg)
        assert on_earth_m == pytest.approx(planar_m, rel=5e-3), (t1, t2)
        # North is +y, east is +x.
        assert math.copysign(1.0, b.latitude_deg - a.latitude_deg) == math.copysign(1.0, b.y_m - a.y_m)
        assert math.copysign(1.0, b.longitude_deg - a.longitude_deg) == math.copysign(1.0, b.x_m - a.x_m)


def test_gnss_starts_at_the_origin_and_stays_within_the_loop(model: MotionModel) -> None:
    start = model.state_at(0.0)
    if model.phase_rad == 0.0:
        assert (start.latitude_deg, start.longitude_deg) == (model.origin_lat_deg, model.origin_lon_deg)
    for t_s in TIMES_S:
        state = model.state_at(float(t_s))
        away_m = haversine_m(model.origin_lat_deg, model.origin_lon_deg, state.latitude_deg, state.longitude_deg)
        assert away_m <= 2.0 * model.radius_m * 1.01
        assert state.altitude_m == model.altitude_m


def test_each_vehicle_gets_its_own_loop_the_same_on_every_run() -> None:
    assert model_for_vehicle("rover-01") == model_for_vehicle("rover-01")
    loops = {model_for_vehicle(f"rover-{i:02d}") for i in range(1, 6)}
    assert len(loops) == 5
    for loop in loops:
        assert 15.0 <= loop.radius_m <= 45.0
        assert 2.0 <= loop.mean_speed_mps <= 5.0
        assert 0.6 <= loop.battery_start_fraction <= 1.0
