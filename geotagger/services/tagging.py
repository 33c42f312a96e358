"""`tag`: the batch workflow for whole folders: index, locate, accept the confident suggestions, write.

Resumable: every stage is incremental (unchanged files are not re-read, located photos not
re-located, written photos not re-written), so an interrupted run simply continues. ``dry_run``
never records a decision and never touches a photo file; it still indexes and locates, because those
only fill the catalog.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from geotagger.catalog import Photo, Suggestion
from geotagger.catalog.library import Library
from geotagger.catalog.schema import (
    REVIEW_ACCEPTED,
    REVIEW_REJECTED,
    REVIEW_WRITTEN,
    STATUS_OK,
)
from geotagger.errors import GeotaggerError, UserInputError
from geotagger.geo.address import LEVELS
from geotagger.progress import CancelToken, Progress
from geotagger.services import decisions, indexing, locating, writing

BELOW_PREFIX = "best candidate "  # reason of a photo whose best candidate is not confident enough
REPORT_COLUMNS = (
    "file",
    "action",
    "reason",
    "lat",
    "lon",
    "confidence",
    "level",
    "address",
    "source",
    "target",
)


@dataclass
class TagRow:
    file: str
    action: str  # written | would write | skipped | failed
    reason: str = ""
    lat: float | None = None
    lon: float | None = None
    confidence: float | None = None
    level: str | None = None
    address: str = ""
    source: str = ""
    target: str = ""


@dataclass
class TagReport:
    dry_run: bool
    index_summary: str = ""
    locate_summary: str = ""
    rows: list[TagRow] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    def summary(self) -> str:
        """Counts, and for the skipped photos why: how many best candidates fell short, at which level."""
        done = (
            f"{self.count('would write')} would be written"
            if self.dry_run
            else f"{self.count('written')} written"
        )
        skipped = f"{self.count('skipped')} skipped"
        why = self._skip_reasons()
        if why:
            skipped += f" ({why})"
        return f"{done}, {skipped}, {self.count('failed')} failed"

    def _skip_reasons(self) -> str:
        low: dict[str, int] = {}
        other: dict[str, int] = {}
        threshold = ""
        for row in self.rows:
            if row.action != "skipped":
                continue
            if row.reason.startswith(BELOW_PREFIX):
                low[row.level or "?"] = low.get(row.level or "?", 0) + 1
                threshold = row.reason.rsplit("< ", 1)[-1]
            else:
                other[row.reason] = other.get(row.reason, 0) + 1
        parts = []
        if low:
            order = sorted(low, key=lambda lv: LEVELS.index(lv) if lv in LEVELS else -1, reverse=True)
            by_level = ", ".join(f"{low[lv]} {lv}" for lv in order)
            parts.append(f"{sum(low.values())} with the best candidate below {threshold}: {by_level}")
        parts += [f"{n} {reason}" for reason, n in sorted(other.items(), key=lambda kv: -kv[1])]
        return "; ".join(parts)

    def save(self, path: Path) -> None:
        """CSV, or JSON when the name ends in .json."""
        try:
            self._save(Path(path))
        except OSError as exc:
            raise UserInputError(f"cannot save the report to {path}: {exc.strerror or exc}") from exc

    def _save(self, path: Path) -> None:
        rows = [asdict(row) for row in self.rows]
        if path.suffix.lower() == ".json":
            data = {
                "dry_run": self.dry_run,
                "index": self.index_summary,
                "locate": self.locate_summary,
                "rows": rows,
            }
            path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
            return
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=REPORT_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)


def check_report_path(path: Path) -> None:
    """Before the batch runs: a report that cannot be saved must not be found out after the work."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserInputError(f"--report {path} is a folder; name a file (.csv or .json)")
    if not path.parent.is_dir():
        raise UserInputError(f"--report: the folder {path.parent} does not exist")


def _under(paths: Sequence[Path]) -> list[str]:
    return [str(Path(p).expanduser().resolve()) for p in paths]


def _in_scope(photo_path: str, roots: list[str]) -> bool:
    return any(photo_path == root or photo_path.startswith(root.rstrip("/") + "/") for root in roots)


