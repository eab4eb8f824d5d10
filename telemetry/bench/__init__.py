"""`telemetry bench`: benchmarks that print a table and write JSON and a PNG plot.

`results` (what a run found, written down), `latency` (pure maths over recorded arrays),
`procstat` (CPU and memory of processes from /proc), `probe` (a measuring Zenoh
subscriber that only records), `network` (routers and fleets on free ports), then one
module per benchmark: `e2e`, `floor`, `brokers`, `fanin`, `size`.
"""
