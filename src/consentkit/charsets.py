"""Character encodings as a browser reads them: WHATWG labels, the BOM, the ``<meta>`` prescan.

The rewriter works on bytes and is exact for ASCII-compatible encodings, where ``<``, quotes
and tag names are the bytes they look like. A UTF-16 page (label, BOM) or an ISO-2022-JP one
hides its markup in other bytes, and the multi-byte CJK encodings can spell a host with
full-width letters; those pages are decoded, rewritten as UTF-8 and encoded back (UTF-16 is
re-labelled UTF-8, which is also what its forms submit). :func:`document_encoding` follows
the HTML "encoding sniffing algorithm" so that consentkit reads a page with the encoding the
browser will use; when the decision did not come from the ``Content-Type`` header, the
header is given the charset, so the browser cannot decide otherwise.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

__all__ = ["Encoding", "Transcoder", "bom_encoding", "document_encoding", "lookup"]

# The WHATWG Encoding Standard's names and labels (encodings.json).
_LABELS: Final[dict[str, tuple[str, ...]]] = {
    "utf-8": ("unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"),
    "ibm866": ("866", "cp866", "csibm866", "ibm866"),
    "iso-8859-2": (
        "csisolatin2",
        "iso-8859-2",
        "iso-ir-101",
        "iso8859-2",
        "iso88592",
        "iso_8859-2",
        "iso_8859-2:1987",
        "l2",
        "latin2",
    ),
    "iso-8859-3": (
        "csisolatin3",
        "iso-8859-3",
        "iso-ir-109",
        "iso8859-3",
        "iso88593",
        "iso_8859-3",
        "iso_8859-3:1988",
        "l3",
        "latin3",
    ),
    "iso-8859-4": (
        "csisolatin4",
        "iso-8859-4",
        "iso-ir-110",
        "iso8859-4",
        "iso88594",
        "iso_8859-4",
        "iso_8859-4:1988",
        "l4",
        "latin4",
    ),
    "iso-8859-5": (
        "csisolatincyrillic",
        "cyrillic",
        "iso-8859-5",
        "iso-ir-144",
        "iso8859-5",
        "iso88595",
        "iso_8859-5",
        "iso_8859-5:1988",
    ),
    "iso-8859-6": (
        "arabic",
        "asmo-708",
        "csiso88596e",
        "csiso88596i",
        "csisolatinarabic",
        "ecma-114",
        "iso-8859-6",
        "iso-8859-6-e",
        "iso-8859-6-i",
        "iso-ir-127",
        "iso8859-6",
        "iso88596",
        "iso_8859-6",
        "iso_8859-6:1987",
    ),
    "iso-8859-7": (
        "csisolatingreek",
        "ecma-118",
        "elot_928",
        "greek",
        "greek8",
        "iso-8859-7",
        "iso-ir-126",
        "iso8859-7",
        "iso88597",
        "iso_8859-7",
        "iso_8859-7:1987",
        "sun_eu_greek",
    ),
    "iso-8859-8": (
        "csiso88598e",
        "csisolatinhebrew",
        "hebrew",
        "iso-8859-8",
        "iso-8859-8-e",
        "iso-ir-138",
        "iso8859-8",
        "iso88598",
        "iso_8859-8",
        "iso_8859-8:1988",
        "visual",
    ),
    "iso-8859-8-i": ("csiso88598i", "iso-8859-8-i", "logical"),
    "iso-8859-10": ("csisolatin6", "iso-8859-10", "iso-ir-157", "iso8859-10", "iso885910", "l6", "latin6"),
    "iso-8859-13": ("iso-8859-13", "iso8859-13", "iso885913"),
    "iso-8859-14": ("iso-8859-14", "iso8859-14", "iso885914"),
    "iso-8859-15": ("csisolatin9", "iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15", "l9"),
    "iso-8859-16": ("iso-8859-16",),
    "koi8-r": ("cskoi8r", "koi", "koi8", "koi8-r", "koi8_r"),
    "koi8-u": ("koi8-ru", "koi8-u"),
    "macintosh": ("csmacintosh", "mac", "macintosh", "x-mac-roman"),
    "windows-874": ("dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620", "windows-874"),
    "windows-1250": ("cp1250", "windows-1250", "x-cp1250"),
    "windows-1251": ("cp1251", "windows-1251", "x-cp1251"),
    "windows-1252": (
        "ansi_x3.4-1968",
        "ascii",
        "cp1252",
        "cp819",
        "csisolatin1",
        "ibm819",
        "iso-8859-1",
        "iso-ir-100",
        "iso8859-1",
        "iso88591",
        "iso_8859-1",
        "iso_8859-1:1987",
        "l1",
        "latin1",
        "us-ascii",
        "windows-1252",
        "x-cp1252",
    ),
    "windows-1253": ("cp1253", "windows-1253", "x-cp1253"),
    "windows-1254": (
        "cp1254",
        "csisolatin5",
        "iso-8859-9",
        "iso-ir-148",
        "iso8859-9",
        "iso88599",
        "iso_8859-9",
        "iso_8859-9:1989",
        "l5",
        "latin5",
        "windows-1254",
        "x-cp1254",
    ),
    "windows-1255": ("cp1255", "windows-1255", "x-cp1255"),
    "windows-1256": ("cp1256", "windows-1256", "x-cp1256"),
    "windows-1257": ("cp1257", "windows-1257", "x-cp1257"),
    "windows-1258": ("cp1258", "windows-1258", "x-cp1258"),
    "x-mac-cyrillic": ("x-mac-cyrillic", "x-mac-ukrainian"),
    "gbk": (
        "chinese",
        "csgb2312",
        "csiso58gb231280",
        "gb2312",
        "gb_2312",
        "gb_2312-80",
        "gbk",
        "iso-ir-58",
        "x-gbk",
    ),
    "gb18030": ("gb18030",),
    "big5": ("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"),
    "euc-jp": ("cseucpkdfmtjapanese", "euc-jp", "x-euc-jp"),
    "iso-2022-jp": ("csiso2022jp", "iso-2022-jp"),
    "shift_jis": (
        "csshiftjis",
        "ms932",
        "ms_kanji",
        "shift-jis",
        "shift_jis",
        "sjis",
        "windows-31j",
        "x-sjis",
    ),
    "euc-kr": (
        "cseuckr",
        "csksc56011987",
        "euc-kr",
        "iso-ir-149",
        "korean",
        "ks_c_5601-1987",
        "ks_c_5601-1989",
        "ksc5601",
        "ksc_5601",
        "windows-949",
    ),
    "replacement": (
        "csiso2022kr",
        "hz-gb-2312",
        "iso-2022-cn",
        "iso-2022-cn-ext",
        "iso-2022-kr",
        "replacement",
    ),
    "utf-16be": ("unicodefffe", "utf-16be"),
    "utf-16le": ("csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16", "utf-16le"),
    "x-user-defined": ("x-user-defined",),
}

#: Codecs to write with where they differ: ISO-2022-JP as browsers decode it (no JIS X 0212).
_ENCODERS: Final = {"iso-2022-jp": "iso2022_jp"}

#: Python codecs for the encodings consentkit decodes (the others are read as bytes).
_CODECS: Final = {
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
    "iso-2022-jp": "iso2022_jp_ext",
    "shift_jis": "cp932",
    "euc-jp": "euc_jp",
    "euc-kr": "cp949",
    "gbk": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
}


@dataclass(frozen=True)
class Encoding:
    """A WHATWG encoding: its name, and the Python codec consentkit transcodes it with (if any)."""

    name: str

    @property
    def codec(self) -> str | None:
        """The codec to decode with; ``None`` for encodings rewritten as bytes (ASCII-compatible)."""
        return _CODECS.get(self.name)

    @property
    def relabel_utf8(self) -> bool:
        """UTF-16 pages are sent as UTF-8 (smaller, and forms in UTF-16 pages submit UTF-8 anyway)."""
        return self.name in ("utf-16le", "utf-16be")

    @property
    def renders_nothing(self) -> bool:
        """The "replacement" encoding (ISO-2022-KR, HZ...): the page decodes to a single U+FFFD."""
        return self.name == "replacement"


_BY_LABEL: Final = {label: Encoding(name) for name, labels in _LABELS.items() for label in labels}
UTF8: Final = Encoding("utf-8")
WINDOWS_1252: Final = Encoding("windows-1252")


def lookup(label: str | bytes) -> Encoding | None:
    """The encoding for a label (``"latin1"`` is windows-1252, ``"unicode"`` UTF-16LE); None if unknown."""
    if isinstance(label, bytes):
        label = label.decode("latin-1")
    return _BY_LABEL.get(label.strip("\t\n\x0c\r ").lower())


def bom_encoding(data: bytes) -> tuple[Encoding, int] | None:
    """The encoding a byte order mark names, and the BOM's length; it overrides every label."""
    if data.startswith(b"\xef\xbb\xbf"):
        return UTF8, 3
    if data.startswith(b"\xfe\xff"):
        return Encoding("utf-16be"), 2
    if data.startswith(b"\xff\xfe"):
        return Encoding("utf-16le"), 2
    return None


