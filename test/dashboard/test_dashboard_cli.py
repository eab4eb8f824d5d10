"""`dashboard`'s flags: checked against the fleet config before any terminal or Zenoh session is opened."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from telemetry.aggregator.service import ServiceSettings
from telemetry.codec import TypeStore
from telemetry.config import AlertThresholds, default_fleet_config_path
from telemetry.dashboard.cli import DashboardOptions, build_parser, main, options_from_cli
from telemetry.errors import ConfigError, TelemetryError

ROUTER = "tcp/192.0.2.1:7447"  # any endpoint: nothing connects in these tests


def options(store: TypeStore, *argv: str) -> DashboardOptions:
    return options_from_cli(build_parser().parse_args(list(argv)), store)


def fleet_with_alerts(tmp_path: Path, min_rate_ratio: float, max_latency_p99_ms: float) -> Path:
    """The shipped fleet file with its `alerts:` section set to these values."""
    text = default_fleet_config_path().read_text(encoding="utf-8")
    text = text.replace("  min_rate_ratio: 0.9\n", f"  min_rate_ratio: {min_rate_ratio}\n", 1)
    text = text.replace("  max_latency_p99_ms: 10\n", f"  max_latency_p99_ms: {max_latency_p99_ms}\n", 1)
    path = tmp_path / "fleet.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- where it connects ---------------------------------------------------------------------------


def test_by_default_the_dashboard_connects_to_the_fleet_configs_cloud_router(store: TypeStore) -> None:
    session = options(store).session
    assert session.connect == ("tcp/127.0.0.1:7447",)
    assert session.default_mode == "client"


def test_a_zenoh_config_file_keeps_its_own_endpoints(store: TypeStore, tmp_path: Path) -> None:
    zenoh_config = tmp_path / "zenoh.json5"
    zenoh_config.write_text('{connect: {endpoints: ["tcp/192.0.2.9:7447"]}}', encoding="utf-8")
    session = options(store, "--zenoh-config", str(zenoh_config)).session
    assert (session.config_path, session.connect) == (zenoh_config, ())


def test_router_overrides_the_cloud_router(store: TypeStore) -> None:
    session = options(store, "--router", ROUTER).session
    assert session.connect == (ROUTER,)
    assert session.default_mode == "client"


def test_router_and_connect_flags_add_up(store: TypeStore) -> None:
    assert options(store, "--router", ROUTER, "-e", "tcp/192.0.2.2:7447").session.connect == (
        ROUTER, "tcp/192.0.2.2:7447"
    )


# --- embedded aggregator ----------------------------------------------------------------------------


def test_without_embedded_no_aggregator_runs_in_the_dashboard(store: TypeStore) -> None:
    assert options(store, "--router", ROUTER).embedded is None


def test_embedded_builds_aggregator_settings_from_the_fleet_config(store: TypeStore) -> None:
    embedded = options(store, "--router", ROUTER, "--embedded").embedded

    assert isinstance(embedded, ServiceSettings)
    assert (embedded.keys.root, embedded.region, embedded.tick_s) == ("telemetry", None, 0.5)
    expected = embedded.engine.expected_hz
    assert len(expected) == 12  # 3 vehicles x 4 streams
    assert expected[("eu-west", "rover-01", "/imu")] == 1000.0
    assert expected[("us-east", "rover-03", "/battery")] == 1.0


# --- thresholds and other settings ---------------------------------------------------------------


def test_thresholds_default_to_the_shipped_configs_alerts(store: TypeStore) -> None:
    assert options(store, "--router", ROUTER).thresholds == AlertThresholds(0.9, 10.0)


def test_thresholds_come_from_the_configs_alerts_section(store: TypeStore, tmp_path: Path) -> None:
    config = fleet_with_alerts(tmp_path, 0.5, 25)
    assert options(store, "--config", str(config), "--router", ROUTER).thresholds == AlertThresholds(0.5, 25.0)


def test_threshold_flags_override_the_config_one_at_a_time(store: TypeStore, tmp_path: Path) -> None:
    config = str(fleet_with_alerts(tmp_path, 0.5, 25))
    assert options(store, "--config", config, "--router", ROUTER, "--min-rate-ratio", "0.75").thresholds == (
        AlertThresholds(0.75, 25.0)
    )
    assert options(store, "--config", config, "--router", ROUTER, "--max-p99-ms", "3").thresholds == (
        AlertThresholds(0.5, 3.0)
    )


def test_a_min_rate_ratio_of_exactly_one_is_allowed(store: TypeStore) -> None:
    assert options(store, "--router", ROUTER, "--min-rate-ratio", "1").thresholds.min_rate_ratio == 1.0


def test_refresh_and_log_path_are_passed_on(store: TypeStore, tmp_path: Path) -> None:
    result = options(store, "--router", ROUTER, "--refresh", "0.25", "--log", str(tmp_path / "d.log"))
    assert (result.refresh_s, result.log_path) == (0.25, tmp_path / "d.log")
    assert options(store, "--router", ROUTER).refresh_s == 0.5


def test_the_fleet_config_is_the_one_given(store: TypeStore, tmp_path: Path) -> None:
    config = fleet_with_alerts(tmp_path, 0.9, 10)
    assert options(store, "--config", str(config), "--router", ROUTER).fleet.source == str(config)


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2", "nan"])
def test_a_min_rate_ratio_outside_0_to_1_names_the_flag(store: TypeStore, value: str) -> None:
    with pytest.raises(ConfigError, match=rf"^--min-rate-ratio: must be in \(0, 1\], got {value}$"):
        options(store, "--router", ROUTER, "--min-rate-ratio", value)


@pytest.mark.parametrize("value", ["0", "-3"])
def test_a_max_p99_that_is_not_positive_names_the_flag(store: TypeStore, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^--max-p99-ms: must be > 0, got {value}$"):
        options(store, "--router", ROUTER, "--max-p99-ms", value)


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_a_refresh_that_is_not_positive_names_the_flag(store: TypeStore, value: str) -> None:
    with pytest.raises(TelemetryError, match=f"^--refresh: must be > 0, got {value}$"):
        options(store, "--router", ROUTER, "--refresh", value)


def test_a_missing_config_file_is_named(store: TypeStore, tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "fleet.yaml"
    with pytest.raises(ConfigError, match=f"^{re.escape(str(missing))}: file not found"):
        options(store, "--config", str(missing), "--router", ROUTER)


def test_a_bad_alerts_section_in_the_config_names_the_file_and_field(store: TypeStore, tmp_path: Path) -> None:
    config = fleet_with_alerts(tmp_path, 2, 10)
    with pytest.raises(ConfigError, match=f"^{re.escape(str(config))}: alerts.min_rate_ratio: must be in"):
        options(store, "--config", str(config), "--router", ROUTER)


def test_main_prints_a_bad_flag_as_one_line_and_returns_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--router", ROUTER, "--refresh", "0"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "dashboard: error: --refresh: must be > 0, got 0\n"
    assert captured.out == ""


# --- layering -----------------------------------------------------------------------------------


def test_importing_the_cli_does_not_import_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys, telemetry.dashboard.cli; print('textual' in sys.modules)"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "False\n"
