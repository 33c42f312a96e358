"""Read-only queries the desktop app needs: folders with counts, counts per filter, pages of photos for
the grid and one photo's details. Nothing here writes; every function opens a short reader session, so
the GUI can call them from worker threads while a writer is busy."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from geotagger.catalog import Decision, Photo, Suggestion, WriteRecord
from geotagger.catalog.library import Library
from geotagger.errors import NotFoundError, UserInputError
from geotagger.geo.address import Address
from geotagger.metadata.camera import camera_name
from geotagger.services.pathscope import at_or_under
from geotagger.services.selection import filter_clause

# The filters the GUI shows, in order, with their labels.
FILTER_LABELS: tuple[tuple[str, str], ...] = (
    ("all", "All"),
    ("no-gps", "No GPS"),
    ("suggested", "Suggested"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
    ("written", "Written"),
    ("error", "Errors"),
)
ORDERS = ("taken", "name", "path")


@dataclass(frozen=True)
class Scope:
    """Where the grid looks: a folder (with its subfolders) and/or an album's photos."""

    folder: str | None = None
    album_ids: tuple[int, ...] | None = None  # photo ids of an album, resolved by the caller


@dataclass
class FolderNode:
    path: str
    name: str
    count: int = 0  # photos directly in this folder
    total: int = 0  # including subfolders
    children: list[FolderNode] = field(default_factory=list)


@dataclass
class PhotoRow:
    """What a grid cell shows."""

    id: int
    path: str
    filename: str
    taken_at: datetime | None
    has_gps: bool
    gps_source: str | None
    review_state: str
    status: str
    error: str | None
    fingerprint: str
    best_confidence: float | None = None
    best_level: str | None = None
    best_label: str | None = None


@dataclass
class CandidateView:
    index: int  # position in the ranked list shown (0 = best)
    rank: int  # the suggestion's rank in the catalog (what decisions.accept(candidate=) takes)
    lat: float
    lon: float
    radius_km: float
    level: str
    confidence: float
    source: str
    address: dict[str, Any]
    label: str
    evidence_text: str
    concepts: list[tuple[str, float, float | None]]
    evidence: dict[str, Any]


@dataclass
class PhotoDetails:
    id: int
    path: str
    filename: str
    folder: str
    taken_at: datetime | None
    taken_offset_min: int | None
    camera: str
    width: int | None
    height: int | None
    gps_lat: float | None
    gps_lon: float | None
    gps_alt: float | None
    gps_source: str | None
    review_state: str
    status: str
    error: str | None
    fingerprint: str
    candidates: list[CandidateView]
    decisions: list[dict[str, Any]]
    writes: list[dict[str, Any]]


def _folder_clause(folder: str) -> ColumnElement[bool]:
    return at_or_under(Photo.folder, folder, (os.sep,))  # exact: LIKE ignores case in SQLite


def _scope_clause(scope: Scope | None) -> ColumnElement[bool] | None:
    if scope is None:
        return None
    parts: list[ColumnElement[bool]] = []
    if scope.folder:
        parts.append(_folder_clause(scope.folder))
    if scope.album_ids is not None:
        parts.append(Photo.id.in_(scope.album_ids))
    return and_(*parts) if parts else None


def _where(filter_name: str | None, scope: Scope | None) -> list[ColumnElement[bool]]:
    clauses = [filter_clause(filter_name or "all")]
    extra = _scope_clause(scope)
    if extra is not None:
        clauses.append(extra)
    return clauses


def filter_counts(lib: Library, scope: Scope | None = None) -> dict[str, int]:
    """How many photos each filter of FILTER_LABELS shows, in one query."""
    columns = [func.sum(case((filter_clause(name), 1), else_=0)).label(name) for name, _ in FILTER_LABELS]
    stmt = select(*columns)
    extra = _scope_clause(scope)
    if extra is not None:
        stmt = stmt.where(extra)
    with lib.catalog.reader() as session:
        row = session.execute(stmt).one()
    return {name: int(value or 0) for (name, _), value in zip(FILTER_LABELS, row, strict=True)}


