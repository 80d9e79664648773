"""Plans as they are published: ``extract(path)`` reads a ``.txt``, ``.pdf`` (text layer, or OCR for a
page without one), ``.html``/``.htm`` or ``.docx`` file into an ``Extracted`` text with the map back
to the original (page, paragraph, element path) and the OCR'd ranges with their confidence.

The format is the suffix's, checked against the bytes (``mapping.ingest.sniff``); one module per
format; ``mapping.ingest.provenance`` turns an extraction into PROV / Web Annotation triples.
"""

from __future__ import annotations

from pathlib import Path

from mapping.ingest.model import (
    Extracted,
    Format,
    IngestError,
    Located,
    Location,
    LocationKind,
    OcrSpan,
    locate,
    ocr_spans_in,
)
from mapping.ingest.ocr import OcrSettings
from mapping.ingest.pdf import PageProgress
from mapping.ingest.sniff import SUFFIXES, detect

__all__ = [
    "SUFFIXES",
    "Extracted",
    "Format",
    "IngestError",
    "Located",
    "Location",
    "LocationKind",
    "OcrSettings",
    "OcrSpan",
    "PageProgress",
    "extract",
    "locate",
    "ocr_spans_in",
]


def extract(path: Path, *, ocr: OcrSettings | None = None, progress: PageProgress | None = None) -> Extracted:
    """The text of the plan document ``path`` and its provenance; ``IngestError`` names the file (and
    page) when it cannot be read. ``progress(done, total)`` is called after each PDF page is read."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise IngestError(path, f"cannot be read: {err.strerror or err}") from err
    fmt = detect(path, data)
    if fmt is Format.TEXT:
        from mapping.ingest.text import extract_text

        return extract_text(path, data)
    if fmt is Format.PDF:
        from mapping.ingest.pdf import extract_pdf

        return extract_pdf(path, data, ocr=ocr, progress=progress)
    if fmt is Format.HTML:
        from mapping.ingest.html import extract_html

        return extract_html(path, data)
    from mapping.ingest.docx import extract_docx

    return extract_docx(path, data)
