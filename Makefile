# The README's two commands. On a fresh Debian machine with only Python 3, both create .venv,
# install what requirements.txt pins (the ROS 2 Jazzy wheels from PyPI unless a system rclpy
# is importable), build with colcon, and run.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A sourced ROS 2 install provides rclpy to the system Python: use it, and skip the wheels.
SYSTEM_ROS := $(shell $(PYTHON) -c 'import rclpy' >/dev/null 2>&1 && echo yes)

.PHONY: all setup build demo lint test clean

all: build

setup: $(STAMP)

$(STAMP): requirements.txt setup.py
	$(PYTHON) -m venv $(if $(SYSTEM_ROS),--system-site-packages) $(VENV)
	touch $(VENV)/COLCON_IGNORE
	$(if $(SYSTEM_ROS),grep -v '^ros-jazzy-' requirements.txt,cat requirements.txt) > $(VENV)/requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt
	@# Console scripts on the venv's PATH (setup.cfg sends them to lib/telemetry, where ROS wants them).
	$(BIN)/python setup.py develop --no-deps --script-dir $(BIN) > $(VENV)/develop.log 2>&1 \
		|| { cat $(VENV)/develop.log; exit 1; }
	touch $(STAMP)

build: $(STAMP)
	$(BIN)/colcon build --symlink-install --event-handlers console_cohesion+

# The whole fleet of config/fleet.yaml on this machine, the dashboard in front; q stops it all.
demo: build
	$(BIN)/telemetry demo --config config/fleet.yaml

# The code standard (STYLE rule 17), with the settings in pyproject.toml: ruff on the sources,
# the tests and the launch files; mypy --strict on telemetry/ and test/ (pyproject's `files`).
# `make test` runs it first, so a finding fails the tests before they start.
lint: build
	$(BIN)/ruff check telemetry test launch
	$(BIN)/mypy

test: lint
	tools/run_tests.sh $(BIN)

clean:
	rm -rf build install log
