"""`geotagger clocks` list / set / clear, its errors, and the migration that adds the clocks table."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect, select, text

from geotagger.catalog import Catalog, Photo
from geotagger.cli.main import main
from geotagger.services import Library
from geotagger.services.clocks import applied_clocks, estimate_clocks, list_clocks
from tests.factories import make_jpeg


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """A trip folder with a phone (GPS), a camera (no GPS) and a photo without Make/Model; another
    folder with a second camera of the same make."""
    start = datetime(2023, 6, 1, 10, 0, 0)
    trip = tmp_path / "photos" / "trip"
    for k in range(3):
        make_jpeg(
            trip / f"phone{k}.jpg",
            taken=start + timedelta(hours=k),
            make="Google",
            model="Pixel 7",
            lat=45.0 + k / 100,
            lon=7.0,
        )
        make_jpeg(
            trip / f"cam{k}.jpg", taken=start + timedelta(hours=k, minutes=61), make="FUJIFILM", model="X100V"
        )
    make_jpeg(trip / "scan.jpg", taken=start, make=None, model=None)
    make_jpeg(tmp_path / "photos" / "home" / "x.jpg", taken=start, make="FUJIFILM", model="X-T4")
    lib = ["--library", str(tmp_path / "cat.sqlite")]
    assert run(capsys, *lib, "index", str(tmp_path / "photos"))[0] == 0
    return lib


def test_list_set_clear(catalog: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *catalog, "clocks")
    assert code == 0 and out.split() == [
        "device",
        "folder",
        "period",
        "offset",
        "support",
        "confidence",
        "status",
        "source",
    ]

    trip = str((tmp_path / "photos" / "trip").resolve())
    code, _, err = run(capsys, *catalog, "clocks", "set", "fujifilm x100v", "-1h", "--folder", trip)
    assert code == 0, err
    assert "FUJIFILM X100V" in err and "-1 h 00 min" in err
    code, _, err = run(capsys, *catalog, "clocks", "set", "X-T4", "+9h02m50s")
    assert code == 0, err

    code, out, _ = run(capsys, *catalog, "clocks", "list", "--format", "csv")
    rows = {r["device"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["FUJIFILM X100V"]["offset_s"] == "-3600" and rows["FUJIFILM X100V"]["folder"] == trip
    assert rows["FUJIFILM X-T4"]["offset_s"] == "32570" and rows["FUJIFILM X-T4"]["folder"] == "(all folders)"
    assert {r["source"] for r in rows.values()} == {"manual"}

    code, out, _ = run(capsys, *catalog, "clocks", "--format", "table")
    assert "+9 h 02 min 50 s" in out and "-1 h 00 min" in out

    code, _, err = run(capsys, *catalog, "clocks", "clear", "FUJIFILM X100V")
    assert code == 0 and "removed 1" in err
    code, out, _ = run(capsys, *catalog, "clocks", "--format", "json")
    assert [r["device"] for r in json.loads(out)] == ["FUJIFILM X-T4"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "Nikon", "+1h"), "no device matches 'Nikon'"),
        (("set", "fujifilm", "+1h"), "matches several devices"),
        (("set", "X100V", "+1x"), "not a clock offset"),
        (("set", "X100V", "+1h", "--folder", "/nowhere/at/all"), "no indexed photos in folder"),
        (("clear", "X100V"), "has no clock set by hand"),
    ],
)
def test_errors_are_one_line(catalog: list[str], capsys: pytest.CaptureFixture[str], args, message) -> None:
    code, out, err = run(capsys, *catalog, "clocks", *args)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err


def test_unknown_camera_is_a_device(catalog: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *catalog, "clocks", "set", "unknown camera", "+120")
    assert code == 0, err
    code, out, _ = run(capsys, *catalog, "clocks", "--format", "csv")
    assert "unknown camera" in out


def test_manual_wins_and_survives_estimation(catalog: list[str], tmp_path: Path, capsys) -> None:
    lib = Library(tmp_path / "cat.sqlite")
    try:
        with lib.catalog.reader() as session:
            ids = [pid for (pid,) in session.execute(text("SELECT id FROM photos")).all()]
        rng = np.random.default_rng(0)
        vectors = {pid: rng.normal(size=16) for pid in ids}  # unrelated looks: nothing to pin down
        estimates = estimate_clocks(lib, vectors)
        trip = str((tmp_path / "photos" / "trip").resolve())
        assert [p.estimate.status for p in estimates[("fujifilm|x100v|", trip)]] == ["unknown"]
        assert [p.estimate.status for p in estimates[("", trip)]] == [
            "unknown"
        ]  # photos without Make/Model: the unknown device
        assert ("google|pixel 7|", trip) not in estimates  # the reference (GPS) is not estimated
        assert run(capsys, *catalog, "clocks", "set", "X100V", "+600")[0] == 0
        estimate_clocks(lib, vectors)
        rows = [r for r in list_clocks(lib) if r["device"] == "FUJIFILM X100V"]
        assert {r["source"] for r in rows} == {"manual", "estimated"}
        [applied] = applied_clocks(lib)[("fujifilm|x100v|", trip)]
        assert applied.applied and applied.offset_s == 600 and applied.status == "manual"
    finally:
        lib.close()


def test_migration_adds_the_clocks_table_to_an_older_catalog(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    catalog = Catalog(path)
    with catalog.engine.begin() as connection:  # make it a catalog from before the clocks
        connection.execute(text("DROP TABLE clocks"))
        # and every migration after it: a catalog from before the clocks has none of them
        connection.execute(text("DELETE FROM schema_migrations WHERE name >= 'm0006_clocks'"))
    catalog.close()
    catalog = Catalog(path)
    try:
        columns = {c["name"] for c in inspect(catalog.engine).get_columns("clocks")}
        assert {
            "device",
            "folder",
            "period_start",
            "period_end",
            "offset_s",
            "support",
            "confidence",
            "status",
            "source",
            "updated_at",
        } <= columns
        with catalog.engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM schema_migrations")).scalars().all()
        assert "m0006_clocks" in names
    finally:
        catalog.close()


def test_periods_are_stored_listed_and_applied_by_time(catalog: list[str], tmp_path: Path, capsys) -> None:
    from geotagger.catalog.schema import Clock
    from geotagger.services.clocks import clock_at

    trip = str((tmp_path / "photos" / "trip").resolve())
    change = datetime(2023, 6, 1, 11, 30)
    lib = Library(tmp_path / "cat.sqlite")
    try:
        with lib.catalog.writer() as session:
            for start, end, offset in ((None, change, 3600.0), (change, None, 0.0)):
                session.add(
                    Clock(
                        device="fujifilm|x100v|",
                        folder=trip,
                        period_start=start,
                        period_end=end,
                        offset_s=offset,
                        support=6,
                        confidence=0.8,
                        status="confident",
                        source="estimated",
                        updated_at=change,
                    )
                )
        periods = applied_clocks(lib)[("fujifilm|x100v|", trip)]
        before = datetime(2023, 6, 1, 11, 0, tzinfo=UTC).timestamp()
        after = datetime(2023, 6, 1, 12, 0, tzinfo=UTC).timestamp()
        assert clock_at(periods, before).offset_s == 3600.0
        assert clock_at(periods, after).offset_s == 0.0
        rows = [r for r in list_clocks(lib) if r["device"] == "FUJIFILM X100V"]
        assert [r["period"] for r in rows] == ["until 2023-06-01 11:30", "from 2023-06-01 11:30"]
    finally:
        lib.close()


def test_clock_stage_corrects_targets_and_geotagged_photos(
    catalog: list[str], tmp_path: Path, capsys
) -> None:
    from geotagger.services.locate_stages import clocks as stage
    from geotagger.services.locate_stages.run import LocateRun
    from geotagger.services.locate_stages.targets import photo_point

    trip = (tmp_path / "photos" / "trip").resolve()
    assert run(capsys, *catalog, "clocks", "set", "X100V", "+1h", "--folder", str(trip))[0] == 0
    lib = Library(tmp_path / "cat.sqlite")
    try:
        with lib.catalog.reader() as session:
            photos = {p.filename: p for p in session.scalars(select(Photo)).all()}
        cam, accepted, phone, scan = (photos[n] for n in ("cam0.jpg", "cam1.jpg", "phone0.jpg", "scan.jpg"))
        job = LocateRun(lib)
        job.points = {p.id: photo_point(p) for p in (cam, scan)}
        job.known = [photo_point(phone, phone.gps_lat, phone.gps_lon), photo_point(accepted, 45.0, 7.0)]
        before = {p.id: p.local_s for p in [*job.points.values(), *job.known]}
        stage.correct(job)  # no embeddings at hand: the stored clocks apply
        assert job.points[cam.id].local_s == before[cam.id] - 3600
        assert job.points[scan.id].local_s == before[scan.id]  # the folder's unknown device: not estimated
        known = {p.id: p for p in job.known}
        assert known[accepted.id].local_s == before[accepted.id] - 3600  # an accepted camera photo moves too
        assert known[phone.id].local_s == before[phone.id]  # the phone is the reference
        digest = stage.known_clocks_digest(job.known)
        assert digest and digest != stage.known_clocks_digest([photo_point(phone, 45.0, 7.0)])
    finally:
        lib.close()


def test_a_scoped_estimate_keeps_the_other_folders_clocks(catalog: list[str], tmp_path: Path) -> None:
    """`locate PATH` embeds only what lies under PATH: the units outside keep their stored clocks."""
    lib = Library(tmp_path / "cat.sqlite")
    try:
        with lib.catalog.reader() as session:
            ids = [pid for (pid,) in session.execute(text("SELECT id FROM photos")).all()]
        rng = np.random.default_rng(0)
        estimate_clocks(lib, {pid: rng.normal(size=16) for pid in ids})
        before = {(r["device"], r["folder"]) for r in list_clocks(lib) if r["source"] == "estimated"}
        trip = str((tmp_path / "photos" / "trip").resolve())
        assert ("FUJIFILM X100V", trip) in {(d, f) for d, f in before}
        estimates = estimate_clocks(lib, {}, scope={("", trip)})
        assert set(estimates) == {("", trip)}
        after = {(r["device"], r["folder"]) for r in list_clocks(lib) if r["source"] == "estimated"}
        assert after == before
    finally:
        lib.close()


def test_hostile_device_names_cannot_drive_the_terminal(tmp_path: Path, capsys) -> None:
    """Make/Model come from files: generated names with escape sequences, bidi overrides and markup are
    listed and set by name with every control character shown escaped, on stdout and on stderr."""
    import random
    import re

    rng = random.Random(11)
    nasty = ["\x1b[2J", "\x1b]0;owned\x07", "\r", "\u202e", "{{7*7}}", "<b>", "\x00", "\x9b31m", "é"]
    control = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    for trial in range(4):
        make = "Cam" + "".join(rng.choice(nasty) for _ in range(4))
        folder = tmp_path / f"t{trial}"
        make_jpeg(folder / "a.jpg", taken=datetime(2023, 6, 1, 10), make=make, model="Z")
        lib = ["--library", str(folder / "cat.sqlite")]
        assert run(capsys, *lib, "index", str(folder))[0] == 0
        code, out, err = run(capsys, *lib, "clocks", "set", "Cam", "+60")
        assert code == 0, err
        code, out2, err2 = run(capsys, *lib, "clocks")
        assert code == 0 and "Cam" in out2
        for text_out in (out, err, out2, err2):
            assert not control.search(text_out), repr(text_out)