def folder_tree(lib: Library) -> list[FolderNode]:
    """The indexed folders as a tree; chains of single-child folders without photos are collapsed."""
    with lib.catalog.reader() as session:
        rows = session.execute(select(Photo.folder, func.count()).group_by(Photo.folder)).all()
    nodes: dict[str, FolderNode] = {}
    roots: list[FolderNode] = []

    def node(path: str) -> FolderNode:
        if path in nodes:
            return nodes[path]
        parent_path = os.path.dirname(path)
        item = FolderNode(path=path, name=os.path.basename(path) or path)
        nodes[path] = item
        if parent_path and parent_path != path:
            node(parent_path).children.append(item)
        else:
            roots.append(item)
        return item

    for folder, count in rows:
        item = node(folder)
        item.count += count
    for folder, count in rows:
        path = folder
        while True:
            nodes[path].total += count
            parent = os.path.dirname(path)
            if not parent or parent == path:
                break
            path = parent
    # Collapse the empty chain from the file-system root down to the first folder that matters.
    top = roots
    while len(top) == 1 and top[0].count == 0 and len(top[0].children) == 1:
        top = top[0].children
    for item in nodes.values():
        item.children.sort(key=lambda n: n.name.lower())
    return sorted(top, key=lambda n: n.name.lower())


def _ordering(order: str) -> list[Any]:
    if order == "taken":
        return [Photo.taken_at.is_(None), Photo.taken_at, Photo.path]
    if order == "name":
        return [Photo.filename, Photo.path]
    if order == "path":
        return [Photo.path]
    raise UserInputError(f"unknown order {order!r} (choose from {', '.join(ORDERS)})")


def photo_ids(
    lib: Library, filter_name: str | None = "all", scope: Scope | None = None, order: str = "taken"
) -> list[int]:
    """All matching photo ids in display order (100k ints are cheap; rows are fetched per page)."""
    stmt = select(Photo.id).where(*_where(filter_name, scope)).order_by(*_ordering(order))
    with lib.catalog.reader() as session:
        return list(session.scalars(stmt))


def _best_suggestions(session: Session, ids: Sequence[int]) -> dict[int, Suggestion]:
    best: dict[int, Suggestion] = {}
    stmt = (
        select(Suggestion).where(Suggestion.photo_id.in_(ids)).order_by(Suggestion.photo_id, Suggestion.rank)
    )
    for suggestion in session.scalars(stmt):
        best.setdefault(suggestion.photo_id, suggestion)
    return best


def photo_rows(lib: Library, ids: Sequence[int]) -> dict[int, PhotoRow]:
    """Grid rows for a page of ids (the caller keeps its own order)."""
    rows: dict[int, PhotoRow] = {}
    if not ids:
        return rows
    with lib.catalog.reader() as session:
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            best = _best_suggestions(session, chunk)
            for photo in session.scalars(select(Photo).where(Photo.id.in_(chunk))):
                top = best.get(photo.id)
                rows[photo.id] = PhotoRow(
                    id=photo.id,
                    path=photo.path,
                    filename=photo.filename,
                    taken_at=photo.taken_at,
                    has_gps=photo.has_gps,
                    gps_source=photo.gps_source,
                    review_state=photo.review_state,
                    status=photo.status,
                    error=photo.error,
                    fingerprint=photo.fingerprint,
                    best_confidence=top.confidence if top else None,
                    best_level=top.level if top else None,
                    best_label=_label(top.address) if top else None,
                )
    return rows


def _label(address: dict[str, Any] | None) -> str:
    if not address:
        return "unnamed place"
    return address.get("display") or Address.from_dict(address).display


def evidence_text(evidence: dict[str, Any] | None) -> str:
    """One line a person reads: the source's own text, else what can be said from its fields."""
    if not evidence:
        return ""
    if evidence.get("text"):
        return str(evidence["text"])
    parts = []
    if "track" in evidence and "gap_s" in evidence:
        parts.append(f"on track {evidence['track']}, {float(evidence['gap_s']):.0f} s from the nearest point")
    if "similarity" in evidence:
        parts.append(f"looks like a geotagged photo (similarity {float(evidence['similarity']):.2f})")
    probs = evidence.get("class_probs") or evidence.get("classes")
    if isinstance(probs, list) and probs:
        first = probs[0]
        if isinstance(first, list | tuple) and len(first) >= 2:
            parts.append(f"model: {first[0]} {float(first[1]):.0%}")
    return "; ".join(parts)


def _concepts(evidence: dict[str, Any] | None) -> list[tuple[str, float, float | None]]:
    """Concept influences stored with a candidate, as (name, influence, area share)."""
    out: list[tuple[str, float, float | None]] = []
    for item in (evidence or {}).get("concepts") or []:
        if isinstance(item, dict) and "name" in item:
            out.append((str(item["name"]), float(item.get("influence", 0.0)), item.get("area_share")))
        elif isinstance(item, list | tuple) and len(item) >= 2:
            out.append((str(item[0]), float(item[1]), float(item[2]) if len(item) > 2 else None))
    return out


