"""zenoh_message turns ZError's Rust debug text into the sentence a user acts on.

The inputs are verbatim texts zenoh-python 1.10.2 raised here.
"""

from __future__ import annotations

from telemetry.net.zenoh_errors import zenoh_message

SOURCE = " at /root/.cargo/git/checkouts/zenoh-9c599d5ef3e0480e/cc83980/zenoh/src/api/config.rs:86."


def test_debug_string_loses_its_wrapping_and_the_rust_source_location() -> None:
    assert zenoh_message(f'Str("unknown key"){SOURCE}') == "unknown key"


def test_serde_message_keeps_the_sentence_and_its_line_and_column() -> None:
    text = (
        'JSON error: Message { msg: "unknown variant `rooter`, expected one of `router`, `peer`, `client`", '
        "location: Some(Location { line: 1, column: 9 }) }" + SOURCE
    )
    assert zenoh_message(text) == (
        "unknown variant `rooter`, expected one of `router`, `peer`, `client` (line 1, column 9)"
    )


def test_location_can_be_left_out_when_it_points_into_generated_text() -> None:
    text = (
        'Json5Err(Message { msg: "Endpoints must be of the form <protocol>/<address>: bogus'
        f'{SOURCE}", location: Some(Location {{ line: 1, column: 2 }}) }}){SOURCE}'
    )
    assert zenoh_message(text, location=False) == "Endpoints must be of the form <protocol>/<address>: bogus"


def test_parser_excerpt_becomes_expected_what_at_line_and_column() -> None:
    text = (
        " --> 3:26\n  |\n3 |   listen: { endpoints: [ }\n  |                          ^---\n  |\n"
        "  = expected array, boolean, null, number, object, or string" + SOURCE
    )
    assert zenoh_message(text) == "expected array, boolean, null, number, object, or string (line 3, column 26)"


def test_text_in_no_known_shape_is_kept() -> None:
    assert zenoh_message("Unable to connect to any of [tcp/127.0.0.1:1]!") == (
        "Unable to connect to any of [tcp/127.0.0.1:1]!"
    )
