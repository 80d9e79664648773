"""The typed model of a plan document: what the parser produces and the mapper consumes.

The parser knows the document, not RDF; the mapper knows RDF, not files. Every record carries
the span of source characters it was read from, as code-point offsets into the file as shipped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Span:
    """Characters ``source[start:end]`` of the source file as shipped (code points, end exclusive)."""

    start: int
    end: int
    quote: str

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span {self.start}..{self.end}")
        if len(self.quote) != self.end - self.start:
            raise ValueError(f"quote length {len(self.quote)} does not match span {self.start}..{self.end}")


class Stage(enum.Enum):
    """The four stages the project statistics of a pillar are broken into."""

    TOTAL = "total"  # 总投资X亿元的Y个重点项目
    CONTINUING = "continuing"  # 续建项目
    NEW = "new"  # 计划YYYY年新开工项目
    RESERVE = "reserve"  # 计划YYYY年、YYYY年开工的谋划储备项目


@dataclass(frozen=True, slots=True)
class StageStatistic:
    """Count and investment of one stage of one pillar's key projects."""

    stage: Stage
    count: int
    count_span: Span
    investment: Decimal  # in 亿元 (1e8 CNY), as written
    investment_text: str  # the digits as written, e.g. "1292.2"
    investment_span: Span  # the number and its unit, e.g. "1292.2亿元" (may contain a line break)
    years: tuple[int, ...]  # start years the stage names: NEW (2023,), RESERVE (2024, 2025); else ()
    span: Span  # the whole clause


@dataclass(frozen=True, slots=True)
class Task:
    """A numbered key task, ``(一)…``; numbered across the whole plan."""

    number: int  # 1-based, as printed
    numeral: str  # as printed, e.g. "十一"
    title: str  # first sentence, normalised (no line breaks, page markers or stray spaces)
    title_span: Span
    text: str  # full text, normalised
    span: Span  # from the opening parenthesis to the end of the task's text
    pillar: int  # number of the pillar it belongs to
    order: int  # 1-based position within its pillar


@dataclass(frozen=True, slots=True)
class Pillar:
    """A top-level section ``一、…``: title, declared number of key tasks, project statistics."""

    number: int
    numeral: str
    title: str  # normalised
    title_span: Span
    declared_task_count: int | None  # 认真抓好N项重点工作; None when the text declares none
    declared_task_count_span: Span | None
    statistics: tuple[StageStatistic, ...]  # in Stage order; empty when the text has none
    statistics_span: Span | None
    span: Span  # heading through the last task of the pillar


@dataclass(frozen=True, slots=True)
class Plan:
    """The whole document."""

    title: str  # normalised, including the period in parentheses
    title_span: Span
    period: tuple[int, int] | None  # (first year, last year) from the title
    period_span: Span | None
    preamble: str
    preamble_span: Span
    pillars: tuple[Pillar, ...]
    tasks: tuple[Task, ...]
    source_name: str  # file name under seeds/
    source_sha256: str
    source_length: int  # in code points
