"""From the printed lines of a paged document to its text: page headers, footers, page numbers and
running titles removed, the print's line breaks inside a paragraph joined.

Lines come from the PDF text layer (``pdf``) or from OCR (``ocr``) with their boxes as fractions of
the page. The rules, each tested in ``tests/test_ingest_reflow.py``:

* **Margin bands.** Only a line lying wholly in the top or bottom ``BAND`` (8 %) of its page can be a
  header or a footer.
* **Page numbers.** A line in a band that is a page number — ``- 5 -``, ``—4—``, ``第5页``, ``第5页
  共9页``, ``5/9``, ``Page 5``, a bare ``5`` — is dropped. OCR reads the dash as ``一``: ``一 5 一``
  in a band is a page number too.
* **Running titles.** A line in a band whose text (digits masked) recurs at the same height (within
  2 % of the page) on at least two pages and on at least half of the pages is dropped.
* **Joining.** Consecutive kept lines are joined (CJK: without a space; a space only between two Latin
  letters) unless the break is kept: the next line opens a heading (``一、``, ``（一）``, ``(一)``,
  ``1.``, ``1、``, ``（1）``); the line ends a sentence (``。！？；：`` or a closing quote after one);
  the next line is indented by more than one character; the line stops short of the column's right
  edge by more than two characters; the vertical gap exceeds 1.8 line heights. Across a page break
  the same rules apply (a paragraph continues on the next page).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from mapping.ingest.model import Located, Location, LocationKind

BAND = 0.08
_SAME_HEIGHT = 0.02

_DASH = "[—－\\-–―‒~一]"
_PAGE_NUMBER = re.compile(
    rf"^(?:{_DASH}{{1,2}}\s*\d{{1,4}}\s*{_DASH}{{1,2}}"
    r"|第\s*\d{1,4}\s*页(?:\s*[/／,，]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*[/／]\s*\d{1,4}"
    r"|(?i:page)\s*\d{1,4}(?:\s*(?i:of)\s*\d{1,4})?"
    r"|\d{1,4})$"
)
_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百]+[)）]|\d{1,3}[.、．](?!\d)|[（(]\d{1,3}[)）])"
)
_SENTENCE_END = re.compile(r"[。！？；：!?;:][”’」』)）]?$")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True, slots=True)
class Line:
    """A printed line: its text and box (fractions of the page, 0 at the top left)."""

    page: int  # 1-based
    text: str
    left: float
    top: float
    right: float
    bottom: float
    char_width: float  # typical width of one character, as a fraction of the page width
    confidence: float | None = None  # OCR: mean word confidence (0–100); None for a text layer


@dataclass(frozen=True, slots=True)
class Piece:
    """A kept line placed in the text: ``text[start:end]`` came from ``line``."""

    start: int
    end: int
    line: Line


def is_page_number(text: str) -> bool:
    return _PAGE_NUMBER.match(text.strip().replace("\u3000", " ")) is not None


def _in_band(line: Line) -> bool:
    return line.bottom <= BAND or line.top >= 1 - BAND


def _mask(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def drop_margins(lines: Sequence[Line], pages: int) -> list[Line]:
    """``lines`` without page numbers and running titles in the margin bands."""
    recurring: Counter[tuple[str, int]] = Counter()
    seen: set[tuple[str, int, int]] = set()
    for line in lines:
        if _in_band(line):
            key = (_mask(line.text), round(line.top / _SAME_HEIGHT), line.page)
            if key not in seen:
                seen.add(key)
                recurring[key[:2]] += 1
    threshold = max(2, (pages + 1) // 2)

    def running(line: Line) -> bool:
        height = round(line.top / _SAME_HEIGHT)
        text = _mask(line.text)
        return sum(recurring[(text, h)] for h in (height - 1, height, height + 1)) >= threshold

    return [ln for ln in lines if not (_in_band(ln) and (is_page_number(ln.text) or running(ln)))]


def _keeps_break(prev: Line, nxt: Line, column_left: float, column_right: float) -> bool:
    before, after = prev.text.rstrip(), nxt.text.lstrip()
    width = max(prev.char_width, nxt.char_width, 1e-6)
    if _HEADING.match(after) or _SENTENCE_END.search(before):
        return True
    if nxt.left - column_left > 1.0 * width:
        return True
    if column_right - prev.right > 2.0 * width:
        return True
    if nxt.page == prev.page:
        height = max(prev.bottom - prev.top, 1e-6)
        if nxt.top - prev.bottom > 0.8 * height:  # a gap of more than 1.8 line heights, top to top
            return True
    return False


def _joiner(before: str, after: str) -> str:
    if before and after and _LATIN.match(before[-1]) and _LATIN.match(after[0]):
        return " "
    return ""


def reflow(lines: Sequence[Line]) -> tuple[str, list[Piece]]:
    """Join ``lines`` (already without margins, in reading order) into the text, and where each
    line went."""
    pieces: list[Piece] = []
    if not lines:
        return "", pieces
    column_left = min(ln.left for ln in lines)
    column_right = max(ln.right for ln in lines)
    out: list[str] = []
    length = 0
    prev: Line | None = None
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        if prev is not None:
            sep = "\n" if _keeps_break(prev, line, column_left, column_right) else _joiner(out[-1], text)
            out.append(sep)
            length += len(sep)
        out.append(text)
        pieces.append(Piece(length, length + len(text), line))
        length += len(text)
        prev = line
    return "".join(out), pieces


def page_locations(pieces: Sequence[Piece]) -> tuple[Located, ...]:
    """One ``Located`` per run of pieces on the same page, covering the separators between them."""
    runs: list[Located] = []
    for piece in pieces:
        page = piece.line.page
        if runs and runs[-1].location.page == page:
            runs[-1] = Located(runs[-1].start, piece.end, runs[-1].location)
        else:
            start = runs[-1].end if runs else 0
            runs.append(Located(start, piece.end, Location(LocationKind.PAGE, page=page)))
    return tuple(runs)
