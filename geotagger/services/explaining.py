"""Explaining suggestions: which parts of a photo, and which concepts, a candidate rests on.

Front ends call ``explain`` (one photo, one candidate), ``explain_many`` (batch) and ``analyse``
(influence per concept over an evaluation set, correct vs wrong at 25 km). Results are stored in the
suggestion's evidence ("concepts" + "explanation") so the GUI shows them without recomputing.
"""

from __future__ import annotations

import csv
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geotagger.catalog.library import Library
from geotagger.catalog.schema import STATUS_OK, Photo, Suggestion
from geotagger.errors import GeotaggerError, ModelError, NotFoundError, UserInputError
from geotagger.explain.explainer import (
    OCR_MIN_SIDE,
    WORK_LONG_SIDE,
    Explainer,
    ExplainResult,
    Target,
    load_photo,
)
from geotagger.explain.text import INSTALL_HINT, TextRegion
from geotagger.locate.candidate import SOURCE_TIME
from geotagger.progress import CancelToken, Progress

log = logging.getLogger(__name__)

_explainers: dict[tuple[str, str, bool], Explainer] = {}
_library_models: dict[tuple[str, int], Any] = {}
_lock = threading.Lock()
EVIDENCE_VERSION = 1
LIBRARY_MODEL_DIR = "library-model"  # where services.locating keeps the library model


@dataclass
class Explanation:
    """What the CLI prints and the GUI draws for one photo and one candidate."""

    photo_id: int
    photo: str
    candidate: int
    candidate_summary: str
    source: str
    method: str  # "class activation map" | "similarity to neighbour" | "none (time evidence)"
    concepts: list[tuple[str, float, float]]  # (name, influence, area share), highest first
    text_scripts: list[tuple[str, float]] = field(default_factory=list)
    ocr_text: str = ""
    text_regions: list[TextRegion] = field(default_factory=list)
    imagenet: list[tuple[str, float]] = field(default_factory=list)
    attribution: np.ndarray | None = None  # [H, W] float32 in [0, 1] on the work grid
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    overlay: Path | None = None
    note: str = ""
    ocr_note: str = ""  # why OCR did not run, when it was asked for
    overlay_note: str = ""  # why no overlay was written, when one was asked for
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "photo": self.photo,
            "candidate": self.candidate,
            "summary": self.candidate_summary,
            "source": self.source,
            "method": self.method,
            "concepts": [
                {"name": n, "influence": round(i, 3), "area_share": round(a, 4)} for n, i, a in self.concepts
            ],
            "text_scripts": [{"script": s, "share": round(p, 3)} for s, p in self.text_scripts],
            "ocr_text": self.ocr_text,
            "imagenet": [{"class": c, "p": round(p, 4)} for c, p in self.imagenet],
            "overlay": str(self.overlay) if self.overlay else None,
            "note": self.note,
            "ocr_note": self.ocr_note,
            "overlay_note": self.overlay_note,
            "seconds": round(self.seconds, 3),
        }


def explainer_for(pack: Any, *, ocr: bool = True) -> Explainer:
    """One cached Explainer per pack (sessions load once per process; the GUI calls this often)."""
    key = (str(pack.dir), pack.digest, ocr)
    with _lock:
        if key not in _explainers:
            _explainers[key] = Explainer(pack, ocr=ocr)
        return _explainers[key]


def _pack_for(lib: Library, source: str) -> Any:
    """The backbone a candidate's evidence came from: the named pack, the library model's, or the default."""
    from geotagger.locate.pack import ModelPack
    from geotagger.services import models

    if source.startswith("model:"):
        return ModelPack.load(source.split(":", 1)[1])
    model = _library_model(lib)
    if model is not None:
        try:
            return ModelPack.load(model.model_id)
        except GeotaggerError as exc:
            log.warning(
                "library model backbone %s unavailable (%s); using the default pack", model.model_id, exc
            )
    return models.ensure_default_pack()


def _summary(s: Suggestion) -> str:
    from geotagger.geo.address import Address

    place = ""
    if s.address:
        place = s.address.get("display") or Address.from_dict(s.address).display
    place = place or f"{s.lat:.5f}, {s.lon:.5f}"
    return f"#{s.rank + 1} {place} ({s.source}, {s.level}, confidence {s.confidence:.0%})"


def _neighbour_path(evidence: dict[str, Any]) -> str | None:
    items = evidence.get("neighbours")
    if isinstance(items, list) and items:
        first = items[0]
        return str(first[0] if isinstance(first, list | tuple) else first)
    value = evidence.get("neighbour")
    return str(value) if value else None


