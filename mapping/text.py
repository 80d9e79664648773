"""Normalise text extracted from a PDF, keeping a map back to code-point offsets in the original.

What normalisation does, and nothing more:

* removes page markers: on a line of their own, ``—4—``, ``- 4 -``, ``－4－``, ``–4–``, ``第4页``,
  ``第4页 共20页``, ``4/20``, ``Page 4``; anywhere in the text, the dash form ``—4—`` when neither
  neighbour is a letter or digit (extraction sometimes glues the footer to the text, and a reflowed
  text has no lines left). A bare number on a line of its own is *not* taken for a page marker: it
  cannot be told apart from a figure that a line break left alone;
* joins lines: every line break (``\\n``, ``\\r\\n``, ``\\r``, U+2028, U+2029, form feed) is dropped,
  wherever it falls, blank lines included;
* drops stray spaces (ASCII, U+3000, no-break and other Unicode spaces, tabs): a run of spaces and
  line breaks is dropped when it holds a line break (layout: a word or number broken across lines
  is joined), when it begins or ends the text, or when a neighbour is not a letter or digit of a
  non-CJK script (``数据中心 (北方)``, ``LAOX 跨境``, ``, 2023年``); only a run of spaces between two
  such letters or digits becomes one space (``Duty Free``). Byte-order marks and zero-width spaces
  are dropped;
* maps full-width forms (U+FF01..U+FF5E) to ASCII: ``（）`` → ``()``, ``，`` → ``,``, ``：`` → ``:``,
  ``；`` → ``;``, ``％`` → ``%``, ``０``-``９`` → ``0``-``9``, ``．`` → ``.``; small-form parentheses
  ``﹙﹚`` also become ``()``. ``。``, ``、`` and CJK quotes and brackets are kept as they are.

Every character of the normalised text comes from exactly one character of the original (the
mappings are one to one), so a normalised range maps back to the original range from its first to
its last character; the quote of that range is the original text, line breaks and page markers
that fall inside it included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mapping.model import Span

_LINE_BREAKS = frozenset("\n\r\u2028\u2029\x0b\x0c\x85")
_SPACES = frozenset(
    " \t\u3000\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"
)
_DROPPED = frozenset("\ufeff\u200b")  # byte-order mark / zero-width no-break space, zero-width space

_SMALL_FORMS = {"\ufe59": "(", "\ufe5a": ")"}

_DIGIT = "[0-9０-９]"
_DASH = "[—－\\-–―‒]"
_HSPACE = "[ \t\u3000\u00a0]"
_PAGE_MARKER_FORMS = (
    rf"{_DASH}{{1,2}}{_HSPACE}*{_DIGIT}{{1,4}}{_HSPACE}*{_DASH}{{1,2}}",  # —4—, - 4 -, －4－
    rf"第{_HSPACE}*{_DIGIT}{{1,4}}{_HSPACE}*页(?:{_HSPACE}*[/／,，]?{_HSPACE}*共{_HSPACE}*{_DIGIT}{{1,4}}{_HSPACE}*页)?",
    rf"{_DIGIT}{{1,4}}{_HSPACE}*[/／]{_HSPACE}*{_DIGIT}{{1,4}}",  # 4/20
    rf"(?i:page){_HSPACE}*{_DIGIT}{{1,4}}(?:{_HSPACE}*(?i:of){_HSPACE}*{_DIGIT}{{1,4}})?",
)
# A page marker on a line of its own (the line break itself is dropped as any other).
_PAGE_MARKER_LINE = re.compile(
    rf"(?m)^{_HSPACE}*(?:{'|'.join(_PAGE_MARKER_FORMS)}){_HSPACE}*(?=\r?$|[\r\u2028\u2029\x0c])"
)
# The dash form anywhere; its neighbours are checked in code (not a letter or digit).
_INLINE_DASH_MARKER = re.compile(rf"{_DASH}{{1,2}}\s*{_DIGIT}{{1,4}}\s*{_DASH}{{1,2}}")


def is_cjk(ch: str) -> bool:
    """True for CJK ideographs, kana, hangul, CJK punctuation and full-width forms."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF
        or 0xAC00 <= o <= 0xD7AF
        or 0xF900 <= o <= 0xFAFF
        or 0xFE30 <= o <= 0xFE4F
        or 0xFF00 <= o <= 0xFFEF
        or 0x20000 <= o <= 0x3FFFF
    )


