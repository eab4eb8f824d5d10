"""The fleet aggregator: Zenoh in, per-stream statistics out (the maths is in telemetry.fleet)."""
