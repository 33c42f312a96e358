"""Stages 5 and 8: which stored suggestions are still current, and storing the new ones.

Every photo's top suggestion records the key it was computed for: the photo's fingerprint, the
embedding model, the library model version, the geotagged photos, the sources and the tracks. A photo
whose stored key equals today's is skipped; ``suggestion_key`` is the one place that says what a
suggestion depends on (a per-photo clock offset belongs there).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from geotagger.catalog.schema import REVIEW_NONE, REVIEW_SUGGESTED, Photo, Suggestion
from geotagger.services.locate_stages.clocks import known_clocks_digest
from geotagger.services.locate_stages.run import LocateRun
from geotagger.services.locate_stages.targets import known_digest

if TYPE_CHECKING:
    from geotagger.catalog.library import Library


def find_changed(run: LocateRun) -> None:
    """``run.keys`` for the photos whose stored suggestions are stale; the others count as unchanged."""
    base = _key_base(run)
    existing = _existing_keys(run.lib, [p.id for p in run.targets])
    for photo in run.targets:
        key = suggestion_key(run, photo, base)
        if existing.get(photo.id) == key:
            run.report.unchanged += 1
        else:
            run.keys[photo.id] = key


def suggestion_key(run: LocateRun, photo: Photo, base: str) -> str:
    """What one photo's suggestions were computed for (``base``: what all photos share)."""
    point = run.points.get(photo.id)
    # The photo's clock as applied (status and corrected times): a changed clock recomputes only its photos.
    clock = f"|clock:{point.clock}:{point.local_s!r}:{point.utc_s!r}" if point is not None else ""
    # The place names read on it (a photo without any has the same suggestions with or without OCR).
    found = run.text.get(photo.id)
    text = (
        f"|text:{run.text_recipe}:" + ",".join(f"{m.entry}:{m.kind}" for m in found.matches) if found else ""
    )
    return hashlib.sha1(f"{photo.fingerprint}|{base}{clock}{text}".encode()).hexdigest()[:16]


def _key_base(run: LocateRun) -> str:
    from geotagger.services.tracks import tracks_digest

    track_key = f"|tracks:{tracks_digest(run.lib)}:{run.clock_offset_s:g}" if run.tracks else ""
    if run.trained is None:
        return "tracks only" + track_key  # without tracks: the key as before tracks existed
    sources = ",".join(run.sources + tuple(run.global_ids))
    moved = known_clocks_digest(run.known)  # '' unless a geotagged photo's clock is corrected or unknown
    clocks = f"|clocks:{moved}" if moved else ""
    return f"{run.model_id}|{run.trained.version}|{known_digest(run.known)}|{sources}{track_key}{clocks}"


def _existing_keys(lib: Library, photo_ids: Sequence[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    with lib.catalog.reader() as session:
        for i in range(0, len(photo_ids), 500):
            chunk = list(photo_ids[i : i + 500])
            rows = session.execute(
                select(Suggestion.photo_id, Suggestion.evidence).where(
                    Suggestion.photo_id.in_(chunk), Suggestion.rank == 0
                )
            ).all()
            for pid, evidence in rows:
                if isinstance(evidence, dict) and evidence.get("computed_for"):
                    out[pid] = str(evidence["computed_for"])
    return out


def save(run: LocateRun) -> None:
    """Replace the suggestions of the recomputed photos (addresses looked up in one batch)."""
    from geotagger.geo.geocoder import ReverseGeocoder

    _store(run.lib, run.results, ReverseGeocoder.default())
    run.report.located = sum(1 for _, c in run.results.values() if c)


def _store(lib: Library, results: dict[int, tuple[str, list[Any]]], geocoder: Any) -> None:
    flat = [(pid, c) for pid, (_, cands) in results.items() for c in cands]
    addresses = geocoder.lookup_many([c.lat for _, c in flat], [c.lon for _, c in flat]) if flat else []
    now = datetime.now(UTC).replace(tzinfo=None)
    address_of = {id(c): a for (_, c), a in zip(flat, addresses, strict=True)}
    with lib.catalog.writer() as session:
        ids = list(results)
        for i in range(0, len(ids), 500):
            session.execute(delete(Suggestion).where(Suggestion.photo_id.in_(ids[i : i + 500])))
        for pid, (key, candidates) in results.items():
            for rank, c in enumerate(candidates):
                evidence = dict(c.evidence)
                if rank == 0:
                    evidence["computed_for"] = key
                session.add(
                    Suggestion(
                        photo_id=pid,
                        rank=rank,
                        source=c.source,
                        lat=c.lat,
                        lon=c.lon,
                        radius_km=c.radius_km,
                        level=c.level,
                        confidence=c.confidence,
                        address=address_of[id(c)].to_dict(),
                        evidence=evidence,
                        created_at=now,
                    )
                )
        located = [pid for pid, (_, c) in results.items() if c]
        for i in range(0, len(located), 500):
            for photo in session.scalars(
                select(Photo).where(Photo.id.in_(located[i : i + 500]), Photo.review_state == REVIEW_NONE)
            ):
                photo.review_state = REVIEW_SUGGESTED
        unlocated = [pid for pid, (_, c) in results.items() if not c]
        for i in range(0, len(unlocated), 500):
            for photo in session.scalars(
                select(Photo).where(
                    Photo.id.in_(unlocated[i : i + 500]), Photo.review_state == REVIEW_SUGGESTED
                )
            ):
                photo.review_state = REVIEW_NONE


def read_suggestions(lib: Library) -> list[dict[str, Any]]:
    """The best candidate per photo with its alternatives (what `geotagger suggestions` prints)."""
    with lib.catalog.reader() as session:
        rows = session.execute(
            select(Photo.id, Photo.path, Photo.review_state, Suggestion)
            .join(Suggestion, Suggestion.photo_id == Photo.id)
            .order_by(Photo.path, Suggestion.rank)
        ).all()
    out: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for pid, path, state, s in rows:
        entry = {
            "lat": round(s.lat, 6),
            "lon": round(s.lon, 6),
            "radius_km": s.radius_km,
            "confidence": round(s.confidence, 3),
            "level": s.level,
            "address": (s.address or {}).get("display", ""),
            "source": s.source,
            "evidence": {k: v for k, v in (s.evidence or {}).items() if k != "computed_for"},
        }
        if current is None or current["photo_id"] != pid:
            current = {"photo_id": pid, "file": path, "review_state": state, **entry, "alternatives": []}
            out.append(current)
        else:
            current["alternatives"].append(entry)
    return out
