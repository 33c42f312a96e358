"""XMP sidecars: new ones readable by exiftool and our reader; merging keeps other applications' data."""

from __future__ import annotations

from pathlib import Path

import pytest
from defusedxml import ElementTree as SafeET

from geotagger.errors import MetadataError, UserInputError
from geotagger.metadata.write_jpeg import GpsFix
from geotagger.metadata.xmp import parse_xmp
from geotagger.metadata.xmp_write import XmpLocation, merge_xmp, sidecar_path, xmp_coordinate
from tests.test_write_jpeg import EXIFTOOL, exiftool_json, needs_exiftool

SYDNEY = XmpLocation(
    GpsFix(-33.856784, 151.215297, alt=5.0, radius_m=3000),
    city="Sydney",
    state="New South Wales",
    country="Australia",
    country_code="AU",
)
DARKTABLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmp:Rating="3" darktable:xmp_version="5" exif:GPSLatitude="10,0.0N" exif:GPSLongitude="20,0.0E">
   <!-- kept: a comment -->
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:operation="exposure" darktable:enabled="1" darktable:params="0000803f"/>
    </rdf:Seq>
   </darktable:history>
   <dc:subject><rdf:Bag><rdf:li>holiday</rdf:li><rdf:li>beach</rdf:li></rdf:Bag></dc:subject>
   <photoshop:City xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">Old town</photoshop:City>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def test_coordinate_format() -> None:
    assert xmp_coordinate(-33.5, "NS") == "33,30.00000000S"
    assert xmp_coordinate(151.25, "EW") == "151,15.00000000E"
    assert xmp_coordinate(0.0, "NS") == "0,0.00000000N"


def test_new_sidecar_reads_back() -> None:
    data = merge_xmp(None, SYDNEY)
    assert data.startswith(b"<?xpacket begin=")
    parsed = parse_xmp(data)
    assert parsed.lat == pytest.approx(-33.856784, abs=1e-7)
    assert parsed.lon == pytest.approx(151.215297, abs=1e-7)
    assert parsed.alt == pytest.approx(5.0)
    assert b'photoshop:City="Sydney"' in data and b'Iptc4xmpCore:CountryCode="AU"' in data


def test_merge_keeps_foreign_data_and_replaces_ours() -> None:
    merged = merge_xmp(DARKTABLE, SYDNEY)
    text = merged.decode("utf-8")
    root = SafeET.fromstring(merged)
    ns = {
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "darktable": "http://darktable.sf.net/",
        "dc": "http://purl.org/dc/elements/1.1/",
    }
    desc = root.find(".//rdf:Description", ns)
    assert desc.get("{http://ns.adobe.com/xap/1.0/}Rating") == "3"
    assert desc.get("{http://darktable.sf.net/}xmp_version") == "5"
    li = root.find(".//darktable:history/rdf:Seq/rdf:li", ns)
    assert li.get("{http://darktable.sf.net/}params") == "0000803f"
    assert [e.text for e in root.findall(".//dc:subject/rdf:Bag/rdf:li", ns)] == ["holiday", "beach"]
    assert "kept: a comment" in text
    assert 'x:xmptk="XMP Core 4.4.0-Exiv2"' in text
    assert text.startswith('<?xml version="1.0"')
    # The file's own prefixes survive; our properties are replaced, not duplicated.
    assert "darktable:history" in text and "ns0:" not in text
    assert "Old town" not in text and text.count("GPSLatitude") == 1
    assert parse_xmp(merged).lat == pytest.approx(-33.856784, abs=1e-7)


def test_country_level_writes_names_only_and_drops_stale_coordinates() -> None:
    merged = merge_xmp(DARKTABLE, XmpLocation(None, country="Togo", country_code="TG"))
    parsed = parse_xmp(merged)
    assert parsed.lat is None and parsed.lon is None
    assert b'photoshop:Country="Togo"' in merged and b"photoshop:City" not in merged


