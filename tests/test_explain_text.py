"""Script detection on strings; OCR regions as the concept Text/sign."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from geotagger.explain.text import TextRegion, char_script, ocr_available, text_mask, text_scripts


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Calle Mayor", "Latin"),
        ("Ｓｔｒａｓｓｅ", "Latin"),  # fullwidth Latin
        ("Straße Île Ångström", "Latin"),
        ("Москва", "Cyrillic"),
        ("Αθήνα", "Greek"),
        ("القاهرة", "Arabic"),
        ("ירושלים", "Hebrew"),
        ("北京市", "CJK (Han)"),
        ("서울", "Hangul"),
        ("ひらがな", "Kana"),
        ("カタカナ", "Kana"),
        ("กรุงเทพ", "Thai"),
        ("नई दिल्ली", "Devanagari"),
        ("თბილისი", "Georgian"),
    ],
)
def test_script_of_place_names(text, script):
    scripts = text_scripts(text)
    assert scripts[0][0] == script
    assert scripts[0][1] == pytest.approx(1.0)


def test_mixed_text_shares_and_symbols_ignored():
    scripts = dict(text_scripts("東京 Tokyo 2024 !!"))
    assert scripts == {"Latin": pytest.approx(5 / 7), "CJK (Han)": pytest.approx(2 / 7)}
    assert text_scripts("123 -- 4.5 €") == []
    assert char_script("7") is None and char_script(" ") is None


def test_text_mask_scales_boxes_to_the_grid():
    regions = [TextRegion((100, 50, 300, 100), "ABC", 0.9)]
    mask = text_mask(regions, (100, 200), (200, 400))  # grid is half the photo size
    assert mask.shape == (100, 200)
    assert mask[25:50, 50:150].all()
    assert mask.sum() == 25 * 100


@pytest.mark.skipif(
    not ocr_available(), reason="OCR models not installed (pip install --no-deps rapidocr-onnxruntime)"
)
def test_ocr_reads_a_rendered_sign():
    from geotagger.explain.text import TextReader

    image = Image.new("RGB", (480, 320), (200, 220, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle([60, 120, 420, 200], fill=(20, 80, 30))
    draw.text((80, 135), "Main Street 42", fill=(255, 255, 255), font=ImageFont.load_default(size=44))
    regions = TextReader().read(image)
    assert [r.text for r in regions] == ["Main Street 42"]
    x0, y0, x1, y1 = regions[0].box
    assert 60 <= x0 < 100 and 120 <= y0 < 150 and 330 < x1 <= 430 and 170 < y1 <= 205
    assert text_scripts(regions[0].text)[0][0] == "Latin"
    blank = TextReader().read(Image.fromarray(np.full((200, 300, 3), 128, np.uint8)))
    assert blank == []
