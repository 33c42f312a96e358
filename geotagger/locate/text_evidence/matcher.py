"""From OCR lines to places: the words that name a place, each namesake with how specific the match is.

A line is cut into words; runs of up to ``MAX_WORDS`` words are looked up joined without spaces (OCR
drops spaces: "NEWYORK"), long words also by their inner pieces, CJK runs by every substring of 2-8
characters. A lookup is exact, then with the letters OCR confuses merged, then (long names of sizeable
places only) within one edit. A piece covered by a longer match is not matched again ("NEW YORK" is
not also York). Common words never name a town ("SALE", "TOP", "BANK"); for a region or country they
only lower the specificity. Scripts are coarse priors: Kana means Japan, Hangul Korea, Han alone a
small set of countries.

Nothing here knows the library: how near a namesake is to the library's other photos is a feature of
the fusion pool (pool.py), so a photo located from the others during training never sees itself.
Places under MIN_CITY_POPULATION are not matched: a word naming only villages is mostly a coincidence.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from geotagger.explain.text import TextRegion, text_scripts
from geotagger.locate.text_evidence.names import (
    KIND_CITY,
    KIND_COUNTRY,
    KIND_NAMES,
    NameIndex,
    canon,
    deletes,
    fold,
)
from geotagger.locate.text_evidence.words import COMMON_WORDS

MAX_WORDS = 4
MAX_LINE_CHARS = 160  # a longer "line" is not a sign; its tail is ignored (bounded time)
MAX_REGIONS = 60
MIN_LATIN_KEY = 4
MIN_CJK_KEY = 2
MAX_NAMESAKES = 5
# A word that matches only villages is far more often a coincidence (a surname, a brand, OCR noise) than
# a sign naming that village: places under this population are not matched (chosen a priori, round).
MIN_CITY_POPULATION = 10_000  # most likely namesakes of one name kept (the library prior picks among them)
QUALITY = {"exact": 1.0, "confused": 0.9, "one edit": 0.75}

# Script -> (country, share of the script's prior); "Han" alone is a small set.
SCRIPT_PRIORS: dict[str, tuple[tuple[str, float], ...]] = {
    "Kana": (("JP", 1.0),),
    "Hangul": (("KR", 1.0),),
    "CJK (Han)": (("CN", 0.6), ("TW", 0.2), ("HK", 0.1), ("JP", 0.1)),
    "Greek": (("GR", 0.85), ("CY", 0.15)),
    "Hebrew": (("IL", 1.0),),
    "Thai": (("TH", 1.0),),
    "Georgian": (("GE", 1.0),),
    "Armenian": (("AM", 1.0),),
}
_CJK_SCRIPTS = {"CJK (Han)", "Kana", "Hangul"}


@dataclass(frozen=True)
class TextMatch:
    """One namesake of a name read on the photo (or a script's country prior)."""

    entry: int  # row in the NameIndex (-1: none)
    label: str  # "Kyoto, Kyoto, JP"
    kind: str  # city / admin1 / country / script
    lat: float
    lon: float
    words: str  # the words as read
    ocr_score: float
    box: tuple[int, int, int, int]
    quality: float  # 1 exact, 0.9 confused letters, 0.75 one edit
    share: float  # this namesake's share of the name's prior (population, kind)
    namesakes: int  # places with this name
    specificity: float  # 0..1: name length, common word, script
    population: int
    common: bool = False

    def line(self) -> str:
        """The evidence line shown to the user."""
        if self.kind == "script":
            return f"text in {self.words} script (OCR {self.ocr_score:.2f}) points to {self.label}"
        also = f"; {self.namesakes - 1} other places share the name" if self.namesakes > 1 else ""
        return f"sign reads '{self.words}' (OCR {self.ocr_score:.2f}): {self.label}{also}"


def _weight(index: NameIndex, i: int) -> float:
    """Prior weight of a namesake: sqrt(population), regions and countries counted by theirs."""
    return math.sqrt(float(index.population[i]) + 100.0)


def _specificity(key: str, cjk: bool, common: bool, kind: int) -> float:
    length = len(key) * (2.5 if cjk else 1.0)
    spec = min(1.0, max(0.0, (length - 3.0) / 7.0))
    if common:
        spec *= 0.3
    if kind == KIND_COUNTRY:
        spec *= 0.8  # a country name on a sign is often an import label or an airline
    return spec


def _clean(text: str) -> str:
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text[:MAX_LINE_CHARS])
    return unicodedata.normalize("NFKC", text)


_TOKEN = re.compile(r"\w+", re.UNICODE)


Span = tuple[int, int, int]  # (-1, first word, end word) or (word, first char, end char) inside a word


def _covers(outer: Span, inner: Span) -> bool:
    if outer[0] == inner[0]:
        return outer[1] <= inner[1] and inner[2] <= outer[2]
    return outer[0] == -1 and outer[1] <= inner[0] < outer[2]  # a run of words covers its words' pieces