def _class_target(lib: Library, s: Suggestion, pack: Any) -> Target | None:
    """CAM target for a head class named in the evidence (class_index/level, or class_probs names)."""
    ev = s.evidence or {}
    index, level = ev.get("class_index"), ev.get("level_index")
    if s.source.startswith("model:") and pack.is_geo and index is not None:
        heads = pack.heads()
        lvl = int(level) if level is not None else len(heads) - 1
        return Target("class", f"class {index} of level {lvl}", weights=heads[lvl][0][int(index)])
    if s.source.startswith("model:"):
        return None
    model = _library_model(lib)
    if model is None or not model.levels:
        return None
    lvl = int(level) if level is not None else len(model.levels) - 1
    chosen = model.levels[lvl]
    if chosen.weight is None:
        return None
    if index is None:
        index = _class_index(ev, chosen, s)
        if index is None:
            return None
    return Target(
        "class",
        f"{chosen.class_names[int(index)]} ({chosen.name})",
        weights=chosen.weight[:, int(index)],
        unit_embedding=True,
    )


def _class_index(ev: dict[str, Any], level: Any, s: Suggestion) -> int | None:
    """The head class a library candidate rests on: the one it names, else the most probable class
    of the heads whose centre lies at the candidate (within its radius, at least 25 km). A neighbour
    candidate in Mongolia must not be explained by the heads' top class in Thailand."""
    from geotagger.geo.metrics import haversine_km

    if ev.get("class"):
        name = ev["class"]
        return level.class_names.index(name) if name in level.class_names else None
    reach = max(float(s.radius_km or 0.0), 25.0)
    for item in ev.get("class_probs") or []:
        if not isinstance(item, list | tuple) or not item or item[0] not in level.class_names:
            continue
        k = level.class_names.index(item[0])
        if float(haversine_km(s.lat, s.lon, level.class_lat[k], level.class_lon[k])) <= reach:
            return k
    return None


def _library_model(lib: Library) -> Any:
    from geotagger.locate.library_model import LibraryModel

    folder = lib.data_dir / LIBRARY_MODEL_DIR
    card = folder / "library_model.json"
    if not card.is_file():
        return None
    key = (str(folder), card.stat().st_mtime_ns)
    with _lock:
        if key in _library_models:
            return _library_models[key]
    try:
        model = LibraryModel.load(folder)
    except ModelError as exc:
        log.warning("library model not usable for explanations: %s", exc)
        return None
    with _lock:
        _library_models.clear()  # keep only the newest version
        _library_models[key] = model
    return model


def _target(lib: Library, s: Suggestion, explainer: Explainer, pack: Any) -> Target:
    target = _class_target(lib, s, pack)
    if target is not None:
        return target
    path = _neighbour_path(s.evidence or {})
    if path is None:
        raise ModelError(
            f"candidate #{s.rank + 1} ({s.source}) carries no class or neighbour evidence to explain"
        )
    if not Path(path).is_file():
        raise NotFoundError(f"the neighbour photo {path} of candidate #{s.rank + 1} is missing")
    emb = explainer.embed(load_photo(path, WORK_LONG_SIDE))
    return Target("neighbour", f"looks like {Path(path).name}", embedding=emb)


def explain(
    lib: Library,
    ref: str | int,
    *,
    candidate: int = 0,
    overlay: Path | None = None,
    ocr: bool = True,
    store: bool = True,
) -> Explanation:
    """Explain candidate ``candidate`` (0 = best) of a photo; store the concepts with the suggestion."""
    import time

    from geotagger.services.selection import find_photo

    t0 = time.perf_counter()
    if candidate < 0:
        raise UserInputError("the candidate number must be 0 or more")
    with lib.catalog.reader() as session:
        photo: Photo = find_photo(session, ref)
        ranked = sorted(photo.suggestions, key=lambda s: s.rank)
        if not ranked:
            raise UserInputError(_why_no_suggestions(photo))
        if candidate >= len(ranked):
            raise UserInputError(
                f"{photo.path} has {len(ranked)} suggestion(s); candidate {candidate + 1} is none"
            )
        s = ranked[candidate]
        session.expunge(s)
        photo_id, photo_path = photo.id, photo.path
    base = Explanation(photo_id, photo_path, candidate, _summary(s), s.source, "", [])
    if s.source == SOURCE_TIME:
        ev = s.evidence or {}
        base.method = "none (time evidence)"
        base.note = str(ev.get("text") or "located from geotagged photos taken close in time")
        if overlay is not None:
            base.overlay_note = _no_overlay_note(ranked, candidate)
        base.seconds = time.perf_counter() - t0
        return base

    if s.source == "text":
        return _explain_text(base, s, photo_path, overlay, t0)
    pack = _pack_for(lib, s.source)
    explainer = explainer_for(pack, ocr=ocr)
    target = _target(lib, s, explainer, pack)
    image = load_photo(photo_path, OCR_MIN_SIDE if ocr else WORK_LONG_SIDE)
    result = explainer.explain(image, target, ocr=ocr)
    exp = _from_result(base, result, target)
    if ocr and explainer.ocr_missing:
        exp.ocr_note = f"OCR did not run: its models are not installed ({INSTALL_HINT})"
    if overlay is not None:
        from geotagger.explain import overlay as ov

        title = f"{Path(photo_path).name}: {target.label}"
        exp.overlay = ov.save(
            ov.render(image, result.attribution, result.masks, result.concepts, title), overlay
        )
    if store:
        _store(lib, s.id, exp, ocr)
    exp.seconds = time.perf_counter() - t0
    return exp


