"""A Word (.docx) plan read with python-docx: the body's paragraphs in order, one line each (headers,
footers and comments live in other parts of the package and are not read)."""

from __future__ import annotations

import io
import zipfile
from importlib import metadata
from pathlib import Path

from mapping.ingest.model import Extracted, Format, IngestError, Located, Location, LocationKind, sha256
from mapping.ingest.sniff import require_docx_part

_TOOL = f"python-docx {metadata.version('python-docx')}"


def extract_docx(path: Path, data: bytes) -> Extracted:
    """Paragraph ``k`` (1-based, counting every ``w:p`` directly in ``w:body``, empty ones too) gives one
    line of the text; empty paragraphs give none."""
    require_docx_part(path, data)
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise IngestError(path, f"not a readable DOCX file: {err}") from err
    parts: list[str] = []
    locations: list[Located] = []
    length = 0
    for k, paragraph in enumerate(document.paragraphs, start=1):
        text = paragraph.text.strip()
        if not text:
            continue
        if parts:
            parts.append("\n")
            length += 1
        locations.append(Located(length, length + len(text), Location(LocationKind.PARAGRAPH, paragraph=k)))
        parts.append(text)
        length += len(text)
    text = "".join(parts)
    if not text:
        raise IngestError(path, "no text: the document's body holds no paragraph with text")
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
