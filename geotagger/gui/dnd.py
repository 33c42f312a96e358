"""Photos dragged inside the app: the grid puts the selected photo ids into the drag as JSON under one
MIME type; the map pane reads them back when they are dropped on it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import QMimeData

PHOTO_MIME = "application/x-geotagger-photo-ids"


def photo_mime(ids: Sequence[int]) -> QMimeData:
    data = QMimeData()
    data.setData(PHOTO_MIME, json.dumps([int(i) for i in ids]).encode("ascii"))
    data.setText("\n".join(str(i) for i in ids))
    return data


def photo_ids(data: QMimeData) -> list[int]:
    """The ids in a drag from the grid ([] for anything else, or anything malformed)."""
    if not data.hasFormat(PHOTO_MIME):
        return []
    try:
        ids = json.loads(bytes(data.data(PHOTO_MIME)).decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return []
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return []
    return ids
