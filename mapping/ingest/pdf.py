"""A PDF's text: the text layer read with pdfminer.six (per-character boxes, so margins can be told
apart), pages without a text layer read by OCR (``mapping.ingest.ocr``); then ``reflow``."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTChar, LTPage, LTTextContainer, LTTextLine
from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
from pdfminer.pdfexceptions import PDFException
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.psexceptions import PSException

from mapping.ingest.glyphs import fix_glyphs
from mapping.ingest.model import Extracted, Format, IngestError, OcrSpan, sha256
from mapping.ingest.ocr import OcrSettings, ocr_page, page_lines
from mapping.ingest.reflow import Line, drop_margins, page_locations, reflow

PageProgress = Callable[[int, int], None]  # (pages read, pages in all)
_TOOL = f"pdfminer.six {metadata.version('pdfminer.six')}"


@contextmanager
def _quiet_pdfminer() -> Iterator[None]:
    """pdfminer logs a warning per glyph of fonts without a FontBBox (Chromium's); they say nothing
    about the text, so they are held back while a PDF is read."""
    logger = logging.getLogger("pdfminer")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _page_count(path: Path, data: bytes) -> int:
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        return sum(1 for _ in PDFPage.create_pages(document))
    except PDFPasswordIncorrect as err:
        raise IngestError(path, "encrypted PDF: it cannot be opened without a password") from err
    except (PDFException, PSException, ValueError, KeyError, TypeError) as err:
        raise IngestError(path, f"corrupt PDF: {type(err).__name__}: {err}".rstrip(": ")) from err


def _text_lines(page: LTPage, number: int) -> Iterator[Line]:
    width, height = page.width or 1.0, page.height or 1.0

    def walk(item: object) -> Iterator[LTTextLine]:
        if isinstance(item, LTTextLine):
            yield item
        elif isinstance(item, (LTTextContainer, LTPage)):
            for child in item:
                yield from walk(child)

    for line in walk(page):
        text = fix_glyphs(line.get_text().strip())
        if not text:
            continue
        chars = sorted(c.width for c in line if isinstance(c, LTChar) and c.get_text().strip())
        char_width = chars[len(chars) // 2] if chars else line.width / max(len(text), 1)
        yield Line(
            page=number,
            text=text,
            left=line.x0 / width,
            top=(height - line.y1) / height,
            right=line.x1 / width,
            bottom=(height - line.y0) / height,
            char_width=char_width / width,
        )


def _reading_order(lines: list[Line]) -> list[Line]:
    """Top to bottom, then left to right (plans are set in one column)."""
    return sorted(lines, key=lambda ln: (ln.page, round(ln.top * 200), ln.left))


def extract_pdf(
    path: Path,
    data: bytes,
    *,
    ocr: OcrSettings | None = None,
    progress: PageProgress | None = None,
) -> Extracted:
    """The text of the PDF ``path`` (bytes ``data``); see the module documentation."""
    with _quiet_pdfminer():
        return _extract_pdf(path, data, ocr or OcrSettings(), progress)


def _extract_pdf(path: Path, data: bytes, ocr: OcrSettings, progress: PageProgress | None) -> Extracted:
    total = _page_count(path, data)
    digest = sha256(data)
    lines: list[Line] = []
    ocr_pages: list[int] = []
    engine = ""
    try:
        for number, page in enumerate(extract_pages(io.BytesIO(data), laparams=LAParams()), start=1):
            found = _reading_order(list(_text_lines(page, number)))
            if not found:
                result = ocr_page(path, digest, number, ocr)
                engine = result.engine
                found = page_lines(result, number)
                ocr_pages.append(number)
            lines += found
            if progress is not None:
                progress(number, total)
    except IngestError:
        raise
    except (PDFException, PSException, ValueError, KeyError, TypeError) as err:
        raise IngestError(path, f"corrupt PDF: {type(err).__name__}: {err}") from err

    kept = drop_margins(lines, total)
    text, pieces = reflow(kept)
    if not text.strip():
        if ocr_pages:
            pages = ", ".join(map(str, ocr_pages))
            raise IngestError(
                path,
                f"no text: the pages have no text layer and OCR found none (pages {pages})",
                ocr_pages[0],
            )
        raise IngestError(path, "no text: the PDF's pages hold no characters")
    spans = tuple(
        OcrSpan(p.start, p.end, p.line.page, round(p.line.confidence, 2), engine, ocr.language, ocr.dpi)
        for p in pieces
        if p.line.confidence is not None
    )
    tool = _TOOL if not ocr_pages else f"{_TOOL}; {engine} ({ocr.language}, {ocr.dpi} dpi)"
    return Extracted(
        source_name=path.name,
        format=Format.PDF,
        text=text,
        original_sha256=digest,
        byte_size=len(data),
        text_sha256=sha256(text.encode("utf-8")),
        locations=page_locations(pieces),
        ocr_spans=spans,
        tool=tool,
        pages=total,
    )