_WS: Final = b"\t\n\x0c\r "
_XML_DECLARATION: Final = re.compile(
    rb"<\?xml[^>]*?encoding[\t\n\r ]*=[\t\n\r ]*[\"']([A-Za-z0-9._:-]+)[\"']"
)
_ISO2022JP_ESCAPE: Final = re.compile(rb"\x1b(?:\$[@B]|\([BJI])")


def _charset_from_content(value: bytes) -> Encoding | None:
    """HTML "extract a character encoding from a meta element" (``content="text/html; charset=..."``)."""
    lowered = value.lower()
    n = len(value)
    pos = 0
    while True:
        found = lowered.find(b"charset", pos)
        if found < 0:
            return None
        i = found + 7
        while i < n and value[i] in _WS:
            i += 1
        if i < n and value[i] == 0x3D:
            break
        pos = i
    i += 1
    while i < n and value[i] in _WS:
        i += 1
    if i >= n:
        return None
    if value[i] in (0x22, 0x27):
        end = value.find(value[i : i + 1], i + 1)
        return lookup(value[i + 1 : end]) if end > 0 else None
    start = i
    while i < n and value[i] not in _WS and value[i] != 0x3B:
        i += 1
    return lookup(value[start:i])


def _attribute(data: bytes, i: int) -> tuple[bytes, bytes, int] | None:
    """HTML "get an attribute" of the prescan: (name, value, next position) or None at ``>``/end."""
    n = len(data)
    while i < n and (data[i] in _WS or data[i] == 0x2F):
        i += 1
    if i >= n or data[i] == 0x3E:
        return None
    start = i
    while i < n:
        c = data[i]
        if c == 0x3D and i > start:
            break
        if c in _WS or c in (0x2F, 0x3E):
            break
        i += 1
    name = data[start:i].lower()
    while i < n and data[i] in _WS:
        i += 1
    if i >= n or data[i] != 0x3D:
        return name, b"", i
    i += 1
    while i < n and data[i] in _WS:
        i += 1
    if i >= n:
        return name, b"", i
    if data[i] in (0x22, 0x27):
        quote = data[i]
        end = data.find(bytes([quote]), i + 1)
        if end < 0:
            return None
        return name, data[i + 1 : end].lower(), end + 1
    start = i
    while i < n and data[i] not in _WS and data[i] != 0x3E:
        i += 1
    return name, data[start:i].lower(), i


