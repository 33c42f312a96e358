"""`export`: an album (or a filter's photos) to DEST with locations, KML, GPX, GeoJSON and an HTML map."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from geotagger.catalog import Photo
from geotagger.catalog.library import Library
from geotagger.catalog.schema import STATUS_OK
from geotagger.errors import GeotaggerError, NotFoundError, UserInputError
from geotagger.export.exporter import Source, export_one, make_thumbnails
from geotagger.export.formats import write_geojson, write_gpx, write_kml
from geotagger.export.items import ExportItem
from geotagger.export.naming import inside, unique_name
from geotagger.export.privacy import LOCATION_MODES
from geotagger.geo.geocoder import ReverseGeocoder
from geotagger.progress import CancelToken, NullProgress, Progress
from geotagger.services import albums, indexing
from geotagger.services.decisions import latest_accept
from geotagger.services.selection import photo_ids_matching


@dataclass
class ExportReport:
    folder: Path
    items: list[ExportItem] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    notes: list[tuple[str, str]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # "kml" / "gpx" / "geojson" / "html" -> path

    @property
    def located(self) -> int:
        return sum(1 for item in self.items if item.located)

    def summary(self) -> str:
        extra = "".join(f", {kind} {path.name}" for kind, path in self.files.items())
        return (
            f"exported {len(self.items)} photo(s) to {self.folder} ({self.located} with a location"
            f"{extra}); {len(self.skipped)} skipped"
        )


def _sources(lib: Library, ids: list[int], geocoder: ReverseGeocoder) -> list[Source]:
    sources = []
    with lib.catalog.reader() as session:
        for photo_id in ids:
            photo = session.get(Photo, photo_id)
            if photo is None or photo.status != STATUS_OK:
                continue
            if photo.has_gps:  # its address comes from one batch lookup below
                sources.append(Source(photo, photo.gps_lat, photo.gps_lon, {}, in_file=True))
                continue
            decision = latest_accept(session, photo_id)
            if decision is not None and decision.level == "country":  # as write-back: no coordinate
                sources.append(Source(photo, None, None, decision.address, False, decision.radius_km))
            elif decision is not None and decision.lat is not None:
                sources.append(
                    Source(photo, decision.lat, decision.lon, decision.address, False, decision.radius_km)
                )
            else:
                sources.append(Source(photo, None, None, {}, in_file=False))
        session.expunge_all()
    from_file = [s for s in sources if s.in_file]
    if from_file:
        addresses = geocoder.lookup_many([s.lat for s in from_file], [s.lon for s in from_file])
        for source, address in zip(from_file, addresses, strict=True):
            source.address = address.to_dict()
    return sources


def _noting_thumbnail(lib: Library, report: ExportReport) -> Callable[[int], Path]:
    """The catalog's thumbnail of a photo; a photo that cannot be decoded gets a note (its popup then
    shows the title only) and the export goes on."""
    paths = {item.photo_id: item.source_path for item in report.items}

    def thumbnail_for(photo_id: int) -> Path:
        try:
            return indexing.thumbnail(lib, photo_id)
        except GeotaggerError as exc:
            report.notes.append(
                (paths.get(photo_id, str(photo_id)), f"on the map without a thumbnail: {exc}")
            )
            raise

    return thumbnail_for


def _html_map(items: list[ExportItem], folder: Path, name: str) -> Path:
    from geotagger.maps.page import MapPoint, build_map_page, html_text, point_popup

    points = []
    for item in items:
        if not item.located:
            continue
        lines = [line for line in (item.place, item.taken_text) if line]
        popup = point_popup(item.title, lines, image=item.thumbnail_name)
        # A relative URL: '#', '?' and '%' in a file name would otherwise cut or change the link.
        link = f'<br><a href="{html_text(quote(item.dest_name or ""))}">open photo</a>'
        points.append(MapPoint(item.lat, item.lon, item.title, item.photo_id, popup + link))
    return build_map_page(folder / "map.html", points, title=name)


def export(
    lib: Library,
    dest: Path,
    *,
    album: str | None = None,
    filter: str | None = None,
    name: str | None = None,
    kml: bool = False,
    gpx: bool = False,
    geojson: bool = False,
    html_map: bool = False,
    location: str = "keep",
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ExportReport:
    """Export the album (or the photos matching ``filter``; default all) into ``dest/<name>``."""
    if location not in LOCATION_MODES:
        raise UserInputError(f"--location must be one of {', '.join(LOCATION_MODES)}")
    if album and filter:
        raise UserInputError("export either an album or a filter, not both")
    if album:
        ids = albums.album_photo_ids(lib, album)
    else:
        with lib.catalog.reader() as session:
            ids = photo_ids_matching(session, filter or "all")
    if not ids:
        raise NotFoundError(f"nothing to export: {'album ' + repr(album) if album else 'no photos match'}")
    label = name or album or filter or "photos"
    dest = Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise UserInputError(f"{dest} is a file; DEST must be a folder (the export goes to DEST/{label})")
    try:
        dest.mkdir(parents=True, exist_ok=True)
        folder = inside(dest, label)
        if folder.is_dir() and any(folder.iterdir()):
            # Exporting again into it would add "name (2).jpg" copies next to stale map files.
            raise UserInputError(
                f"{folder} already exists and is not empty; remove it, or choose another DEST or --name"
            )
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"cannot create the export folder in {dest}: {exc.strerror}") from exc

    geocoder = ReverseGeocoder.default()
    progress = progress or NullProgress()
    report = ExportReport(folder)
    sources = _sources(lib, ids, geocoder)
    taken: set[str] = set()
    progress.start(len(sources), f"Exporting {label}")
    for source in sources:
        if cancel is not None:
            cancel.check()
        dest_name = unique_name(folder, source.photo.filename, taken)
        outcome = export_one(source, folder, dest_name, location, geocoder)
        if outcome.item is None:
            report.skipped.append((source.photo.path, outcome.skipped or "not exported"))
        else:
            outcome.item.taken_offset_min = source.photo.taken_offset_min  # GPX/KML times in UTC need it
            report.items.append(outcome.item)
            report.notes.extend((source.photo.path, note) for note in outcome.notes)
        progress.advance()
    progress.finish(report.summary())

    if html_map:  # first: the thumbnails' names go into the GeoJSON too
        make_thumbnails(report.items, folder, _noting_thumbnail(lib, report))
    for kind, wanted, write in (
        ("kml", kml, write_kml),
        ("gpx", gpx, write_gpx),
        ("geojson", geojson, write_geojson),
    ):
        if wanted:
            path = folder / f"{folder.name}.{kind}"
            write(report.items, path, label)
            report.files[kind] = path
    if html_map:
        report.files["html"] = _html_map(report.items, folder, label)
    return report
