"""`telemetry demo --secure`: the shipped fleet over mutual TLS with the generated access
control, as real processes. The legitimate traffic must still flow at full rate: every
stream within 5 % of its rate and nothing lost, exactly the plain demo's bar."""

from __future__ import annotations

import json
from pathlib import Path

from support.demo_side import start_demo
from support.fleet_files import shipped_fleet_on_free_ports
from support.processes import ProcessGroup


def test_the_secure_demo_fleet_passes_at_full_rate_over_tls_with_access_control(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    fleet_file = shipped_fleet_on_free_ports(tmp_path / "fleet.yaml")
    status, logs = tmp_path / "status.json", tmp_path / "logs"
    run = start_demo(processes, fleet_file, "--secure", "--headless", "--duration", "12", "--json", str(status),
                     log_dir=logs)
    try:
        code = run.process.wait_exit(90)
        output = run.process.output()
        assert code == 0, output
    finally:
        run.process.stop(timeout_s=30)
        run.kill_leftovers()
    assert "PASSED: 12 streams within 5 % of their rate, nothing lost" in output
    assert run.leftovers() == {}
    # Every router listened on TLS only, with the generated access control.
    for router in ("cloud", "eu-west", "us-east"):
        config = json.loads((logs / "zenoh" / f"{router}.json5").read_text().split("\n", 1)[1])
        assert all(e.startswith("tls/") for e in config["listen"]["endpoints"])
        assert config["access_control"]["default_permission"] == "deny"
    assert "tls/127.0.0.1:" in (logs / "cloud-router.log").read_text()
    report = json.loads(status.read_text())
    assert report["ok"] is True
    for vehicle in report["vehicles"]:
        imu = next(s for s in vehicle["streams"] if s["topic"] == "/imu")
        assert imu["rate_hz"] >= 950 and imu["lost_during_run"] == 0, imu
