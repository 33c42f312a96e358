"""One history of what the user did to the library: decisions (accept, reject, place) and writes, in the
order they happened, read from the catalog's journals (so it survives a restart and is the same for the
command line and the desktop app).

Undo takes the newest entry that is not undone yet. A decision is undone by putting the photo back to
the state the decision journaled (``Decision.previous``); a write is undone by ``write_undo`` (exact old
bytes back). A write entry is the photos one write run wrote: consecutive write groups with no decision
between them. Because entries are undone strictly newest first, a decision is never undone while a write
that carried it out is still on disk (that write is newer, so it is undone first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from geotagger.catalog import Decision, Photo, WriteRecord
from geotagger.catalog.library import Library
from geotagger.errors import UserInputError
from geotagger.locate.candidate import SOURCE_MANUAL
from geotagger.services import write_undo
from geotagger.services.write_journal import DONE, UNDONE, now
from geotagger.services.write_lock import writer_lock

KIND_DECISION = "decision"
KIND_WRITE = "write"
_PHOTO_FIELDS = ("review_state", "gps_lat", "gps_lon", "gps_alt", "gps_source", "sidecar_path")


@dataclass(frozen=True)
class Entry:
    """One undoable step. ``label`` reads after "Undo " ("accept of IMG_0012.jpg", "write of 3 photos")."""

    kind: str
    at: datetime
    label: str
    photo_ids: tuple[int, ...]
    undone: bool
    decision_ids: tuple[int, ...] = ()  # one user action may decide several photos (a batch)
    groups: tuple[tuple[int | None, int | None], ...] = ()  # write groups: (photo id, decision id)
    files: int = 0

    @property
    def undo_text(self) -> str:
        return f"Undo {self.label}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at.replace(tzinfo=UTC).isoformat(timespec="seconds"),  # journals keep UTC
            "what": self.label,
            "photos": list(self.photo_ids),
            "files": self.files,
            "undone": self.undone,
        }


@dataclass
class UndoOutcome:
    """What one undo did: the entries undone (newest first), the files restored or removed, and per file
    that could not be restored, why (the entry then stays on the stack)."""

    entries: list[Entry] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def message(self) -> str:
        if not self.entries and not self.failures:
            return "Nothing to undo"
        done = "; ".join(f"undone {e.label}" for e in self.entries) or "nothing undone"
        if self.failures:
            done += f"; {len(self.failures)} file(s) not undone: {self.failures[0][1]}"
        return done[0].upper() + done[1:]


def _who(names: Sequence[str], noun: str) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} {noun}"


def entries(lib: Library, *, include_undone: bool = True, limit: int | None = None) -> list[Entry]:
    """The history, newest first."""
    with lib.catalog.reader() as session:
        names = dict(session.execute(select(Photo.id, Photo.filename)).all())
        decisions = session.execute(
            select(Decision.id, Decision.photo_id, Decision.action, Decision.level, Decision.created_at)
            .add_columns(Decision.undone_at, Decision.source, Decision.previous)
            .order_by(Decision.id)
        ).all()
        writes = session.execute(
            select(
                WriteRecord.photo_id,
                WriteRecord.decision_id,
                WriteRecord.status,
                WriteRecord.created_at,
                WriteRecord.target_path,
            )
            .where(WriteRecord.status.in_((DONE, UNDONE)))
            .order_by(WriteRecord.id)
        ).all()
    timeline: list[tuple[datetime, int, int, Any]] = []
    for row in decisions:
        timeline.append((row.created_at, 0, row.id, row))
    groups: dict[tuple[Any, Any, str], dict[str, Any]] = {}
    for row in writes:
        key = (row.photo_id, row.decision_id, row.status)
        group = groups.setdefault(key, {"at": row.created_at, "files": 0, "key": key})
        group["files"] += 1
    for order, group in enumerate(groups.values()):
        timeline.append((group["at"], 1, order, group))
    timeline.sort(key=lambda item: item[:3])

    out: list[Entry] = []
    batch: list[dict[str, Any]] = []
    decided: list[Any] = []  # consecutive decisions of one batch

    def flush() -> None:
        if not batch:
            return
        photo_ids = tuple(g["key"][0] for g in batch if g["key"][0] is not None)
        label = "write of " + _who([names.get(p, f"photo {p}") for p in photo_ids] or ["?"], "photos")
        out.append(
            Entry(
                KIND_WRITE,
                batch[0]["at"],
                label,
                photo_ids,
                undone=batch[0]["key"][2] == UNDONE,
                groups=tuple(g["key"][:2] for g in batch),
                files=sum(g["files"] for g in batch),
            )
        )
        batch.clear()

    def flush_decided() -> None:
        if not decided:
            return
        first = decided[0]
        what = first.action
        if first.action == "accept" and first.source == SOURCE_MANUAL:
            what = "placing"
        elif first.action == "accept" and first.level in ("region", "country"):  # "Region only" etc.
            what = f"accept ({first.level})"
        photo_ids = tuple(d.photo_id for d in decided)
        who = _who([names.get(p, f"photo {p}") for p in photo_ids], "photos")
        out.append(
            Entry(
                KIND_DECISION,
                first.created_at,
                f"{what} of {who}",
                photo_ids,
                undone=first.undone_at is not None,
                decision_ids=tuple(d.id for d in decided),
            )
        )
        decided.clear()

    def batch_of(row: Any) -> tuple[str, bool] | None:
        tag = (row.previous or {}).get("batch")
        return (tag, row.undone_at is not None) if tag else None

    for _at, kind, _order, item in timeline:
        if kind == 1:
            flush_decided()
            if batch and batch[0]["key"][2] != item["key"][2]:
                flush()
            batch.append(item)
            continue
        flush()
        if decided and (batch_of(item) is None or batch_of(item) != batch_of(decided[0])):
            flush_decided()
        decided.append(item)
    flush_decided()
    flush()
    out.reverse()
    if not include_undone:
        out = [e for e in out if not e.undone]
    return out[:limit] if limit is not None else out


def next_undo(lib: Library) -> Entry | None:
    """What Undo would undo now (the newest entry not undone), or None."""
    pending = entries(lib, include_undone=False, limit=1)
    return pending[0] if pending else None


def undo_decisions(lib: Library, decision_ids: Sequence[int]) -> None:
    """Undo one entry's decisions, newest first, in one transaction per decision."""
    for decision_id in sorted(decision_ids, reverse=True):
        undo_decision(lib, decision_id)


