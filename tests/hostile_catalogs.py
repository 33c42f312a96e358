"""Hostile catalogs for the broken-catalog tests: a real library, then damaged copies of it (seeded
byte flips in the schema text, truncation, dropped tables and columns, empty files, a folder, a
photo). Also run by hand against older code to count failures (see test_hostile_catalog.py)."""

from __future__ import annotations

import contextlib
import io
import random
import shutil
import sqlite3
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tests.factories import make_jpeg

# Every command that opens an existing catalog ({photo}, {folder}, {dest} are filled in).
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("status",),
    ("list",),
    ("list", "--filter", "error"),
    ("locate",),
    ("suggestions",),
    ("accept", "{photo}", "--lat", "46.5", "--lon", "7.9"),
    ("reject", "{photo}"),
    ("write",),
    ("undo",),
    ("export", "{dest}"),
    ("album", "list"),
    ("album", "add", "A", "{photo}"),
    ("tracks", "list"),
    ("index", "{folder}"),  # may create a library, but never over a damaged one
)


@dataclass
class Base:
    catalog: Path
    folder: Path
    photo: Path


def build_base(root: Path) -> Base:
    """A small real library: one geotagged and one untagged photo (accepted), an album."""
    from geotagger.services import Library, albums, decisions, indexing

    folder = root / "pics"
    make_jpeg(folder / "with.jpg", lat=46.59, lon=7.91, taken=datetime(2021, 6, 1, 10, 0, 0))
    photo = make_jpeg(folder / "without.jpg", color=(10, 20, 30), taken=datetime(2021, 6, 1, 10, 5, 0))
    catalog = root / "base" / "library.sqlite"
    with Library(catalog) as lib:
        indexing.index(lib, [folder], workers=0)
        decisions.accept(lib, str(photo), lat=46.6, lon=7.9)
        albums.create_album(lib, "A")
    return Base(catalog, folder, photo)


def _schema_spans(catalog: Path) -> list[tuple[int, int, str]]:
    """(offset, length, sql) of every schema statement's text in the file."""
    data = catalog.read_bytes()
    with contextlib.closing(sqlite3.connect(catalog)) as con:
        sqls = [sql for (sql,) in con.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")]
    spans = []
    for sql in sqls:
        at = data.find(sql.encode())
        if at >= 0:
            spans.append((at, len(sql.encode()), sql))
    return spans


def _pages_of(catalog: Path, table: str) -> list[int]:
    """Page numbers of a table and its indexes (empty where SQLite lacks the dbstat table)."""
    with contextlib.closing(sqlite3.connect(catalog)) as con:
        try:
            names = [table] + [
                n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE tbl_name = ?", (table,))
            ]
            marks = ",".join("?" * len(names))
            return [p for (p,) in con.execute(f"SELECT pageno FROM dbstat WHERE name IN ({marks})", names)]
        except sqlite3.OperationalError:
            return []


def _copy(base: Path, out: Path, label: str) -> Path:
    target = out / label / "library.sqlite"
    target.parent.mkdir(parents=True)
    shutil.copyfile(base, target)
    return target


def _flip(base: Path, out: Path, label: str, rng: random.Random, letters: bool) -> Path:
    """One byte of the schema text changed: its high bit set (invalid UTF-8), or one letter of an
    identifier (a table, column or type name) replaced by another letter."""
    spans = _schema_spans(base)
    target = _copy(base, out, label)
    data = bytearray(target.read_bytes())
    while True:
        at, length, sql = rng.choice(spans)
        i = rng.randrange(length)
        if not letters:
            data[at + i] ^= 0x80
            break
        # a letter inside a word that is not an SQL keyword: names are what the code relies on
        ch = sql[i]
        if ch.isalpha() and ch.islower():
            data[at + i] = ord(rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != ch]))
            break
    target.write_bytes(bytes(data))
    return target


def _sql(base: Path, out: Path, label: str, statement: str) -> Path:
    target = _copy(base, out, label)
    with contextlib.closing(sqlite3.connect(target)) as con:
        con.execute(statement)
        con.commit()
    return target


def hostile_catalogs(base: Path, out: Path, flips: int, seed: int = 10) -> Iterator[tuple[str, Path]]:
    """(label, catalog path) of damaged copies of ``base``; ``flips`` seeded byte flips of each kind."""
    rng = random.Random(seed)
    for n in range(flips):
        yield f"flip-highbit-{n}", _flip(base, out, f"flip-highbit-{n}", rng, letters=False)
        yield f"flip-letter-{n}", _flip(base, out, f"flip-letter-{n}", rng, letters=True)
    size = base.stat().st_size
    for keep in (50, 99, 100, 4096, size // 2, size - 4096):
        target = _copy(base, out, f"truncated-{keep}")
        with target.open("r+b") as handle:
            handle.truncate(keep)
        yield f"truncated-{keep}", target
    for table in ("writes", "photos", "decisions", "albums", "schema_migrations"):
        yield f"dropped-{table}", _sql(base, out, f"dropped-{table}", f"DROP TABLE {table}")
    yield "dropped-column", _sql(base, out, "dropped-column", "ALTER TABLE photos DROP COLUMN gps_alt")
    yield (
        "renamed-column",
        _sql(base, out, "renamed-column", "ALTER TABLE writes RENAME COLUMN kind TO kinds"),
    )
    empty = out / "zero-byte" / "library.sqlite"
    empty.parent.mkdir(parents=True)
    empty.write_bytes(b"")
    yield "zero-byte", empty
    # --library names the library's folder; its catalog file is a folder itself
    (out / "folder" / "library.sqlite").mkdir(parents=True)
    yield "folder", out / "folder"
    photo = out / "photo" / "library.sqlite"
    photo.parent.mkdir(parents=True)
    make_jpeg(photo.with_name("p.jpg")).rename(photo)
    yield "photo", photo
    garbage = _copy(base, out, "garbage-pages")
    data = bytearray(garbage.read_bytes())
    for i in range(4096, len(data)):  # every page after the first (the schema root) is noise
        data[i] = rng.randrange(256)
    garbage.write_bytes(bytes(data))
    yield "garbage-pages", garbage
    # Damage only the photos table's pages: the catalog opens fine, the queries hit the noise.
    pages = _pages_of(base, "photos")
    if pages:
        rows = _copy(base, out, "garbage-rows")
        data = bytearray(rows.read_bytes())
        for page in pages:
            data[(page - 1) * 4096 : page * 4096] = bytes(rng.randrange(256) for _ in range(4096))
        rows.write_bytes(bytes(data))
        yield "garbage-rows", rows


def run_cli(argv: list[str]) -> tuple[int, str]:
    """``geotagger ARGV`` in this process: (exit code, stderr); an uncaught exception comes back as
    exit code -1 with its traceback, as a user would see it."""
    from geotagger.cli.main import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except Exception:  # noqa: BLE001 - the traceback is the finding
            traceback.print_exc(file=err)
            code = -1
    return code, err.getvalue()


def verdict(code: int, err: str) -> str | None:
    """None when the run failed the way the README promises: exit 1, exactly one ``error:`` line."""
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 1 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err:
        return None
    return f"exit {code}: " + (" | ".join(lines[-2:]) if lines else "(no message)")