def _photos_without_gps(lib: Library, roots: list[str]) -> list[tuple[Photo, Suggestion | None]]:
    with lib.catalog.reader() as session:
        rows = session.execute(
            select(Photo, Suggestion)
            .outerjoin(Suggestion, (Suggestion.photo_id == Photo.id) & (Suggestion.rank == 0))
            .where(
                Photo.status == STATUS_OK,
                Photo.gps_lat.is_(None) | Photo.review_state.in_((REVIEW_ACCEPTED, REVIEW_WRITTEN)),
            )
            .order_by(Photo.path)
        ).all()
        session.expunge_all()
    return [(photo, best) for photo, best in rows if _in_scope(photo.path, roots)]


def _row(photo: Photo, best: Suggestion | None, action: str, reason: str = "") -> TagRow:
    row = TagRow(photo.path, action, reason)
    if best is not None:
        row.lat, row.lon, row.confidence = round(best.lat, 6), round(best.lon, 6), round(best.confidence, 3)
        row.level, row.source = best.level, best.source
        row.address = (best.address or {}).get("display", "")
    return row


def below_reason(best: Suggestion, min_confidence: float) -> str:
    """Why a photo is skipped: "best candidate city 0.82 < 0.9" (4 significant digits: 0.8999 is not 0.9)."""
    return f"{BELOW_PREFIX}{best.level} {best.confidence:.4g} < {min_confidence:g}"


def tag(
    lib: Library,
    paths: Sequence[Path],
    *,
    min_confidence: float = 0.9,
    level: str | None = None,
    dry_run: bool = False,
    device: str = "auto",
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> TagReport:
    """Geotag every photo without GPS under ``paths`` whose best suggestion is confident enough."""
    if not 0.0 <= min_confidence <= 1.0:
        raise UserInputError(f"--min-confidence must be between 0 and 1, not {min_confidence}")
    if level is not None and level not in LEVELS:
        raise UserInputError(f"unknown level {level!r} (choose from {', '.join(LEVELS)})")
    report = TagReport(dry_run=dry_run)
    report.index_summary = str(indexing.index(lib, list(paths), progress=progress, cancel=cancel))
    located = locating.locate(lib, list(paths), device=device, progress=progress, cancel=cancel)
    report.locate_summary = located.summary()

    accepted: dict[int, TagRow] = {}
    for photo, best in _photos_without_gps(lib, _under(paths)):
        if cancel is not None:
            cancel.check()
        state = photo.review_state
        if state == REVIEW_WRITTEN:
            report.rows.append(_row(photo, best, "skipped", "already written"))
        elif state == REVIEW_REJECTED:
            report.rows.append(_row(photo, best, "skipped", "you rejected its suggestion"))
        elif state == REVIEW_ACCEPTED:
            accepted[photo.id] = _row(photo, best, "failed", "accepted earlier; not written yet")
        elif best is None:
            report.rows.append(_row(photo, best, "skipped", "no evidence for a location"))
        elif best.confidence < min_confidence:
            report.rows.append(_row(photo, best, "skipped", below_reason(best, min_confidence)))
        elif level is not None and LEVELS.index(level) > LEVELS.index(best.level):
            reason = f"best candidate {best.level} {best.confidence:.4g}: not sure at {level} level"
            report.rows.append(_row(photo, best, "skipped", reason))
        elif dry_run:
            report.rows.append(_row(photo, best, "would write", f"at level {level or best.level}"))
        else:
            try:
                decisions.accept(lib, photo.id, candidate=0, level=level)
                accepted[photo.id] = _row(photo, best, "failed")
            except GeotaggerError as exc:
                report.rows.append(_row(photo, best, "failed", str(exc)))

    if accepted and not dry_run:
        written = writing.write(lib, photo_ids=list(accepted), progress=progress, cancel=cancel)
        for item in written.items:
            row = accepted.pop(item.photo_id)
            row.action = "written" if item.status == "written" else "failed"
            row.reason = item.detail
            row.target = "; ".join(item.targets)
            report.rows.append(row)
    report.rows.extend(accepted.values())
    report.rows.sort(key=lambda r: r.file)
    return report


def rows_as_dicts(report: TagReport) -> list[dict[str, Any]]:
    return [asdict(row) for row in report.rows]
