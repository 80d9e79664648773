"""Read the heading hierarchy of a Chinese official document into :mod:`mapping.outline_model`.

GB/T 9704-2012 numbers the levels of a document ``一、`` / ``(一)`` / ``1.`` / ``(1)``; plans also use
``①`` below those. This reader works on the normalised text of :mod:`mapping.text` (full-width
brackets, points and digits are folded, so ``（一）`` and ``(一)``, ``1．``, ``１．`` and ``1.`` are read
alike) and maps every position back to the file as shipped.

* **markers**: ``一、`` (Chinese numeral and 、), ``(一)``, ``1.`` or ``1、`` (one to three digits, not
  followed by a digit: ``1.5`` and the year ``2025.`` are no markers), ``(1)``, ``①``…``⑳``.
  Parenthesised text that is not a bare number (``(北方)``, ``(以下简称起步区)``, ``(REITs)``,
  ``(2023—2025年)``) never is one.
* **where a heading may stand**: it starts a paragraph, or follows a sentence end. It starts a
  paragraph when it starts a source line that is indented (a space or U+3000 first), or whose line
  before ends with ``。!?:;`` (possibly followed by closing quotes or brackets) or is not a *full*
  line; it follows a sentence end when ``。!?``
  (possibly with closers) comes just before it on the same line. A marker after ``:`` or ``;``
  mid-line (``包括:(1)…;(2)…``) is an inline enumeration, text of its division. A line is *full*
  when its display width (CJK and other wide characters 2, the rest 1) is at least 75% of the 90th
  percentile of the document's line widths: the extraction wrapped it, the paragraph runs on.
  A marker that starts an unindented line after a full one may still be a heading, and then the
  numbering decides, not the layout: it is one when the line before holds nothing but the title of
  the heading just read (``一、总体要求`` alone on a line as wide as the text, then ``（一）…``) and
  its number is exactly the next the sequence allows there (no "skips a number" error is raised
  for it: otherwise it is text, the line before running on).
* **nesting**: the open headings form a stack of strictly increasing GB/T rank. A marker of a style
  on the stack is a sibling of that entry (deeper entries close); a marker of another style closes
  the entries of equal or lower rank and opens a child of the one left (so ``1.`` items may stand
  directly under a ``一、`` part, and ``(一)`` after them closes them). ``level`` is the depth.
* **numbering**: a sibling must be numbered one more than the sibling before it; a first child 1
  (the numbering *restarts*) or one more than the last number of its style anywhere before (it
  *runs across* the document). Which of the two the text does is recorded per style
  (:class:`~mapping.outline_model.StyleNumbering`); a document that does both for one style is an
  error. A marker at a heading's place whose number is near what was expected but wrong (a
  repeat, or up to three numbers skipped) raises :class:`~mapping.errors.DocumentError` at the
  marker, ``file:line:column``; a number far from it (a year, a figure) is text.
* **title**: from just after the marker to the first of ``。!?:;``, the next marker, the opening of a
  key-project statistics paragraph (the Jinan genre, :func:`mapping.parser.find_statistics`), or the
  end of the heading's source line when that line is not full or the next line is indented. One
  rule for every level: a standalone
  heading (``一、总体要求``, ``(一)指导思想``, usual at levels 1 and 2) ends with its line; a run-in
  heading (``1.加快产业升级。…``, usual at levels 3 and 4) is its first sentence or clause, without
  the stop. A heading without title characters is an error.
* **document title**: the text before the first heading up to the period in parentheses
  ``(2023—2025年)`` when it comes before the first ``,`` or ``。``; otherwise up to the last
  ``计划/方案/规划/意见/纲要/办法/通知/决定`` before the first punctuation; otherwise the first line.
  The **preamble** is the rest of the text before the first heading.
* **role**: a division is frame by its title (``mapping/data/roles.toml``) or because its parent
  is; every other division carries actions.

:func:`shape_of` tells the Jinan genre (:attr:`Shape.PILLARS_AND_TASKS`) from the rest. The shape is
decided on the headings before titles are cut; in the genre, titles follow the genre's own rule
(a part's title runs to its statistics paragraph, ``。`` or first task; a task's is its first
sentence), which is :mod:`mapping.parser`'s and does not depend on the layout of the lines.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from mapping.entities import CatalogueEntry, CatalogueError, read_data_file
from mapping.errors import DocumentError, Location
from mapping.model import Span
from mapping.numbers import parse_chinese
from mapping.outline_model import (
    Division,
    NumberingStyle,
    Outline,
    Role,
    Sequencing,
    Shape,
    StyleNumbering,
)
from mapping.parser import find_statistics
from mapping.text import NormText, normalise, page_marker_ranges

__all__ = ["RoleRules", "load_role_rules", "read_outline", "role_of", "shape_of"]

ROLES_FILE = Path(__file__).parent / "data" / "roles.toml"

_CN = "[〇零一二两三四五六七八九十百千]+"
_MARKERS = re.compile(
    rf"(?P<cc>{_CN})、"
    rf"|\((?P<cp>{_CN})\)"
    r"|(?<![0-9.])(?P<ap>[0-9]{1,3})[.、](?![0-9])"
    r"|\((?P<pp>[0-9]{1,3})\)"
    r"|(?P<ci>[\u2460-\u2473])"
)
_STYLE_OF_GROUP = {
    "cc": NumberingStyle.CHINESE_COMMA,
    "cp": NumberingStyle.CHINESE_PAREN,
    "ap": NumberingStyle.ARABIC_POINT,
    "pp": NumberingStyle.ARABIC_PAREN,
    "ci": NumberingStyle.CIRCLED,
}
_CLOSERS = "”’」』)》】"
_SENTENCE_END = "。!?"
_PARAGRAPH_END = "。!?:;"
_TITLE_STOP = re.compile("[。!?:;]")
_LINE_BREAK = re.compile("\r\n|[\n\r\u2028\u2029\x0b\x0c\x85]")
_PERIOD = re.compile(r"\((\d{4})\s*(?:[—–\-~―]{1,2}|至|到)\s*(\d{4})\s*年?\)")
_TITLE_WORD = re.compile("计划|方案|规划|意见|纲要|办法|通知|决定")
_FULL_LINE_SHARE = 0.75
_NEAR_AFTER = 3  # numbers skipped that still count as a broken sequence, not as text

_GROUP_MARKERS = {
    NumberingStyle.CHINESE_COMMA: ("", "、"),
    NumberingStyle.CHINESE_PAREN: ("(", ")"),
    NumberingStyle.ARABIC_POINT: ("", "."),
    NumberingStyle.ARABIC_PAREN: ("(", ")"),
    NumberingStyle.CIRCLED: ("", ""),
}


# -- roles ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoleRules:
    """The frame titles of ``mapping/data/roles.toml``."""

    exact: frozenset[str]
    suffix: tuple[str, ...]


def load_role_rules(path: Path = ROLES_FILE) -> RoleRules:
    """The frame titles of ``roles.toml``; a malformed file raises
    :class:`~mapping.entities.CatalogueError` naming the file, the entry and what is wrong."""
    data = read_data_file(path)
    unknown = sorted(set(data) - {"frame"})
    if unknown:
        raise CatalogueError(path.name, "file", f"unknown section(s) {', '.join(unknown)}")
    frame = data.get("frame")
    if not isinstance(frame, dict):
        raise CatalogueError(path.name, "file", "no [frame] table")
    e = CatalogueEntry(path.name, "frame", 1, frame)
    e.label = "frame"
    exact, suffix = e.texts("exact"), e.texts("suffix")
    e.done()
    return RoleRules(frozenset(normalise(w).text for w in exact), tuple(normalise(w).text for w in suffix))


def role_of(title: str, rules: RoleRules, *, parent: Role | None = None) -> Role:
    """The role of a division with this (normalised) title under a parent of role ``parent``."""
    if parent is Role.FRAME:
        return Role.FRAME
    bare = title.rstrip("。:;")
    if bare in rules.exact or bare.endswith(rules.suffix):
        return Role.FRAME
    return Role.ACTION


# -- reading -------------------------------------------------------------------------------------


def _display_width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in line)


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int  # normalised position of the marker's first character
    end: int  # just after the marker
    style: NumberingStyle
    number: int
    numeral: str
    run_on: bool = False  # starts a line after a full one: a heading only where the sequence wants it


@dataclass(slots=True)
class _Open:
    """A heading being read: its marker, where its title ends, and its children so far."""

    candidate: _Candidate
    title_end: int
    path: tuple[int, ...]
    children: list[_Open] = field(default_factory=list)
    end: int = -1


class _Reader:
    def __init__(self, raw: str, source_name: str, rules: RoleRules, norm: NormText | None) -> None:
        self.raw = raw
        self.source_name = source_name
        self.rules = rules
        self.norm: NormText = norm if norm is not None else normalise(raw)
        self.text = self.norm.text
        self._lines()

    # -- source lines --------------------------------------------------------------------------

    def _lines(self) -> None:
        """Start offsets of the source lines and which lines are full (see the module docs)."""
        starts = [0]
        for line_break in _LINE_BREAK.finditer(self.raw):
            starts.append(line_break.end())
        self.line_starts = starts
        markers = page_marker_ranges(self.raw)
        widths: list[int] = []
        next_marker = 0
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(self.raw)
            parts, at = [], start
            while next_marker < len(markers) and markers[next_marker][0] < end:  # markers are no text
                m_start, m_end = markers[next_marker]
                parts.append(self.raw[at : max(at, m_start)])
                at = max(at, min(m_end, end))
                if m_end > end:
                    break  # a marker running over the line break: the next line holds its rest
                next_marker += 1
            parts.append(self.raw[at:end])
            widths.append(_display_width("".join(parts).strip()))
        filled = sorted(w for w in widths if w)
        wrap = filled[min(len(filled) - 1, int(len(filled) * 0.9))] if filled else 0
        self.full = [w > 0 and w >= _FULL_LINE_SHARE * wrap for w in widths]
        self.indented = [self.raw[start : start + 1] in (" ", "\t", "\u3000", "\u00a0") for start in starts]

    def line_of(self, raw_offset: int) -> int:
        return bisect.bisect_right(self.line_starts, raw_offset) - 1

    def error(self, message: str, i: int) -> DocumentError:
        return DocumentError(message, Location.at(self.source_name, self.raw, self.norm.raw_offset(i)))

    def span(self, i: int, j: int) -> Span:
        return self.norm.span(i, j)

    def printed(self, candidate: _Candidate) -> str:
        """The marker as the source prints it (full-width brackets and all), for messages."""
        return self.span(candidate.start, candidate.end).quote

    # -- where headings may stand --------------------------------------------------------------

    def _before_closers(self, i: int) -> int:
        j = i
        while j > 0 and self.text[j - 1] in _CLOSERS:
            j -= 1
        return j

    def heading_place(self, i: int) -> bool | None:
        """True where a heading may stand (see the module docs); None where a marker starts a line
        that the full line before it may run on into (a heading only if the numbering wants one
        there: :meth:`run_on_heading`); False elsewhere."""
        if i == 0:
            return True
        origins = self.norm.origins
        line = self.line_of(origins[i])
        previous_line = self.line_of(origins[i - 1])
        j = self._before_closers(i)
        if previous_line < line:  # starts a source line
            if (
                j == 0
                or self.text[j - 1] in _PARAGRAPH_END
                or not self.full[previous_line]
                or self.indented[line]
            ):
                return True
            return None
        return j > 0 and self.text[j - 1] in _SENTENCE_END

    def run_on_heading(self, candidate: _Candidate, last: _Candidate | None, expected: set[int]) -> bool:
        """A marker at the start of a line after a full one is a heading when the line before holds
        nothing but the title of the heading just read (``一、总体要求`` on its own line) and its
        number is the one the sequence expects next: numbering and sequence decide, not the layout."""
        if last is None or candidate.number not in expected:
            return False
        origins = self.norm.origins
        line = self.line_of(origins[candidate.start])
        if self.line_of(origins[last.start]) != line - 1:
            return False
        return _TITLE_STOP.search(self.text, last.end, candidate.start) is None

    def candidates(self) -> list[_Candidate]:
        """Markers at a heading's place, in order (whether they are headings is for the numbering)."""
        found = []
        for m in _MARKERS.finditer(self.text):
            group = m.lastgroup
            assert group is not None
            numeral = m.group(group)
            style = _STYLE_OF_GROUP[group]
            if style is NumberingStyle.CIRCLED:
                number = ord(numeral) - 0x2460 + 1
            elif style in (NumberingStyle.ARABIC_POINT, NumberingStyle.ARABIC_PAREN):
                number = int(numeral)
            else:
                try:
                    number = parse_chinese(numeral)
                except ValueError:
                    continue
            place = self.heading_place(m.start()) if number >= 1 else False
            if place is False:
                continue
            found.append(_Candidate(m.start(), m.end(), style, number, numeral, run_on=place is None))
        return found

    def title_end(self, start: int, limit: int) -> int:
        """Where the title beginning at ``start`` ends (see the module documentation)."""
        stop = _TITLE_STOP.search(self.text, start, limit)
        end = stop.start() if stop else limit
        statistics = find_statistics(self.text, start, end)
        if statistics is not None and statistics > start:
            end = statistics
        origins = self.norm.origins
        if start < end:
            line = self.line_of(origins[start])
            k = start
            while k < end:
                here = self.line_of(origins[k])
                if here != line:
                    if not self.full[line] or self.indented[here]:
                        return k
                    line = here
                k += 1
        return end

    # -- the document title --------------------------------------------------------------------

    def plan_title(self, limit: int) -> tuple[int, tuple[int, int] | None, Span | None]:
        text = self.text
        period = _PERIOD.search(text, 0, limit)
        if period is not None and not re.search("[,。]", text[: period.start()]):
            years = (int(period.group(1)), int(period.group(2)))
            return period.end(), years, self.span(period.start(), period.end())
        punctuation = re.search("[,。:;!?]", text[:limit])
        head_end = punctuation.start() if punctuation else limit
        words = list(_TITLE_WORD.finditer(text, 0, head_end))
        if words:
            return words[-1].end(), None, None
        if not self.norm.origins:
            return 0, None, None
        first_line = self.line_of(self.norm.origins[0])
        k = 0
        while k < limit and self.line_of(self.norm.origins[k]) == first_line:
            k += 1
        return k, None, None


