"""Parse a plan of the genre "三年行动计划" into the typed model of :mod:`mapping.model`.

The genre, as this parser reads it (on the normalised text of :mod:`mapping.text`):

* **title**: the text before the preamble. It ends with the period in parentheses,
  ``(2023—2025年)``, when one comes before the first comma or full stop; otherwise with the last
  ``计划``/``方案``/``规划``/``意见``/``纲要``/``办法`` before the first punctuation; otherwise it is the
  first non-empty line of the source. The period years come from the parentheses only.
* **preamble**: from the end of the title to the first pillar heading (may be empty).
* **pillar heading**: a Chinese numeral and ``、`` at a sentence boundary (start of text, just after
  the title's period, or after ``。!?;:``, then possibly a closing quote or bracket), numbered
  higher than the pillar before it, whose title runs into the statistics paragraph or a task marker
  before any ``。`` (so the sentence
  ``三、四季度完成。`` is text, not a heading; a section of prose only, with neither statistics nor
  tasks, is not recognised as a pillar). A jump in numbering (一、 then 三、) is taken as a heading
  only when the skipped number does not come later. The title is the text in between.
* **statistics paragraph**: ``(认真)抓好N项重点工作`` (N in digits or a Chinese numeral; the paragraph
  may also begin directly with the key projects, ``(扎实)推进总投资…``, and then declares no count),
  then, before the ``。``, the clauses of the key projects, each with a count (``N个``) and an investment
  (``总投资X亿元``), classified by their words: ``续建`` continuing, ``新开工`` new, ``储备`` or ``谋划``
  reserve, otherwise the total. Start years are the ``YYYY年`` of the clause (``YYYY—YYYY年`` is a range).
  Text before the first task that is neither title nor statistics is kept only in the pillar's span.
* **task marker**: ``(``\\ Chinese numeral ``)`` at the start of a sentence (after ``。!?``, then
  possibly a closing quote or bracket; not after ``:`` or ``;``, where a sub-enumeration would begin),
  or the one that ends a pillar heading's title. Numbered across the plan; the number is recorded
  as printed and a gap or a repeat is no error (the SHACL rules report it). Parenthesised text that
  is not a bare Chinese numeral (``(北方)``, ``(一期)``) is never a task.
* **task title**: the task's first sentence, *without* its ``。`` (the whole text when it has none);
  **task text**: from just after the marker (so it begins with the title) up to the next task marker,
  pillar heading or the end of the document. A truncated last task keeps what is there.

A document that does not have this shape raises :class:`mapping.errors.DocumentError` with the line
and column of the place where reading failed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal

from mapping.errors import DocumentError, Location
from mapping.model import Pillar, Plan, Span, Stage, StageStatistic, Task
from mapping.numbers import NumeralError, parse_chinese
from mapping.text import NormText, normalise

_NUMERAL_CHARS = "〇零一二两三四五六七八九十百千万"
_NUMERAL = f"[{_NUMERAL_CHARS}]+"
_PILLAR_HEADING = re.compile(f"({_NUMERAL})、")
_TASK_MARKER = re.compile(rf"\(({_NUMERAL})\)")
_HEADING_BOUNDARY = "。!?;:"  # a pillar heading may follow 如下: or a sentence
_TASK_BOUNDARY = "。!?"  # not after : or ; where a sub-enumeration (一)…;(二)… would begin
_CLOSERS = "”’」』)》】"
_PERIOD = re.compile(r"\((\d{4})\s*(?:[—–\-~―]{1,2}|至|到)\s*(\d{4})\s*年?\)")
_TITLE_WORD = re.compile("计划|方案|规划|意见|纲要|办法")
_STATISTICS_OPENER = re.compile("(?:认真)?抓好([^,;。项]{1,8}?)项重点(?:工作|任务)")
_PROJECTS_OPENER = re.compile(r"(?:扎实)?推进(?:总投资|\d+个)")  # key projects without a task count
_NUMBER = r"\d+(?:\.\d+)?"
# Clauses of the key-project figures, tried in this order at the current position.
_CLAUSE_INVESTMENT_FIRST = re.compile(rf"([^,;。]*?)总投资({_NUMBER})亿元的(\d+)个([^,;。]*?项目)")
_CLAUSE_COUNT_AFTER_LABEL = re.compile(rf"([^,;。]*?项目)(\d+)个,总投资({_NUMBER})亿元")
_CLAUSE_COUNT_BEFORE_LABEL = re.compile(rf"([^,;。]*?)(\d+)个([^,;。]*?项目),总投资({_NUMBER})亿元")
_CLAUSE_VERB = re.compile("(?:扎实)?推进")  # not part of a figure's clause span
_LINE_BREAK = re.compile("[\n\r\u2028\u2029]")
_CLAUSE_SEPARATOR = re.compile(r"[,;]?(?:其中)?")
_YEARS = re.compile(r"(\d{4})(?:年)?\s*(?:[—–\-~]{1,2}|至|到)\s*(\d{4})年|(\d{4})年")


def _is_boundary(text: str, i: int, enders: str) -> bool:
    """True when position ``i`` of the normalised text is the start of the text or follows one of
    ``enders``, possibly followed by closing quotes or brackets."""
    j = i
    while j > 0 and text[j - 1] in _CLOSERS:
        j -= 1
    if j == 0:
        return i == 0
    return text[j - 1] in enders


def _numeral_or_none(numeral: str) -> int | None:
    """A heading's or marker's numeral; ``None`` when it is no numeral (not taken as a number)."""
    try:
        return parse_chinese(numeral)
    except ValueError:
        return None


def _parse_count(word: str) -> int:
    """A declared count, in ASCII digits or a Chinese numeral; ``ValueError`` (a
    :class:`~mapping.numbers.NumeralError` for a malformed numeral) when it is neither."""
    if word.isdigit() and word.isascii():
        return int(word)
    return parse_chinese(word)


@dataclass(frozen=True, slots=True)
class _Heading:
    start: int  # of the numeral
    end: int  # just after 、
    numeral: str
    number: int


@dataclass(frozen=True, slots=True)
class _Marker:
    start: int  # of the opening parenthesis
    end: int  # just after the closing one
    numeral: str
    number: int


def _marker(m: re.Match[str]) -> _Marker | None:
    number = _numeral_or_none(m.group(1))
    return None if number is None else _Marker(m.start(), m.end(), m.group(1), number)


class _Reader:
    """One parse: the normalised text, the source name, and helpers that make spans and errors."""

    def __init__(self, raw: str, source_name: str) -> None:
        self.raw = raw
        self.source_name = source_name
        self.norm: NormText = normalise(raw)
        self.text = self.norm.text
        self.title_period = self._title_period()

    def _title_period(self) -> re.Match[str] | None:
        """The period in parentheses that ends the title: the first one, if before any , or 。."""
        period = _PERIOD.search(self.text)
        if period is None or re.search("[,。]", self.text[: period.start()]):
            return None
        return period

    def error(self, message: str, i: int) -> DocumentError:
        """An error at normalised position ``i``."""
        return DocumentError(message, Location.at(self.source_name, self.raw, self.norm.raw_offset(i)))

    def span(self, i: int, j: int) -> Span:
        return self.norm.span(i, j)

    # -- structure ---------------------------------------------------------------------------

    def headings(self) -> list[_Heading]:
        """Pillar headings in order (see the module documentation)."""
        candidates: list[_Heading] = []
        for m in _PILLAR_HEADING.finditer(self.text):
            after_title = self.title_period is not None and m.start() == self.title_period.end()
            if not (after_title or _is_boundary(self.text, m.start(), _HEADING_BOUNDARY)):
                continue
            number = _numeral_or_none(m.group(1))
            _, kind, _ = self.title_stop(m.end(), len(self.text))
            if number is not None and kind in ("statistics", "task"):
                candidates.append(_Heading(m.start(), m.end(), m.group(1), number))
        found: list[_Heading] = []
        for k, heading in enumerate(candidates):
            previous = found[-1].number if found else 0
            if heading.number <= previous:
                continue
            # A jump (一、 then 三、) is taken only when the next number does not come later: a gap in
            # the document, not a sentence that happens to begin with a numeral.
            if heading.number > previous + 1 and any(c.number == previous + 1 for c in candidates[k + 1 :]):
                continue
            found.append(heading)
        return found

    def title_stop(self, start: int, end: int) -> tuple[int, str, _Marker | None]:
        """Where a pillar title beginning at ``start`` ends, by what (``statistics``, ``task``,
        ``sentence`` or ``region``), and the task marker that ends it, if one does."""
        stops: list[tuple[int, str, _Marker | None]] = [(end, "region", None)]
        for opener_re in (_STATISTICS_OPENER, _PROJECTS_OPENER):
            opener = opener_re.search(self.text, start, end)
            if opener:
                stops.append((opener.start(), "statistics", None))
        full_stop = self.text.find("。", start, end)
        if full_stop >= 0:
            stops.append((full_stop, "sentence", None))
        for m in _TASK_MARKER.finditer(self.text, start, end):
            marker = _marker(m)
            if marker:
                stops.append((marker.start, "task", marker))
                break
        return min(stops, key=lambda stop: stop[0])

    def task_markers(self, start: int, end: int) -> list[_Marker]:
        found: list[_Marker] = []
        for m in _TASK_MARKER.finditer(self.text, start, end):
            marker = _marker(m)
            if marker and _is_boundary(self.text, m.start(), _TASK_BOUNDARY):
                found.append(marker)
        return found

    # -- plan title --------------------------------------------------------------------------

    def plan_title(self, limit: int) -> tuple[int, tuple[int, int] | None, Span | None]:
        """End of the title in the normalised text, the period and its span."""
        text = self.text
        period = self.title_period
        if period and period.end() <= limit:
            years = (int(period.group(1)), int(period.group(2)))
            return period.end(), years, self.span(period.start(), period.end())
        punctuation = re.search("[,。:;!?]", text[:limit])
        head_end = punctuation.start() if punctuation else limit
        words = list(_TITLE_WORD.finditer(text, 0, head_end))
        if words:
            return words[-1].end(), None, None
        first_line = self._first_line_end()
        return min(first_line, limit), None, None

    def _first_line_end(self) -> int:
        """Normalised position just after the characters of the first non-empty line of the source."""
        origins = self.norm.origins
        if not origins:
            return 0
        line_break = _LINE_BREAK.search(self.raw, origins[0])
        if line_break is None:
            return len(self.text)
        line_end = line_break.start()
        k = 0
        while k < len(origins) and origins[k] < line_end:
            k += 1
        return k

    # -- statistics --------------------------------------------------------------------------

    def statistics(
        self, start: int, end: int
    ) -> tuple[int | None, Span | None, tuple[StageStatistic, ...], Span | None]:
        """Read the statistics paragraph between ``start`` and ``end`` (title end and first task)."""
        text = self.text
        count: int | None = None
        count_span: Span | None = None
        opener = _STATISTICS_OPENER.search(text, start, end)
        if opener is not None:
            word = opener.group(1)
            try:
                count = _parse_count(word)
            except NumeralError as e:
                message = f"unreadable number of key tasks {word!r}: {e.reason}"
                raise self.error(message, opener.start(1) + e.index) from None
            except ValueError:
                raise self.error(f"unreadable number of key tasks {word!r}", opener.start(1)) from None
            count_span = self.span(opener.start(1), opener.end(1))
            paragraph_start, pos = opener.start(), opener.end()
        else:
            projects = _PROJECTS_OPENER.search(text, start, end)
            if projects is None:
                return None, None, (), None
            paragraph_start = pos = projects.start()
        stop = text.find("。", pos, end)
        paragraph_end = stop + 1 if stop >= 0 else end
        body_end = stop if stop >= 0 else end
        figures: dict[Stage, StageStatistic] = {}
        while True:
            sep = _CLAUSE_SEPARATOR.match(text, pos, body_end)
            pos = sep.end() if sep else pos
            if pos >= body_end:
                break
            figure = self._clause(pos, body_end)
            if figure is None:
                raise self.error("unreadable project statistics: expected a count (N个) and 总投资X亿元", pos)
            stat, clause_end = figure
            if stat.stage in figures:
                raise self.error(f"a second {stat.stage.value} figure in one statistics paragraph", pos)
            figures[stat.stage] = stat
            pos = clause_end
        ordered = tuple(figures[s] for s in Stage if s in figures)
        return count, count_span, ordered, self.span(paragraph_start, paragraph_end)

    def _clause(self, pos: int, end: int) -> tuple[StageStatistic, int] | None:
        text = self.text
        m = _CLAUSE_INVESTMENT_FIRST.match(text, pos, end)
        if m:
            label = m.group(1) + m.group(4)
            inv_group, count_group = 2, 3
        else:
            m = _CLAUSE_COUNT_AFTER_LABEL.match(text, pos, end)
            if m:
                label = m.group(1)
                inv_group, count_group = 3, 2
            else:
                m = _CLAUSE_COUNT_BEFORE_LABEL.match(text, pos, end)
                if m is None:
                    return None
                label = m.group(1) + m.group(3)
                inv_group, count_group = 4, 2
        stage = _stage_of(label)
        years = _years_of(label) if stage in (Stage.NEW, Stage.RESERVE) else ()
        inv_start = m.start(inv_group)
        inv_end = m.end(inv_group) + len("亿元")
        verb = _CLAUSE_VERB.match(text, m.start(), m.end())
        clause_start = verb.end() if verb else m.start()
        stat = StageStatistic(
            stage=stage,
            count=int(m.group(count_group)),
            count_span=self.span(m.start(count_group), m.end(count_group)),
            investment=Decimal(m.group(inv_group)),
            investment_text=m.group(inv_group),
            investment_span=self.span(inv_start, inv_end),
            years=years,
            span=self.span(clause_start, m.end()),
        )
        return stat, m.end()


def _stage_of(label: str) -> Stage:
    if "续建" in label:
        return Stage.CONTINUING
    if "新开工" in label:
        return Stage.NEW
    if "储备" in label or "谋划" in label:
        return Stage.RESERVE
    return Stage.TOTAL


def _years_of(label: str) -> tuple[int, ...]:
    years: list[int] = []
    for m in _YEARS.finditer(label):
        if m.group(3):
            years.append(int(m.group(3)))
        else:
            first, last = int(m.group(1)), int(m.group(2))
            years.extend(range(first, last + 1))
    return tuple(years)


def find_statistics(text: str, start: int, end: int) -> int | None:
    """Where the first key-project statistics paragraph begins in normalised ``text[start:end]``, if
    one does (the same openers that end a pillar title in :func:`parse_plan`): how
    :mod:`mapping.outline` recognises the genre and ends its part titles."""
    found = [m.start() for r in (_STATISTICS_OPENER, _PROJECTS_OPENER) if (m := r.search(text, start, end))]
    return min(found) if found else None


def parse_plan(raw: str, *, source_name: str) -> Plan:
    """Parse the text of a plan (the file as shipped, decoded) into a :class:`Plan` with source spans."""
    reader = _Reader(raw, source_name)
    text = reader.text
    if not text:
        raise DocumentError("empty document", Location.at(source_name, raw, 0))
    headings = reader.headings()
    if not headings:
        raise reader.error("no pillar heading (一、…) in the document", len(text))

    title_end, period, period_span = reader.plan_title(headings[0].start)
    if title_end == 0:
        raise reader.error("no plan title before the first pillar heading", 0)
    early = reader.task_markers(0, headings[0].start)
    if early:
        raise reader.error(f"task marker ({early[0].numeral}) before any pillar heading", early[0].start)

    pillars: list[Pillar] = []
    tasks: list[Task] = []
    for k, heading in enumerate(headings):
        region_end = headings[k + 1].start if k + 1 < len(headings) else len(text)
        head_title_end, _, first_marker = reader.title_stop(heading.end, region_end)
        if head_title_end == heading.end:
            raise reader.error(f"pillar {heading.numeral}、 has no title", heading.end)
        markers = reader.task_markers(head_title_end, region_end)
        if first_marker and (not markers or markers[0].start != first_marker.start):
            markers.insert(0, first_marker)
        body_end = markers[0].start if markers else region_end
        declared, declared_span, stats, stats_span = reader.statistics(head_title_end, body_end)
        for order, marker in enumerate(markers, start=1):
            task_end = markers[order].start if order < len(markers) else region_end
            tasks.append(_task(reader, marker, task_end, heading.number, order))
        pillars.append(
            Pillar(
                number=heading.number,
                numeral=heading.numeral,
                title=text[heading.end : head_title_end],
                title_span=reader.span(heading.end, head_title_end),
                declared_task_count=declared,
                declared_task_count_span=declared_span,
                statistics=stats,
                statistics_span=stats_span,
                span=reader.span(heading.start, region_end),
            )
        )

    return Plan(
        title=text[:title_end],
        title_span=reader.span(0, title_end),
        period=period,
        period_span=period_span,
        preamble=text[title_end : headings[0].start],
        preamble_span=reader.span(title_end, headings[0].start),
        pillars=tuple(pillars),
        tasks=tuple(tasks),
        source_name=source_name,
        source_sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        source_length=len(raw),
    )


def _task(reader: _Reader, marker: _Marker, end: int, pillar: int, order: int) -> Task:
    text = reader.text
    if end <= marker.end:
        raise reader.error(f"task ({marker.numeral}) has no text", marker.end)
    stop = text.find("。", marker.end, end)
    title_end = stop if stop >= 0 else end
    if title_end == marker.end:
        raise reader.error(f"task ({marker.numeral}) has no title before its 。", marker.end)
    return Task(
        number=marker.number,
        numeral=marker.numeral,
        title=text[marker.end : title_end],
        title_span=reader.span(marker.end, title_end),
        text=text[marker.end : end],
        span=reader.span(marker.start, end),
        pillar=pillar,
        order=order,
    )
