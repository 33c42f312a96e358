"""Text in photos: OCR regions become the concept "Text/sign"; the script of the text is evidence.

OCR runs the PP-OCRv4 detection + recognition ONNX models that the PyPI package rapidocr-onnxruntime
ships (Apache-2.0) on our own ONNX Runtime sessions, with our own pre/post-processing. We never import
that package: it requires plain ``onnxruntime``, which must not be installed next to onnxruntime-gpu
(same import folder). Install it with ``pip install --no-deps rapidocr-onnxruntime==1.4.4`` (its model
files are all we use), or put the two .onnx files in ``<models dir>/ocr/``.

The recognition model reads Chinese and Latin script (its dictionary); other scripts are found by
``text_scripts`` when text arrives from elsewhere, but this model will not read them.
"""

from __future__ import annotations

import importlib.util
import math
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from geotagger.errors import ModelError
from geotagger.paths import models_dir

TEXT_CONCEPT = "Text/sign"
DET_MODEL = "ch_PP-OCRv4_det_infer.onnx"
REC_MODEL = "ch_PP-OCRv4_rec_infer.onnx"
INSTALL_HINT = "pip install --no-deps rapidocr-onnxruntime==1.4.4"

# DB post-processing thresholds as published with PP-OCR; the detection size is smaller than its 736
# (short side): on 30 library-dev photos 512 read 12 text lines where 736 read 14 (lost: a one-letter
# fragment and a small number plate) in about a third of the time.
DET_SHORT_SIDE = 512
DET_MAX_SIDE = 864
DET_THRESH = 0.3
BOX_THRESH = 0.5
UNCLIP_RATIO = 1.6
REC_HEIGHT = 48
REC_BATCH = 8
TEXT_SCORE = 0.5

# Unicode character-name prefixes -> script shown to the user.
_SCRIPTS = {
    "LATIN": "Latin",
    "FULLWIDTH LATIN": "Latin",
    "CYRILLIC": "Cyrillic",
    "GREEK": "Greek",
    "ARABIC": "Arabic",
    "HEBREW": "Hebrew",
    "CJK": "CJK (Han)",
    "HANGUL": "Hangul",
    "HIRAGANA": "Kana",
    "KATAKANA": "Kana",
    "HALFWIDTH KATAKANA": "Kana",
    "THAI": "Thai",
    "DEVANAGARI": "Devanagari",
    "BENGALI": "Bengali",
    "GURMUKHI": "Gurmukhi",
    "GUJARATI": "Gujarati",
    "TAMIL": "Tamil",
    "TELUGU": "Telugu",
    "KANNADA": "Kannada",
    "MALAYALAM": "Malayalam",
    "SINHALA": "Sinhala",
    "GEORGIAN": "Georgian",
    "ARMENIAN": "Armenian",
    "ETHIOPIC": "Ethiopic",
    "KHMER": "Khmer",
    "LAO": "Lao",
    "MYANMAR": "Myanmar",
    "TIBETAN": "Tibetan",
    "MONGOLIAN": "Mongolian",
}
_PREFIXES = sorted(_SCRIPTS, key=len, reverse=True)


def char_script(ch: str) -> str | None:
    """Script of one character, or None for digits, punctuation, symbols and unknown characters."""
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    for prefix in _PREFIXES:
        if name.startswith(prefix + " "):
            return _SCRIPTS[prefix]
    return None


def text_scripts(text: str) -> list[tuple[str, float]]:
    """Scripts of the letters in ``text`` with their share of letters, most frequent first."""
    counts = Counter(s for s in map(char_script, text) if s)
    total = sum(counts.values())
    return sorted(((s, n / total) for s, n in counts.items()), key=lambda r: (-r[1], r[0]))


@dataclass(frozen=True)
class TextRegion:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in photo pixels (x1, y1 exclusive)
    text: str
    score: float


def ocr_model_dir() -> Path | None:
    """Folder with the OCR models: <models dir>/ocr, else the installed rapidocr-onnxruntime package."""
    own = models_dir() / "ocr"
    if (own / DET_MODEL).is_file() and (own / REC_MODEL).is_file():
        return own
    spec = importlib.util.find_spec("rapidocr_onnxruntime")  # locates without importing
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(root) / "models"
        if (folder / DET_MODEL).is_file() and (folder / REC_MODEL).is_file():
            return folder
    return None


def ocr_available() -> bool:
    return ocr_model_dir() is not None