@dataclass(slots=True)
class _Numbering:
    """Per style: the last number read anywhere, and how the text runs it."""

    last: int = 0
    sequencing: Sequencing | None = None
    decided_at: tuple[int, ...] | None = None


def _printed(style: NumberingStyle, numeral: str) -> str:
    before, after = _GROUP_MARKERS[style]
    return f"{before}{numeral}{after}"


def _describe(style: NumberingStyle, number: int) -> str:
    """A marker of ``style`` with value ``number``, as a message shows it."""
    if style in (NumberingStyle.CHINESE_COMMA, NumberingStyle.CHINESE_PAREN):
        numeral = _chinese(number)
    elif style is NumberingStyle.CIRCLED:
        numeral = chr(0x2460 + number - 1) if 1 <= number <= 20 else str(number)
    else:
        numeral = str(number)
    return _printed(style, numeral)


def _chinese(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


def read_outline(
    raw: str, *, source_name: str, rules: RoleRules | None = None, norm: NormText | None = None
) -> Outline:
    """Read the text of a document (the file as shipped, decoded) into its :class:`Outline`.

    ``rules`` defaults to ``mapping/data/roles.toml``; ``norm``, when given, is ``normalise(raw)``
    already computed (a build that also extracts citations normalises once)."""
    if norm is not None and norm.raw is not raw and norm.raw != raw:
        raise ValueError("norm is not the normalisation of raw")
    reader = _Reader(raw, source_name, rules or load_role_rules(), norm)
    text = reader.text
    if not text:
        raise DocumentError("empty document", Location.at(source_name, raw, 0))

    numbering: dict[NumberingStyle, _Numbering] = {}
    top: list[_Open] = []
    stack: list[_Open] = []
    candidates = reader.candidates()
    for k, candidate in enumerate(candidates):
        style = candidate.style
        state = numbering.setdefault(style, _Numbering())
        index, expected = _expected(candidate, [entry.candidate for entry in stack], state)
        siblings_of = (
            stack[:index] if index is not None else [e for e in stack if e.candidate.style.rank < style.rank]
        )
        last = stack[-1].candidate if stack else None
        if candidate.run_on and not reader.run_on_heading(candidate, last, expected):
            continue  # a line the full line before runs on into
        if candidate.number not in expected:
            near = any(e - 1 <= candidate.number <= e + _NEAR_AFTER for e in expected)
            if index is None and state.last and candidate.number in (1, state.last + 1):
                way = "restarts at 1" if candidate.number == 1 else "runs on across the document"
                was = "ran on across" if state.sequencing is Sequencing.ACROSS else "restarted under"
                raise reader.error(
                    f"{reader.printed(candidate)} {way}, but this numbering {was} its parents before",
                    candidate.start,
                )
            if near:
                wanted = " or ".join(_describe(style, e) for e in sorted(expected))
                what = "repeats" if any(candidate.number < e for e in expected) else "skips"
                raise reader.error(
                    f"heading {reader.printed(candidate)} {what} a number: expected {wanted}",
                    candidate.start,
                )
            continue  # a number far from the sequence: a year, a figure, not a heading

        for closing in stack[len(siblings_of) :]:
            closing.end = candidate.start
        parent = siblings_of[-1] if siblings_of else None
        if index is None and state.last:
            decided = Sequencing.RESTART if candidate.number == 1 else Sequencing.ACROSS
            if state.sequencing is None:
                state.sequencing = decided
                state.decided_at = (*(parent.path if parent else ()), len(_children(parent, top)) + 1)
        state.last = candidate.number
        siblings = _children(parent, top)
        path = (*(parent.path if parent else ()), len(siblings) + 1)
        heads = [*(entry.candidate for entry in siblings_of), candidate]
        limit = next(
            (
                c.start
                for c in candidates[k + 1 :]
                if not c.run_on
                or reader.run_on_heading(
                    c, candidate, _expected(c, heads, numbering.get(c.style, _Numbering()))[1]
                )
            ),
            len(text),
        )
        title_end = reader.title_end(candidate.end, limit)
        if title_end == candidate.end:
            raise reader.error(f"heading {reader.printed(candidate)} has no title", candidate.end)
        opened = _Open(candidate, title_end, path)
        siblings.append(opened)
        stack[:] = [*siblings_of, opened]

    if not top:
        raise reader.error("no heading (一、, (一), 1. or (1)) in the document", len(text))
    for entry in stack:
        entry.end = len(text)

    shape = _shape(reader, top, numbering)
    if shape is Shape.PILLARS_AND_TASKS:
        _genre_titles(reader, top)

    first = top[0].candidate.start
    title_end, period, period_span = reader.plan_title(first)
    if title_end == 0:
        raise reader.error("no document title before the first heading", 0)
    divisions = tuple(_freeze(reader, entry, None) for entry in top)
    return Outline(
        title=text[:title_end],
        title_span=reader.span(0, title_end),
        period=period,
        period_span=period_span,
        preamble=text[title_end:first],
        preamble_span=reader.span(title_end, first),
        divisions=divisions,
        numbering=tuple(
            StyleNumbering(style, state.sequencing or Sequencing.SINGLE, state.decided_at)
            for style, state in sorted(numbering.items(), key=lambda item: item[0].rank)
            if state.last
        ),
        shape=shape,
        source_name=source_name,
        source_sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        source_length=len(raw),
    )


def _expected(
    candidate: _Candidate, heads: list[_Candidate], state: _Numbering
) -> tuple[int | None, set[int]]:
    """Where on the stack of open headings (their markers, ``heads``) a marker of ``candidate``'s
    style is a sibling (None: it opens a child), and the numbers the sequence allows it there."""
    index = next((k for k, head in enumerate(heads) if head.style is candidate.style), None)
    if index is not None:
        return index, {heads[index].number + 1}
    expected = set()
    if state.sequencing is not Sequencing.ACROSS:
        expected.add(1)
    if state.last and state.sequencing is not Sequencing.RESTART:
        expected.add(state.last + 1)
    return None, expected


def _children(parent: _Open | None, top: list[_Open]) -> list[_Open]:
    return parent.children if parent else top


def _freeze(reader: _Reader, entry: _Open, parent: Role | None) -> Division:
    text = reader.text
    c = entry.candidate
    title = text[c.end : entry.title_end]
    role = role_of(title, reader.rules, parent=parent)
    lead_start = entry.title_end
    if lead_start < entry.end and text[lead_start] in "。!?:;":
        lead_start += 1
    lead_end = entry.children[0].candidate.start if entry.children else entry.end
    lead_start = min(lead_start, lead_end)
    return Division(
        path=entry.path,
        level=len(entry.path),
        style=c.style,
        number=c.number,
        numeral=c.numeral,
        marker=text[c.start : c.end],
        marker_span=reader.span(c.start, c.end),
        title=title,
        title_span=reader.span(c.end, entry.title_end),
        lead=text[lead_start:lead_end],
        lead_span=reader.span(lead_start, lead_end),
        text=text[c.end : entry.end],
        span=reader.span(c.start, entry.end),
        role=role,
        children=tuple(_freeze(reader, child, role) for child in entry.children),
    )


def shape_of(outline: Outline) -> Shape:
    """The recognised shape of the document (decided while reading, see :func:`read_outline`)."""
    return outline.shape


def _shape(reader: _Reader, top: list[_Open], numbering: dict[NumberingStyle, _Numbering]) -> Shape:
    """:attr:`Shape.PILLARS_AND_TASKS` when every top-level heading is a ``一、`` part, every heading
    below a part is a ``(一)`` task without headings of its own, the task numbers run across the parts
    (or only one part holds tasks), and the parts open with the key-project statistics paragraph
    (:func:`mapping.parser.find_statistics`) straight after their title (before any ``。``), at least
    one of them; a part without statistics holds its title only. :attr:`Shape.GENERAL` otherwise.

    Decided on the headings alone, before any title is cut, so that the layout of the lines (which
    the genre does not need) cannot hide it."""
    text = reader.text
    if numbering.get(NumberingStyle.CHINESE_PAREN, _Numbering()).sequencing is Sequencing.RESTART:
        return Shape.GENERAL
    with_statistics = 0
    for part in top:
        if part.candidate.style is not NumberingStyle.CHINESE_COMMA:
            return Shape.GENERAL
        if any(t.candidate.style is not NumberingStyle.CHINESE_PAREN or t.children for t in part.children):
            return Shape.GENERAL
        region_end = part.children[0].candidate.start if part.children else part.end
        statistics = find_statistics(text, part.candidate.end, region_end)
        full_stop = text.find("。", part.candidate.end, region_end)
        if statistics is not None and (full_stop < 0 or statistics < full_stop):
            with_statistics += 1
        elif full_stop >= 0:
            return Shape.GENERAL
    return Shape.PILLARS_AND_TASKS if with_statistics else Shape.GENERAL


def _genre_titles(reader: _Reader, top: list[_Open]) -> None:
    """Titles as the genre writes them (and :mod:`mapping.parser` reads them): a part's runs to its
    statistics paragraph, its first ``。`` or its first task; a task's is its first sentence. Line
    ends play no part."""
    text = reader.text
    for part in top:
        start = part.candidate.end
        region_end = part.children[0].candidate.start if part.children else part.end
        stops = [region_end]
        statistics = find_statistics(text, start, region_end)
        if statistics is not None:
            stops.append(statistics)
        full_stop = text.find("。", start, region_end)
        if full_stop >= 0:
            stops.append(full_stop)
        part.title_end = min(stops)
        for task in part.children:
            full_stop = text.find("。", task.candidate.end, task.end)
            task.title_end = full_stop if full_stop >= 0 else task.end
