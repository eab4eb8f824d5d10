"""A vehicle driving a loop: one consistent state from which every simulated sensor reads.

The vehicle drives a circle of radius `radius_m`, its speed swinging sinusoidally around
`mean_speed_mps`, so the IMU sees forward and centripetal acceleration and a yaw rate that
agree with the odometry's pose and twist and the GNSS track. Scalar `math`, not numpy: one
state per published sample, where numpy's per-call overhead would cost more than the maths.
The state is a NamedTuple rather than a frozen dataclass for the same reason: it is built
1000 times a second, and a frozen dataclass's __init__ costs ~5x a tuple's (2.7 vs 0.5 µs).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["GRAVITY_MPS2", "MotionModel", "VehicleState", "model_for_vehicle"]

GRAVITY_MPS2 = 9.80665
_METRES_PER_DEG_LAT = 111_320.0


class VehicleState(NamedTuple):
    """Where the vehicle is and how it moves at one instant (body frame: x forward, y left)."""

    t_s: float
    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float
    yaw_rate_rps: float
    accel_forward_mps2: float
    accel_lateral_mps2: float
    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    battery_fraction: float
    battery_voltage_v: float
    battery_current_a: float


@dataclass(frozen=True)
class MotionModel:
    """Parameters of the loop; `state_at(t)` is a pure function of time."""

    radius_m: float = 25.0
    mean_speed_mps: float = 3.0
    speed_swing_mps: float = 1.0
    speed_period_s: float = 20.0
    origin_lat_deg: float = 48.8566
    origin_lon_deg: float = 2.3522
    altitude_m: float = 35.0
    phase_rad: float = 0.0
    battery_start_fraction: float = 1.0
    battery_drain_per_s: float = 1.0 / 7200.0  # a full charge lasts two hours

    def state_at(self, t_s: float) -> VehicleState:
        """The state `t_s` seconds after the simulation started."""
        omega = 2.0 * math.pi / self.speed_period_s
        speed = self.mean_speed_mps + self.speed_swing_mps * math.sin(omega * t_s)
        accel_forward = self.speed_swing_mps * omega * math.cos(omega * t_s)
        # Arc length is the integral of speed, so heading and position never drift apart.
        distance = self.mean_speed_mps * t_s + self.speed_swing_mps * (1.0 - math.cos(omega * t_s)) / omega
        angle = self.phase_rad + distance / self.radius_m
        x = self.radius_m * math.sin(angle)
        y = self.radius_m * (1.0 - math.cos(angle))
        battery = max(0.0, self.battery_start_fraction - self.battery_drain_per_s * t_s)
        return VehicleState(
            t_s=t_s,
            x_m=x,
            y_m=y,
            yaw_rad=math.remainder(angle, 2.0 * math.pi),
            speed_mps=speed,
            yaw_rate_rps=speed / self.radius_m,
            accel_forward_mps2=accel_forward,
            accel_lateral_mps2=speed * speed / self.radius_m,
            latitude_deg=self.origin_lat_deg + y / _METRES_PER_DEG_LAT,
            longitude_deg=self.origin_lon_deg
            + x / (_METRES_PER_DEG_LAT * math.cos(math.radians(self.origin_lat_deg))),
            altitude_m=self.altitude_m,
            battery_fraction=battery,
            # A 4S lithium pack: 12.8 V empty, 16.8 V full; current grows with acceleration.
            battery_voltage_v=12.8 + 4.0 * battery,
            battery_current_a=-(4.0 + 1.5 * abs(accel_forward) + 0.5 * speed),
        )


def model_for_vehicle(vehicle: str) -> MotionModel:
    """A loop of its own for each vehicle name, the same on every run."""
    digest = hashlib.sha256(vehicle.encode()).digest()
    spread = [byte / 255.0 for byte in digest[:5]]
    return MotionModel(
        radius_m=15.0 + 30.0 * spread[0],
        mean_speed_mps=2.0 + 3.0 * spread[1],
        origin_lat_deg=48.80 + 0.1 * spread[2],
        origin_lon_deg=2.30 + 0.1 * spread[3],
        phase_rad=2.0 * math.pi * spread[4],
        battery_start_fraction=0.6 + 0.4 * spread[1],
    )
