"""Table cell text: the same number always gives the same short string, and NaN is an em dash."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from telemetry.dashboard import cells
from telemetry.fleet.status import VehicleStatus

NAN = math.nan


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.3124, "0.312"), (4.071, "4.07"), (12.34, "12.3"), (1234.4, "1234"), (0.0, "0.000"), (-12.34, "-12.3")],
)
def test_milliseconds_keep_three_significant_figures_with_decimals_fixed_by_size(value: float, text: str) -> None:
    assert cells.ms(value) == text


@pytest.mark.parametrize("format_cell", [cells.ms, cells.signed_ms, cells.hz, cells.percent, cells.bytes_rate])
def test_an_unknown_value_shows_as_an_em_dash_never_as_nan(format_cell: Callable[[float], str]) -> None:
    assert format_cell(NAN) == "—"


@pytest.mark.parametrize(("value", "text"), [(1.5, "+1.50"), (-1.5, "-1.50"), (0.0, "+0.000"), (250.0, "+250")])
def test_a_clock_offset_always_shows_its_sign(value: float, text: str) -> None:
    assert cells.signed_ms(value) == text


def test_a_negative_zero_clock_offset_shows_one_sign() -> None:
    assert cells.signed_ms(-0.0) == "+0.000"


@pytest.mark.parametrize(
    ("value", "text"), [(0.0, "0.0"), (99.96, "100.0"), (1000.0, "1000.0"), (10_000.0, "10.0 k"), (12_345.0, "12.3 k")]
)
def test_rates_show_one_decimal_and_switch_to_thousands_at_ten_kilohertz(value: float, text: str) -> None:
    assert cells.hz(value) == text


def test_percent_shows_the_requested_digits_and_a_spaced_sign() -> None:
    assert cells.percent(12.345) == "12.3 %"
    assert cells.percent(0.0123, 2) == "0.01 %"
    assert cells.percent(99.6, 0) == "100 %"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0 B/s"),
        (999.0, "999 B/s"),
        (1000.0, "1 kB/s"),
        (1234.0, "1.23 kB/s"),
        (123_456.0, "123 kB/s"),
        (2.5e6, "2.5 MB/s"),
        (1.5e9, "1.5 GB/s"),
    ],
)
def test_bandwidth_uses_the_largest_unit_under_the_value_with_three_significant_figures(
    value: float, text: str
) -> None:
    assert cells.bytes_rate(value) == text


def test_bandwidth_just_under_a_unit_boundary_never_shows_scientific_notation() -> None:
    assert cells.bytes_rate(999_600.0) == "1 MB/s"


@pytest.mark.parametrize(
    ("ratio", "text"),
    [
        (0.0, "          "),
        (0.5, "█████     "),
        (0.55, "█████▌    "),  # 44 eighths: five full cells and a half
        (0.01, "▏         "),
        (1.0, "██████████"),
        (1.7, "██████████"),  # over the expected rate is drawn full, not wider
        (-1.0, "          "),
        (NAN, "          "),
    ],
)
def test_a_bar_fills_eighths_of_cells_and_always_keeps_its_width(ratio: float, text: str) -> None:
    assert cells.bar(ratio) == text


def test_a_bar_of_another_width_scales_to_it() -> None:
    assert cells.bar(0.5, width=4) == "██  "


def test_a_sparkline_scales_between_the_lowest_and_highest_point() -> None:
    assert cells.sparkline([1.0, 2.0, 3.0]) == "▁▅█"


def test_a_sparkline_with_a_floor_scales_from_the_floor() -> None:
    assert cells.sparkline([1.0, 2.0, 3.0], floor=0.0) == "▃▆█"


def test_a_flat_sparkline_is_drawn_mid_height_unless_it_is_zero() -> None:
    assert cells.sparkline([5.0, 5.0]) == "▅▅"
    assert cells.sparkline([0.0, 0.0], floor=0.0) == "▁▁"


def test_an_empty_sparkline_is_empty_and_unknown_points_are_blank() -> None:
    assert cells.sparkline([]) == ""
    assert cells.sparkline([NAN]) == " "
    assert cells.sparkline([NAN, 1.0, 2.0]) == " ▁█"


def test_a_long_history_is_squeezed_into_the_width() -> None:
    assert cells.sparkline([float(v) for v in range(100)], 16) == "▁▁▂▂▃▃▄▄▅▅▆▆▇▇██"


def test_a_squeezed_latency_sparkline_keeps_a_single_spike_visible() -> None:
    assert cells.sparkline([10.0] * 31 + [100.0], 16) == "▁" * 15 + "█"


def test_a_squeezed_rate_sparkline_drawn_with_min_keeps_a_single_dip_visible() -> None:
    values = [100.0] * 31 + [10.0]
    assert cells.sparkline(values, 16, reduce=min) == "█" * 15 + "▁"
    assert cells.sparkline(values, 16) == "▅" * 16  # the default max would hide it


def test_status_cells_carry_their_colour_and_a_symbol() -> None:
    assert cells.status(VehicleStatus.ONLINE) == "[green]● online[/]"
    assert cells.status(VehicleStatus.STALE) == "[yellow]◐ stale[/]"
    assert cells.status(VehicleStatus.OFFLINE) == "[red]○ offline[/]"


def test_short_type_drops_the_msg_part_of_a_ros_type_only() -> None:
    assert cells.short_type("sensor_msgs/msg/Imu") == "sensor_msgs/Imu"
    assert cells.short_type("custom") == "custom"
