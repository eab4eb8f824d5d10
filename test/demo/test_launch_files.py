"""launch/*.launch.py: what can be checked without `ros2 launch` (not installable from PyPI).

Each file compiles, declares its arguments with descriptions, and builds its actions from
`telemetry.demo.launch_actions`, which maps `telemetry.demo.plan` (the list `telemetry demo`
runs too) to launch actions. So checking the plan for the shipped config checks what every
launch file starts: console scripts setup.py installs, config files setup.py installs, the
shipped fleet config. With `launch_ros` importable (a ROS install), the launch descriptions
themselves are built and their actions counted; here that test is skipped, saying why.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest
from support.processes import REPO_ROOT

from telemetry.config import default_fleet_config_path
from telemetry.demo.plan import fleet_parts, load_fleet

LAUNCH_DIR = REPO_ROOT / "launch"
LAUNCH_FILES = ("vehicle.launch.py", "fleet.launch.py", "demo.launch.py")
SETUP = (REPO_ROOT / "setup.py").read_text(encoding="utf-8")


def _console_scripts() -> dict[str, str]:
    return dict(re.findall(r'"(\w+) = ([\w.]+):main"', SETUP))


def _installed_files() -> set[str]:
    """Every file setup.py's data_files installs, from its own share_files function."""
    tree = ast.parse(SETUP)
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "share_files")
    namespace: dict[str, object] = {"Path": Path, "HERE": REPO_ROOT, "PACKAGE": "telemetry"}
    exec(compile(ast.Module([function], []), "setup.py", "exec"), namespace)
    share_files = namespace["share_files"]
    folders = re.findall(r'\*share_files\("(\w+)"\)', SETUP)
    return {file for folder in folders for _, files in share_files(folder) for file in files}  # type: ignore[operator]


def _launch_imports(name: str) -> set[str]:
    tree = ast.parse((LAUNCH_DIR / name).read_text(encoding="utf-8"))
    return {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        and node.module == "telemetry.demo.launch_actions" for alias in node.names
    }


@pytest.mark.parametrize("name", LAUNCH_FILES)
def test_each_launch_file_compiles_and_documents_how_to_run_it(name: str) -> None:
    source = (LAUNCH_DIR / name).read_text(encoding="utf-8")
    tree = ast.parse(source)
    compile(source, name, "exec")
    assert f"ros2 launch telemetry {name}" in (ast.get_docstring(tree) or "")
    assert any(isinstance(n, ast.FunctionDef) and n.name == "generate_launch_description" for n in tree.body)


@pytest.mark.parametrize("name", LAUNCH_FILES)
def test_every_launch_argument_has_a_description(name: str) -> None:
    """The file's own arguments and the shared ones it takes from launch_actions (config, zenoh_dir)."""
    shared = (REPO_ROOT / "telemetry" / "demo" / "launch_actions.py").read_text(encoding="utf-8")
    declared = [
        n for source in ((LAUNCH_DIR / name).read_text(encoding="utf-8"), shared) for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "DeclareLaunchArgument"
    ]
    assert declared
    assert all(any(k.arg == "description" for k in call.keywords) for call in declared)
    assert {"config_argument", "secure_configs_argument"} <= _launch_imports(name)


def test_launch_files_build_their_actions_from_the_shared_plan() -> None:
    source = (REPO_ROOT / "telemetry" / "demo" / "launch_actions.py").read_text(encoding="utf-8")
    defined = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
    shared = {"described", "config_argument", "secure_configs_argument"}
    expected = {"vehicle.launch.py": {"vehicle_actions", *shared}, "fleet.launch.py": {"fleet_actions", *shared},
                "demo.launch.py": {"demo_actions", *shared}}
    for name, functions in expected.items():
        assert _launch_imports(name) == functions
        assert functions <= defined


def test_every_executable_the_launch_files_start_is_a_console_script_of_this_package() -> None:
    fleet, path = load_fleet("")
    scripts = _console_scripts()
    for part in fleet_parts(fleet, path):
        assert scripts.get(part.executable) == part.module, part


def test_every_config_file_the_launch_files_read_is_installed_by_setup_py() -> None:
    fleet, path = load_fleet("")
    installed = _installed_files()
    assert path == default_fleet_config_path()
    assert str(path.relative_to(REPO_ROOT)) == "config/fleet.yaml"
    named = {path} | {Path(arg) for part in fleet_parts(fleet, path) for arg in part.args if arg.endswith(".json5")}
    assert len(named) == 4  # fleet.yaml, cloud, eu-west and us-east routers
    for file in named:
        assert str(file.relative_to(REPO_ROOT)) in installed, file
    assert {f"launch/{name}" for name in LAUNCH_FILES} <= installed


@pytest.mark.skipif(importlib.util.find_spec("launch_ros") is None,
                    reason="launch_ros is not importable: it comes with a ROS 2 install, not from PyPI")
@pytest.mark.parametrize(("name", "arguments"), [
    ("vehicle.launch.py", {"vehicle", "region", "config", "router", "zenoh_dir"}),
    ("fleet.launch.py", {"config", "zenoh_dir"}),
    ("demo.launch.py", {"config", "zenoh_dir"}),
])
def test_with_launch_ros_each_description_declares_its_arguments(name: str, arguments: set[str]) -> None:
    from launch.actions import DeclareLaunchArgument

    from telemetry.demo.launch_actions import demo_actions, vehicle_actions

    spec = importlib.util.spec_from_file_location(name.replace(".", "_"), LAUNCH_DIR / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    declared = {e.name for e in description.entities if isinstance(e, DeclareLaunchArgument)}
    assert declared == arguments
    assert len(demo_actions("")) == 10
    assert len(vehicle_actions("", "rover-01")) == 2
