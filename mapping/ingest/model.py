"""What an extraction yields: the text, hashes of the original and of the text, where each range of the
text sits in the original, and which ranges were read by OCR with what confidence."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from pathlib import Path

from mapping.errors import PlanKGError


class IngestError(PlanKGError):
    """A file cannot be read as a plan document: unknown or contradictory format, corrupt, encrypted,
    no article, no text. Names the file and, where it applies, the 1-based page."""

    def __init__(self, file: Path | str, message: str, page: int | None = None) -> None:
        where = f"{file}: page {page}" if page is not None else f"{file}"
        super().__init__(f"{where}: {message}")
        self.file = str(file)
        self.page = page
        self.message = message


class Format(enum.Enum):
    """The formats a plan is read from, with their media types."""

    TEXT = "text/plain"
    PDF = "application/pdf"
    HTML = "text/html"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    @property
    def media_type(self) -> str:
        return self.value


class LocationKind(enum.Enum):
    TEXT = "text"  # a range of characters of a plain-text original (RFC 5147 char=…)
    PAGE = "page"  # a PDF page, 1-based
    PARAGRAPH = "paragraph"  # a DOCX body paragraph (w:body/w:p), 1-based
    ELEMENT = "element"  # an HTML element by its path from the root, e.g. /html/body/div[2]/p[3]
    CELL = "cell"  # a DOCX table cell: table (w:body/w:tbl), row (w:tr), cell (w:tc), each 1-based


@dataclass(frozen=True, slots=True)
class Location:
    """Where characters of the extracted text sit in the original."""

    kind: LocationKind
    page: int | None = None
    paragraph: int | None = None
    path: str | None = None
    start: int | None = None  # TEXT: code-point range of the original
    end: int | None = None
    table: int | None = None  # CELL: the k-th w:tbl directly in w:body, its w:tr, its w:tc (1-based)
    row: int | None = None
    cell: int | None = None

    def fragment(self) -> str | None:
        """The fragment identifier that opens the original here: ``page=5`` (RFC 3778, PDF) or
        ``char=10,20`` (RFC 5147, plain text); None where no fragment syntax exists (DOCX, HTML)."""
        if self.kind is LocationKind.PAGE:
            return f"page={self.page}"
        if self.kind is LocationKind.TEXT:
            return f"char={self.start},{self.end}"
        return None


@dataclass(frozen=True, slots=True)
class Located:
    """Characters ``[start, end)`` of the extracted text come from ``location`` in the original."""

    start: int
    end: int
    location: Location


@dataclass(frozen=True, slots=True)
class OcrSpan:
    """Characters ``[start, end)`` of the extracted text were read by OCR from ``page``: the engine's
    mean word confidence (0–100) over the words in the range, the engine and the resolution."""

    start: int
    end: int
    page: int
    confidence: float
    engine: str  # e.g. "tesseract 5.3.0"
    language: str  # tesseract's language, e.g. "chi_sim"
    dpi: int


@dataclass(frozen=True, slots=True)
class Extracted:
    """A plan document read from ``source_name``: its text and what ties the text to the original."""

    source_name: str  # the original's file name
    format: Format
    text: str  # for .txt exactly the file's text
    original_sha256: str
    byte_size: int
    text_sha256: str  # of ``text`` encoded as UTF-8
    locations: tuple[Located, ...]  # ordered, not overlapping
    ocr_spans: tuple[OcrSpan, ...]
    tool: str  # the library (and version) that read the original, e.g. "pdfminer.six 20260107"
    pages: int | None = None  # PDF only

    @property
    def media_type(self) -> str:
        return self.format.media_type

    @property
    def ocr_engine(self) -> str | None:
        return self.ocr_spans[0].engine if self.ocr_spans else None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def locate(extracted: Extracted, start: int, end: int) -> list[Location]:
    """Where the characters ``[start, end)`` of the extracted text sit in the original, in order
    (a span across a page break gives both pages). For a plain-text original the range itself."""
    if not 0 <= start <= end <= len(extracted.text):
        raise IndexError(f"range {start}..{end} outside 0..{len(extracted.text)}")
    found: list[Location] = []
    for item in extracted.locations:
        if item.end <= start and not (start == end == item.end):
            continue
        if item.start >= end and not (start == end == item.start):
            break
        location = item.location
        if location.kind is LocationKind.TEXT and location.start is not None:
            shift = location.start - item.start
            lo, hi = max(start, item.start), min(end, item.end)
            location = Location(LocationKind.TEXT, start=lo + shift, end=hi + shift)
        if location not in found:
            found.append(location)
    return found


def ocr_spans_in(extracted: Extracted, start: int, end: int) -> list[OcrSpan]:
    """The OCR spans that overlap ``[start, end)``."""
    return [s for s in extracted.ocr_spans if s.start < end and start < s.end]
