"""Quantitative targets and dated milestones of the key tasks, read from the text with their spans.

The extractor knows the genre, not this one plan. It works per task on the task's normalised text
(``mapping.text``: line breaks, page markers and stray spaces gone, with a map back to offsets in the
file as shipped), sentence by sentence (``。`` ``;``), clause by clause (``,``), segment by segment
(``、``):

* a **figure** is an Arabic number, optionally a range (``3—5``), with a multiplier (万/亿/万亿) and/or a
  unit word from ``data/indicators.toml`` (``万千瓦``, ``亿斤``, ``%``, ``家`` …); a number with neither
  (a year ``2025年``, a line ``7号线``, a formula ``2+3N+1``) is not a figure;
* a figure followed by ``以上``/``以下`` and then a word, or by ``的``, **qualifies** a noun
  (``30万千瓦以下小煤电机组``, ``100亿元以上企业``) and is not a target;
* the **comparator** comes from the figure's own words first (a range; ``以上`` at least; ``以下`` at
  most; ``左右`` or a leading ``约`` approximately), then from the verb before it (``突破``/``超过``
  greater than; ``不低于``/``不少于`` at least; ``不超过``/``控制在`` at most), else equal (``达到``,
  ``提高到``, ``稳定在`` …: ``达到…以上`` is at least, ``提高到…左右`` approximately);
* the **indicator** is the curated one whose phrase appears nearest the figure (segment, then clause,
  then sentence) and whose unit is the figure's unit; a bare figure (``300万``) takes the indicator's
  unit. A figure with no unit and no indicator cannot be normalised and is left out;
* the **target year** is the nearest time expression before the figure in its sentence (``到2025年``,
  ``2025年``, ``2025年年底前``) that is not a **baseline** (``较2020年``, ``比2020年``); the baseline is
  the one in the figure's clause. A sentence that names no year gives no target year: the plan's period
  (2023—2025 in the title) belongs to the plan, and reading its end year into every undated figure
  would state what the text does not (a query can still fall back to the plan's period through the
  task). So ``总部企业达到200家`` (task 9), after a sentence dated 到2025年, has no target year;
* a **milestone** is a clause opened by a time expression (``2023年年底前制定碳达峰工作方案``,
  ``到2024年双化协同体系基本建成``) that holds no target figure. It runs from the time expression to
  the end of the first clause that has words after it. Its **deadline** is an ``xsd:date``: the last
  day of the period named (``2023年年底前`` → 2023-12-31, ``2023年6月底前`` → 2023-06-30,
  ``到2024年`` → 2024-12-31, ``2023年6月前`` → 2023-05-31). A date rather than ``gYearMonth`` so that
  deadlines of every precision compare and sort in SPARQL; the quote keeps the precision as written.

Values are exact decimals in the unit's base (300万人 → 3000000 person; 58亿斤 → 2900000000 kg;
430万千瓦 → 4300000 kW). Targets of a task are numbered 1.. in the order of their quotes.
"""

from __future__ import annotations

import bisect
import calendar
import datetime
import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from mapping.entities import CatalogueEntry, CatalogueError, read_data_file
from mapping.model import Plan, Span
from mapping.numbers import ARABIC, MULTIPLIER, MULTIPLIERS, RANGE_SEPARATOR, parse_number, plain_decimal
from mapping.text import NormText, normalise

DATA_FILE = Path(__file__).parent / "data" / "indicators.toml"


class Comparator(enum.Enum):
    """How the value of a target is to be met; the value is the key of the concept in our scheme."""

    EQUAL = "equal"
    AT_LEAST = "atLeast"
    GREATER_THAN = "greaterThan"
    AT_MOST = "atMost"
    APPROXIMATELY = "approximately"
    RANGE = "range"


@dataclass(frozen=True, slots=True)
class Unit:
    key: str
    zh: str
    en: str
    qudt: str | None  # local name in http://qudt.org/vocab/unit/
    pk: str | None  # local name of a unit term in our namespace (e.g. "Yuan")
    abbr: str  # after a figure in an English label: "kW", "%", "" for a bare count
    forms: dict[str, Decimal]  # unit word as written → factor to this unit


@dataclass(frozen=True, slots=True)
class Indicator:
    key: str
    zh: str
    en: str
    match: tuple[str, ...]
    unit: str | None  # None for milestones
    milestone: bool


