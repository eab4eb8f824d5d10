"""telemetry.fleet is pure maths: it imports only numpy, the standard library and telemetry's core."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import telemetry.fleet

FLEET_DIR = Path(telemetry.fleet.__file__).resolve().parent
ALLOWED_TELEMETRY = ("telemetry.fleet", "telemetry.errors")


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_fleet_modules_import_only_numpy_the_standard_library_and_telemetry_core() -> None:
    offenders: dict[str, list[str]] = {}
    for path in sorted(FLEET_DIR.glob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            allowed = (
                top == "numpy"
                or top in sys.stdlib_module_names
                or top == "__future__"
                or module.startswith(ALLOWED_TELEMETRY)
            )
            if not allowed:
                offenders.setdefault(path.name, []).append(module)
    assert offenders == {}


def test_every_fleet_module_starts_with_future_annotations_and_a_docstring() -> None:
    for path in sorted(FLEET_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        assert ast.get_docstring(tree), path.name
        assert "from __future__ import annotations" in path.read_text(), path.name
