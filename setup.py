"""ament_python package definition: colcon and pip both install from this file."""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "telemetry"
HERE = Path(__file__).parent


def share_files(folder: str) -> list[tuple[str, list[str]]]:
    """Every file under `folder`, grouped by directory, for share/<package>/<folder>/...

    colcon and ros2 launch look for launch files, configs and .msg files under share/;
    listing them by walking the tree means a new file cannot be forgotten here.
    """
    groups: dict[str, list[str]] = {}
    root = HERE / folder
    if not root.is_dir():
        return []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(HERE)
            target = str(Path("share") / PACKAGE / relative.parent)
            groups.setdefault(target, []).append(str(relative))
    return sorted(groups.items())


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *share_files("launch"),
        *share_files("config"),
        *share_files("msg"),
    ],
    # The dashboard's Textual stylesheets are read at run time next to their screens.
    package_data={"telemetry.dashboard.screens": ["*.tcss"]},
    install_requires=["setuptools"],
    zip_safe=False,  # the .tcss files are read from the package folder
    maintainer="Fleet telemetry team",
    maintainer_email="fleet-telemetry@example.com",
    description="Fleet telemetry for ROS 2 robots over Zenoh.",
    license="Apache-2.0",
    # colcon runs pytest only when the package declares it here (not from package.xml).
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": [
            "telemetry = telemetry.cli:main",
            "sensor_sim = telemetry.ros.sensor_sim:main",
            "zenoh_bridge = telemetry.ros.zenoh_bridge:main",
            "router = telemetry.net.router:main",
            "aggregator = telemetry.aggregator.service:main",
            "dashboard = telemetry.dashboard.cli:main",
            "recorder = telemetry.recorder.service:main",
            "rmw_zenoh_sim = telemetry.sim.rmw_zenoh_node:main",
        ],
    },
)
