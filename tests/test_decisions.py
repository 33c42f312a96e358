"""accept / reject: candidates, manual positions, levels, the real-GPS guard and the journal."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from geotagger.catalog import Decision, Suggestion
from geotagger.errors import NotFoundError, UserInputError
from geotagger.services import Library, decisions, indexing
from tests.factories import make_jpeg, photo_row

pytestmark = pytest.mark.catalog_backends  # SQLite and PostgreSQL (tests/conftest.py)

PARIS_ADDRESS = {"country_code": "FR", "country": "France", "admin1": "Île-de-France", "locality": "Paris"}


@pytest.fixture
def photos(library: Library, tmp_path: Path) -> dict[str, int]:
    folder = tmp_path / "photos"
    make_jpeg(folder / "plain.jpg")
    make_jpeg(folder / "tagged.jpg", lat=40.4168, lon=-3.7038)
    indexing.index(library, [folder], workers=0)
    ids = {Path(r["path"]).name: r["id"] for r in indexing.list_photos(library)}
    with library.catalog.writer() as session:
        for rank, (lat, lon, radius, level, source) in enumerate(
            [(48.8566, 2.3522, 2.0, "city", "time"), (45.764, 4.8357, 40.0, "region", "library")]
        ):
            session.add(
                Suggestion(
                    photo_id=ids["plain.jpg"],
                    rank=rank,
                    source=source,
                    lat=lat,
                    lon=lon,
                    radius_km=radius,
                    level=level,
                    confidence=0.8 - rank * 0.3,
                    address=PARIS_ADDRESS if rank == 0 else {},
                    evidence={},
                    created_at=datetime(2024, 1, 1),
                )
            )
    return ids


def test_accept_best_candidate_journals_previous_state(library: Library, photos: dict[str, int]) -> None:
    decision = decisions.accept(library, photos["plain.jpg"])
    assert (decision.lat, decision.lon, decision.level, decision.radius_km) == (48.8566, 2.3522, "city", 2.0)
    assert decision.source == "time" and decision.address == PARIS_ADDRESS
    assert decision.previous["review_state"] == "none" and decision.previous["gps_lat"] is None
    photo = decisions.resolve_photo(library, photos["plain.jpg"])
    assert photo.review_state == "accepted" and photo.gps_lat is None  # files change only on write


def test_accept_other_candidate_and_coarser_level(library: Library, photos: dict[str, int]) -> None:
    decision = decisions.accept(library, str(photos["plain.jpg"]), candidate=1)
    assert decision.source == "library" and decision.level == "region"
    assert decision.address["country_code"] == "FR"  # geocoded: the candidate had no address
    coarse = decisions.accept(library, photos["plain.jpg"], candidate=0, level="country")
    assert coarse.level == "country" and coarse.radius_km >= decisions.LEVEL_RADIUS_KM["country"] == 750.0
    with pytest.raises(UserInputError, match="candidate 3 is none"):
        decisions.accept(library, photos["plain.jpg"], candidate=2)


def test_manual_position_is_geocoded(library: Library, photos: dict[str, int]) -> None:
    decision = decisions.accept(library, photos["plain.jpg"], lat=46.5586, lon=7.9067)
    assert decision.source == "manual" and decision.level == "exact"
    assert decision.radius_km == decisions.MANUAL_RADIUS_KM["exact"]
    assert decision.address["country_code"] == "CH"


def test_real_gps_needs_force(library: Library, photos: dict[str, int]) -> None:
    with pytest.raises(UserInputError, match="already has GPS from its EXIF"):
        decisions.accept(library, photos["tagged.jpg"], lat=1.0, lon=2.0)
    assert decisions.resolve_photo(library, photos["tagged.jpg"]).review_state != "accepted"
    forced = decisions.accept(library, photos["tagged.jpg"], lat=1.0, lon=2.0, force=True)
    assert forced.previous["gps_source"] == "exif"
    assert forced.previous["gps_lat"] == pytest.approx(40.4168, abs=1e-4)


def test_bad_input_is_refused_before_anything_is_recorded(library: Library, photos: dict[str, int]) -> None:
    for kwargs, message in (
        ({"lat": 1.0}, "both --lat and --lon"),
        ({"lat": 1.0, "lon": 2.0, "candidate": 0}, "not both"),
        ({"lat": 91.0, "lon": 0.0}, "latitude"),
        ({"level": "street"}, "unknown level"),
        ({"candidate": -1}, "0 or more"),
    ):
        with pytest.raises(UserInputError, match=message):
            decisions.accept(library, photos["plain.jpg"], **kwargs)
    with library.catalog.reader() as session:
        assert session.scalars(select(Decision)).all() == []
    with pytest.raises(UserInputError, match="no suggestions"):
        decisions.accept(library, photos["tagged.jpg"], force=True)


def test_reject_and_resolve(library: Library, photos: dict[str, int], monkeypatch, tmp_path: Path) -> None:
    decision = decisions.reject(library, photos["plain.jpg"])
    assert decision.action == "reject" and decision.previous["review_state"] == "none"
    monkeypatch.chdir(tmp_path)
    photo = decisions.resolve_photo(library, "photos/plain.jpg")
    assert photo.id == photos["plain.jpg"] and photo.review_state == "rejected"
    with pytest.raises(NotFoundError):
        decisions.resolve_photo(library, "photos/absent.jpg")
    with pytest.raises(NotFoundError):
        decisions.resolve_photo(library, 9999)


def test_accept_refuses_more_precision_than_the_evidence_and_unreadable_photos(library, tmp_path) -> None:
    from datetime import datetime

    from geotagger.catalog import Suggestion
    from geotagger.errors import UserInputError
    from geotagger.services import decisions

    with library.catalog.writer() as session:
        ok = photo_row(tmp_path / "a.jpg", review_state="suggested")
        broken = photo_row(tmp_path / "b.jpg", status="error", error="not an image")
        session.add_all([ok, broken])
        session.flush()
        session.add(
            Suggestion(
                photo_id=ok.id,
                rank=0,
                source="library",
                lat=47.0,
                lon=8.0,
                radius_km=750.0,
                level="country",
                confidence=0.9,
                address={"country": "Switzerland"},
                evidence={},
                created_at=datetime(2024, 1, 1),
            )
        )
        ok_id, broken_id = ok.id, broken.id
    with pytest.raises(UserInputError, match="only good to country level"):
        decisions.accept(library, ok_id, candidate=0, level="exact")
    assert decisions.accept(library, ok_id, candidate=0).level == "country"
    with pytest.raises(UserInputError, match="only readable photos"):
        decisions.accept(library, broken_id, lat=1.0, lon=2.0)


def test_a_level_means_one_radius_for_manual_and_suggested_positions(library: Library, photos) -> None:
    """accept --level city by hand is +-25 km, as a city suggestion is (issue 10, item 21); only a
    precise hand placement (exact) keeps its tighter radius."""
    from geotagger.locate.calibration import LEVEL_RADIUS_KM  # what fusion gives a suggestion

    for level in ("city", "region", "country"):
        decision = decisions.accept(library, photos["plain.jpg"], lat=46.5586, lon=7.9067, level=level)
        assert decision.radius_km == LEVEL_RADIUS_KM[level] == decisions.LEVEL_RADIUS_KM[level]
    exact = decisions.accept(library, photos["plain.jpg"], lat=46.5586, lon=7.9067)
    assert exact.level == "exact" and exact.radius_km == 0.1 < decisions.LEVEL_RADIUS_KM["exact"]


def test_accept_level_city_through_the_cli(library: Library, photos, capsys) -> None:
    from geotagger.cli.main import main

    args = ["--library", library.location, "accept", str(photos["plain.jpg"]), "--lat", "46.5586"]
    assert main([*args, "--lon", "7.9067", "--level", "city"]) == 0
    assert "(city, ±25 km," in capsys.readouterr().out
