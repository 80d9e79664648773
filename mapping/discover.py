"""Entities nobody catalogued: organisations, places and named projects found by rules in any plan text.

The curated catalogue (:mod:`mapping.entities`) is authoritative and comes first: its names are matched
in each scope with its own matcher, and a candidate that overlaps a catalogued name is dropped
(catalogued entities win every overlap). The one exception is a catalogued *place* lying wholly inside
an organisation or project candidate: 青岛市 in 青岛市中心医院 is part of that name, as a place
inside a catalogued organisation's name is for the catalogue. What is left is found by the rules of
``mapping/data/discovery.toml`` (documented there, with the confidence formula) on the normalised
text of :mod:`mapping.text`, so every candidate maps back to the exact characters of the source:

* ``org-suffix``: a name ending in 大学, 医院, 实验室, 研究院, 集团, 公司, 银行, 委员会, 厅, 局 …;
* ``place-suffix``: a name ending in 省, 市, 区, 县, 镇, 街道, 乡, 村;
* ``project-list``: the items of a list ``A、B、C等…项目`` (or ``…工程``).

Each candidate carries the rule that produced it (``method``, and the suffix or head word as
``rule``) and a confidence derived from the rule (its weight times a boundary factor). Names on the
stop list (``mapping/data/stoplist.toml``, written by ``plankg entities --reject``) are dropped.

:func:`discover` works on any text and any division of it: it takes the raw text and the scopes
(a span of the raw text, and the context a mention in it is attributed to: a task number, a division's
IRI …), and returns :class:`Found` mentions in text order. :func:`plan_scopes` gives the scopes of a
parsed plan (its title, preamble and tasks, as :func:`mapping.entities.find_mentions` uses).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar

from mapping.entities import (
    DATA_DIR,
    Catalogue,
    CatalogueEntry,
    CatalogueError,
    EntityKind,
    OrgType,
    name_matcher,
    read_data_file,
    scope_range,
)
from mapping.model import Plan, Span
from mapping.text import normalise

RULES_FILE = "discovery.toml"
STOPLIST_FILE = "stoplist.toml"

C = TypeVar("C")

ORG_SUFFIX, PLACE_SUFFIX, PROJECT_LIST = "org-suffix", "place-suffix", "project-list"
METHODS = (ORG_SUFFIX, PLACE_SUFFIX, PROJECT_LIST)

_TWO = Decimal("0.01")
# Boundary factors of the confidence (discovery.toml): by how many sides are a stop or follow word.
_BOUNDARY = {0: Decimal("1.00"), 1: Decimal("0.90"), 2: Decimal("0.80")}


# --- rules and the stop list -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgSuffix:
    suffix: str
    type: OrgType
    weight: Decimal


@dataclass(frozen=True, slots=True)
class PlaceSuffix:
    suffix: str
    weight: Decimal
    max_name: int
    not_before: str  # characters that, right after the suffix, make it the start of another word


@dataclass(frozen=True, slots=True)
class ListHead:
    head: str
    weight: Decimal


@dataclass(frozen=True)
class Rules:
    """The rules of ``discovery.toml``, validated."""

    min_name: int
    max_name: int
    max_item: int
    stops: tuple[str, ...]  # longest first
    follows: tuple[str, ...]  # longest first
    generic: tuple[str, ...]  # longest first
    place_generic: tuple[str, ...]
    org_suffixes: tuple[OrgSuffix, ...]  # longest first
    place_suffixes: tuple[PlaceSuffix, ...]  # longest first
    max_between: int
    heads: tuple[ListHead, ...]


@dataclass(frozen=True, slots=True)
class Stop:
    """A name a curator rejected: never a candidate again (of ``kind``, or of any kind when None)."""

    name: str  # normalised
    kind: EntityKind | None
    note: str | None


def _weight(e: CatalogueEntry) -> Decimal:
    e.used.add("weight")
    value = e.table.get("weight")
    if not isinstance(value, float | int) or isinstance(value, bool) or not 0 < value <= 1:
        raise e.error("weight must be a number in (0, 1]")
    return Decimal(str(value))


def _words(file: str, data: dict[str, Any], section: str, field: str) -> tuple[str, ...]:
    table = data.get(section)
    if not isinstance(table, dict) or set(table) != {field}:
        raise CatalogueError(file, section, f"must be a table with exactly the field {field}")
    words = table[field]
    if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
        raise CatalogueError(file, section, f"{field} must be a list of non-empty strings")
    seen: set[str] = set()
    for word in words:
        if word in seen:
            raise CatalogueError(file, section, f"duplicate word {word!r}")
        seen.add(word)
    return tuple(sorted(words, key=len, reverse=True))


def _positive(file: str, section: str, table: Any, field: str) -> int:
    value = table.get(field) if isinstance(table, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise CatalogueError(file, section, f"{field} must be a positive integer")
    return value


def load_rules(data_dir: Path = DATA_DIR) -> Rules:
    """Read and validate ``discovery.toml``; raises :class:`CatalogueError` naming file and entry."""
    path = data_dir / RULES_FILE
    file = path.name
    data = read_data_file(path)
    known = {"limits", "stops", "follows", "generic", "place_generic", "org_suffix", "place_suffix"}
    unknown = sorted(set(data) - known - {"project_list"})
    if unknown:
        raise CatalogueError(file, "file", f"unknown section(s) {', '.join(unknown)}")
    limits = data.get("limits")
    if not isinstance(limits, dict) or set(limits) != {"min_name", "max_name", "max_item"}:
        raise CatalogueError(file, "limits", "must be a table with exactly min_name, max_name, max_item")
    orgs: list[OrgSuffix] = []
    for i, table in enumerate(_list(file, data, "org_suffix")):
        e = CatalogueEntry(file, "org_suffix", i + 1, table)
        suffix, type_text = e.text("suffix"), e.text("type")
        try:
            org_type = OrgType(type_text)
        except ValueError:
            raise e.error(f"unknown type {type_text!r}") from None
        orgs.append(OrgSuffix(suffix, org_type, _weight(e)))
        e.done()
    places: list[PlaceSuffix] = []
    for i, table in enumerate(_list(file, data, "place_suffix")):
        e = CatalogueEntry(file, "place_suffix", i + 1, table)
        places.append(
            PlaceSuffix(
                e.text("suffix"), _weight(e), e.integer("max_name"), e.optional_text("not_before") or ""
            )
        )
        e.done()
    project_list = data.get("project_list")
    if not isinstance(project_list, dict) or set(project_list) != {"max_between", "head"}:
        raise CatalogueError(file, "project_list", "must be a table with exactly max_between and [[head]]")
    heads: list[ListHead] = []
    for i, table in enumerate(_list(file, project_list, "head")):
        e = CatalogueEntry(file, "project_list.head", i + 1, table)
        heads.append(ListHead(e.text("head"), _weight(e)))
        e.done()
    for what, items in (
        ("org_suffix", [o.suffix for o in orgs]),
        ("place_suffix", [p.suffix for p in places]),
    ):
        if len(set(items)) != len(items):
            raise CatalogueError(file, what, "duplicate suffix")
    return Rules(
        min_name=_positive(file, "limits", limits, "min_name"),
        max_name=_positive(file, "limits", limits, "max_name"),
        max_item=_positive(file, "limits", limits, "max_item"),
        stops=_words(file, data, "stops", "words"),
        follows=_words(file, data, "follows", "words"),
        generic=_words(file, data, "generic", "words"),
        place_generic=_words(file, data, "place_generic", "tails"),
        org_suffixes=tuple(sorted(orgs, key=lambda o: len(o.suffix), reverse=True)),
        place_suffixes=tuple(sorted(places, key=lambda p: len(p.suffix), reverse=True)),
        max_between=_positive(file, "project_list", project_list, "max_between"),
        heads=tuple(heads),
    )


def _list(file: str, data: Mapping[str, Any], section: str) -> list[Any]:
    tables = data.get(section, [])
    if not isinstance(tables, list) or not tables:
        raise CatalogueError(file, section, f"must be a non-empty array of tables ([[{section}]])")
    return tables


def load_stoplist(data_dir: Path = DATA_DIR) -> tuple[Stop, ...]:
    """Read and validate ``stoplist.toml``: ``[[stop]]`` tables with ``name``, optional ``type``
    (org, place or project) and ``note``; an unknown field, an unknown type or a name listed twice
    for the same type raises :class:`CatalogueError` naming the file and the entry."""
    path = data_dir / STOPLIST_FILE
    data = read_data_file(path)
    unknown = sorted(set(data) - {"stop"})
    if unknown:
        raise CatalogueError(path.name, "file", f"unknown section(s) {', '.join(unknown)}")
    tables = data.get("stop", [])
    if not isinstance(tables, list):
        raise CatalogueError(path.name, "stop", "must be an array of tables ([[stop]])")
    stops: list[Stop] = []
    seen: set[tuple[str, EntityKind | None]] = set()
    for i, table in enumerate(tables):
        e = CatalogueEntry(path.name, "stop", i + 1, table)
        name = normalise(e.text("name")).text
        e.label = f"stop {name!r}"
        kind_text = e.optional_text("type")
        try:
            kind = None if kind_text is None else EntityKind(kind_text)
        except ValueError:
            raise e.error(f"unknown type {kind_text!r} (one of org, place, project)") from None
        note = e.optional_text("note")
        e.done()
        if not name:
            raise e.error("name is empty once normalised")
        if (name, kind) in seen or (name, None) in seen or (kind is None and any(n == name for n, _ in seen)):
            raise e.error("duplicate: the name is already on the stop list")
        seen.add((name, kind))
        stops.append(Stop(name, kind, note))
    return tuple(stops)


# --- candidates ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope(Generic[C]):
    """A part of the text to search, and what a mention found in it is attributed to."""

    context: C  # a task number, a division's IRI … (None for the plan's title and preamble)
    span: Span  # its characters in the raw text


@dataclass(frozen=True, slots=True)
class Found(Generic[C]):
    """A machine-found mention of an entity no catalogue lists."""

    kind: EntityKind
    name: str  # the normalised surface form (also the entity's name)
    context: C
    span: Span  # the characters of the source: quote == raw[start:end]
    method: str  # org-suffix | place-suffix | project-list
    rule: str  # the suffix or list head that matched
    confidence: Decimal  # rule weight × boundary factor, two decimal places
    org_type: OrgType | None  # the kind of organisation the suffix suggests; None for places, projects

    @property
    def key(self) -> str:
        return found_key(self.name)


def found_key(name: str) -> str:
    """The stable key of a machine-found entity: the first 12 hex digits of the SHA-256 of its
    normalised name (UTF-8). The same name gives the same IRI in every build and every plan."""
    return hashlib.sha256(normalise(name).text.encode("utf-8")).hexdigest()[:12]


def plan_scopes(plan: Plan) -> list[Scope[int | None]]:
    """The scopes of a parsed plan: its title and preamble (context None) and each task (its number)."""
    scopes: list[Scope[int | None]] = [Scope(None, plan.title_span), Scope(None, plan.preamble_span)]
    scopes.extend(Scope(task.number, task.span) for task in plan.tasks)
    return scopes


def _is_name_char(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0x20000 <= o <= 0x3FFFF
        or (ch.isascii() and ch.isalnum())
    )


@dataclass(frozen=True, slots=True)
class _Cand:
    kind: EntityKind
    start: int  # in the scope's normalised text
    end: int
    method: str
    rule: str
    confidence: Decimal
    org_type: OrgType | None


class _Finder:
    """The rules applied to the normalised text of one scope."""

    def __init__(self, text: str, rules: Rules) -> None:
        self.t = text
        self.rules = rules
        self.place_suffix_words = tuple(p.suffix for p in rules.place_suffixes)

    def ends_with(self, k: int, words: Iterable[str]) -> str | None:
        return next((w for w in words if k >= len(w) and self.t[k - len(w) : k] == w), None)

    def starts_with(self, k: int, words: Iterable[str]) -> str | None:
        return next((w for w in words if self.t.startswith(w, k)), None)

    def reach_left(self, k: int, *, places_stop: bool = False) -> tuple[int, bool]:
        """Where a name ending at ``k`` begins, and whether a stop word (not punctuation or the edge)
        ended it."""
        while k > 0:
            if self.ends_with(k, self.rules.stops) is not None:
                return k, True
            if not _is_name_char(self.t[k - 1]):
                return k, False
            if places_stop and self.ends_with(k, self.place_suffix_words) is not None:
                return k, False
            k -= 1
        return k, False

    def right_side(self, j: int) -> tuple[bool, bool]:
        """Whether a name may end at ``j``, and whether that end is a follow word."""
        if j == len(self.t) or not _is_name_char(self.t[j]):
            return True, False
        return self.starts_with(j, self.rules.follows) is not None, True

    def is_generic(self, part: str) -> bool:
        """Whether ``part`` is made of generic words only (greedy, longest first)."""
        i = 0
        while i < len(part):
            word = next((w for w in self.rules.generic if part.startswith(w, i)), None)
            if word is None:
                return False
            i += len(word)
        return True

    def confidence(self, weight: Decimal, word_sides: int) -> Decimal:
        return (weight * _BOUNDARY[word_sides]).quantize(_TWO)

    def organisations(self) -> list[_Cand]:
        out: list[_Cand] = []
        for s in range(len(self.t)):
            suffix = next((o for o in self.rules.org_suffixes if self.t.startswith(o.suffix, s)), None)
            if suffix is None:
                continue
            j = s + len(suffix.suffix)
            ok, right_word = self.right_side(j)
            if not ok:
                continue
            k, left_word = self.reach_left(s)
            part = self.t[k:s]
            if not self.rules.min_name <= len(part) <= self.rules.max_name or self.is_generic(part):
                continue
            confidence = self.confidence(suffix.weight, left_word + right_word)
            out.append(
                _Cand(EntityKind.ORGANISATION, k, j, ORG_SUFFIX, suffix.suffix, confidence, suffix.type)
            )
        return out

    def places(self) -> list[_Cand]:
        out: list[_Cand] = []
        for s in range(len(self.t)):
            suffix = next((p for p in self.rules.place_suffixes if self.t.startswith(p.suffix, s)), None)
            if suffix is None:
                continue
            j = s + len(suffix.suffix)
            if j < len(self.t) and self.t[j] in suffix.not_before:
                continue
            k, left_word = self.reach_left(s, places_stop=True)
            part = self.t[k:s]
            if not self.rules.min_name <= len(part) <= suffix.max_name:
                continue
            if self.ends_with(s, self.rules.place_generic) is not None:
                continue
            right_word = j < len(self.t) and _is_name_char(self.t[j])
            confidence = self.confidence(suffix.weight, left_word + right_word)
            out.append(_Cand(EntityKind.PLACE, k, j, PLACE_SUFFIX, suffix.suffix, confidence, None))
        return out

    def projects(self) -> list[_Cand]:
        out: list[_Cand] = []
        for d in range(len(self.t)):
            if self.t[d] != "等":
                continue
            head = self.list_head(d + 1)
            if head is None:
                continue
            items: list[tuple[int, int, int]] = []  # start, end, sides that are words
            end, right_word = d, True
            while True:
                k = end
                while k > 0 and _is_name_char(self.t[k - 1]) and k > end - self.rules.max_item - 1:
                    k -= 1
                if k > 0 and self.t[k - 1] == "、":
                    items.append((k, end, right_word))
                    end, right_word = k - 1, False
                    continue
                k, left_word = self.reach_left(end)  # the first item reaches left like a name
                items.append((k, end, left_word + right_word))
                break
            for start, stop, words in items:
                if 2 <= stop - start <= self.rules.max_item:
                    confidence = self.confidence(head.weight, words)
                    out.append(
                        _Cand(EntityKind.PROJECT, start, stop, PROJECT_LIST, head.head, confidence, None)
                    )
        return out

    def list_head(self, i: int) -> ListHead | None:
        """The head word within ``max_between`` name characters after ``等`` at ``i - 1``."""
        for j in range(i, min(len(self.t), i + self.rules.max_between + 1)):
            head = next((h for h in self.rules.heads if self.t.startswith(h.head, j)), None)
            if head is not None:
                return head
            if not _is_name_char(self.t[j]):
                return None
        return None


def _within(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return b[0] <= a[0] and a[1] <= b[1]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _resolve(
    candidates: list[_Cand], catalogued: list[tuple[EntityKind, int, int]], stops: Sequence[Stop], text: str
) -> list[_Cand]:
    """Catalogue first, then the stop list, then the longest candidate of each kind; a place inside
    an organisation or project candidate is part of its name."""
    stopped = {(s.name, s.kind) for s in stops}
    kept: list[_Cand] = []
    for c in candidates:
        r = (c.start, c.end)
        name = text[c.start : c.end]
        if (name, None) in stopped or (name, c.kind) in stopped:
            continue
        if any(
            _overlap(r, (i, j))
            and not (kind is EntityKind.PLACE and c.kind is not EntityKind.PLACE and _within((i, j), r))
            for kind, i, j in catalogued
        ):
            continue
        kept.append(c)
    out: list[_Cand] = []
    for c in kept:
        r = (c.start, c.end)
        if any(
            o is not c and o.kind is c.kind and _within(r, (o.start, o.end)) and r != (o.start, o.end)
            for o in kept
        ):
            continue  # inside a longer candidate of its kind
        if any(
            o is not c and o.kind is c.kind and r == (o.start, o.end) and o.confidence > c.confidence
            for o in kept
        ):
            continue
        if c.kind is EntityKind.PLACE and any(
            o.kind is not EntityKind.PLACE and _within(r, (o.start, o.end)) for o in kept
        ):
            continue
        if any(o.kind is c.kind and (o.start, o.end) == r for o in out):
            continue
        out.append(c)
    return out


def discover(
    raw: str,
    scopes: Sequence[Scope[C]],
    *,
    catalogue: Catalogue | None,
    rules: Rules,
    stoplist: Sequence[Stop] = (),
) -> tuple[Found[C], ...]:
    """The machine-found mentions in the ``scopes`` of ``raw``, in text order.

    ``catalogue`` None switches the catalogue off (every candidate the rules find is kept; used to
    measure the rules against the catalogue's own answers). A scope's span must lie within ``raw``.
    """
    norm = normalise(raw)
    matchers = []
    if catalogue is not None:
        matchers = [
            (EntityKind.ORGANISATION, name_matcher(catalogue.organisations.values())),
            (EntityKind.PLACE, name_matcher(catalogue.places.values())),
            (EntityKind.PROJECT, name_matcher(catalogue.projects.values())),
        ]
    found: list[Found[C]] = []
    for scope in scopes:
        if not 0 <= scope.span.start <= scope.span.end <= len(raw):
            raise ValueError(f"scope {scope.span.start}..{scope.span.end} outside the text (0..{len(raw)})")
        lo, hi = scope_range(norm, scope.span)
        text = norm.text[lo:hi]
        catalogued = [(kind, i, j) for kind, m in matchers for i, j, _key, _name in m.find(text)]
        finder = _Finder(text, rules)
        candidates = finder.organisations() + finder.places() + finder.projects()
        for c in _resolve(candidates, catalogued, stoplist, text):
            span = norm.span(lo + c.start, lo + c.end)
            found.append(
                Found(
                    c.kind,
                    text[c.start : c.end],
                    scope.context,
                    span,
                    c.method,
                    c.rule,
                    c.confidence,
                    c.org_type,
                )
            )
    kinds = list(EntityKind)
    found.sort(key=lambda f: (f.span.start, f.span.end, kinds.index(f.kind)))
    return tuple(found)
