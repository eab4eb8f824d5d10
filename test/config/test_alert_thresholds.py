"""The fleet config's optional `alerts:` section: the dashboard's alert thresholds, checked like the rest.

Uses config_cases' valid fleet (the `fleet` fixture) and its `load` / `expect_error` helpers, so every error is
checked the same way: `<file>: alerts.<field>: <what is wrong>`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from support.config_cases import SHIPPED_FLEET, expect_error, load

from telemetry.codec import TypeStore
from telemetry.config import AlertThresholds, load_fleet_config
from telemetry.errors import ConfigError


def yaml_text(fleet: dict[str, Any]) -> str:
    """`fleet` as YAML text, to append values (.inf, .nan) in YAML's own spelling."""
    return yaml.safe_dump(fleet, sort_keys=False)


# --- values ---------------------------------------------------------------------------------


def test_the_shipped_fleet_alerts_below_90_percent_of_the_rate_and_above_10_ms_p99(store: TypeStore) -> None:
    expected = AlertThresholds(min_rate_ratio=0.9, max_latency_p99_ms=10.0)
    assert load_fleet_config(SHIPPED_FLEET, store).alerts == expected


def test_a_fleet_without_an_alerts_section_gets_the_default_thresholds(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    assert "alerts" not in fleet
    assert load(tmp_path, fleet, store).alerts == AlertThresholds(0.9, 10.0)


def test_both_thresholds_are_read(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["alerts"] = {"min_rate_ratio": 0.5, "max_latency_p99_ms": 25}
    assert load(tmp_path, fleet, store).alerts == AlertThresholds(0.5, 25.0)


@pytest.mark.parametrize(
    ("alerts", "expected"),
    [
        ({"min_rate_ratio": 0.75}, AlertThresholds(0.75, 10.0)),
        ({"max_latency_p99_ms": 2.5}, AlertThresholds(0.9, 2.5)),
        ({"min_rate_ratio": None}, AlertThresholds(0.9, 10.0)),
        ({}, AlertThresholds(0.9, 10.0)),
        (None, AlertThresholds(0.9, 10.0)),  # `alerts:` left empty
    ],
)
def test_each_threshold_left_out_keeps_its_default(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, alerts: dict[str, Any] | None, expected: AlertThresholds
) -> None:
    fleet["alerts"] = alerts
    assert load(tmp_path, fleet, store).alerts == expected


def test_a_min_rate_ratio_of_one_alerts_on_any_shortfall(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["alerts"] = {"min_rate_ratio": 1}
    assert load(tmp_path, fleet, store).alerts.min_rate_ratio == 1.0


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "words"), [(0, r"must be > 0, got 0$"), (-0.1, r"must be > 0, got -0\.1$")])
def test_a_min_rate_ratio_that_is_not_positive_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, value: float, words: str
) -> None:
    fleet["alerts"] = {"min_rate_ratio": value}
    expect_error(tmp_path, fleet, store, "alerts.min_rate_ratio", words)


def test_a_min_rate_ratio_above_one_is_rejected_with_the_reason(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["alerts"] = {"min_rate_ratio": 1.5}
    words = r"must be in \(0, 1\] \(a share of the expected rate\), got 1\.5$"
    expect_error(tmp_path, fleet, store, "alerts.min_rate_ratio", words)


@pytest.mark.parametrize(("value", "words"), [(0, "must be > 0, got 0$"), (-5, "must be > 0, got -5$")])
def test_a_max_p99_that_is_not_positive_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, value: float, words: str
) -> None:
    fleet["alerts"] = {"max_latency_p99_ms": value}
    expect_error(tmp_path, fleet, store, "alerts.max_latency_p99_ms", words)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("max_latency_p99_ms", "fast", "must be a number, got 'fast'$"),
        ("min_rate_ratio", True, "must be a number, got true$"),
        ("min_rate_ratio", "90%", "must be a number, got '90%'$"),
    ],
)
def test_a_threshold_that_is_not_a_number_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, field: str, value: object, words: str
) -> None:
    fleet["alerts"] = {field: value}
    expect_error(tmp_path, fleet, store, f"alerts.{field}", words)


@pytest.mark.parametrize(("field", "value"), [("max_latency_p99_ms", ".inf"), ("min_rate_ratio", ".nan")])
def test_a_threshold_that_is_not_finite_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, field: str, value: str
) -> None:
    text = yaml_text(fleet) + f"alerts:\n  {field}: {value}\n"
    expect_error(tmp_path, text, store, f"alerts.{field}", f"must be a finite number, got {value[1:]}$")


def test_an_unknown_alerts_field_lists_the_expected_ones(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore
) -> None:
    fleet["alerts"] = {"min_ratio": 0.9}
    expect_error(
        tmp_path,
        fleet,
        store,
        "alerts.min_ratio",
        r"unknown field \(expected one of: min_rate_ratio, max_latency_p99_ms\); did you mean 'min_rate_ratio'\?$",
    )


def test_a_misspelt_alerts_section_suggests_alerts(tmp_path: Path, fleet: dict[str, Any], store: TypeStore) -> None:
    fleet["alert"] = {"min_rate_ratio": 0.9}
    words = r"unknown field \(expected one of: .*alerts, recording\); did you mean 'alerts'\?$"
    expect_error(tmp_path, fleet, store, "alert", words)


@pytest.mark.parametrize(("value", "described"), [([0.9, 10], "a list"), ("strict", "'strict'")])
def test_an_alerts_section_that_is_not_a_mapping_is_rejected(
    tmp_path: Path, fleet: dict[str, Any], store: TypeStore, value: object, described: str
) -> None:
    fleet["alerts"] = value
    expect_error(tmp_path, fleet, store, "alerts", f"must be a mapping, got {described}$")


# --- the record itself --------------------------------------------------------------------------------


@pytest.mark.parametrize(("ratio", "shown"), [(0.0, "0"), (1.01, "1.01"), (float("nan"), "nan")])
def test_alert_thresholds_refuse_a_ratio_outside_0_to_1(ratio: float, shown: str) -> None:
    with pytest.raises(ConfigError, match=rf"^min_rate_ratio: must be in \(0, 1\], got {shown}$"):
        AlertThresholds(min_rate_ratio=ratio)


@pytest.mark.parametrize(("p99_ms", "shown"), [(0.0, "0"), (-1.0, "-1"), (float("nan"), "nan")])
def test_alert_thresholds_refuse_a_p99_that_is_not_positive(p99_ms: float, shown: str) -> None:
    with pytest.raises(ConfigError, match=f"^max_latency_p99_ms: must be > 0, got {shown}$"):
        AlertThresholds(max_latency_p99_ms=p99_ms)
