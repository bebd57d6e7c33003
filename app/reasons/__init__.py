"""The reasons panellists gave with their ratings: read by the panel once a round has closed,
reviewed by facilitators (hide one, write the item's summary of arguments), read beside the
results. The rules are `delphi.reasons`; the queries `app.services.reasons`."""
