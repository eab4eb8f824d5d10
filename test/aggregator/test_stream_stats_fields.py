"""msg/StreamStats is the one definition of a stream's published record; this ties the rest to it.

The aggregator fills the message by name from three records (messages.STREAM_RECORDS) plus
the fields the row carries itself; the dashboard's StreamView copies the message by name. A
field added to the .msg file without a source, or to a record without a place in the
message, fails here instead of going out as a silent zero or crashing the dashboard.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from telemetry.aggregator.messages import STREAM_RECORDS, STREAM_ROW_FIELDS
from telemetry.codec import TypeStore
from telemetry.codec.names import STREAM_STATS
from telemetry.dashboard.reports import VIEW_ONLY_FIELDS
from telemetry.dashboard.view import StreamView

#: A record field the message carries in another form: `last_receive_ns` as `last_receive` (a Time).
_CONVERTED = {"last_receive_ns"}


def _message_fields(store: TypeStore) -> set[str]:
    cls = store.message_class(STREAM_STATS)
    assert dataclasses.is_dataclass(cls)  # pycdr2's message classes are dataclasses (its stub does not say so)
    return {f.name for f in dataclasses.fields(cls)}


def test_every_stream_stats_field_has_exactly_one_source(store: TypeStore) -> None:
    sources = Counter(STREAM_ROW_FIELDS)
    for record in STREAM_RECORDS:
        sources.update(f.name for f in dataclasses.fields(record) if f.name not in _CONVERTED)
    assert set(sources) == _message_fields(store)
    assert [name for name, count in sources.items() if count > 1] == []


def test_the_dashboards_stream_view_reads_only_fields_the_message_has(store: TypeStore) -> None:
    copied = {f.name for f in dataclasses.fields(StreamView)} - VIEW_ONLY_FIELDS
    assert copied <= _message_fields(store)
    assert VIEW_ONLY_FIELDS.isdisjoint(_message_fields(store))
