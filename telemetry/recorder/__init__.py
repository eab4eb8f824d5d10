"""The fleet recorder: the fleet's streams into MCAP files, served back as history and replay.

    layout.py          where segments live and what their names say
    segment.py         one MCAP file being written (`.part` until closed)
    writer.py          the open segments: rotation, flushes, a full disk, retention
    archive.py         reading samples back out of closed and open segments
    recover.py         a crashed recorder's `.part` files rewritten into valid ones
    retention.py       which closed segments go when the folder is over its limits
    selection.py       which streams are kept, and their thinning to `max_rate_hz`
    time_range.py      Zenoh's `_time=[..]` selector
    service.py         the `recorder` process: subscriber, writer thread, history queryable
    history.py         answering history queries from the segments
    history_client.py  `telemetry history`: asking for them and writing JSON lines or MCAP
    replay.py          a recording put back onto Zenoh under another key root
    commands.py        the `history`, `recover` and `replay` subcommands' flags
"""
