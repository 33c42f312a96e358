"""The one declarative table of which EXIF/XMP tag carries what.

The reader (read.py, tiff.py) and the writers use the same entries, so a tag id, its IFD, its TIFF type
and its XMP property are spelled exactly once. Ids and types follow the EXIF 2.32 / TIFF 6.0 / DNG specs.
"""

from __future__ import annotations

from dataclasses import dataclass

# IFD names used throughout the metadata package.
IFD0 = "IFD0"  # primary image directory (TIFF "0th IFD")
EXIF = "EXIF"  # Exif private directory (pointed to by ExifIFD)
GPS = "GPS"  # GPS directory (pointed to by GPSIFD)
MAKER_NIKON = "MakerNikon"  # Nikon type-2 MakerNote directory (own TIFF header)
MAKER_CANON = "MakerCanon"  # Canon MakerNote directory (offsets relative to the EXIF TIFF header)

# TIFF field types: id -> (name, size in bytes of one value).
TIFF_TYPES: dict[int, tuple[str, int]] = {
    1: ("BYTE", 1),
    2: ("ASCII", 1),
    3: ("SHORT", 2),
    4: ("LONG", 4),
    5: ("RATIONAL", 8),
    6: ("SBYTE", 1),
    7: ("UNDEFINED", 1),
    8: ("SSHORT", 2),
    9: ("SLONG", 4),
    10: ("SRATIONAL", 8),
    11: ("FLOAT", 4),
    12: ("DOUBLE", 8),
    13: ("IFD", 4),
}
TYPE_IDS: dict[str, int] = {name: type_id for type_id, (name, _size) in TIFF_TYPES.items()}


@dataclass(frozen=True)
class TagSpec:
    """One tag: its name (exiftool's spelling), id, directory, TIFF type, value count and XMP property.

    ``count`` is the fixed number of values (None = variable, e.g. strings). ``xmp`` is the
    "prefix:Property" name of the same value in XMP, or None when XMP has no counterpart.
    """

    name: str
    tag_id: int
    ifd: str
    type: str
    count: int | None = None
    xmp: str | None = None


