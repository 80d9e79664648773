"""The typed model of the heading hierarchy of a Chinese official document (GB/T 9704-2012).

What :mod:`mapping.outline` produces: a tree of numbered divisions with source spans, the document
title, period and preamble. Like :mod:`mapping.model`, it knows the document, not RDF; every span is
a range of code points of the file as shipped.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from mapping.model import Span


class NumberingStyle(enum.Enum):
    """How a heading is numbered; ``rank`` is its level in GB/T 9704-2012 (7.3.3)."""

    CHINESE_COMMA = "chinese-comma"  # 一、
    CHINESE_PAREN = "chinese-paren"  # (一) / （一）
    ARABIC_POINT = "arabic-point"  # 1. / 1． / １． / 1、
    ARABIC_PAREN = "arabic-paren"  # (1) / （1）
    CIRCLED = "circled"  # ① … ⑳

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {
    NumberingStyle.CHINESE_COMMA: 1,
    NumberingStyle.CHINESE_PAREN: 2,
    NumberingStyle.ARABIC_POINT: 3,
    NumberingStyle.ARABIC_PAREN: 4,
    NumberingStyle.CIRCLED: 5,
}


class Sequencing(enum.Enum):
    """How the numbers of one numbering style run through the document."""

    RESTART = "restart"  # back to 1 under each parent
    ACROSS = "across"  # on from the previous parent's last number, through the whole document
    SINGLE = "single"  # only one parent holds divisions of this style: the text does not say


class Role(enum.Enum):
    """What a division is for: carrying the actions (tasks) of the plan, or framing them."""

    ACTION = "action"
    FRAME = "frame"  # 总体要求, 指导思想, 基本原则, 主要目标, 保障措施 … (mapping/data/roles.toml)


class Shape(enum.Enum):
    """A recognised layout of a whole document."""

    # The Jinan genre: 一、 pillars opening with the key-project statistics paragraph, (一) tasks
    # numbered across the pillars, nothing deeper. mapping.parser reads its statistics.
    PILLARS_AND_TASKS = "pillars-and-tasks"
    GENERAL = "general"


@dataclass(frozen=True, slots=True)
class Division:
    """One numbered heading and everything up to the next heading of its level or above."""

    path: tuple[int, ...]  # orders from the top: (2, 1, 3) is item 3 of section 1 of part 2
    level: int  # depth in the tree, 1 = top (GB/T's level of the style is ``style.rank``)
    style: NumberingStyle
    number: int  # the value of the number, e.g. 11
    numeral: str  # the number as printed, normalised: "十一", "3"
    marker: str  # the whole marker, normalised: "(十一)", "3.", "一、"
    marker_span: Span
    title: str  # normalised (see mapping.outline for where a title ends)
    title_span: Span
    lead: str  # normalised text after the title up to the first child (or the end), its 。 or : dropped
    lead_span: Span
    text: str  # normalised, from just after the marker to the end of the division (children included)
    span: Span  # from the first character of the marker to the end of the division
    role: Role
    children: tuple[Division, ...]

    @property
    def order(self) -> int:
        """1-based position within its parent."""
        return self.path[-1]

    @property
    def parent(self) -> tuple[int, ...]:
        """Path of the parent division; ``()`` for a top-level division (its parent is the document)."""
        return self.path[:-1]

    def walk(self) -> Iterator[Division]:
        """This division and all below it, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class StyleNumbering:
    """How one numbering style's numbers run, and the division where the text first showed it."""

    style: NumberingStyle
    sequencing: Sequencing
    decided_at: tuple[int, ...] | None  # path of the first division that restarted or ran on


@dataclass(frozen=True, slots=True)
class Outline:
    """A whole document read as GB/T 9704 headings."""

    title: str  # normalised, including the period in parentheses if it ends the title
    title_span: Span
    period: tuple[int, int] | None  # (first year, last year) from the title
    period_span: Span | None
    preamble: str  # normalised text between the title and the first heading
    preamble_span: Span
    divisions: tuple[Division, ...]  # the top level
    numbering: tuple[StyleNumbering, ...]  # one per style used, in rank order
    shape: Shape  # decided on the headings (mapping.outline.read_outline)
    source_name: str
    source_sha256: str
    source_length: int  # in code points

    def walk(self) -> Iterator[Division]:
        """Every division, in document order."""
        for division in self.divisions:
            yield from division.walk()

    def at_level(self, level: int) -> tuple[Division, ...]:
        return tuple(d for d in self.walk() if d.level == level)

    def find(self, path: tuple[int, ...]) -> Division:
        """The division at ``path``; KeyError when there is none."""
        children = self.divisions
        found: Division | None = None
        for order in path:
            if not 1 <= order <= len(children):
                raise KeyError(path)
            found = children[order - 1]
            children = found.children
        if found is None:
            raise KeyError(path)
        return found

    def at_offset(self, offset: int) -> Division | None:
        """The deepest division whose span holds code point ``offset`` of the source (None: title or
        preamble, or past the end)."""
        found: Division | None = None
        children = self.divisions
        while True:
            inside = next((d for d in children if d.span.start <= offset < d.span.end), None)
            if inside is None:
                return found
            found, children = inside, inside.children

    def sequencing(self, style: NumberingStyle) -> Sequencing | None:
        for entry in self.numbering:
            if entry.style is style:
                return entry.sequencing
        return None