def test_refuses_to_touch_a_broken_sidecar() -> None:
    with pytest.raises(MetadataError, match="not valid XMP"):
        merge_xmp(b"<x:xmpmeta><rdf:RDF", SYDNEY)
    with pytest.raises(MetadataError, match="not valid XMP"):
        merge_xmp(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', SYDNEY)
    with pytest.raises(MetadataError, match="no rdf:RDF"):
        merge_xmp(b"<root><child/></root>", SYDNEY)


def test_sidecar_naming() -> None:
    photo = Path("/photos/IMG_1.CR2")
    assert sidecar_path(photo) == Path("/photos/IMG_1.CR2.xmp")
    assert sidecar_path(photo, "xmp") == Path("/photos/IMG_1.xmp")
    with pytest.raises(UserInputError):
        sidecar_path(photo, "sidecar")


@needs_exiftool
def test_exiftool_reads_new_and_merged_sidecars(tmp_path: Path) -> None:
    (tmp_path / "new.xmp").write_bytes(merge_xmp(None, SYDNEY))
    (tmp_path / "merged.xmp").write_bytes(merge_xmp(DARKTABLE, SYDNEY))
    assert EXIFTOOL
    report = exiftool_json([tmp_path / "new.xmp", tmp_path / "merged.xmp"], "-n", "-a", "-G1")
    for name in ("new.xmp", "merged.xmp"):
        item = report[name]
        assert "ExifTool:Warning" not in item, item.get("ExifTool:Warning")
        assert item["XMP-exif:GPSLatitude"] == pytest.approx(-33.856784, abs=1e-6)
        assert item["XMP-exif:GPSLongitude"] == pytest.approx(151.215297, abs=1e-6)
        assert item["XMP-exif:GPSHPositioningError"] == pytest.approx(3000)
        assert item["XMP-photoshop:City"] == "Sydney" and item["XMP-iptcCore:CountryCode"] == "AU"
    assert report["merged.xmp"]["XMP-xmp:Rating"] == 3
    assert report["merged.xmp"]["XMP-dc:Subject"] == ["holiday", "beach"]


def test_embed_into_jpeg_keeps_everything_else() -> None:
    from geotagger.metadata.verify import verify_jpeg_patch
    from geotagger.metadata.write_jpeg import add_gps
    from geotagger.metadata.xmp_write import embed_xmp, embedded_packet
    from tests.test_write_jpeg import ICC, XMP_PACKET, build_tiff, jpeg_with, scan_data, segment

    exif = segment(0xE1, b"Exif\x00\x00" + build_tiff("MM"))
    with_packet = jpeg_with([exif, segment(0xE1, XMP_PACKET), segment(0xE2, ICC)])
    without = jpeg_with([exif, segment(0xE2, ICC)])
    for old in (with_packet, without):
        gps = add_gps(old, SYDNEY.fix)
        new = embed_xmp(gps, SYDNEY)
        verify_jpeg_patch(old, new, SYDNEY.fix, xmp=SYDNEY)
        assert scan_data(new) == scan_data(old) and new.count(b"http://ns.adobe.com/xap/1.0/\x00") == 1
        packet = embedded_packet(new)
        assert packet is not None and parse_xmp(packet).lat == pytest.approx(-33.856784, abs=1e-7)
        with pytest.raises(MetadataError, match="segment we did not write"):
            verify_jpeg_patch(old, new, SYDNEY.fix)  # without xmp= the XMP change is not allowed
    assert b'xmp:Rating="4"' in embedded_packet(embed_xmp(with_packet, SYDNEY))
    names_only = embed_xmp(without, XmpLocation(None, country="Togo", country_code="TG"))
    verify_jpeg_patch(without, names_only, None, xmp=XmpLocation(None, country="Togo", country_code="TG"))


def test_embed_refuses_unsafe_packets() -> None:
    from geotagger.errors import WriteRefusedError
    from geotagger.metadata.xmp_write import embed_xmp
    from tests.test_write_jpeg import XMP_PACKET, jpeg_with, segment

    extended = segment(0xE1, b"http://ns.adobe.com/xmp/extension/\x00" + bytes(40))
    with pytest.raises(WriteRefusedError, match="extended XMP"):
        embed_xmp(jpeg_with([segment(0xE1, XMP_PACKET), extended]), SYDNEY)
    mpf = segment(0xE2, b"MPF\x00II*\x00\x08\x00\x00\x00")
    with pytest.raises(WriteRefusedError, match="MPF"):
        embed_xmp(jpeg_with([mpf, segment(0xE1, XMP_PACKET)]), SYDNEY)
    huge = XmpLocation(SYDNEY.fix, city="x" * 70_000)
    with pytest.raises(WriteRefusedError, match="64 KB"):
        embed_xmp(jpeg_with([]), huge)
