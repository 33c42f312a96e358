"""Photos that carry a location in one (or several) of the places other tools put it.

Built with Pillow, byte-level construction (TIFF directories, APP segments, PNG chunks, MPF) and
exiftool writes, so the carriers look the way cameras, drones, phones and editors leave them.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

from tests.factories import make_image

# The precise spot (Eiffel Tower): no copy of a "strip" or "city" export may carry it.
LAT, LON = 48.858222, 2.294500
TIFF_HEAD = {">": b"MM\x00*", "<": b"II*\x00"}


def dms_rationals(value: float, endian: str = ">") -> bytes:
    """The value as EXIF writes it here: deg/1, min/1, sec*10000/10000."""
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    sec = round(((value - deg) * 60 - minutes) * 60 * 10000)
    return struct.pack(endian + "6I", deg, 1, minutes, 1, sec, 10000)


def needles(lat: float = LAT, lon: float = LON) -> list[bytes]:
    """Bytes that betray the spot: rationals in both byte orders and decimal text."""
    out = [f"{lat:.4f}".encode(), f"{lon:.4f}".encode()]
    for endian in "<>":
        out += [dms_rationals(lat, endian), dms_rationals(lon, endian)]
    return out


class _Tiff:
    """A TIFF block built directory by directory (children first, so their offsets are known)."""

    def __init__(self, endian: str = ">") -> None:
        self.e = endian
        self.data = bytearray(TIFF_HEAD[endian] + b"\x00\x00\x00\x08")

    def blob(self, raw: bytes) -> int:
        if len(self.data) % 2:
            self.data += b"\x00"
        at = len(self.data)
        self.data += raw
        return at

    def ifd(self, entries: list[tuple[int, int, int, bytes]], next_ifd: int = 0) -> int:
        if len(self.data) % 2:
            self.data += b"\x00"
        at = len(self.data)
        values_at = at + 2 + 12 * len(entries) + 4
        table, values = struct.pack(self.e + "H", len(entries)), bytearray()
        for tag, kind, count, raw in sorted(entries):
            if len(raw) <= 4:
                table += struct.pack(self.e + "HHI", tag, kind, count) + raw.ljust(4, b"\x00")
            else:
                table += struct.pack(self.e + "HHII", tag, kind, count, values_at + len(values))
                values += raw + b"\x00" * (len(raw) % 2)
        self.data += table + struct.pack(self.e + "I", next_ifd) + values
        return at

    def gps(self, lat: float, lon: float) -> int:
        e = self.e
        return self.ifd(
            [
                (0, 1, 4, b"\x02\x03\x00\x00"),
                (1, 2, 2, (b"N" if lat >= 0 else b"S") + b"\x00"),
                (2, 5, 3, dms_rationals(lat, e)),
                (3, 2, 2, (b"E" if lon >= 0 else b"W") + b"\x00"),
                (4, 5, 3, dms_rationals(lon, e)),
            ]
        )

    def long(self, value: int) -> bytes:
        return struct.pack(self.e + "I", value)

    def root(self, offset: int) -> bytes:
        struct.pack_into(self.e + "I", self.data, 4, offset)
        return bytes(self.data)


def exif_block(
    *,
    gps: bool = True,
    ifd1_gps: bool = False,
    thumbnail: bytes | None = None,
    orphan: bool = False,
    endian: str = ">",
) -> bytes:
    """A TIFF block: IFD0 (Make, GPS pointer), optionally IFD1 with its own GPS pointer and a JPEG
    thumbnail, and an old GPS directory nothing points to (as an in-place writer leaves it)."""
    t = _Tiff(endian)
    if orphan:
        t.gps(LAT, LON)  # unreferenced: the "previous" position
    ifd1 = 0
    if ifd1_gps or thumbnail is not None:
        entries = [(0x0103, 3, 1, struct.pack(endian + "H", 6))]
        if ifd1_gps:
            entries.append((0x8825, 4, 1, t.long(t.gps(LAT, LON))))
        if thumbnail is not None:
            thumb_at = t.blob(thumbnail)
            entries += [(0x0201, 4, 1, t.long(thumb_at)), (0x0202, 4, 1, t.long(len(thumbnail)))]
        ifd1 = t.ifd(entries)
    entries = [(0x010F, 2, 8, b"TestCam\x00")]
    if gps:
        entries.append((0x8825, 4, 1, t.long(t.gps(LAT + 0.0001 if orphan else LAT, LON))))
    return t.root(t.ifd(entries, ifd1))


def plain_jpeg(size: tuple[int, int] = (320, 240), quality: int = 85) -> bytes:
    out = io.BytesIO()
    make_image(size).save(out, "JPEG", quality=quality)
    return out.getvalue()


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def insert_segments(jpeg: bytes, *segments: bytes) -> bytes:
    """Put segments right after SOI and the JFIF APP0 (where writers put EXIF and XMP)."""
    at = 2
    if jpeg[2:4] == b"\xff\xe0":
        at = 4 + struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:at] + b"".join(segments) + jpeg[at:]


def xmp_packet(body: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{body}</rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


DRONE_XMP = xmp_packet(
    '<rdf:Description rdf:about="" xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/"'
    f' drone-dji:GpsLatitude="+{LAT:.6f}" drone-dji:GpsLongtitude="+{LON:.6f}"'
    ' drone-dji:AbsoluteAltitude="+35.2"/>'
)
EXIF_XMP = xmp_packet(
    '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">'
    "<exif:GPSLatitude>48,51.49332N</exif:GPSLatitude><exif:GPSLongitude>2,17.67E</exif:GPSLongitude>"
    "<photoshop:City>Paris</photoshop:City></rdf:Description>"
)


def xmp_app1(packet: bytes) -> bytes:
    return segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet)


def exif_app1(tiff: bytes) -> bytes:
    return segment(0xE1, b"Exif\x00\x00" + tiff)


def with_mpf(first: bytes, second: bytes) -> bytes:
    """A multi-picture JPEG: an APP2 MPF index in the first image points at the second after EOI."""
    e = ">"
    # header(8) + IFD count(2) + 3 entries(36) + next(4) = 50; entries table (2 x 16 bytes) follows
    entries_at = 50
    ifd = struct.pack(e + "H", 3)
    ifd += struct.pack(e + "HHI", 0xB000, 7, 4) + b"0100"
    ifd += struct.pack(e + "HHII", 0xB001, 4, 1, 2)
    ifd += struct.pack(e + "HHII", 0xB002, 7, 32, entries_at) + b"\x00\x00\x00\x00"
    placeholder = b"MPF\x00" + b"MM\x00*\x00\x00\x00\x08" + ifd + bytes(32)
    joined = insert_segments(first, segment(0xE2, placeholder))
    header_at = joined.index(b"MPF\x00") + 4
    first_size = len(joined)
    table = struct.pack(e + "IIIHH", 0x030000, first_size, 0, 0, 0)
    table += struct.pack(e + "IIIHH", 0x010001, len(second), first_size - header_at, 0, 0)
    payload = b"MPF\x00" + b"MM\x00*\x00\x00\x00\x08" + ifd + table
    return insert_segments(first, segment(0xE2, payload)) + second


def iptc_irb(datasets: list[tuple[int, int, bytes]]) -> bytes:
    iptc = b"".join(b"\x1c" + bytes([r, d]) + struct.pack(">H", len(v)) + v for r, d, v in datasets)
    return b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc + b"\x00" * (len(iptc) % 2)


PLACE_DATASETS = [
    (2, 90, b"Paris"),
    (2, 92, b"Tour Eiffel"),
    (2, 95, b"Ile-de-France"),
    (2, 100, b"FRA"),
    (2, 101, b"France"),
    (2, 120, b"a caption that stays"),
]


def png_with_chunks(*chunks: tuple[bytes, bytes]) -> bytes:
    out = io.BytesIO()
    make_image((64, 48)).save(out, "PNG")
    data = out.getvalue()
    extra = b"".join(
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        for kind, body in chunks
    )
    return data[:33] + extra + data[33:]  # after IHDR


def raw_profile(kind: str, payload: bytes) -> bytes:
    hexed = payload.hex()
    lines = "\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72))
    return f"\n{kind}\n{len(payload):8d}\n{lines}\n".encode()


def exiftool_write(path: Path, *args: str) -> None:
    subprocess.run(["exiftool", "-q", "-overwrite_original", *args, str(path)], check=True)


def tiff_with_gps(path: Path) -> Path:
    make_image((64, 48)).save(path, "TIFF")
    exiftool_write(
        path,
        f"-GPSLatitude={LAT}",
        "-GPSLatitudeRef=N",
        f"-GPSLongitude={LON}",
        "-GPSLongitudeRef=E",
        "-XMP-photoshop:City=Paris",
        "-IPTC:City=Paris",
    )
    return path


def heic(path: Path) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    make_image((64, 48)).save(path, "HEIF")
    return path


_LOCATION_KEY = re.compile(
    r"(?i)^(gps.*|.*latitude|.*longt?itude|city|country.*|state|province-?state|.*location.*|sub-?location)$"
)


def _location_tags(paths: list[Path]) -> dict[str, dict[str, object]]:
    rows = json.loads(
        subprocess.run(
            ["exiftool", "-json", "-a", "-G1", "-n", "-gps:all", "-xmp:all", "-iptc:all", *map(str, paths)],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    )
    return {
        row["SourceFile"]: {
            k: v
            for k, v in row.items()
            if k != "SourceFile" and _LOCATION_KEY.match(k.split(":")[-1]) and str(v).strip()
        }
        for row in rows
    }


def exiftool_locations_many(paths: list[Path], scratch: Path) -> dict[Path, dict[str, object]]:
    """Path -> every location tag exiftool reads in it, in its EXIF thumbnail, its MPF second image
    and its preview (embedded images are extracted with -b and read back by exiftool)."""
    found = {Path(k): v for k, v in _location_tags(paths).items()}
    scratch.mkdir(parents=True, exist_ok=True)
    names = {}
    for i, path in enumerate(paths):
        names[f"{i:05d}"] = path
        link = scratch / f"{i:05d}{path.suffix}"
        link.symlink_to(path.resolve())
    links = sorted(scratch.iterdir())
    subprocess.run(
        [
            "exiftool",
            "-q",
            "-q",
            "-b",
            "-a",
            "-W",
            f"{scratch}/%f.%t%-c.bin",
            "-ThumbnailImage",
            "-MPImage2",
            "-PreviewImage",
            *map(str, links),
        ],
        capture_output=True,
    )
    inner = sorted(p for p in scratch.glob("*.bin") if p.read_bytes()[:2] == b"\xff\xd8")
    if inner:
        for key, tags in _location_tags(inner).items():
            owner = names[Path(key).name[:5]]
            embedded = Path(key).name.split(".")[1]
            found[owner].update({f"{embedded}/{k}": v for k, v in tags.items()})
    shutil.rmtree(scratch)
    return found


def exiftool_locations(path: Path) -> dict[str, object]:
    """Every location tag exiftool reads in the file, its EXIF thumbnail and its MPF second image."""
    return exiftool_locations_many([path], path.parent / f".{path.name}.embedded")[path]


def leaked_bytes(path: Path, lat: float = LAT, lon: float = LON) -> list[bytes]:
    data = path.read_bytes()
    return [n for n in needles(lat, lon) if n in data]


def extended_xmp_segments(extended: bytes, chunk: int = 300) -> list[bytes]:
    """The main XMP packet naming the extension by its MD5 GUID, then the extension in APP1 chunks."""
    import hashlib

    guid = hashlib.md5(extended).hexdigest().upper().encode()
    main = xmp_packet(
        '<rdf:Description rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/note/"'
        f' xmpNote:HasExtendedXMP="{guid.decode()}"/>'
    )
    segments = [xmp_app1(main)]
    for offset in range(0, len(extended), chunk):
        head = b"http://ns.adobe.com/xmp/extension/\x00" + guid + struct.pack(">II", len(extended), offset)
        segments.append(segment(0xE1, head + extended[offset : offset + chunk]))
    return segments