def photo_details(lib: Library, photo_id: int) -> PhotoDetails:
    """Everything the details pane shows for one photo, candidates ranked best first."""
    with lib.catalog.reader() as session:
        photo = session.get(Photo, photo_id)
        if photo is None:
            raise NotFoundError(f"no photo with id {photo_id} in the catalog")
        suggestions = session.scalars(
            select(Suggestion).where(Suggestion.photo_id == photo_id).order_by(Suggestion.rank, Suggestion.id)
        ).all()
        decisions = session.scalars(
            select(Decision).where(Decision.photo_id == photo_id).order_by(Decision.created_at.desc())
        ).all()
        writes = session.scalars(
            select(WriteRecord)
            .where(WriteRecord.photo_id == photo_id)
            .order_by(WriteRecord.created_at.desc())
        ).all()
        camera = camera_name(photo.camera_make, photo.camera_model)
        return PhotoDetails(
            id=photo.id,
            path=photo.path,
            filename=photo.filename,
            folder=photo.folder,
            taken_at=photo.taken_at,
            taken_offset_min=photo.taken_offset_min,
            camera=camera,
            width=photo.width,
            height=photo.height,
            gps_lat=photo.gps_lat,
            gps_lon=photo.gps_lon,
            gps_alt=photo.gps_alt,
            gps_source=photo.gps_source,
            review_state=photo.review_state,
            status=photo.status,
            error=photo.error,
            fingerprint=photo.fingerprint,
            candidates=[
                CandidateView(
                    index=i,
                    rank=s.rank,
                    lat=s.lat,
                    lon=s.lon,
                    radius_km=s.radius_km,
                    level=s.level,
                    confidence=s.confidence,
                    source=s.source,
                    address=dict(s.address or {}),
                    label=_label(s.address),
                    evidence_text=evidence_text(s.evidence),
                    concepts=_concepts(s.evidence),
                    evidence=dict(s.evidence or {}),
                )
                for i, s in enumerate(suggestions)
            ],
            decisions=[
                {
                    "action": d.action,
                    "lat": d.lat,
                    "lon": d.lon,
                    "level": d.level,
                    "source": d.source,
                    "created_at": d.created_at,
                    "undone": d.undone_at is not None,
                }
                for d in decisions
            ],
            writes=[
                {"target": w.target_path, "kind": w.kind, "status": w.status, "error": w.error}
                for w in writes
            ],
        )


def geotagged_points(lib: Library, scope: Scope | None = None) -> list[tuple[int, float, float, str]]:
    """(id, lat, lon, filename) of every readable photo with a location, for the map's clusters."""
    stmt = select(Photo.id, Photo.gps_lat, Photo.gps_lon, Photo.filename).where(*_where("has-gps", scope))
    with lib.catalog.reader() as session:
        return [(i, lat, lon, name) for i, lat, lon, name in session.execute(stmt)]


def candidate_outline(address: dict[str, Any] | None, level: str) -> dict[str, Any] | None:
    """GeoJSON of the region a candidate names: its country for a country-level candidate, else its
    admin-1 region (simplified for the map). None when the address has no such id."""
    ids = (address or {}).get("ids") or {}
    outline_id = ids.get("country") if level == "country" else ids.get("admin1") or ids.get("country")
    if not outline_id:
        return None
    from geotagger.geo.geocoder import ReverseGeocoder
    from geotagger.maps.outline import dissolve  # one outer boundary, no province seams inside

    return dissolve(ReverseGeocoder.default().outline_geojson(outline_id, tolerance_deg=0.01))


def best_ranks(lib: Library, ids: Iterable[int]) -> dict[int, int]:
    """The rank of each photo's best suggestion (photos without suggestions are left out)."""
    ids = list(ids)
    stmt = (
        select(Suggestion.photo_id, func.min(Suggestion.rank))
        .where(Suggestion.photo_id.in_(ids))
        .group_by(Suggestion.photo_id)
    )
    with lib.catalog.reader() as session:
        return {pid: rank for pid, rank in session.execute(stmt)}


def paths_of(lib: Library, ids: Iterable[int]) -> dict[int, str]:
    ids = list(ids)
    with lib.catalog.reader() as session:
        return dict(session.execute(select(Photo.id, Photo.path).where(Photo.id.in_(ids))).all())
