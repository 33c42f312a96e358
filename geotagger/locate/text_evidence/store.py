"""OCR results per photo, read once and kept beside the embeddings (keyed by the photo's fingerprint).

Layout: ``<library>.data/text/<recipe>.jsonl``, one JSON object per line: fingerprint, the decoded
image size the boxes refer to, the regions (box, text, score) and the seconds OCR took. Append-only;
a later line wins; a torn last line (an interrupted write) is skipped. The recipe names the models and
the decode size, so a change of either reads the photos again instead of mixing results.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geotagger.explain.text import DET_SHORT_SIDE, REC_MODEL, TextReader, TextRegion
from geotagger.locate.preprocess import ImageDecodeError

OCR_MIN_SIDE = 640  # decode size: PP-OCR detection runs at DET_SHORT_SIDE; a little more helps reading
RECIPE = f"ppocrv4-{REC_MODEL.split('_')[0]}-{DET_SHORT_SIDE}-{OCR_MIN_SIDE}"


@dataclass(frozen=True)
class PhotoText:
    """What OCR read on one photo; ``size`` (w, h) is the decoded image the boxes are in."""

    size: tuple[int, int]
    regions: tuple[TextRegion, ...]
    seconds: float = 0.0
    error: str = ""

    def to_json(self, fingerprint: str) -> str:
        return json.dumps(
            {
                "fp": fingerprint,
                "size": list(self.size),
                "regions": [[*r.box, r.text, round(r.score, 4)] for r in self.regions],
                "s": round(self.seconds, 4),
                "error": self.error,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PhotoText:
        regions = tuple(
            TextRegion((int(x0), int(y0), int(x1), int(y1)), str(t), float(s))
            for x0, y0, x1, y1, t, s in data.get("regions", [])
        )
        w, h = data.get("size", (0, 0))
        return cls((int(w), int(h)), regions, float(data.get("s", 0.0)), str(data.get("error", "")))


class TextStore:
    """Fingerprint -> PhotoText for one library and one OCR recipe."""

    def __init__(self, folder: Path, recipe: str = RECIPE) -> None:
        self.path = folder / f"{recipe}.jsonl"
        self._items: dict[str, PhotoText] = {}
        if self.path.is_file():
            with self.path.open(encoding="utf-8") as fh:
                for line in fh:
                    try:
                        data = json.loads(line)
                        self._items[str(data["fp"])] = PhotoText.from_json(data)
                    except (ValueError, KeyError, TypeError):
                        continue  # a torn line from an interrupted write: read that photo again

    def get(self, fingerprint: str) -> PhotoText | None:
        return self._items.get(fingerprint)

    def missing(self, fingerprints: Iterable[str]) -> list[str]:
        return [fp for fp in dict.fromkeys(fingerprints) if fp not in self._items]

    def put(self, items: Sequence[tuple[str, PhotoText]]) -> None:
        if not items:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            for fp, text in items:
                fh.write(text.to_json(fp) + "\n")
                self._items[fp] = text


def read_photo(reader: TextReader, path: Path) -> PhotoText:
    """OCR one photo (upright, decoded at OCR_MIN_SIDE); an unreadable file is recorded, not raised."""
    from geotagger.explain.explainer import load_photo

    started = time.perf_counter()
    try:
        image = load_photo(path, OCR_MIN_SIDE)
    except ImageDecodeError as exc:
        return PhotoText((0, 0), (), time.perf_counter() - started, error=str(exc)[:200])
    regions = tuple(reader.read(image))
    return PhotoText(image.size, regions, time.perf_counter() - started)


def read_missing(
    store: TextStore,
    photos: Sequence[tuple[str, Path]],
    reader_factory: Callable[[], TextReader],
    *,
    on_photo: Callable[[], None] | None = None,
    batch: int = 16,
) -> tuple[int, float]:
    """OCR the photos (fingerprint, path) the store lacks; returns (photos read, seconds spent)."""
    todo = {fp: path for fp, path in photos if store.get(fp) is None}
    if not todo:
        return 0, 0.0
    reader = reader_factory()
    pending: list[tuple[str, PhotoText]] = []
    spent = 0.0
    for fp, path in todo.items():
        text = read_photo(reader, path)
        spent += text.seconds
        pending.append((fp, text))
        if len(pending) >= batch:
            store.put(pending)
            pending = []
        if on_photo:
            on_photo()
    store.put(pending)
    return len(todo), spent
