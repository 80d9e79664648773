"""A Word (.docx) plan read with python-docx: the body's paragraphs and tables in document order
(headers, footers and comments live in other parts of the package and are not read).

* A body paragraph gives one line; its place is its 1-based index among the ``w:p`` directly in
  ``w:body`` (empty ones counted, though they give no line).
* A table gives one line per row, its cells (``w:tc`` in the row, left to right, the empty ones left
  out) separated by a tab; each cell's place is table (1-based among the ``w:tbl`` directly in
  ``w:body``), row (``w:tr``) and cell (``w:tc``, so a cell merged across columns counts once). A cell's
  text is its paragraphs (nested tables' too) joined by a space, its own tabs and line breaks made
  spaces, so that a row stays one line.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from mapping.ingest.model import Extracted, Format, IngestError, Located, Location, LocationKind, sha256
from mapping.ingest.sniff import require_docx_part

_TOOL = f"python-docx {metadata.version('python-docx')}"
_CELL_BREAKS = re.compile(r"\s*[\t\n\r]+\s*")
CELL_SEPARATOR = "\t"


def extract_docx(path: Path, data: bytes) -> Extracted:
    """The document's text, a line per body paragraph with text and per table row (see the module)."""
    require_docx_part(path, data)
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise IngestError(path, f"not a readable DOCX file: {err}") from err
    lines: list[list[tuple[str, Location]]] = list(_lines(document))
    parts: list[str] = []
    locations: list[Located] = []
    length = 0
    for line in lines:
        if parts:
            parts.append("\n")
            length += 1
        for k, (text, location) in enumerate(line):
            if k:
                parts.append(CELL_SEPARATOR)
                length += len(CELL_SEPARATOR)
            locations.append(Located(length, length + len(text), location))
            parts.append(text)
            length += len(text)
    text = "".join(parts)
    if not text:
        raise IngestError(path, "no text: the document's body holds no paragraph or table cell with text")
    return Extracted(
        source_name=path.name,
        format=Format.DOCX,
        text=text,
        original_sha256=sha256(data),
        byte_size=len(data),
        text_sha256=sha256(text.encode("utf-8")),
        locations=tuple(locations),
        ocr_spans=(),
        tool=_TOOL,
    )


def _lines(document: Any) -> Iterator[list[tuple[str, Location]]]:
    """The body in document order: a one-piece line per paragraph with text, a line of cells per table
    row with text."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    body = document.element.body
    paragraph = table = 0
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            paragraph += 1
            text = Paragraph(child, document).text.strip()
            if text:
                yield [(text, Location(LocationKind.PARAGRAPH, paragraph=paragraph))]
        elif child.tag == qn("w:tbl"):
            table += 1
            for row, tr in enumerate(child.iterchildren(qn("w:tr")), start=1):
                cells = []
                for cell, tc in enumerate(tr.iterchildren(qn("w:tc")), start=1):
                    texts = (Paragraph(p, document).text for p in tc.iter(qn("w:p")))
                    text = " ".join(_CELL_BREAKS.sub(" ", t).strip() for t in texts if t.strip())
                    if text:
                        where = Location(LocationKind.CELL, table=table, row=row, cell=cell)
                        cells.append((text, where))
                if cells:
                    yield cells
