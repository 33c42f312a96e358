"""Read-only browsing queries behind the desktop app (no Qt needed), and the catalog the GUI tests share."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from geotagger.catalog import Photo, Suggestion
from geotagger.services import browse
from tests.factories import make_jpeg

pytestmark = pytest.mark.catalog_backends  # SQLite and PostgreSQL (tests/conftest.py)

BASE = datetime(2024, 5, 1, 9, 0, 0)

# (folder, count with GPS, count without) - 13 photos with GPS, 9 without, one unreadable file.
LAYOUT = (("trips/alps", 6, 4), ("trips/alps/day2", 3, 2), ("home", 4, 3))
COLORS = ((200, 90, 60), (60, 140, 200), (90, 170, 90), (210, 190, 60), (150, 90, 170))


def fill_catalog(lib, root: Path) -> dict[str, list[int]]:
    """Real JPEGs on disk plus catalog rows: GPS photos, GPS-less photos with ranked suggestions in
    several review states, and one unreadable file. Returns ids by kind."""
    ids: dict[str, list[int]] = {"gps": [], "nogps": [], "error": []}
    now = datetime(2024, 6, 1)
    with lib.catalog.writer() as session:
        n = 0
        for folder, with_gps, without in LAYOUT:
            for i in range(with_gps + without):
                has = i < with_gps
                lat, lon = 46.55 + 0.01 * n, 7.90 + 0.02 * n
                taken = BASE + timedelta(minutes=13 * n)
                path = make_jpeg(
                    root / folder / f"IMG_{n:04d}.jpg",
                    color=COLORS[n % len(COLORS)],
                    taken=taken,
                    **({"lat": lat, "lon": lon} if has else {}),
                )
                photo = Photo(
                    path=str(path),
                    folder=str(path.parent),
                    filename=path.name,
                    size=path.stat().st_size,
                    mtime_ns=path.stat().st_mtime_ns,
                    fingerprint=f"{n:040x}",
                    format="JPEG",
                    width=320,
                    height=240,
                    taken_at=taken,
                    camera_make="TestCam",
                    camera_model="T1",
                    gps_lat=lat if has else None,
                    gps_lon=lon if has else None,
                    gps_source="exif" if has else None,
                    indexed_at=now,
                    review_state="none",
                )
                session.add(photo)
                session.flush()
                ids["gps" if has else "nogps"].append(photo.id)
                n += 1
        # Suggestions for every GPS-less photo; states: 2 accepted, 1 rejected, the rest suggested.
        for k, pid in enumerate(ids["nogps"]):
            photo = session.get(Photo, pid)
            photo.review_state = "accepted" if k < 2 else "rejected" if k == 2 else "suggested"
            for rank, (dlat, conf, source, level) in enumerate(
                ((0.0, 0.82, "time", "exact"), (0.4, 0.4, "library", "city"), (2.0, 0.1, "library", "region"))
            ):
                session.add(
                    Suggestion(
                        photo_id=pid,
                        rank=rank,
                        source=source,
                        lat=46.6 + dlat,
                        lon=7.95 + dlat,
                        radius_km=0.5 + 10 * rank,
                        level=level,
                        confidence=conf,
                        address={"locality": f"Place{rank}", "admin1": "Bern", "country": "Switzerland"},
                        evidence={"text": f"taken 12 min after IMG_{rank:04d}.jpg (GPS)"}
                        if source == "time"
                        else {"similarity": 0.71, "concepts": [["Mountain", 2.1, 0.2], ["Sky", 0.4, 0.3]]},
                        created_at=now,
                    )
                )
        bad = root / "home" / "broken.jpg"
        bad.write_bytes(b"not a jpeg")
        err = Photo(
            path=str(bad),
            folder=str(bad.parent),
            filename=bad.name,
            size=10,
            mtime_ns=bad.stat().st_mtime_ns,
            fingerprint="f" * 40,
            indexed_at=now,
            status="error",
            error="cannot read: not a JPEG file",
            review_state="none",
        )
        session.add(err)
        session.flush()
        ids["error"].append(err.id)
    return ids


@pytest.fixture
def filled(library, tmp_path: Path):
    ids = fill_catalog(library, tmp_path / "photos")
    return library, tmp_path / "photos", ids


def test_filter_counts(filled) -> None:
    lib, root, ids = filled
    counts = browse.filter_counts(lib)
    assert counts == {
        "all": 22,
        "no-gps": 9,
        "suggested": 6,
        "accepted": 2,
        "rejected": 1,
        "written": 0,
        "error": 1,
    }
    alps = browse.filter_counts(lib, browse.Scope(folder=str(root / "trips" / "alps")))
    assert alps["all"] == 15 and alps["no-gps"] == 6  # subfolders included
    day2 = browse.filter_counts(lib, browse.Scope(folder=str(root / "trips" / "alps" / "day2")))
    assert day2["all"] == 5


def test_folder_tree_collapses_to_the_library(filled) -> None:
    lib, root, _ = filled
    tree = browse.folder_tree(lib)
    assert [n.path for n in tree] == [str(root)]
    top = tree[0]
    assert top.total == 23 and top.count == 0
    names = {c.name: c for c in top.children}
    assert names["home"].count == 8 and names["trips"].total == 15
    assert names["trips"].children[0].children[0].name == "day2"


def test_ids_rows_and_order(filled) -> None:
    lib, root, ids = filled
    all_ids = browse.photo_ids(lib, "all")
    assert len(all_ids) == 22 and ids["error"][0] not in all_ids
    rows = browse.photo_rows(lib, all_ids[:5])
    taken = [rows[i].taken_at for i in all_ids[:5]]
    assert taken == sorted(taken)
    by_name = browse.photo_ids(lib, "all", order="name")
    names = [browse.photo_rows(lib, by_name)[i].filename for i in by_name]
    assert names == sorted(names)
    suggested = browse.photo_rows(lib, browse.photo_ids(lib, "suggested"))
    assert all(r.best_confidence == pytest.approx(0.82) and not r.has_gps for r in suggested.values())
    assert browse.photo_ids(lib, "error") == ids["error"]


def test_details_rank_candidates_with_evidence(filled) -> None:
    lib, _, ids = filled
    details = browse.photo_details(lib, ids["nogps"][3])
    assert [c.confidence for c in details.candidates] == [0.82, 0.4, 0.1]
    best = details.candidates[0]
    assert best.label == "Place0, Bern, Switzerland"
    assert best.evidence_text == "taken 12 min after IMG_0000.jpg (GPS)"
    assert details.candidates[1].concepts[0] == ("Mountain", 2.1, 0.2)
    assert "similarity 0.71" in details.candidates[1].evidence_text
    assert details.camera == "TestCam T1" and details.gps_lat is None


def test_geotagged_points_and_missing_photo(filled) -> None:
    lib, _, ids = filled
    points = browse.geotagged_points(lib)
    assert sorted(p[0] for p in points) == sorted(ids["gps"])
    from geotagger.errors import NotFoundError

    with pytest.raises(NotFoundError):
        browse.photo_details(lib, 99999)


def test_folder_scope_does_not_match_siblings_with_same_prefix(library, tmp_path: Path) -> None:
    root = tmp_path / "p"
    for folder in ("alps", "alps2"):
        make_jpeg(root / folder / "a.jpg")
    with library.catalog.writer() as session:
        for i, folder in enumerate(("alps", "alps2")):
            path = root / folder / "a.jpg"
            session.add(
                Photo(
                    path=str(path),
                    folder=str(path.parent),
                    filename="a.jpg",
                    size=1,
                    mtime_ns=1,
                    fingerprint=f"{i:040x}",
                    indexed_at=datetime(2024, 1, 1),
                    review_state="none",
                )
            )
    scope = browse.Scope(folder=str(root / "alps") + os.sep)
    assert browse.filter_counts(library, scope)["all"] == 1


def test_candidate_outline_is_the_named_region() -> None:
    address = {"country": "Switzerland", "ids": {"country": "CH", "admin1": "CH-BE"}}
    region = browse.candidate_outline(address, "city")
    country = browse.candidate_outline(address, "country")
    assert region["type"] in ("Polygon", "MultiPolygon") and country["type"] in ("Polygon", "MultiPolygon")
    from shapely.geometry import Point, shape

    assert shape(region).contains(Point(7.9, 46.6))  # Lauterbrunnen is in canton Bern
    assert not shape(region).contains(Point(8.54, 47.37))  # Zurich is not
    assert shape(country).contains(Point(8.54, 47.37))
    assert browse.candidate_outline({}, "region") is None
