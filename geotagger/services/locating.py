"""Locating photos without GPS: evidence from time and the library model, fused, calibrated, stored.

``locate`` is idempotent: a photo is recomputed only when its fingerprint, the embedding model, the
library model or the set of geotagged photos changed. It stores the top-5 fused candidates as Suggestion
rows and moves photos from review state "none" to "suggested"; accepted, rejected and written photos are
never touched. ``train_library_model`` (services/training.py) (re)trains the library model; ``locate``
does it on its own when enough new geotagged photos or accepted suggestions have arrived. What is read
from the catalog lives in services/locate_catalog.py.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, select

from geotagger.catalog.schema import (
    REVIEW_NONE,
    REVIEW_SUGGESTED,
    Photo,
    Suggestion,
)
from geotagger.errors import NotFoundError, UserInputError
from geotagger.locate import library_training
from geotagger.locate.fusion import MAX_CANDIDATES, SOURCES, EvidenceContext
from geotagger.locate.tracks import SOURCE_TRACK, photo_utc_seconds, track_candidate, track_zones
from geotagger.progress import CancelToken, Progress
from geotagger.services.library import Library
from geotagger.services.locate_catalog import known_digest, known_points, photo_point, target_photos
from geotagger.services.tracks import load_tracks, tracks_digest
from geotagger.services.training import (
    global_predictions,
    library_embeddings,
    library_model_dir,
    needs_training,
    train_library_model,
)

log = logging.getLogger(__name__)


@dataclass
class LocateReport:
    considered: int = 0
    located: int = 0
    unchanged: int = 0
    no_evidence: int = 0
    embedded: int = 0
    device: str | None = None
    retrained: bool = False
    model_version: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # path -> reason
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{self.located} photos located", f"{self.unchanged} unchanged"]
        if self.no_evidence:
            parts.append(f"{self.no_evidence} without any evidence")
        if self.errors:
            parts.append(f"{len(self.errors)} could not be read")
        extra = f"; embeddings on {self.device}" if self.device else ""
        return ", ".join(parts) + f" ({self.seconds:.1f} s{extra})"


# -- locating -----------------------------------------------------------------------------------------------


def locate(
    lib: Library,
    paths: Sequence[Path | str] | None = None,
    *,
    device: str = "auto",
    batch_size: int | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    sources: Sequence[str] | None = None,
    clock_offset_s: float = 0.0,
    five_crop: bool = False,
) -> LocateReport:
    """Estimate where the photos without GPS (under ``paths``, all if None) were taken.

    ``sources`` restricts the evidence (default: all; "time" or "library" alone for benchmarks).
    A photo an imported GPS track covers gets the track position as its first candidate;
    ``clock_offset_s`` corrects the camera clock for that (photo time + offset = true time).
    ``five_crop`` embeds with five-crop test-time augmentation (about 5x the inference time); the
    library model is retrained on that recipe and the suggestions recomputed when it changes.
    """
    from geotagger.geo.geocoder import ReverseGeocoder

    started = time.monotonic()
    requested = tuple(sources or (*SOURCES, SOURCE_TRACK))
    unknown = set(requested) - {*SOURCES, SOURCE_TRACK}
    if unknown:
        raise UserInputError(
            f"unknown evidence source(s): {', '.join(sorted(unknown))}; use {', '.join((*SOURCES, SOURCE_TRACK))}"
        )
    sources = tuple(s for s in requested if s != SOURCE_TRACK)  # what fusion works on
    missing = [str(p) for p in paths or () if not Path(p).expanduser().exists()]
    if missing:
        raise NotFoundError(f"no such file or folder: {missing[0]}")
    report = LocateReport()
    targets = target_photos(lib, paths)
    report.considered = len(targets)
    if not targets:  # nothing to locate: neither train nor embed
        report.seconds = time.monotonic() - started
        return report
    tracks = load_tracks(lib) if SOURCE_TRACK in requested else []
    known, known_fps = known_points(lib)
    if not known and not tracks:
        raise UserInputError(
            "the library has no geotagged photos to learn from: place a few photos by hand "
            "(geotagger accept PHOTO --lat X --lon Y), import a GPS track (geotagger tracks import FILE) "
            "or import a global model (geotagger models import-semp PATH)"
        )
    if known and sources:
        fused = _fusion_inputs(
            lib, targets, known, known_fps, sources, device, batch_size, progress, cancel, report, five_crop
        )
    else:  # tracks only: no model to train, nothing to fuse
        fused = None
    track_key = f"|tracks:{tracks_digest(lib)}:{clock_offset_s:g}" if tracks else ""
    zones = track_zones(tracks) if tracks and any(p.taken_offset_min is None for p in targets) else set()
    existing = _existing_keys(lib, [p.id for p in targets])
    results: dict[int, tuple[str, list[Any]]] = {}
    if progress:
        progress.start(len(targets), "locating")
    for photo in targets:
        if cancel:
            cancel.check()
        base = fused.key_base if fused else "tracks only"  # without tracks: the key as before tracks existed
        key = hashlib.sha1(f"{photo.fingerprint}|{base}{track_key}".encode()).hexdigest()[:16]
        if existing.get(photo.id) == key:
            report.unchanged += 1
        else:
            point = photo_point(photo)
            candidates = []
            on_track = track_candidate(
                photo_utc_seconds(point.local_s, point.utc_s, tracks, clock_offset_s, zones), tracks
            )
            if on_track is not None:
                candidates.append(on_track)
            if fused is not None:
                pool = fused.context.pool(
                    point,
                    fused.vectors.get(photo.id),
                    sources=sources,
                    global_classes=fused.global_preds.get(photo.id, []),
                )
                candidates += fused.fusion.candidates(pool)
            candidates = candidates[:MAX_CANDIDATES]
            if candidates:
                results[photo.id] = (key, candidates)
            else:
                report.no_evidence += 1
                results[photo.id] = (key, [])
        if progress:
            progress.advance()
    if progress:
        progress.finish()
    _store(lib, results, ReverseGeocoder.default())
    report.located = sum(1 for _, c in results.values() if c)
    report.seconds = time.monotonic() - started
    return report


@dataclass
class _Fused:
    """What fusing evidence for the targets needs, prepared once (model, pool context, embeddings)."""

    fusion: Any
    context: EvidenceContext
    vectors: dict[int, np.ndarray]
    global_preds: dict[int, list[tuple[str, list[Any]]]]
    key_base: str  # the model, geotagged photos and sources a suggestion was computed for


def _fusion_inputs(
    lib: Library,
    targets: list[Photo],
    known: list[Any],
    known_fps: dict[int, str],
    sources: tuple[str, ...],
    device: str,
    batch_size: int | None,
    progress: Progress | None,
    cancel: CancelToken | None,
    report: LocateReport,
    five_crop: bool = False,
) -> _Fused:
    if needs_training(lib, known, five_crop=five_crop):
        train_library_model(
            lib, device=device, batch_size=batch_size, progress=progress, cancel=cancel, five_crop=five_crop
        )
        report.retrained = True
    trained = library_training.load(library_model_dir(lib))
    report.model_version = trained.version
    fusion = trained.fusion_for(sources)
    context = EvidenceContext(known)
    model_id = trained.library.model_id
    vectors: dict[int, np.ndarray] = {}
    if "library" in sources:  # time evidence alone needs no image
        target_fps = {p.id: p.fingerprint for p in targets}
        model_id, vectors, summary = library_embeddings(
            lib,
            {**known_fps, **target_fps},
            device=device,
            batch_size=batch_size,
            progress=progress,
            cancel=cancel,
            five_crop=five_crop,
        )
        report.embedded = int(getattr(summary, "computed", 0))
        report.device = getattr(summary, "device", None)
        fp_to_path = {p.fingerprint: p.path for p in targets}
        for fp, reason in getattr(summary, "errors", {}).items():
            report.errors[fp_to_path.get(fp, fp)] = reason
        context = EvidenceContext(known, trained.library_with(known, vectors, model_id))
    global_ids: list[str] = []
    global_preds: dict[int, list[tuple[str, list[Any]]]] = {}
    if set(sources) == set(SOURCES):
        global_ids, global_preds = global_predictions(
            lib,
            {p.id: p.fingerprint for p in targets},
            device=device,
            batch_size=batch_size,
            progress=progress,
            cancel=cancel,
        )
    digest = known_digest(known)
    report.model_version = trained.version
    key_base = f"{model_id}|{trained.version}|{digest}|{','.join(sources + tuple(global_ids))}"
    return _Fused(fusion, context, vectors, global_preds, key_base)


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


def _store(lib: Library, results: dict[int, tuple[str, list[Any]]], geocoder: Any) -> None:
    """Replace the suggestions of the recomputed photos (addresses looked up in one batch)."""
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


# -- reading suggestions ----------------------------------------------------------------------------------


def suggestions(lib: Library) -> list[dict[str, Any]]:
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
