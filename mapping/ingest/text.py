"""A plain-text plan: the file's text exactly as shipped (no newline translation), so offsets into it
are offsets into the original."""

from __future__ import annotations

from pathlib import Path

from mapping.ingest.model import Extracted, Format, IngestError, Located, Location, LocationKind, sha256


def extract_text(path: Path, data: bytes) -> Extracted:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise IngestError(path, f"not UTF-8: byte 0x{data[err.start]:02x} at byte {err.start}") from err
    whole = Located(0, len(text), Location(LocationKind.TEXT, start=0, end=len(text)))
    return Extracted(
        source_name=path.name,
        format=Format.TEXT,
        text=text,
        original_sha256=sha256(data),
        byte_size=len(data),
        text_sha256=sha256(data),
        locations=(whole,) if text else (),
        ocr_spans=(),
        tool="utf-8",
    )
