"""build_config's layering (file, flags, fleet defaults, --cfg) and every error it can give.

These tests open no sessions: they read the built config back with Config.get_json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
import zenoh

from telemetry.errors import ConfigError
from telemetry.net import (
    SessionOptions,
    add_session_arguments,
    build_config,
    configured_endpoints,
    configured_mode,
    options_from_args,
    parse_cfg_override,
)


def value(config: zenoh.Config, key: str) -> Any:
    return json.loads(config.get_json(key))


@pytest.fixture
def peer_file(tmp_path: Path) -> Path:
    path = tmp_path / "peer.json5"
    path.write_text(
        """// a peer that listens and connects
        {
          mode: "peer",
          listen: { endpoints: ["tcp/127.0.0.1:7001"] },
          connect: { endpoints: ["tcp/127.0.0.1:7002"] },
        }
        """,
        encoding="utf-8",
    )
    return path


def test_file_values_are_used_when_no_flag_overrides_them(peer_file: Path) -> None:
    config = build_config(SessionOptions(config_path=peer_file))
    assert configured_mode(config) == "peer"
    assert configured_endpoints(config, "listen") == ("tcp/127.0.0.1:7001",)
    assert configured_endpoints(config, "connect") == ("tcp/127.0.0.1:7002",)


def test_flags_override_the_file(peer_file: Path) -> None:
    config = build_config(
        SessionOptions(
            config_path=peer_file, mode="client", connect=("tcp/127.0.0.1:7003", "tcp/127.0.0.1:7004")
        )
    )
    assert configured_mode(config) == "client"
    assert value(config, "connect/endpoints") == ["tcp/127.0.0.1:7003", "tcp/127.0.0.1:7004"]
    assert value(config, "listen/endpoints") == ["tcp/127.0.0.1:7001"]


def test_cfg_overrides_win_over_flags_and_file(peer_file: Path) -> None:
    options = SessionOptions(
        config_path=peer_file,
        mode="client",
        connect=("tcp/127.0.0.1:7003",),
        overrides=(("connect/endpoints", '["tcp/127.0.0.1:7005"]'), ("mode", '"peer"')),
    )
    config = build_config(options)
    assert value(config, "connect/endpoints") == ["tcp/127.0.0.1:7005"]
    assert configured_mode(config) == "peer"


def test_fleet_defaults_fill_keys_nobody_set() -> None:
    config = build_config(SessionOptions(mode="client", connect=("tcp/127.0.0.1:7447",)))
    assert value(config, "scouting/multicast/enabled") is False
    assert value(config, "connect/timeout_ms") == -1
    assert value(config, "connect/exit_on_failure") is False
    retry = value(config, "connect/retry")
    assert (retry["period_init_ms"], retry["period_max_ms"]) == (250, 1000)


def test_fleet_defaults_never_replace_what_the_file_says(tmp_path: Path) -> None:
    path = tmp_path / "explicit.json5"
    path.write_text(
        """{
          scouting: { multicast: { enabled: true } },
          connect: {
            timeout_ms: { client: 0, peer: -1 },
            exit_on_failure: true,
            retry: { period_init_ms: 500 },
          },
        }""",
        encoding="utf-8",
    )
    config = build_config(SessionOptions(config_path=path))
    assert value(config, "scouting/multicast/enabled") is True
    assert value(config, "connect/timeout_ms") == {"client": 0, "peer": -1}
    assert value(config, "connect/exit_on_failure") is True
    retry = value(config, "connect/retry")
    assert (retry["period_init_ms"], retry["period_max_ms"]) == (500, 1000)


def test_retry_fields_that_cfg_leaves_out_get_the_fleet_defaults() -> None:
    # Zenoh cannot write connect/retry/period_max_ms alone, so --cfg gives the object.
    config = build_config(SessionOptions(overrides=(("connect/retry", "{period_max_ms: 2000}"),)))
    retry = value(config, "connect/retry")
    assert (retry["period_init_ms"], retry["period_max_ms"]) == (250, 2000)


def test_cfg_can_turn_multicast_scouting_back_on() -> None:
    config = build_config(SessionOptions(overrides=(("scouting/multicast/enabled", "true"),)))
    assert value(config, "scouting/multicast/enabled") is True


def test_default_mode_applies_only_when_neither_file_nor_flag_names_one(
    peer_file: Path, tmp_path: Path
) -> None:
    assert (
        configured_mode(build_config(SessionOptions(config_path=peer_file, default_mode="client"))) == "peer"
    )
    empty = tmp_path / "empty.json5"
    empty.write_text("{}", encoding="utf-8")
    assert configured_mode(build_config(SessionOptions(config_path=empty, default_mode="client"))) == "client"


def test_configured_endpoints_resolve_per_mode_values(tmp_path: Path) -> None:
    path = tmp_path / "per_mode.json5"
    path.write_text(
        '{ mode: "router", listen: { endpoints: '
        '{ router: ["tcp/127.0.0.1:7010"], peer: ["tcp/127.0.0.1:0"] } } }',
        encoding="utf-8",
    )
    assert configured_endpoints(build_config(SessionOptions(config_path=path)), "listen") == (
        "tcp/127.0.0.1:7010",
    )


# --- errors ---------------------------------------------------------------------------------


def test_missing_config_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json5"
    with pytest.raises(ConfigError, match=rf"^{missing}: Zenoh config file not found$"):
        build_config(SessionOptions(config_path=missing))


def test_malformed_config_file_is_a_config_error_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json5"
    path.write_text('{\n  mode: "router",\n  listen: { endpoints: [ }\n}\n', encoding="utf-8")
    with pytest.raises(
        ConfigError, match=rf"^{path}: invalid Zenoh config: expected array, .* \(line 3, column 26\)$"
    ):
        build_config(SessionOptions(config_path=path))


def test_unknown_field_in_config_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "typo.json5"
    path.write_text('{ moed: "router" }', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}: invalid Zenoh config: unknown field `moed`"):
        build_config(SessionOptions(config_path=path))


def test_cfg_without_a_colon_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"^--cfg 'scouting/multicast/enabled': expected KEY:VALUE"):
        parse_cfg_override("scouting/multicast/enabled")


def test_cfg_with_an_empty_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^--cfg 'mode:': expected KEY:VALUE"):
        parse_cfg_override("mode:")


def test_cfg_splits_at_the_first_colon_so_endpoints_survive() -> None:
    assert parse_cfg_override('connect/endpoints:["tcp/127.0.0.1:7447"]') == (
        "connect/endpoints",
        '["tcp/127.0.0.1:7447"]',
    )


def test_cfg_value_that_is_not_json5_is_a_config_error_naming_the_key() -> None:
    options = SessionOptions(overrides=(("scouting/multicast/enabled", "yes please"),))
    with pytest.raises(
        ConfigError,
        match=r"^--cfg scouting/multicast/enabled:yes please: expected array, boolean, null, number",
    ):
        build_config(options)


def test_cfg_with_an_unknown_key_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^--cfg scouting/multicats/enabled:true: unknown key$"):
        build_config(SessionOptions(overrides=(("scouting/multicats/enabled", "true"),)))


def test_bad_connect_endpoint_is_a_config_error_naming_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"^--connect 127\.0\.0\.1:7447: Endpoints must be of the form"):
        build_config(SessionOptions(connect=("127.0.0.1:7447",)))


def test_unknown_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^mode 'rooter': expected one of router, peer, client$"):
        SessionOptions(mode="rooter")


# --- command line -----------------------------------------------------------------------------


def parse(argv: list[str], **kwargs: Any) -> SessionOptions:
    parser = argparse.ArgumentParser()
    add_session_arguments(parser, "client", **kwargs)
    return options_from_args(parser.parse_args(argv))


def test_session_flags_become_options() -> None:
    options = parse(
        [
            "--zenoh-config",
            "vehicle.json5",
            "--mode",
            "peer",
            "-e",
            "tcp/127.0.0.1:1",
            "--connect",
            "tcp/127.0.0.1:2",
            "-l",
            "tcp/127.0.0.1:3",
            "--cfg",
            'mode:"client"',
            "--cfg",
            "a/b:1",
        ]
    )
    assert options == SessionOptions(
        config_path=Path("vehicle.json5"),
        mode="peer",
        connect=("tcp/127.0.0.1:1", "tcp/127.0.0.1:2"),
        listen=("tcp/127.0.0.1:3",),
        overrides=(("mode", '"client"'), ("a/b", "1")),
        default_mode="client",
    )


def test_no_session_flags_give_the_program_default_mode_and_nothing_else() -> None:
    assert parse([]) == SessionOptions(default_mode="client")


def test_malformed_cfg_flag_is_a_config_error_from_options_from_args() -> None:
    with pytest.raises(ConfigError, match=r"^--cfg 'nocolon': expected KEY:VALUE"):
        parse(["--cfg", "nocolon"])


def test_mode_flag_can_be_narrowed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["--mode", "peer"], modes=("client",))
    assert "invalid choice: 'peer'" in capsys.readouterr().err


def test_cfg_on_a_field_zenoh_sets_only_whole_says_how_to_set_it() -> None:
    options = SessionOptions(overrides=(("connect/retry/period_max_ms", "2000"),))
    with pytest.raises(ConfigError, match=r"unknown key \(Zenoh sets 'connect/retry' only as a whole: "):
        build_config(options)