def _explain_text(
    base: Explanation, s: Suggestion, path: str, overlay: Path | None, t0: float
) -> Explanation:
    """A candidate read on the photo: the words and where they are; the overlay outlines them."""
    import time

    ev = s.evidence or {}
    base.method = "text read on the photo"
    base.note = str(ev.get("text") or "")
    base.ocr_text = str(ev.get("words") or "")
    if overlay is not None and ev.get("box") and ev.get("image_size"):
        from geotagger.explain import overlay as ov

        x0, y0, x1, y1 = (int(v) for v in ev["box"])
        w, h = (int(v) for v in ev["image_size"])
        title = f"{Path(path).name}: {ev.get('place', '')}"
        image = load_photo(path, max(1, min(w, h)))
        base.overlay = ov.save(ov.render_text_boxes(image, [(x0, y0, x1, y1)], (w, h), title), overlay)
    base.seconds = time.perf_counter() - t0
    return base


def _why_no_suggestions(photo: Photo) -> str:
    """'Run locate' only helps photos that locate works on: readable ones without GPS."""
    if photo.status != STATUS_OK:
        detail = f" ({photo.error})" if photo.error else ""
        return f"{photo.path} could not be read{detail}; it has no suggestions to explain"
    if photo.has_gps:
        return (
            f"{photo.path} already has GPS (from {photo.gps_source or 'its file'}); "
            "only photos without GPS get suggestions to explain"
        )
    return f"{photo.path} has no suggestions; run 'geotagger locate' first"


def _no_overlay_note(ranked: list[Suggestion], candidate: int) -> str:
    """Why a time candidate has no overlay, and which candidates of the photo would have one."""
    others = [str(s.rank + 1) for s in ranked if s.source != SOURCE_TIME]  # numbered from 1
    hint = (
        f"; candidates resting on the image: --candidate {', '.join(others)}"
        if others
        else "; this photo has no candidate resting on the image"
    )
    return f"no overlay written: candidate #{candidate} rests on capture time, not on the image{hint}"


def _from_result(base: Explanation, r: ExplainResult, target: Target) -> Explanation:
    base.method = "class activation map" if target.kind == "class" else "similarity to neighbour"
    base.note = target.label
    base.concepts = r.concepts
    base.text_scripts = r.text_scripts
    base.ocr_text = r.ocr_text
    base.text_regions = r.text_regions
    base.imagenet = r.imagenet
    base.attribution = r.attribution
    base.masks = r.masks
    return base


def _store(lib: Library, suggestion_id: int, exp: Explanation, ocr: bool) -> None:
    with lib.catalog.writer() as session:
        row = session.get(Suggestion, suggestion_id)
        if row is None:  # re-located meanwhile: nothing to attach to
            return
        evidence = dict(row.evidence or {})
        data = exp.to_dict()
        evidence["concepts"] = data["concepts"]
        evidence["explanation"] = {
            "version": EVIDENCE_VERSION,
            "method": exp.method,
            "target": exp.note,
            "text_scripts": data["text_scripts"],
            "ocr_text": exp.ocr_text,
            "ocr": ocr,
        }
        row.evidence = evidence


