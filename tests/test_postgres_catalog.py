"""What only a server catalog has: its URL and error messages, JSON it must encode, the write-run lock,
and every CLI command against ``--library postgresql://...``."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from geotagger.catalog import Catalog
from geotagger.catalog.schema import Setting
from geotagger.catalog.server import json_dumps, json_loads, server_url, shown_url
from geotagger.cli.main import main
from geotagger.errors import CatalogError
from geotagger.services import Library
from geotagger.services.write_lock import WriterBusyError, writer_lock
from tests.exiftool import exiftool_gps
from tests.factories import make_jpeg
from tests.postgres import fresh_schema


@pytest.fixture
def pg_url():
    with fresh_schema(os.environ.get("GEOTAGGER_TEST_POSTGRES")) as url:
        yield url


def test_urls_mean_psycopg_and_never_show_the_password() -> None:
    assert server_url("postgresql://u:secret@db.example/lib").startswith("postgresql+psycopg://u:secret@")
    assert server_url("postgres://u@h/lib").startswith("postgresql+psycopg://")
    assert "secret" not in shown_url("postgresql+psycopg://u:secret@db.example/lib")


def test_each_server_catalog_has_its_own_side_data_folder() -> None:
    from geotagger.catalog.server import side_data_base
    from geotagger.paths import library_data_dir

    urls = [
        "postgresql+psycopg://u:secret@127.0.0.1:5432/a",
        "postgresql+psycopg://u@127.0.0.1:5432/b",
        "postgresql+psycopg://u@127.0.0.1:5432/b?options=-csearch_path%3Dother",
    ]
    folders = [library_data_dir(side_data_base(url)) for url in urls]
    assert len(set(folders)) == 3
    assert folders[0].name.startswith("127.0.0.1-5432-a-") and folders[0].name.endswith(".data")
    assert all("secret" not in str(folder) for folder in folders)


def test_unreachable_server_is_one_line_without_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(CatalogError, match="cannot reach the catalog") as caught:
        Catalog("postgresql://u:secret@127.0.0.1:1/nothing?connect_timeout=2")
    assert "secret" not in str(caught.value)


def test_nonfinite_numbers_round_trip_through_json() -> None:
    value = {"gate_s": float("inf"), "xs": [float("-inf"), 1.5, {"deep": float("inf")}], "s": "Infinity"}
    text = json_dumps(value)
    json.loads(text)  # strict JSON, as PostgreSQL requires
    assert "Infinity" not in text.replace('"Infinity"', "")
    assert json_loads(text) == value


def test_server_json_column_keeps_infinity(pg_url: str) -> None:
    catalog = Catalog(pg_url)
    with catalog.writer() as session:
        session.add(Setting(key="k", value={"gate_s": float("inf")}))
    with catalog.reader() as session:
        assert session.get(Setting, "k").value == {"gate_s": float("inf")}
    catalog.close()


def test_write_run_lock_names_the_holding_session(pg_url: str) -> None:
    lib = Library(pg_url)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with writer_lock(lib.catalog):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        started = time.monotonic()
        busy = pytest.raises(WriterBusyError, match=r"another geotagger is writing .*server session \d+")
        with busy, writer_lock(lib.catalog, wait_s=0.3):
            pass
        assert time.monotonic() - started < 5
    finally:
        release.set()
        holder.join()
    with writer_lock(lib.catalog, wait_s=0.3), writer_lock(lib.catalog, wait_s=0.3):  # re-entrant
        pass
    lib.close()


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")
def test_cli_commands_on_a_server_catalog(pg_url: str, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "photos"
    plain = make_jpeg(folder / "plain.jpg")
    make_jpeg(folder / "sub" / "tagged.jpg", lat=48.8566, lon=2.3522)
    base = ["--library", pg_url, "-q"]
    assert main([*base, "index", str(folder)]) == 0
    capsys.readouterr()
    assert main([*base, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["photos"] == 2 and status["with_gps"] == 1
    assert main([*base, "list", "--filter", "no-gps", "--format", "json"]) == 0
    assert [Path(r["path"]).name for r in json.loads(capsys.readouterr().out)] == ["plain.jpg"]
    assert main([*base, "accept", str(plain), "--lat", "46.5586", "--lon", "7.9067"]) == 0
    assert main([*base, "write"]) == 0
    assert exiftool_gps(plain)["plain.jpg"] == pytest.approx((46.5586, 7.9067), abs=1e-4)
    assert main([*base, "undo", "--writes"]) == 0
    assert exiftool_gps(plain)["plain.jpg"] == (None, None)
    capsys.readouterr()
    assert main(["--library", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", "status"]) == 1
    assert capsys.readouterr().err.startswith("error: cannot reach the catalog")