@dataclass(frozen=True, slots=True)
class TargetVocabulary:
    units: dict[str, Unit]
    indicators: dict[str, Indicator]

    def unit_form(self, written: str) -> tuple[Unit, Decimal]:
        for unit in self.units.values():
            if written in unit.forms:
                return unit, unit.forms[written]
        raise KeyError(written)

    def forms(self) -> list[str]:
        """Every unit word, longest first (so that 公斤 wins over 斤)."""
        return sorted({form for unit in self.units.values() for form in unit.forms}, key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A figure normalised to its unit; for a range ``value`` is the lower and ``upper`` the upper end."""

    value: Decimal
    upper: Decimal | None
    unit: str  # key of a unit in the vocabulary
    as_written: str  # number, multiplier and unit word as written (normalised text), e.g. '430万千瓦'
    span: Span


@dataclass(frozen=True, slots=True)
class Target:
    """A target of task ``task``, number ``k`` within it: a quantity, or a milestone with a deadline.
    ``task`` is the task's number in the Jinan genre, a division's path (``"2.1.3"``) in a general plan."""

    task: int | str
    k: int
    indicator: str | None  # key in the vocabulary; None when no curated indicator fits
    label: str  # the quote, normalised
    quantity: Quantity | None  # None for a milestone
    comparator: Comparator | None  # None for a milestone
    target_year: int | None
    baseline_year: int | None
    deadline: datetime.date | None  # milestones only
    span: Span

    @property
    def is_milestone(self) -> bool:
        return self.quantity is None


def _entries(path: Path, data: dict[str, Any], section: str) -> Iterator[tuple[str, CatalogueEntry]]:
    """The ``[section.KEY]`` tables of the file, each read field by field (errors name file and entry)."""
    tables = data.get(section)
    if not isinstance(tables, dict):
        raise CatalogueError(path.name, section, f"must be a table of tables ([{section}.KEY])")
    for i, (key, table) in enumerate(tables.items()):
        if not isinstance(table, dict):
            raise CatalogueError(path.name, f"{section} {key!r}", f"is not a table ([{section}.{key}])")
        entry = CatalogueEntry(path.name, section, i + 1, table)
        entry.label = f"{section} {key!r}"
        yield key, entry


def _forms(entry: CatalogueEntry) -> dict[str, Decimal]:
    entry.used.add("forms")
    forms = entry.table.get("forms")
    if not isinstance(forms, dict) or not forms:
        raise entry.error("forms must be a table of unit words and their factors")
    out: dict[str, Decimal] = {}
    for form, factor in forms.items():
        if not form.strip():
            raise entry.error("forms: a unit word must not be empty")
        try:
            value = Decimal(factor) if isinstance(factor, str) else None
        except ArithmeticError:
            value = None
        if value is None or not value.is_finite() or value <= 0:
            raise entry.error(
                f"forms.{form}: the factor must be a string holding a positive decimal, not {factor!r}"
            )
        out[form] = value
    return out


def load_vocabulary(path: Path = DATA_FILE) -> TargetVocabulary:
    """Units and indicators from the curated data file; checks that every indicator's unit exists.

    A malformed file raises :class:`~mapping.entities.CatalogueError` naming the file, the entry
    (``unit 'percent'``, ``indicator 'gdp'``) and what is wrong."""
    data = read_data_file(path)
    unknown = sorted(set(data) - {"unit", "indicator"})
    if unknown:
        raise CatalogueError(path.name, "file", f"unknown section(s) {', '.join(unknown)}")
    units: dict[str, Unit] = {}
    for key, e in _entries(path, data, "unit"):
        abbr = e.table.get("abbr")  # "" for a bare count
        e.used.add("abbr")
        if not isinstance(abbr, str):
            raise e.error("abbr must be a string (empty for a bare count)")
        units[key] = Unit(
            key=key,
            zh=e.text("zh"),
            en=e.text("en"),
            qudt=e.optional_text("qudt"),
            pk=e.optional_text("pk"),
            abbr=abbr,
            forms=_forms(e),
        )
        e.done()
    indicators: dict[str, Indicator] = {}
    for key, e in _entries(path, data, "indicator"):
        kind = e.optional_text("kind")
        if kind not in (None, "milestone"):
            raise e.error(f'kind must be "milestone" or absent, not {kind!r}')
        milestone = kind == "milestone"
        unit = e.optional_text("unit")
        if milestone == (unit is not None):
            raise e.error("a milestone has no unit, any other indicator has one")
        if unit is not None and unit not in units:
            raise e.error(f"unknown unit {unit!r}")
        match = e.texts("match")
        if not match:
            raise e.error("match must list at least one phrase")
        indicators[key] = Indicator(key, e.text("zh"), e.text("en"), match, unit, milestone)
        e.done()
    return TargetVocabulary(units, indicators)


@cache
def default_vocabulary() -> TargetVocabulary:
    return load_vocabulary()


# --- patterns of the genre ----------------------------------------------------------------------------

_SENTENCE_END = "。;!?"
_CLAUSE_END = _SENTENCE_END + ",:"
_SEGMENT_END = _CLAUSE_END + "、"

# 到2025年 / 2025年 / 2025年年底前 / 到2025年底 / 2023年6月底(前) / 2023年6月前; 较2020年, 比2020年,
# 与2020年相比 are baselines.
_TIME = re.compile(
    r"(?P<baseline>较|比|与)?(?P<to>到|至)?(?P<year>(?:19|20)\d{2})年"
    r"(?:(?P<month>1[0-2]|[1-9])月(?:(?P<month_end>底)前?|前)|年?底前?)?"
)

_VERBS: tuple[tuple[str, Comparator], ...] = (
    ("突破", Comparator.GREATER_THAN),
    ("超过", Comparator.GREATER_THAN),
    ("不低于", Comparator.AT_LEAST),
    ("不少于", Comparator.AT_LEAST),
    ("至少", Comparator.AT_LEAST),
    ("不超过", Comparator.AT_MOST),
    ("不高于", Comparator.AT_MOST),
    ("控制在", Comparator.AT_MOST),
)


@dataclass(frozen=True, slots=True)
class _Time:
    start: int
    end: int
    year: int
    month: int | None
    baseline: bool

    def deadline(self) -> datetime.date:
        if self.month is None:
            return datetime.date(self.year, 12, 31)
        return datetime.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])


def _times(text: str, start: int, end: int) -> list[_Time]:
    found = []
    for m in _TIME.finditer(text, start, end):
        month = int(m["month"]) if m["month"] else None
        year = int(m["year"])
        if month is not None and not m["month_end"]:
            # 6月前: before June begins, i.e. by the end of May.
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        found.append(
            _Time(
                start=m.start("to") if m["to"] else m.start("year"),
                end=m.end(),
                year=year,
                month=month,
                baseline=bool(m["baseline"]),
            )
        )
    return found


def _figure_pattern(forms: list[str]) -> re.Pattern[str]:
    unit = "|".join(re.escape(f) for f in forms)
    return re.compile(
        rf"(?P<about>约)?(?P<number>{ARABIC}(?:{RANGE_SEPARATOR}{ARABIC})?)"
        rf"(?P<multiplier>{MULTIPLIER})?(?P<unit>{unit})?(?P<suffix>以上|以下|左右)?"
    )


@dataclass(frozen=True, slots=True)
class _Figure:
    start: int  # normalised position of the number (or of 约)
    end: int  # after the unit word and any 以上/左右
    quantity_end: int  # after the unit word
    number_start: int
    low: Decimal
    high: Decimal | None
    written_unit: str | None
    multiplier: str | None
    suffix: str | None
    about: bool


def _figures(text: str, start: int, end: int, pattern: re.Pattern[str]) -> Iterator[_Figure]:
    for m in pattern.finditer(text, start, end):
        if not (m["multiplier"] or m["unit"]):
            continue  # a year, a line number, a formula: not a figure
        if m.start("number") > 0 and (
            text[m.start("number") - 1].isdigit() or text[m.start("number") - 1] in ".+"
        ):
            continue
        after = text[m.end()] if m.end() < len(text) else "。"
        if after == "的" or (m["suffix"] in ("以上", "以下") and after not in _SEGMENT_END):
            continue  # qualifies a noun: 30万千瓦以下小煤电机组, 100亿元以上企业
        parts = re.split(RANGE_SEPARATOR, m["number"], maxsplit=1)
        factor = MULTIPLIERS[m["multiplier"]] if m["multiplier"] else Decimal(1)
        low = parse_number(parts[0]) * factor
        high = parse_number(parts[1]) * factor if len(parts) == 2 else None
        yield _Figure(
            start=m.start(),
            end=m.end(),
            quantity_end=m.end("unit") if m["unit"] else m.end("multiplier"),
            number_start=m.start("number"),
            low=low,
            high=high,
            written_unit=m["unit"],
            multiplier=m["multiplier"],
            suffix=m["suffix"],
            about=bool(m["about"]),
        )


def _bounds(text: str, start: int, end: int, i: int, stops: str) -> tuple[int, int]:
    """The run of ``text[start:end]`` around position ``i`` between two of the ``stops``."""
    left = i
    while left > start and text[left - 1] not in stops:
        left -= 1
    right = i
    while right < end and text[right] not in stops:
        right += 1
    return left, right


def _comparator(text: str, clause_start: int, figure: _Figure) -> Comparator:
    if figure.high is not None:
        return Comparator.RANGE
    if figure.suffix == "以上":
        return Comparator.AT_LEAST
    if figure.suffix == "以下":
        return Comparator.AT_MOST
    if figure.suffix == "左右" or figure.about:
        return Comparator.APPROXIMATELY
    before = text[clause_start : figure.start]
    for verb, comparator in _VERBS:
        if before.endswith(verb):
            return comparator
    return Comparator.EQUAL


@dataclass(frozen=True, slots=True)
class _Match:
    indicator: Indicator
    start: int
    end: int


def _find_indicator(
    text: str, windows: list[tuple[int, int]], anchor: int, accept: dict[str, Indicator]
) -> _Match | None:
    """The accepted indicator whose phrase lies nearest ``anchor`` in the smallest window holding one."""
    for w_start, w_end in windows:
        best: tuple[int, int, _Match] | None = None
        for indicator in accept.values():
            for phrase in indicator.match:
                for m in re.finditer(re.escape(phrase), text[w_start:w_end]):
                    s, e = w_start + m.start(), w_start + m.end()
                    distance = anchor - e if e <= anchor else s - anchor
                    key = (abs(distance), -len(phrase))
                    if best is None or key < best[:2]:
                        best = (key[0], key[1], _Match(indicator, s, e))
        if best is not None:
            return _widest(text, windows[-1], best[2])
    return None


def _widest(text: str, window: tuple[int, int], match: _Match) -> _Match:
    """The longest phrase of the same indicator in ``window`` that covers ``match`` (国家级、省级集群)."""
    widest = match
    for phrase in match.indicator.match:
        for m in re.finditer(re.escape(phrase), text[window[0] : window[1]]):
            s, e = window[0] + m.start(), window[0] + m.end()
            if s <= match.start and match.end <= e and e - s > widest.end - widest.start:
                widest = _Match(match.indicator, s, e)
    return widest


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _SEGMENT_END:
        start += 1
    while end > start and text[end - 1] in _SEGMENT_END:
        end -= 1
    return start, end


@dataclass(frozen=True, slots=True)
class _Found:
    start: int
    end: int
    indicator: str | None
    quantity: tuple[_Figure, Unit, Decimal] | None
    comparator: Comparator | None
    target_year: int | None
    baseline_year: int | None
    deadline: datetime.date | None


def _sentence_targets(
    norm: NormText, start: int, end: int, vocab: TargetVocabulary, pattern: re.Pattern[str]
) -> Iterator[_Found]:
    text = norm.text
    times = _times(text, start, end)
    quantitative = {k: i for k, i in vocab.indicators.items() if not i.milestone}
    milestones = {k: i for k, i in vocab.indicators.items() if i.milestone}
    figure_clauses: set[int] = set()
    for figure in _figures(text, start, end, pattern):
        seg = _bounds(text, start, end, figure.number_start, _SEGMENT_END)
        clause = _bounds(text, start, end, figure.number_start, _CLAUSE_END)
        if figure.written_unit is not None:
            unit, factor = vocab.unit_form(figure.written_unit)
            fitting = {k: i for k, i in quantitative.items() if i.unit == unit.key}
        else:
            fitting = quantitative
        found = _find_indicator(text, [seg, clause, (start, end)], figure.number_start, fitting)
        if figure.written_unit is None:
            if found is None or found.indicator.unit is None:
                continue  # a bare figure whose unit nothing tells
            unit, factor = vocab.units[found.indicator.unit], Decimal(1)
        # The quote: the smallest window that holds the indicator's phrase, from its start to the
        # end of the figure or of the phrase, whichever is later; the clause when no indicator fits.
        if found is not None:
            window = next(w for w in (seg, clause, (start, end)) if w[0] <= found.start and found.end <= w[1])
            q_start, q_end = window[0], max(figure.end, found.end)
        else:
            q_start, q_end = clause[0], figure.end
        q_start, q_end = _trim(text, q_start, q_end)
        before = [t for t in times if t.end <= figure.start and not t.baseline]
        baseline = [t for t in times if clause[0] <= t.start and t.end <= figure.start and t.baseline]
        figure_clauses.add(clause[0])
        yield _Found(
            start=q_start,
            end=q_end,
            indicator=found.indicator.key if found else None,
            quantity=(figure, unit, factor),
            comparator=_comparator(text, clause[0], figure),
            target_year=before[-1].year if before else None,
            baseline_year=baseline[-1].year if baseline else None,
            deadline=None,
        )
    for time in times:
        if time.baseline:
            continue
        at_clause_start = time.start == start or text[time.start - 1] in _CLAUSE_END
        if not (at_clause_start or text[time.start] in "到至"):
            continue
        # The clause the time expression opens: past a comma right after it (2025年年底前,先期培育…).
        body = time.end
        while body < end and text[body] in _CLAUSE_END:
            body += 1
        clause_end = _bounds(text, start, end, body, _CLAUSE_END)[1] if body < end else end
        if body >= clause_end or any(time.start <= c < clause_end for c in figure_clauses):
            continue
        if _bounds(text, start, end, time.start, _CLAUSE_END)[0] in figure_clauses:
            continue
        found = _find_indicator(text, [(time.end, clause_end)], time.end, milestones)
        yield _Found(
            start=time.start,
            end=clause_end,
            indicator=found.indicator.key if found else None,
            quantity=None,
            comparator=None,
            target_year=time.year,
            baseline_year=None,
            deadline=time.deadline(),
        )


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    s = start
    for i in range(start, end):
        if text[i] in _SENTENCE_END:
            if i > s:
                yield s, i
            s = i + 1
    if end > s:
        yield s, end


def _normalised_range(norm: NormText, raw_start: int, raw_end: int) -> tuple[int, int]:
    return bisect.bisect_left(norm.origins, raw_start), bisect.bisect_left(norm.origins, raw_end)


def extract_span_targets(
    norm: NormText, task: int | str, raw_start: int, raw_end: int, vocab: TargetVocabulary | None = None
) -> tuple[Target, ...]:
    """The targets of task ``task`` read from ``norm.raw[raw_start:raw_end]``, numbered 1.. in text order."""
    vocab = vocab or default_vocabulary()
    pattern = _figure_pattern(vocab.forms())
    start, end = _normalised_range(norm, raw_start, raw_end)
    found: list[_Found] = []
    for s_start, s_end in _sentences(norm.text, start, end):
        found.extend(_sentence_targets(norm, s_start, s_end, vocab, pattern))
    found.sort(key=lambda f: (f.start, f.end))
    targets = []
    for k, f in enumerate(found, start=1):
        quantity = None
        if f.quantity is not None:
            figure, unit, factor = f.quantity
            as_written_end = figure.quantity_end
            quantity = Quantity(
                value=plain_decimal(figure.low * factor),
                upper=plain_decimal(figure.high * factor) if figure.high is not None else None,
                unit=unit.key,
                as_written=norm.text[figure.number_start : as_written_end],
                span=norm.span(figure.number_start, as_written_end),
            )
        targets.append(
            Target(
                task=task,
                k=k,
                indicator=f.indicator,
                label=norm.text[f.start : f.end],
                quantity=quantity,
                comparator=f.comparator,
                target_year=f.target_year,
                baseline_year=f.baseline_year,
                deadline=f.deadline,
                span=norm.span(f.start, f.end),
            )
        )
    return tuple(targets)


def extract_targets(plan: Plan, raw: str, vocab: TargetVocabulary | None = None) -> tuple[Target, ...]:
    """Every target of every task of ``plan``, read from ``raw``, the text the plan was parsed from."""
    if len(raw) != plan.source_length:
        raise ValueError(f"raw text has {len(raw)} characters, the plan was parsed from {plan.source_length}")
    norm = normalise(raw)
    targets: list[Target] = []
    for task in plan.tasks:
        targets.extend(extract_span_targets(norm, task.number, task.span.start, task.span.end, vocab))
    return tuple(targets)