TAGS: tuple[TagSpec, ...] = (
    # --- IFD0: image structure, camera, pointers ---
    TagSpec("NewSubfileType", 0x00FE, IFD0, "LONG", 1),
    TagSpec("PanasonicSensorWidth", 0x0002, IFD0, "SHORT", 1),  # RW2 only (its IFD0 has no ImageWidth)
    TagSpec("PanasonicSensorHeight", 0x0003, IFD0, "SHORT", 1),
    TagSpec("ImageWidth", 0x0100, IFD0, "LONG", 1, "tiff:ImageWidth"),
    TagSpec("ImageLength", 0x0101, IFD0, "LONG", 1, "tiff:ImageLength"),
    TagSpec("Make", 0x010F, IFD0, "ASCII", None, "tiff:Make"),
    TagSpec("Model", 0x0110, IFD0, "ASCII", None, "tiff:Model"),
    TagSpec("Orientation", 0x0112, IFD0, "SHORT", 1, "tiff:Orientation"),
    TagSpec("DateTime", 0x0132, IFD0, "ASCII", 20, "xmp:ModifyDate"),
    TagSpec("SubIFDs", 0x014A, IFD0, "IFD", None),
    TagSpec("XMLPacket", 0x02BC, IFD0, "BYTE", None),  # XMP embedded in TIFF / DNG / RAW
    TagSpec("ExifIFD", 0x8769, IFD0, "LONG", 1),
    TagSpec("GPSIFD", 0x8825, IFD0, "LONG", 1),
    TagSpec("CameraSerialNumber", 0xC62F, IFD0, "ASCII", None),  # DNG
    # --- Exif IFD: capture time, serial, pixel size ---
    TagSpec("DateTimeOriginal", 0x9003, EXIF, "ASCII", 20, "exif:DateTimeOriginal"),
    TagSpec("CreateDate", 0x9004, EXIF, "ASCII", 20, "xmp:CreateDate"),  # DateTimeDigitized
    TagSpec("OffsetTime", 0x9010, EXIF, "ASCII", 7),
    TagSpec("OffsetTimeOriginal", 0x9011, EXIF, "ASCII", 7),
    TagSpec("OffsetTimeDigitized", 0x9012, EXIF, "ASCII", 7),
    TagSpec("SubSecTime", 0x9290, EXIF, "ASCII", None),
    TagSpec("SubSecTimeOriginal", 0x9291, EXIF, "ASCII", None),
    TagSpec("SubSecTimeDigitized", 0x9292, EXIF, "ASCII", None),
    TagSpec("PixelXDimension", 0xA002, EXIF, "LONG", 1, "exif:PixelXDimension"),
    TagSpec("PixelYDimension", 0xA003, EXIF, "LONG", 1, "exif:PixelYDimension"),
    TagSpec("BodySerialNumber", 0xA431, EXIF, "ASCII", None, "exifEX:BodySerialNumber"),
    TagSpec("MakerNote", 0x927C, EXIF, "UNDEFINED", None),  # only located, for the serials below
    # --- MakerNotes: the body serial number of cameras that do not write BodySerialNumber ---
    TagSpec("SerialNumber", 0x001D, MAKER_NIKON, "ASCII", None),
    TagSpec("SerialNumber", 0x000C, MAKER_CANON, "LONG", 1),
    # --- GPS IFD (the writer reuses these) ---
    TagSpec("GPSVersionID", 0x0000, GPS, "BYTE", 4, "exif:GPSVersionID"),
    TagSpec("GPSLatitudeRef", 0x0001, GPS, "ASCII", 2),
    TagSpec("GPSLatitude", 0x0002, GPS, "RATIONAL", 3, "exif:GPSLatitude"),
    TagSpec("GPSLongitudeRef", 0x0003, GPS, "ASCII", 2),
    TagSpec("GPSLongitude", 0x0004, GPS, "RATIONAL", 3, "exif:GPSLongitude"),
    TagSpec("GPSAltitudeRef", 0x0005, GPS, "BYTE", 1, "exif:GPSAltitudeRef"),
    TagSpec("GPSAltitude", 0x0006, GPS, "RATIONAL", 1, "exif:GPSAltitude"),
    TagSpec("GPSTimeStamp", 0x0007, GPS, "RATIONAL", 3, "exif:GPSTimeStamp"),
    TagSpec("GPSStatus", 0x0009, GPS, "ASCII", 2, "exif:GPSStatus"),
    TagSpec("GPSMapDatum", 0x0012, GPS, "ASCII", None, "exif:GPSMapDatum"),
    TagSpec("GPSDateStamp", 0x001D, GPS, "ASCII", 11),
    TagSpec("GPSHPositioningError", 0x001F, GPS, "RATIONAL", 1, "exif:GPSHPositioningError"),
)

BY_NAME: dict[str, TagSpec] = {spec.name: spec for spec in TAGS if not spec.ifd.startswith("Maker")}
# (ifd, tag id) -> name: what the IFD parser looks up for every entry it meets.
BY_ID: dict[tuple[str, int], str] = {(spec.ifd, spec.tag_id): spec.name for spec in TAGS}
# Tags that point to other directories rather than carrying a value.
POINTERS: dict[str, str] = {"ExifIFD": EXIF, "GPSIFD": GPS}

# XMP namespaces (for reading sidecars and embedded packets).
XMP_NS: dict[str, str] = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "exifEX": "http://cipa.jp/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
}
# XMP date properties that can carry the capture time, best first.
XMP_TIME_PROPS: tuple[str, ...] = ("exif:DateTimeOriginal", "photoshop:DateCreated", "xmp:CreateDate")


def tag(name: str) -> TagSpec:
    """Look up a tag by name; a KeyError here is a programming error."""
    return BY_NAME[name]
