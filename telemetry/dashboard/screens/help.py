"""`?`: what each key does, and what the colours and columns mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen"]

HELP_TEXT = """\
[b]Keys[/b]
  Enter     open the selected vehicle's streams        Escape  back / clear the filter
  s         sort by the next column (S: reverse)       /       filter by name or status
  r         show one region, then the next, then all   p       pause / resume updates
  ?         this help                                  q       quit

[b]Fleet table[/b]
  Status      [green]● online[/]: token present, data arriving · [yellow]◐ stale[/]: token present,
              no data for 3 expected periods · [red]○ offline[/]: liveliness token gone
  Streams OK  streams at or above the alert rate ratio and not stale, of all streams
  Worst rate  the lowest rate / expected rate among the vehicle's streams
  Worst p99   the highest p99 latency (aggregator receive time - source time)
  Loss        samples missing from sequence gaps, over the aggregator's window
  Clock offset  vehicle clock - aggregator clock (latency includes it)

[b]Alerts[/b]: a stream under the rate ratio, p99 over the threshold, any loss, a vehicle
going stale or offline; each raised once when it starts and once when it clears.

Press Escape or ? to close."""


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("question_mark", "app.pop_screen", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(HELP_TEXT)
