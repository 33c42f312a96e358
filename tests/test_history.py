"""One undo history for decisions and writes (services/history.py, no Qt): the order they happened, what
Undo says before it undoes, and the reported bug (undo after an accept removed another photo's sidecar)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from geotagger.catalog import Decision, Photo, Suggestion
from geotagger.catalog.library import Library
from geotagger.services import decisions, history, indexing, writing
from tests.factories import make_jpeg, make_photo

pytestmark = pytest.mark.catalog_backends


def _suggest(lib: Library, photo_id: int, lat: float, lon: float) -> None:
    with lib.catalog.writer() as session:
        for rank in range(2):
            session.add(
                Suggestion(
                    photo_id=photo_id,
                    rank=rank,
                    source="time",
                    lat=lat + rank,
                    lon=lon,
                    radius_km=1.0,
                    level="exact",
                    confidence=0.9 - rank * 0.3,
                    address={"country": "Switzerland", "country_code": "CH"},
                    evidence={},
                    created_at=datetime(2024, 1, 1),
                )
            )
        session.get(Photo, photo_id).review_state = "suggested"


@pytest.fixture
def shoot(library: Library, tmp_path: Path) -> dict[str, int]:
    folder = tmp_path / "shoot"
    make_jpeg(folder / "IMG_0001.jpg")
    make_jpeg(folder / "IMG_0002.jpg", color=(200, 60, 60))
    make_photo(folder / "IMG_0003.png")  # PNG: the location goes into a sidecar
    indexing.index(library, [folder], workers=0)
    ids = {Path(r["path"]).name: r["id"] for r in indexing.list_photos(library)}
    for n, pid in enumerate(ids.values()):
        _suggest(library, pid, 46.5 + n * 0.1, 7.9)
    return ids


def _state(lib: Library, photo_id: int) -> str:
    with lib.catalog.reader() as session:
        return session.get(Photo, photo_id).review_state


def test_undo_after_accept_undoes_the_accept_not_an_older_write(library: Library, shoot, tmp_path) -> None:
    png, jpg = shoot["IMG_0003.png"], shoot["IMG_0002.jpg"]
    decisions.accept(library, png)
    writing.write(library)
    sidecar = Path(str(tmp_path / "shoot" / "IMG_0003.png") + ".xmp")
    assert sidecar.is_file() and _state(library, png) == "written"
    decisions.accept(library, jpg, candidate=1)  # "2, Enter"
    entry = history.next_undo(library)
    assert entry is not None and entry.undo_text == "Undo accept of IMG_0002.jpg"
    outcome = history.undo(library)
    assert [e.label for e in outcome.entries] == ["accept of IMG_0002.jpg"]
    assert outcome.message == "Undone accept of IMG_0002.jpg"
    assert _state(library, jpg) == "suggested"  # back to what it was
    assert sidecar.is_file() and _state(library, png) == "written"  # the other photo's write is kept
    with library.catalog.reader() as session:
        decision = session.scalars(select(Decision).where(Decision.photo_id == jpg)).one()
        assert decision.undone_at is not None
    # Next: the write, then the first accept.
    assert history.next_undo(library).undo_text == "Undo write of IMG_0003.png"
    history.undo(library)
    assert not sidecar.exists() and _state(library, png) == "accepted"
    history.undo(library)
    assert _state(library, png) == "suggested"
    assert history.next_undo(library) is None
    assert history.undo(library).message == "Nothing to undo"


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")
def test_one_write_of_several_photos_is_one_entry_and_order_is_kept(
    library: Library, shoot, tmp_path
) -> None:
    folder = tmp_path / "shoot"
    originals = {name: (folder / name).read_bytes() for name in ("IMG_0001.jpg", "IMG_0002.jpg")}
    decisions.accept(library, shoot["IMG_0001.jpg"])
    decisions.reject(library, shoot["IMG_0003.png"])
    decisions.accept(library, shoot["IMG_0002.jpg"])
    writing.write(library)
    listed = [e.label for e in history.entries(library)]
    assert listed == [
        "write of 2 photos",
        "accept of IMG_0002.jpg",
        "reject of IMG_0003.png",
        "accept of IMG_0001.jpg",
    ]
    out = subprocess.run(
        ["exiftool", "-n", "-s3", "-GPSLatitude", str(folder / "IMG_0001.jpg")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert float(out) == pytest.approx(46.5, abs=1e-5)
    outcome = history.undo(library, last=2)  # the write (both photos), then the last accept
    assert [e.label for e in outcome.entries] == ["write of 2 photos", "accept of IMG_0002.jpg"]
    assert sorted(Path(p).name for p in outcome.restored) == ["IMG_0001.jpg", "IMG_0002.jpg"]
    assert {n: (folder / n).read_bytes() for n in originals} == originals
    assert _state(library, shoot["IMG_0001.jpg"]) == "accepted"
    assert _state(library, shoot["IMG_0002.jpg"]) == "suggested"
    # The list keeps the undone entries (marked), newest first.
    rows = history.entries(library)
    assert [(e.label, e.undone) for e in rows[:2]] == [
        ("write of 2 photos", True),
        ("accept of IMG_0002.jpg", True),
    ]
    assert history.next_undo(library).label == "reject of IMG_0003.png"


def test_history_survives_reopening_the_catalog(catalog_location: str, tmp_path: Path) -> None:
    with Library(catalog_location) as lib:
        make_jpeg(tmp_path / "p" / "IMG_0009.jpg")
        indexing.index(lib, [tmp_path / "p"], workers=0)
        pid = indexing.list_photos(lib)[0]["id"]
        decisions.accept(lib, pid, lat=46.6, lon=7.9)
    with Library(catalog_location) as lib:
        assert history.next_undo(lib).undo_text == "Undo placing of IMG_0009.jpg"
        history.undo(lib)
        assert _state(lib, pid) == "none"


def test_cli_history_lists_and_undo_takes_the_newest_entry(
    library: Library, shoot, tmp_path: Path, capsys
) -> None:
    import json

    from geotagger.cli.main import main

    base = ["--library", library.location]
    decisions.accept(library, shoot["IMG_0003.png"])
    assert main([*base, "write"]) == 0
    decisions.accept(library, shoot["IMG_0002.jpg"])
    capsys.readouterr()
    assert main([*base, "history", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["what"] for r in rows] == [
        "accept of IMG_0002.jpg",
        "write of IMG_0003.png",
        "accept of IMG_0003.png",
    ]
    assert rows[1]["files"] == 1 and rows[1]["photos"] == [shoot["IMG_0003.png"]]
    assert main([*base, "undo"]) == 0
    assert capsys.readouterr().out == "undone accept of IMG_0002.jpg\n"
    sidecar = str(tmp_path / "shoot" / "IMG_0003.png") + ".xmp"
    assert Path(sidecar).is_file()
    assert main([*base, "undo"]) == 0
    assert capsys.readouterr().out == f"undone write of IMG_0003.png\nremoved {sidecar}\n"
    assert main([*base, "history", "--all"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["at", "kind", "what", "photos", "files", "undone"]
    assert len(table) == 4 and "True" in table[1]


def test_cli_undo_writes_keeps_the_old_behaviour(library: Library, shoot, capsys) -> None:
    from geotagger.cli.main import main

    base = ["--library", library.location]
    decisions.accept(library, shoot["IMG_0001.jpg"])
    decisions.accept(library, shoot["IMG_0002.jpg"])
    assert main([*base, "write"]) == 0
    decisions.reject(library, shoot["IMG_0003.png"])
    capsys.readouterr()
    assert main([*base, "undo", "--writes"]) == 0  # one written photo, the newer decision stays
    assert "\nrestored " in capsys.readouterr().out  # the JPEG back (and its place-names sidecar removed)
    assert _state(library, shoot["IMG_0003.png"]) == "rejected"
    written = [_state(library, shoot[n]) for n in ("IMG_0001.jpg", "IMG_0002.jpg")]
    assert sorted(written) == ["accepted", "written"]


def test_one_action_on_several_photos_is_one_entry(library: Library, shoot) -> None:
    first, second = shoot["IMG_0001.jpg"], shoot["IMG_0002.jpg"]
    decisions.accept(library, shoot["IMG_0003.png"])
    for pid in (first, second):
        decisions.accept(library, pid, lat=46.6, lon=7.9, batch="drop-1")
    assert history.next_undo(library).undo_text == "Undo placing of 2 photos"
    outcome = history.undo(library)
    assert [e.label for e in outcome.entries] == ["placing of 2 photos"]
    assert {_state(library, first), _state(library, second)} == {"suggested"}
    assert history.next_undo(library).label == "accept of IMG_0003.png"
    assert [e.label for e in history.entries(library)] == ["placing of 2 photos", "accept of IMG_0003.png"]
