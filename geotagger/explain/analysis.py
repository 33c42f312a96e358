"""Which concepts drive right and wrong predictions (the paper's analysis over an evaluation set).

Each record is one photo: whether its best candidate was within CORRECT_KM of the truth and the
concept influences of that candidate. Per concept we report, separately for correct and wrong
predictions, how many photos contain it and its mean influence over those photos (a concept absent
from a photo has no influence there, not influence 0). Written as a CSV table and a bar chart PNG
drawn with Pillow.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

CORRECT_KM = 25.0
COLUMNS = ("concept", "n_correct", "mean_correct", "n_wrong", "mean_wrong", "difference")


@dataclass(frozen=True)
class Record:
    correct: bool
    concepts: Sequence[tuple[str, float, float]]  # (name, influence, area share)


@dataclass(frozen=True)
class ConceptRow:
    concept: str
    n_correct: int
    mean_correct: float | None
    n_wrong: int
    mean_wrong: float | None

    @property
    def difference(self) -> float | None:
        if self.mean_correct is None or self.mean_wrong is None:
            return None
        return self.mean_correct - self.mean_wrong

    def as_dict(self) -> dict[str, object]:
        return {c: getattr(self, c) for c in COLUMNS}


def aggregate(records: Sequence[Record]) -> list[ConceptRow]:
    """One row per concept seen, ordered by how many photos contain it, then by name."""
    sums: dict[str, list[float]] = {}
    for rec in records:
        for name, influence, _share in rec.concepts:
            slot = sums.setdefault(name, [0.0, 0.0, 0.0, 0.0])  # sum_c, n_c, sum_w, n_w
            base = 0 if rec.correct else 2
            slot[base] += float(influence)
            slot[base + 1] += 1
    rows = [
        ConceptRow(
            name,
            int(s[1]),
            s[0] / s[1] if s[1] else None,
            int(s[3]),
            s[2] / s[3] if s[3] else None,
        )
        for name, s in sums.items()
    ]
    return sorted(rows, key=lambda r: (-(r.n_correct + r.n_wrong), r.concept))


def write_table(rows: Sequence[ConceptRow], path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(
                [
                    "" if v is None else (f"{v:.4f}" if isinstance(v, float) else v)
                    for v in row.as_dict().values()
                ]
            )
    return path


def plot(rows: Sequence[ConceptRow], path: Path, title: str = "") -> Path:
    """Horizontal bars: mean influence per concept, correct (green) vs wrong (red), with counts."""
    font = ImageFont.load_default()
    bar_h, gap, left, right, top = 9, 8, 200, 90, 46
    width = 760
    height = top + len(rows) * (2 * bar_h + gap) + 30
    image = Image.new("RGB", (width, max(height, 120)), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 8), title or "Mean concept influence: correct vs wrong (25 km)", fill="black", font=font)
    draw.rectangle([10, 26, 20, 34], fill=(40, 150, 60))
    draw.text((24, 24), "correct", fill="black", font=font)
    draw.rectangle([90, 26, 100, 34], fill=(200, 60, 50))
    draw.text((104, 24), "wrong", fill="black", font=font)
    values = [v for r in rows for v in (r.mean_correct, r.mean_wrong) if v is not None]
    vmax = max([1.0, *values])
    span = width - left - right
    x1 = left + span / vmax  # influence 1 = area share
    y = top
    for row in rows:
        draw.text((10, y + 4), row.concept[:30], fill="black", font=font)
        for value, n, colour in (
            (row.mean_correct, row.n_correct, (40, 150, 60)),
            (row.mean_wrong, row.n_wrong, (200, 60, 50)),
        ):
            if value is not None:
                draw.rectangle(
                    [left, y, left + max(1, round(span * value / vmax)), y + bar_h - 1], fill=colour
                )
                draw.text(
                    (left + span * value / vmax + 4, y - 2), f"{value:.2f} (n={n})", fill="black", font=font
                )
            y += bar_h
        y += gap
    draw.line([x1, top - 4, x1, y], fill=(120, 120, 120))
    draw.text((x1 + 2, y + 2), "1 = area share", fill=(90, 90, 90), font=font)
    image.save(path, "PNG")
    return path