def undo_decision(lib: Library, decision_id: int) -> None:
    """Put the photo back to the state the decision replaced, and mark the decision undone."""
    with lib.catalog.writer() as session:
        decision = session.get(Decision, decision_id)
        if decision is None or decision.undone_at is not None:
            raise UserInputError(f"decision {decision_id} is not in the history (already undone?)")
        newer = session.scalar(
            select(Decision.id).where(
                Decision.photo_id == decision.photo_id,
                Decision.id > decision.id,
                Decision.undone_at.is_(None),
            )
        )
        written = session.scalar(
            select(WriteRecord.id).where(WriteRecord.decision_id == decision.id, WriteRecord.status == DONE)
        )
        if newer is not None or written is not None:
            raise UserInputError("a later decision or write of this photo must be undone first")
        photo = session.get(Photo, decision.photo_id)
        if photo is not None:
            for name in _PHOTO_FIELDS:
                if name in (decision.previous or {}):
                    setattr(photo, name, decision.previous[name])
        decision.undone_at = now()


def _undo_next(lib: Library, expect: Entry | None, outcome: UndoOutcome) -> bool:
    """Undo the newest entry into ``outcome``; False when there is none or it was not fully undone."""
    entry = next_undo(lib)
    if entry is None:
        return False
    if expect is not None and not _same(entry, expect):
        raise UserInputError(f"the history changed: the newest entry is now {entry.label}; nothing undone")
    if entry.kind == KIND_DECISION:
        undo_decisions(lib, entry.decision_ids)
        outcome.entries.append(entry)
        return True
    result = write_undo.undo_groups(lib, entry.groups)
    for record in result:
        (outcome.removed if record.before_sha256 is None else outcome.restored).append(record.target_path)
    outcome.failures.extend(result.failures)
    if len(result):
        outcome.entries.append(entry)
    return not result.failures


def _same(a: Entry, b: Entry) -> bool:
    return (a.kind, a.decision_ids, a.groups) == (b.kind, b.decision_ids, b.groups)


def undo(lib: Library, last: int = 1, expect: Entry | None = None) -> UndoOutcome:
    """Undo the newest ``last`` entries, newest first; stops at an entry that could not be fully undone
    (its files are reported in ``failures``; what could be undone of it is undone).

    ``expect``: the entry the user was told Undo would undo; if the history has moved on meanwhile
    (another window or the command line), nothing is undone and UserInputError says so."""
    if last < 1:
        raise UserInputError("--last must be 1 or more")
    outcome = UndoOutcome()
    # Under the writer lock: a write running meanwhile could carry out the very decision being undone.
    with writer_lock(lib.catalog):
        for _ in range(last):
            if not _undo_next(lib, expect if not outcome.entries else None, outcome):
                break
    return outcome
