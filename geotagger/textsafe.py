"""User text (file names, EXIF strings, album names) made safe for the formats it is written into.

File names and metadata are attacker-controlled: they must reach XML, JSON and HTML as data, never as
markup or code. These helpers only change what a format cannot carry at all; everything else is kept
literally and escaped by the writer (ElementTree, json, html.escape).
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

REPLACEMENT = "\ufffd"

# Characters XML 1.0 cannot carry even as character references: C0 controls other than tab, LF and CR,
# UTF-16 surrogates and the non-characters U+FFFE/U+FFFF.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Inside an HTML <script> element the parser looks for "</script", "<!--" and "<script" whatever the
# JS means; U+2028/U+2029 end a line in pre-2019 JS string literals. Escaped, JSON stays the same data.
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SCRIPT_UNSAFE = re.compile("[<>&\u2028\u2029]")


def unicode_text(text: str) -> str:
    """``text`` as encodable Unicode: a non-UTF-8 file name (surrogate escapes) gets U+FFFD for bad bytes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:  # os.fsdecode's escapes: recover the valid UTF-8 runs, U+FFFD for the bytes that are not
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # other lone surrogates
        return _SURROGATE.sub(REPLACEMENT, text)


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot represent replaced by U+FFFD (the rest is kept)."""
    return _XML_INVALID.sub(REPLACEMENT, unicode_text(text))


def escaped_bytes(text: str) -> str:
    """A file name's bytes that are not UTF-8 (os.fsdecode's surrogate escapes) as \\xNN text: printable,
    storable as UTF-8, and the same for the same name every time."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def terminal_text(text: str) -> str:
    """``text`` safe to print: control characters (ESC sequences could rewrite the terminal), bidi
    overrides and bytes that are not UTF-8 shown as \\xNN / \\uNNNN escapes; the rest as it is."""
    if _SURROGATE.search(text):
        with contextlib.suppress(UnicodeEncodeError):  # other lone surrogates are escaped below
            text = escaped_bytes(text)
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def script_json(value: Any) -> str:
    """JSON that can sit inside an HTML ``<script>`` element and still parse back to ``value``."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return _SCRIPT_UNSAFE.sub(lambda m: _SCRIPT_ESCAPES[m.group()], text)
