"""Helpers shared by the integration tests: child processes, free ports, Zenoh routers."""
