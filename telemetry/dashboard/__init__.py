"""The terminal dashboard (Textual): fleet table, vehicle detail, alerts.

Data and drawing are kept apart. `feed` records what Zenoh delivers (stats, fleet summaries,
liveliness; never the 1 kHz data), `reports` decodes it, `state` turns it into one frozen
`view.FleetView` per refresh and `alerts` judges it; `cells`, `columns` and `header` turn
values into text. Only `app`, `tables` and `screens/` import Textual, and only `feed`,
`source` and `embedded` touch Zenoh.
"""