def _letter(data: bytes, i: int) -> bool:
    return i < len(data) and (0x41 <= data[i] <= 0x5A or 0x61 <= data[i] <= 0x7A)


def prescan(data: bytes) -> Encoding | None:
    """HTML "prescan a byte stream to determine its encoding" over the first 1024 bytes."""
    return _prescan(data[:1024])


@lru_cache(maxsize=256)
def _prescan(data: bytes) -> Encoding | None:
    if b"<meta" not in data.lower():
        return None
    n = len(data)
    i = 0
    while i < n:
        if data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 2)
            if end < 0:
                return None
            i = end + 3
            continue
        if data[i : i + 5].lower() == b"<meta" and i + 5 < n and (data[i + 5] in _WS or data[i + 5] == 0x2F):
            i += 5
            seen: set[bytes] = set()
            got_pragma = False
            need_pragma: bool | None = None
            charset: Encoding | None = None
            while True:
                attr = _attribute(data, i)
                if attr is None:
                    break
                name, value, i = attr
                if name in seen:
                    continue
                seen.add(name)
                if name == b"http-equiv":
                    got_pragma = got_pragma or value == b"content-type"
                elif name == b"content" and charset is None:
                    found = _charset_from_content(value)
                    if found is not None:
                        charset, need_pragma = found, True
                elif name == b"charset":
                    charset, need_pragma = lookup(value), False
            if need_pragma is None or (need_pragma and not got_pragma) or charset is None:
                i += 1
                continue
            if charset.name in ("utf-16le", "utf-16be"):
                return UTF8
            if charset.name == "x-user-defined":
                return WINDOWS_1252
            return charset
        if (
            data[i] == 0x3C
            and i + 1 < n
            and (
                (chr(data[i + 1]).isalpha() and data[i + 1] < 0x80)
                or (data[i + 1] == 0x2F and i + 2 < n and chr(data[i + 2]).isalpha() and data[i + 2] < 0x80)
            )
        ):
            while i < n and data[i] not in _WS and data[i] != 0x3E:
                i += 1
            while True:
                attr = _attribute(data, i)
                if attr is None:
                    break
                i = attr[2]
            i += 1
            continue
        if data.startswith((b"<!", b"</", b"<?"), i):
            end = data.find(b">", i)
            if end < 0:
                return None
            i = end + 1
            continue
        i += 1
    return None