class TextReader:
    """Detects and reads text lines; one instance keeps its two ONNX sessions (load once, reuse)."""

    def __init__(self, model_dir: Path | None = None, *, threads: int | None = None) -> None:
        from geotagger.locate.runtime import create_session

        folder = model_dir or ocr_model_dir()
        if folder is None:
            raise ModelError(f"OCR models are not installed; install them with: {INSTALL_HINT}")
        self.det, _ = create_session(folder / DET_MODEL, "cpu", threads=threads)
        self.rec, _ = create_session(folder / REC_MODEL, "cpu", threads=threads)
        self.charset = self._charset(folder / REC_MODEL)

    @staticmethod
    def _charset(rec_path: Path) -> list[str]:
        import onnx

        model = onnx.load(str(rec_path), load_external_data=False)
        meta = {p.key: p.value for p in model.metadata_props}
        if "character" not in meta:
            raise ModelError(f"{rec_path.name} carries no character dictionary")
        # CTC: index 0 is the blank; the dictionary follows, then the space character.
        return ["", *meta["character"].splitlines(), " "]

    def read(self, image: Image.Image) -> list[TextRegion]:
        """Text regions of an RGB image, top to bottom, with recognised text above TEXT_SCORE."""
        rgb = np.asarray(image.convert("RGB"))
        boxes = self.detect(rgb)
        texts = self.recognise(rgb, boxes)
        out = [
            TextRegion(b, t, s)
            for b, (t, s) in zip(boxes, texts, strict=True)
            if t.strip() and s >= TEXT_SCORE
        ]
        return sorted(out, key=lambda r: (r.box[1], r.box[0]))

    def detect(self, rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Axis-aligned text boxes (DB post-processing: threshold, components, score, unclip)."""
        from scipy import ndimage

        h, w = rgb.shape[:2]
        scale = DET_SHORT_SIDE / min(h, w)
        scale = min(scale, DET_MAX_SIDE / max(h, w))
        rh, rw = (max(32, int(round(v * scale / 32)) * 32) for v in (h, w))
        small = np.asarray(Image.fromarray(rgb).resize((rw, rh), Image.BILINEAR), dtype=np.float32)
        x = ((small[:, :, ::-1] / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]  # BGR, as trained
        prob = self.det.run(None, {self.det.get_inputs()[0].name: np.ascontiguousarray(x, np.float32)})[0]
        prob = prob[0, 0]
        binary = ndimage.binary_dilation(prob > DET_THRESH, structure=np.ones((2, 2), bool))
        labels, n = ndimage.label(binary)
        boxes = []
        sy, sx = h / rh, w / rw
        for i, sl in enumerate(ndimage.find_objects(labels), start=1):
            if sl is None:
                continue
            region = labels[sl] == i
            if float(prob[sl][region].mean()) < BOX_THRESH:
                continue
            y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
            bh, bw = y1 - y0, x1 - x0
            if min(bh, bw) < 3:
                continue
            d = bh * bw * UNCLIP_RATIO / (2 * (bh + bw))  # DB's unclip distance for a rectangle
            box = (
                max(0, int(math.floor((x0 - d) * sx))),
                max(0, int(math.floor((y0 - d) * sy))),
                min(w, int(math.ceil((x1 + d) * sx))),
                min(h, int(math.ceil((y1 + d) * sy))),
            )
            if min(box[2] - box[0], box[3] - box[1]) >= 5:
                boxes.append(box)
        return boxes

    def recognise(self, rgb: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[tuple[str, float]]:
        """CTC-greedy text and mean character confidence of each box."""
        crops = []
        for x0, y0, x1, y1 in boxes:
            crop = rgb[y0:y1, x0:x1]
            if crop.shape[0] >= 1.5 * crop.shape[1]:  # vertical line: read it rotated
                crop = np.rot90(crop)
            crops.append(crop)
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / crops[i].shape[0])
        name = self.rec.get_inputs()[0].name
        for start in range(0, len(order), REC_BATCH):
            idx = order[start : start + REC_BATCH]
            widths = [max(8, int(math.ceil(REC_HEIGHT * crops[i].shape[1] / crops[i].shape[0]))) for i in idx]
            batch = np.zeros((len(idx), 3, REC_HEIGHT, max(max(widths), 320)), np.float32)
            for j, (i, wd) in enumerate(zip(idx, widths, strict=True)):
                img = Image.fromarray(np.ascontiguousarray(crops[i])).resize((wd, REC_HEIGHT), Image.BILINEAR)
                a = np.asarray(img, dtype=np.float32)[:, :, ::-1] / 255.0
                batch[j, :, :, :wd] = ((a - 0.5) / 0.5).transpose(2, 0, 1)
            probs = self.rec.run(None, {name: batch})[0]
            for j, i in enumerate(idx):
                results[i] = self._decode(probs[j])
        return results

    def _decode(self, probs: np.ndarray) -> tuple[str, float]:
        best = probs.argmax(axis=1)
        conf = probs.max(axis=1)
        keep = best != 0
        keep[1:] &= best[1:] != best[:-1]
        chars = [self.charset[k] for k in best[keep] if k < len(self.charset)]
        return "".join(chars), float(conf[keep].mean()) if keep.any() else 0.0


def text_mask(regions: list[TextRegion], size_hw: tuple[int, int], photo_hw: tuple[int, int]) -> np.ndarray:
    """Union of the regions' boxes on a (H, W) grid for a photo of size photo_hw."""
    h, w = size_hw
    ph, pw = photo_hw
    mask = np.zeros((h, w), dtype=bool)
    for x0, y0, x1, y1 in (r.box for r in regions):
        mask[
            int(y0 * h / ph) : max(int(y0 * h / ph) + 1, int(math.ceil(y1 * h / ph))),
            int(x0 * w / pw) : max(int(x0 * w / pw) + 1, int(math.ceil(x1 * w / pw))),
        ] = True
    return mask
