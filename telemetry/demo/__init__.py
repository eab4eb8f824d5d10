"""`telemetry demo` and the launch files: the whole fleet of a config, on one machine.

`plan` says which processes a fleet needs (pure: the launch files and the supervisor read
the same list), `fleet_yaml` and `scale` make a bigger demo fleet, `ports` checks the routers'
ports before anything starts, `supervisor` runs and stops the children by pid, `verdict`
judges a headless run, and `runner` puts them in order.
"""