def document_encoding(
    header_charset: str | None, head: bytes, *, xml: bool = False
) -> tuple[Encoding | None, str]:
    """The encoding a browser decodes a page with, and where it came from.

    ``head`` is the start of the body (1024 bytes suffice). The source is ``"bom"``,
    ``"header"``, ``"meta"`` (or the XML declaration), ``"detected"`` (ISO-2022-JP escape
    sequences, which browsers' detectors recognise) or ``"default"`` (encoding ``None``: an
    ASCII-compatible default that depends on the browser's locale; UTF-8 for XML).
    """
    found = bom_encoding(head)
    if found is not None:
        return found[0], "bom"
    if header_charset is not None:
        encoding = lookup(header_charset)
        if encoding is not None:
            return encoding, "header"
    if not xml:
        encoding = prescan(head)
        if encoding is not None:
            return encoding, "meta"
    declaration = _XML_DECLARATION.match(head[:1024])
    if declaration is not None:
        encoding = lookup(declaration.group(1))
        if encoding is not None:
            if encoding.name in ("utf-16le", "utf-16be"):
                encoding = UTF8  # a declaration read as ASCII cannot be UTF-16
            return encoding, "meta"
    if xml:
        return UTF8, "default"
    if _ISO2022JP_ESCAPE.search(head[:1024]):
        return Encoding("iso-2022-jp"), "detected"
    return None, "default"


class Transcoder:
    """Decodes a page stream to UTF-8 for the rewriter, and the rewritten UTF-8 back to the page's encoding.

    Undecodable bytes become U+FFFD, as in a browser. Characters the target encoding cannot
    hold (only consentkit's own text can bring them) become numeric character references.
    """

    def __init__(self, encoding: Encoding) -> None:
        codec = encoding.codec
        assert codec is not None
        self.encoding = encoding
        self.target = "utf-8" if encoding.relabel_utf8 else _ENCODERS.get(encoding.name, codec)
        self._decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._encoder = codecs.getincrementalencoder(self.target)(errors="xmlcharrefreplace")

    def decode(self, data: bytes, final: bool = False) -> bytes:
        """Page bytes in, UTF-8 for the rewriter out."""
        return self._decoder.decode(data, final).encode("utf-8", "surrogatepass")

    def encode(self, data: bytes, final: bool = False) -> bytes:
        """Rewritten UTF-8 in, bytes in the encoding sent to the browser out."""
        if self.target == "utf-8":
            return data
        return self._encoder.encode(self._utf8.decode(data, final), final)