def _is_word_char(ch: str) -> bool:
    """A letter or digit of a script written with spaces between words."""
    return ch.isalnum() and not is_cjk(ch)


def _fold(ch: str) -> str:
    """The one-character normal form of ``ch``: full-width forms to ASCII."""
    o = ord(ch)
    if 0xFF01 <= o <= 0xFF5E:
        return chr(o - 0xFEE0)
    return _SMALL_FORMS.get(ch, ch)


def page_marker_ranges(raw: str) -> list[tuple[int, int]]:
    """Ranges ``[start, end)`` of ``raw`` that are page markers, in order, not overlapping."""
    found: list[tuple[int, int]] = [(m.start(), m.end()) for m in _PAGE_MARKER_LINE.finditer(raw)]
    for m in _INLINE_DASH_MARKER.finditer(raw):
        before = raw[: m.start()].rstrip()
        after = raw[m.end() :].lstrip()
        if (before and _is_word_char(_fold(before[-1]))) or (after and _is_word_char(_fold(after[0]))):
            continue
        found.append((m.start(), m.end()))
    found.sort()
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True, slots=True)
class NormText:
    """Normalised text and, for each of its characters, the offset of its source character in ``raw``."""

    raw: str
    text: str
    origins: tuple[int, ...]

    def raw_offset(self, i: int) -> int:
        """Offset in ``raw`` of normalised position ``i``; ``len(text)`` maps just past the last character."""
        if not 0 <= i <= len(self.text):
            raise IndexError(f"position {i} outside 0..{len(self.text)}")
        if i < len(self.text):
            return self.origins[i]
        return self.origins[-1] + 1 if self.origins else len(self.raw)

    def span(self, i: int, j: int) -> Span:
        """The original characters of normalised ``text[i:j]``: from the first one's to the last one's."""
        if not 0 <= i <= j <= len(self.text):
            raise IndexError(f"range {i}..{j} outside 0..{len(self.text)}")
        start = self.raw_offset(i)
        end = self.origins[j - 1] + 1 if j > i else start
        return Span(start, end, self.raw[start:end])


def normalise(raw: str) -> NormText:
    """Normalise ``raw`` (see the module documentation) with the map back to its offsets."""
    removed = page_marker_ranges(raw)
    chars: list[str] = []
    origins: list[int] = []
    pending_space: int | None = None  # offset of the first space of the current run, if any
    in_run = False  # inside a run of spaces and line breaks
    run_has_break = False
    marker = 0
    i = 0
    n = len(raw)
    while i < n:
        if marker < len(removed) and i == removed[marker][0]:
            i = removed[marker][1]
            marker += 1
            continue
        ch = raw[i]
        if ch in _LINE_BREAKS or ch in _SPACES:
            if not in_run:
                in_run = True
                pending_space = None
                run_has_break = False
            if ch in _LINE_BREAKS:
                run_has_break = True
            elif pending_space is None:
                pending_space = i
            i += 1
            continue
        if ch in _DROPPED:
            i += 1
            continue
        folded = _fold(ch)
        if in_run:
            in_run = False
            if (
                pending_space is not None
                and not run_has_break
                and chars
                and _is_word_char(chars[-1])
                and _is_word_char(folded)
            ):
                chars.append(" ")
                origins.append(pending_space)
        chars.append(folded)
        origins.append(i)
        i += 1
    return NormText(raw, "".join(chars), tuple(origins))
