"""Names of the photo filters (the SQL lives in services/selection.py); importable without the catalog."""

FILTERS = ("all", "no-gps", "has-gps", "suggested", "accepted", "rejected", "written", "error", "missing")