def explain_many(
    lib: Library,
    refs: Iterable[str | int],
    *,
    candidate: int = 0,
    ocr: bool = True,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> tuple[list[Explanation], list[tuple[str, str]]]:
    """Batch mode: explain many photos with one set of sessions; (explanations, (ref, error) pairs)."""
    refs = list(refs)
    if progress:
        progress.start(len(refs), "explaining")
    done: list[Explanation] = []
    errors: list[tuple[str, str]] = []
    for ref in refs:
        if cancel:
            cancel.check()
        try:
            done.append(explain(lib, ref, candidate=candidate, ocr=ocr))
        except GeotaggerError as exc:
            errors.append((str(ref), str(exc)))
        if progress:
            progress.advance()
    if progress:
        progress.finish(f"{len(done)} explained, {len(errors)} failed")
    return done, errors


@dataclass
class AnalysisReport:
    photos: int  # evaluation photos with a suggestion
    correct: int  # best candidate within 25 km
    explained: int  # photos whose best candidate has concept influences (time candidates have none)
    rows: list[Any]  # analysis.ConceptRow, most frequent concept first
    table: Path
    plot: Path
    errors: list[tuple[str, str]] = field(default_factory=list)


def _truth_from_csv(lib: Library, truth_csv: Path) -> dict[int, tuple[float, float]]:
    """photo id -> (lat, lon) for the CSV's rows (file paths relative to the CSV or absolute)."""
    from sqlalchemy import select

    if not truth_csv.is_file():
        raise NotFoundError(f"truth file {truth_csv} not found")
    wanted: dict[str, tuple[float, float]] = {}
    with open(truth_csv, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"file", "lat", "lon"} - set(reader.fieldnames or [])
        if missing:
            raise UserInputError(f"{truth_csv.name} lacks the column(s) {', '.join(sorted(missing))}")
        for row in reader:
            if row.get("role") == "known":  # library-dev: these keep their GPS, nothing to predict
                continue
            path = Path(row["file"])
            path = path if path.is_absolute() else truth_csv.parent / path
            try:
                wanted[str(path.resolve())] = (float(row["lat"]), float(row["lon"]))
            except ValueError as exc:
                raise UserInputError(f"{truth_csv.name}: bad coordinate in row for {row['file']}") from exc
    out: dict[int, tuple[float, float]] = {}
    with lib.catalog.reader() as session:
        for pid, path in session.execute(select(Photo.id, Photo.path)):
            hit = wanted.get(str(Path(path).resolve()))
            if hit is not None:
                out[pid] = hit
    return out


def _truth_from_decisions(lib: Library) -> dict[int, tuple[float, float]]:
    """Without a truth file: the positions the user accepted or placed are the truth."""
    from sqlalchemy import select

    from geotagger.catalog.schema import GPS_FROM_ACCEPTED, GPS_FROM_MANUAL

    with lib.catalog.reader() as session:
        rows = session.execute(
            select(Photo.id, Photo.gps_lat, Photo.gps_lon).where(
                Photo.gps_source.in_((GPS_FROM_ACCEPTED, GPS_FROM_MANUAL)), Photo.gps_lat.is_not(None)
            )
        )
        return {pid: (lat, lon) for pid, lat, lon in rows}


def analyse(
    lib: Library,
    truth_csv: Path | None,
    out_dir: Path,
    *,
    ocr: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> AnalysisReport:
    """Mean concept influence for correct vs wrong best candidates (25 km): CSV table + PNG plot.

    Concepts already stored with a suggestion are reused; missing ones are computed (and stored).
    Truth: the CSV (columns file, lat, lon) or, without one, the user's accepted/placed positions.
    """
    from sqlalchemy import select

    from geotagger.explain import analysis
    from geotagger.geo.metrics import haversine_km

    truth = _truth_from_csv(lib, Path(truth_csv)) if truth_csv else _truth_from_decisions(lib)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # before the long run, not after it
        raise UserInputError(f"cannot create the analysis folder {out_dir}: {exc.strerror or exc}") from exc
    with lib.catalog.reader() as session:
        best = {
            s.photo_id: (s.lat, s.lon, s.source, s.evidence or {})
            for s in session.scalars(select(Suggestion).where(Suggestion.rank == 0))
            if s.photo_id in truth
        }
    if not best:
        raise UserInputError("no evaluation photo has a suggestion; run 'geotagger locate' first")
    if progress:
        progress.start(len(best), "analysing concepts")
    records: list[analysis.Record] = []
    errors: list[tuple[str, str]] = []
    correct = 0
    for pid, (lat, lon, source, evidence) in sorted(best.items()):
        if cancel:
            cancel.check()
        ok = float(haversine_km(lat, lon, *truth[pid])) <= analysis.CORRECT_KM
        correct += ok
        concepts = [
            (c["name"], float(c["influence"]), float(c.get("area_share", 0.0)))
            for c in evidence.get("concepts") or []
        ]
        if not concepts and source != SOURCE_TIME and "explanation" not in evidence:
            try:
                concepts = explain(lib, pid, ocr=ocr).concepts
            except GeotaggerError as exc:
                errors.append((str(pid), str(exc)))
        if concepts or source != SOURCE_TIME:
            records.append(analysis.Record(bool(ok), concepts))
        if progress:
            progress.advance()
    rows = analysis.aggregate(records)
    table = analysis.write_table(rows, out_dir / "concept_influence.csv")
    n_ok = sum(r.correct for r in records)
    title = f"Mean concept influence, correct (n={n_ok}) vs wrong (n={len(records) - n_ok}) at 25 km"
    plot = analysis.plot(rows, out_dir / "concept_influence.png", title)
    if progress:
        progress.finish(f"{len(records)} photos analysed")
    return AnalysisReport(len(best), correct, len(records), rows, table, plot, errors)
