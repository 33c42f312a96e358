"""Place search: offline, prefix and accent-insensitive, ranked by population; the CLI prints it."""

from __future__ import annotations

import json
import time

import pytest

from geotagger.cli.main import main
from geotagger.errors import UserInputError
from geotagger.geo.place_search import PlaceSearch, normalize, place_zoom


@pytest.fixture(scope="module")
def index() -> PlaceSearch:
    return PlaceSearch.default()


def test_normalize_folds_case_accents_and_punctuation() -> None:
    assert normalize("Zürich-Höngg") == "zurich hongg"
    assert normalize("  SÃO   Paulo ") == "sao paulo"
    assert normalize("Straße") == "strasse"
    assert normalize("Île-de-France") == "ile de france"
    assert normalize("Αθήνα") == "αθηνα"  # other scripts keep their letters, lose only the accents
    assert normalize("---") == ""


def test_prefix_finds_a_village_and_accents_do_not_matter(index) -> None:
    hits = index.search("lauterbr")
    assert [h.name for h in hits] == ["Lauterbrunnen"]
    hit = hits[0]
    assert hit.country == "Switzerland" and hit.kind == "place"
    assert abs(hit.lat - 46.593) < 0.01 and abs(hit.lon - 7.909) < 0.01
    assert hit.label == "Lauterbrunnen, Berne, Switzerland" and hit.zoom == 13
    assert index.search("ZURICH")[0].name == "Zürich"
    assert index.search("zürich")[0].name == "Zürich"
    assert index.search("koln")[0].name == "Köln"


def test_ranked_exact_names_first_then_by_population(index) -> None:
    bern = index.search("Bern", 5)
    assert bern[0].name == "Bern" and bern[0].kind == "place"  # exact before the longer Bernau...
    assert all(h.population >= b.population for h, b in zip(bern[2:], bern[3:], strict=False))
    paris = index.search("paris", 3)
    assert (paris[0].name, paris[0].country) == ("Paris", "France")  # not Paris, Texas
    # A later word matches too, after whole-name prefixes.
    assert index.search("york city", 3)[0].name == "New York City"


def test_regions_and_countries_are_found_with_their_zoom(index) -> None:
    swiss = index.search("switzerland")[0]
    assert (swiss.kind, swiss.zoom) == ("country", 5)
    assert 45.8 < swiss.lat < 47.8 and 5.9 < swiss.lon < 10.5
    idf = index.search("ile-de-fr")[0]
    assert (idf.name, idf.kind, idf.zoom) == ("Île-de-France", "region", 7)
    assert 48 < idf.lat < 49.3 and 1.5 < idf.lon < 3.5
    regions = index.search("zurich", 3, kinds=("region",))
    assert [h.kind for h in regions] == ["region"] and regions[0].name == "Zürich"
    assert place_zoom("place", 2_000_000) == 10 and place_zoom("place", 500) == 13


def test_nothing_found_limits_and_speed(index) -> None:
    assert index.search("qqqxxzz") == []
    assert index.search("   ") == []
    assert len(index.search("a", 7)) == 7
    with pytest.raises(UserInputError):
        index.search("a", 0)
    start = time.perf_counter()
    for query in ("a", "s", "san", "new", "lauterbrunnen", "zu", "m"):
        index.search(query, 10)
    assert (time.perf_counter() - start) / 7 < 0.05  # 50 ms per query (typically well under 1 ms)


def test_cli_places_search(capsys) -> None:
    assert main(["places", "search", "lauterbr", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "Lauterbrunnen" and rows[0]["country"] == "Switzerland"
    assert rows[0]["zoom"] == 13 and abs(rows[0]["lat"] - 46.593) < 0.01
    assert main(["places", "search", "new", "york", "--limit", "2"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["name", "kind", "region", "country"] and len(table) == 3
    assert "New York" in table[1]
    assert main(["places", "search", "qqqxxzz"]) == 1
    assert "no place named like" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["places", "search", "x", "--limit", "0"])
    assert stop.value.code == 2