def _pieces(text: str) -> list[tuple[Span, str, str]]:
    """(span, key, kind) of every lookup candidate in one line; kind: words, cjk or inner."""
    tokens = [m.group(0) for m in _TOKEN.finditer(text)][:MAX_LINE_CHARS]
    out: list[tuple[Span, str, str]] = []
    for a in range(len(tokens)):
        for b in range(a + 1, min(len(tokens), a + MAX_WORDS) + 1):
            key = fold("".join(tokens[a:b]))
            if key:
                out.append(((-1, a, b), key, "words"))
    for t, token in enumerate(tokens):
        cjk = "".join(c for c in token if _is_cjk(c))[:40]
        if len(cjk) >= MIN_CJK_KEY:
            for n in range(min(8, len(cjk)), MIN_CJK_KEY - 1, -1):
                for s in range(len(cjk) - n + 1):
                    out.append(((t, s, s + n), fold(cjk[s : s + n]), "cjk"))
        key = fold(token)[:40]
        if len(key) >= 10 and key.isascii():  # glued words: inner pieces of 6+ letters, exact only
            for n in range(min(len(key) - 1, 24), 5, -1):
                for s in range(len(key) - n + 1):
                    out.append(((t, s, s + n), key[s : s + n], "inner"))
    return out


def _is_cjk(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))


def _lookup(index: NameIndex, key: str, kind: str) -> tuple[list[int], str]:
    if kind == "cjk":
        return (index.exact.get(key, []), "exact") if len(key) >= MIN_CJK_KEY else ([], "")
    if len(key) < MIN_LATIN_KEY or key.isdigit():
        return [], ""
    if key in index.exact:
        return index.exact[key], "exact"
    if kind == "inner":
        return [], ""
    c = canon(key)
    if len(c) >= 5 and c in index.canonical:
        return index.canonical[c], "confused"
    if len(c) >= 7:
        found: set[int] = set()
        for variant in {c} | deletes(c):
            found.update(index.fuzzy.get(variant, ()))
        if found:
            return sorted(found), "one edit"
    return [], ""


def match_region(index: NameIndex, region: TextRegion) -> list[TextMatch]:
    """Namesakes of the place names in one OCR region, longest names first."""
    text = _clean(region.text)
    taken: list[Span] = []
    out: list[TextMatch] = []
    pieces = sorted(_pieces(text), key=lambda p: (p[0][0] != -1, -(p[0][2] - p[0][1]), -len(p[1])))
    for span, key, kind in pieces:
        if any(_covers(t, span) for t in taken):
            continue
        ids, how = _lookup(index, key, kind)
        cjk = kind == "cjk"
        if not ids:
            continue
        common = key in COMMON_WORDS
        ids = [
            i
            for i in ids
            if index.kind[i] != KIND_CITY or (not common and index.population[i] >= MIN_CITY_POPULATION)
        ]
        if not ids:
            continue
        taken.append(span)
        weights = {i: _weight(index, i) for i in ids}
        total = sum(weights.values())
        for i in sorted(ids, key=lambda i: -weights[i])[:MAX_NAMESAKES]:
            out.append(
                TextMatch(
                    entry=int(i),
                    label=index.label(i),
                    kind=KIND_NAMES[int(index.kind[i])],
                    lat=float(index.lat[i]),
                    lon=float(index.lon[i]),
                    words=_quote(text, key, cjk),
                    ocr_score=float(region.score),
                    box=region.box,
                    quality=QUALITY[how],
                    share=weights[i] / total,
                    namesakes=len(ids),
                    specificity=_specificity(key, cjk, common, int(index.kind[i])),
                    population=int(index.population[i]),
                    common=common,
                )
            )
    return out


def _quote(text: str, key: str, cjk: bool) -> str:
    """The words of ``text`` that make up ``key`` as read (the whole line when they cannot be cut out)."""
    if cjk:
        return key
    tokens = [m for m in _TOKEN.finditer(text)]
    for a in range(len(tokens)):
        for b in range(a + 1, min(len(tokens), a + MAX_WORDS) + 1):
            if canon(fold("".join(t.group(0) for t in tokens[a:b]))) == canon(key):
                return text[tokens[a].start() : tokens[b - 1].end()]
    return text.strip()


def script_matches(index: NameIndex, regions: Sequence[TextRegion]) -> list[TextMatch]:
    """Country priors from the scripts of all text read (Kana -> Japan, Hangul -> Korea, ...)."""
    letters = "".join(_clean(r.text) for r in regions)
    shares = dict(text_scripts(letters))
    if "Kana" in shares:  # Japanese mixes Kana and Han: Han alone is the ambiguous case
        shares.pop("CJK (Han)", None)
    out = []
    for script, share in shares.items():
        if share < 0.2 or script not in SCRIPT_PRIORS:
            continue
        region = max(
            (r for r in regions if any(s == script for s, _ in text_scripts(_clean(r.text)))),
            key=lambda r: r.score,
        )
        for code, prior in SCRIPT_PRIORS[script]:
            row = index.country_row(code)
            if row is None:
                continue
            out.append(
                TextMatch(
                    entry=row,
                    label=index.label(row),
                    kind="script",
                    lat=float(index.lat[row]),
                    lon=float(index.lon[row]),
                    words=script,
                    ocr_score=float(region.score),
                    box=region.box,
                    quality=1.0,
                    share=prior,
                    namesakes=len(SCRIPT_PRIORS[script]),
                    specificity=0.2 * share,
                    population=int(index.population[row]),
                )
            )
    return out


def match_regions(index: NameIndex, regions: Sequence[TextRegion]) -> list[TextMatch]:
    """Every namesake of every place name read on one photo, plus the script priors."""
    regions = list(regions)[:MAX_REGIONS]
    out: list[TextMatch] = []
    for region in regions:
        out.extend(match_region(index, region))
    out.extend(script_matches(index, regions))
    return out
