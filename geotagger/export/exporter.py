"""Export a set of photos: copies in DEST/<name>/ carrying their locations, plus map files.

Originals are only read. A copy gets the photo's location at the requested precision: JPEG copies in
EXIF (the same in-place GPS surgery as write-back, verified), other formats in an XMP sidecar next to
the copy. Unless the mode is ``keep`` for a photo whose file already holds its position, every location
carrier is removed first (``geotagger.export.strip``) and the coarse one written after. Then the copy
and its sidecar are re-read by an independent scanner (``geotagger.export.scan``): anything but the
written point (and its names) left in them, or the original coordinate's bytes, and the copy is removed
and reported as skipped with the reason, because leaking a location is worse than a gap.
"""

from __future__ import annotations

import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geotagger.catalog import Photo
from geotagger.errors import GeotaggerError, MetadataError
from geotagger.export.items import ExportItem
from geotagger.export.privacy import COARSE_RADIUS_KM, coarsen
from geotagger.export.scan import Finding, coordinate_needles, scan_bytes, scan_file
from geotagger.export.strip import can_strip, strip_gps, strip_xmp_location
from geotagger.geo.geocoder import ReverseGeocoder
from geotagger.metadata.safe_io import atomic_write
from geotagger.metadata.verify import verify_jpeg_patch
from geotagger.metadata.write_jpeg import GpsFix, add_gps
from geotagger.metadata.xmp import find_sidecar
from geotagger.metadata.xmp_write import XmpLocation, merge_xmp, sidecar_path

JPEG_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})


@dataclass
class Source:
    """A photo to export with the location the catalog knows for it (file GPS or an accepted decision)."""

    photo: Photo
    lat: float | None
    lon: float | None
    address: dict[str, Any]
    in_file: bool  # True when the original already carries exactly this position
    radius_km: float | None = None


@dataclass
class Outcome:
    item: ExportItem | None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)


def _copy_sidecar(original: Path, copy: Path, strip: bool) -> Path | None:
    sidecar = find_sidecar(original)
    if sidecar is None:
        return None
    target = sidecar_path(copy)
    data = sidecar.read_bytes()
    target.write_bytes(strip_xmp_location(data) if strip else data)
    return target


# How far a coordinate read back may lie from the one written (EXIF rationals round to ~0.01").
_SAME_POINT_DEG = 1e-4


def _place_location(copy: Path, fix: GpsFix | None, address: dict[str, Any], notes: list[str]) -> XmpLocation:
    """Write the (possibly coarsened) location into a copy whose own GPS was already removed;
    returns everything that was written (the verification allows exactly that)."""
    names = XmpLocation(
        fix,
        address.get("locality"),
        address.get("admin1"),
        address.get("country"),
        address.get("country_code"),
    )
    if fix is not None and copy.suffix.lower() in JPEG_SUFFIXES:
        old = copy.read_bytes()
        try:
            new = add_gps(old, fix)
            verify_jpeg_patch(old, new, fix, copy.name)
            atomic_write(copy, new, keep_mtime=True)
            names = XmpLocation(None, names.city, names.state, names.country, names.country_code)
        except MetadataError as exc:  # refused (e.g. EXIF would exceed 64 KB): the sidecar carries it
            notes.append(f"location in an XMP sidecar ({exc})")
    if any((names.fix, names.city, names.state, names.country, names.country_code)):
        target = sidecar_path(copy)
        existing = target.read_bytes() if target.exists() else None
        target.write_bytes(merge_xmp(existing, names, label=str(target)))
    return XmpLocation(fix, names.city, names.state, names.country, names.country_code)


def _allowed(finding: Finding, written: XmpLocation | None) -> bool:
    """A finding is what the export wrote: the written point, or one of the written XMP values."""
    if written is None:
        return False
    fix = written.fix
    if fix is not None and (finding.lat is not None or finding.lon is not None):
        return all(
            got is None or abs(got - want) <= _SAME_POINT_DEG
            for got, want in ((finding.lat, fix.lat), (finding.lon, fix.lon))
        )
    if finding.carrier.endswith("EXIF GPS directory"):
        return False  # a GPS directory without a readable coordinate was not written by us
    return finding.value in {v.strip() for v in written.properties().values()}


def verify_copy(copy: Path, written: XmpLocation | None, needles: tuple[bytes, ...]) -> list[Finding]:
    """What the copy and its sidecar carry beyond what the export wrote (empty: the copy is safe)."""
    findings = scan_file(copy, needles)
    sidecar = sidecar_path(copy)
    if sidecar.exists():
        findings += scan_file(sidecar, needles)
    return [f for f in findings if not _allowed(f, written)]


def export_one(
    source: Source, folder: Path, dest_name: str, mode: str, geocoder: ReverseGeocoder | None
) -> Outcome:
    """Copy one photo into ``folder`` with its location at ``mode`` precision."""
    photo, original = source.photo, Path(source.photo.path)
    copy = folder / dest_name
    needs_rewrite = mode != "keep" or not source.in_file
    has_location = source.lat is not None and source.lon is not None
    notes: list[str] = []
    try:
        data = original.read_bytes()
        if needs_rewrite and not can_strip(copy) and scan_bytes(data):
            return Outcome(None, f"cannot remove the location held in a {original.suffix or 'such'} file")
        needles = coordinate_needles(data, source.lat, source.lon) if mode != "keep" else ()
        shutil.copy2(original, copy)
        copy.chmod(copy.stat().st_mode | stat.S_IWUSR)  # a read-only original must not give a read-only copy
        _copy_sidecar(original, copy, strip=needs_rewrite)
        if needs_rewrite and can_strip(copy):
            strip_gps(copy)
        lat = lon = None
        address: dict[str, Any] = {}
        written: XmpLocation | None = None
        if has_location and mode != "strip":
            coarse = coarsen(source.lat, source.lon, source.address, mode, geocoder)
            assert coarse is not None
            lat, lon, address = coarse
            if needs_rewrite:
                radius_km = COARSE_RADIUS_KM.get(mode, source.radius_km)
                fix = GpsFix(lat, lon, None, radius_km * 1000 if radius_km else None)
                written = _place_location(copy, fix, address, notes)
        elif source.address and mode != "strip" and needs_rewrite:  # accepted at country level: names only
            address = {k: source.address.get(k) for k in ("country", "country_code")}
            written = _place_location(copy, None, address, notes)
        if needs_rewrite:
            left = verify_copy(copy, written, needles)
            if left:
                raise MetadataError(f"a location is left in the copy ({left[0]}); not exported")
    except (OSError, GeotaggerError) as exc:
        copy.unlink(missing_ok=True)
        sidecar_path(copy).unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Outcome(None, f"could not export: {reason}")
    item = ExportItem(
        photo_id=photo.id,
        source_path=photo.path,
        title=photo.filename,
        lat=lat,
        lon=lon,
        taken_at=photo.taken_at,
        address=address,
        dest_name=dest_name,
    )
    return Outcome(item, notes=notes)


def make_thumbnails(items: Sequence[ExportItem], folder: Path, thumbnail_for) -> None:  # noqa: ANN001
    """Small JPEGs for the HTML map's popups (``thumbnail_for(photo_id) -> Path`` from the catalog cache)."""
    thumbs = folder / "thumbnails"
    thumbs.mkdir(exist_ok=True)
    for item in items:
        if not item.located:
            continue
        try:
            cached = thumbnail_for(item.photo_id)
        except GeotaggerError:
            continue  # the popup then shows the title only
        name = f"{item.photo_id}.jpg"
        shutil.copyfile(cached, thumbs / name)
        item.thumbnail_name = f"thumbnails/{name}"
