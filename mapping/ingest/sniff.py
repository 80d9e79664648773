"""Which format a file is in, by its bytes, checked against its suffix."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from pathlib import Path

from mapping.ingest.model import Format, IngestError

SUFFIXES: dict[str, Format] = {
    ".txt": Format.TEXT,
    ".pdf": Format.PDF,
    ".html": Format.HTML,
    ".htm": Format.HTML,
    ".docx": Format.DOCX,
}

_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc / .xls


def sniff(data: bytes) -> str:
    """What the bytes are: ``pdf``, ``zip``, ``ole2``, ``html``, ``text`` or ``binary``."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "zip"
    if data.startswith(_OLE2):
        return "ole2"
    body = head.removeprefix(b"\xef\xbb\xbf")
    if _HTML_START.match(body):
        return "html"
    if b"\x00" in data:
        return "binary"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "binary"
    return "text"


_EXPECTED = {Format.PDF: "pdf", Format.DOCX: "zip", Format.HTML: "html", Format.TEXT: "text"}
_DESCRIBED = {
    "pdf": "a PDF file",
    "zip": "a zip archive",
    "ole2": "a legacy OLE2 (.doc/.xls) file",
    "html": "an HTML page",
    "text": "plain UTF-8 text",
    "binary": "binary data that is not UTF-8 text",
}


def detect(path: Path, data: bytes) -> Format:
    """The format of ``path``: its suffix names one and its bytes agree, or an ``IngestError``."""
    suffix = path.suffix.lower()
    fmt = SUFFIXES.get(suffix)
    if fmt is None:
        known = ", ".join(sorted(SUFFIXES))
        raise IngestError(path, f"unknown format {suffix or '(no suffix)'!r}: plans are read from {known}")
    found = sniff(data)
    if found == _EXPECTED[fmt]:
        return fmt
    if fmt is Format.HTML and found == "text" and b"<" in data[:4096]:
        return fmt  # an HTML fragment without <html>: lxml reads it
    if fmt is Format.DOCX:
        raise IngestError(path, f"not a DOCX file: not a zip archive (the bytes are {_DESCRIBED[found]})")
    raise IngestError(path, f"the suffix says {suffix} but the bytes are {_DESCRIBED[found]}")


def require_docx_part(path: Path, data: bytes) -> None:
    """A DOCX is a zip holding ``word/document.xml``."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as err:
        raise IngestError(path, f"not a DOCX file: broken zip archive ({err})") from err
    if "word/document.xml" not in names:
        raise IngestError(path, "not a DOCX file: the zip archive holds no word/document.xml")
