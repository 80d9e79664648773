"""Documents a plan cites: titles in ``《…》`` and document numbers (``国发〔2022〕18号``), typed.

Read on the normalised text of :mod:`mapping.text` (line breaks inside a title are dropped, full-width
brackets folded); every span maps back to the file as shipped.

* **title**: ``《…》`` with nested ``《》`` or ``〈〉`` kept inside (``《关于印发〈…〉的通知》``). Whatever
  stands in ``《》`` is a citation, a document or not: a book or a newspaper (``《人民日报》``) is a
  citation too, of something known only by its title, as the text quotes it.
* **document number**: an issuer code of one to ten CJK characters, the year in ``〔〕``, ``[]``, ``()``
  or ``【】``, an optional ``第``, the serial and ``号``: ``国发〔2022〕18号``, ``鲁政发[2023]5号``,
  ``济政办字(2021)12号``. The issuer code is the run of ideographs before the year, without the words a
  sentence puts before a code (``印发``, ``根据``, ``落实`` …, ``的``, ``和`` …: ``_ISSUER_LEAD``).
* **one citation**: a title directly followed by its number in parentheses (``《…》(国发〔2022〕18号)``)
  is one citation; a title alone or a number alone is one too.
* **relation**: from the nearest trigger word before the citation in its clause (the clause begins
  after the previous ``。!?;:,``; a chain of citations joined by ``、和及与`` shares the trigger of its
  first): ``根据/依据/按照/依照`` → :attr:`Relation.BASED_ON`; ``落实/贯彻/贯彻落实`` →
  :attr:`Relation.IMPLEMENTS`; none → :attr:`Relation.CITES`.
* **key**: :func:`title_key` (the title with bracket widths and spaces normalised, a period
  ``(2023—2025年)`` taken out and written after ``@`` as ``2023-2025``) when there is a title, else the
  document number's canonical form ``国发〔2022〕18号``.

:func:`resolve` matches the citations of a corpus against its plans' title keys and finds loops of
``implements``/``based_on`` (a plan cannot be based on a plan that is based on it).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mapping.errors import Location
from mapping.model import Span
from mapping.text import NormText, normalise

__all__ = [
    "Citation",
    "CitationLoop",
    "DocumentNumber",
    "Link",
    "Relation",
    "Resolution",
    "extract_citations",
    "resolve",
    "title_key",
]


class Relation(enum.Enum):
    CITES = "cites"  # eli:cites
    BASED_ON = "based_on"  # eli:based_on
    IMPLEMENTS = "implements"  # eli:implements


_TRIGGERS = {
    "贯彻落实": Relation.IMPLEMENTS,
    "落实": Relation.IMPLEMENTS,
    "贯彻": Relation.IMPLEMENTS,
    "根据": Relation.BASED_ON,
    "依据": Relation.BASED_ON,
    "按照": Relation.BASED_ON,
    "依照": Relation.BASED_ON,
}
_TRIGGER = re.compile("|".join(sorted(_TRIGGERS, key=len, reverse=True)))
_CLAUSE_BREAK = "。!?;:,"
_CHAIN = "、和及与"
_IDEOGRAPH = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NUMBER = re.compile(
    rf"(?P<issuer>[{_IDEOGRAPH}]{{1,10}}?)"
    r"(?P<open>[〔\[(【])(?P<year>\d{4})(?P<close>[〕\])】])"
    r"第?(?P<serial>\d{1,5})号"
)
_BRACKET_PAIRS = {"〔": "〕", "[": "]", "(": ")", "【": "】"}
# Words a sentence puts before an issuer code; the code is what follows the last of them.
_ISSUER_LEAD = re.compile(
    ".*(?:印发|转发|下发|根据|依据|按照|依照|贯彻落实|落实|贯彻|执行|参照|文件|通知|精神|要求|"
    "见|的|了|和|与|及|等|是|以)"
)
_PERIOD = re.compile(r"\((\d{4})\s*(?:[—–\-~―－]{1,2}|至|到)\s*(\d{4})\s*年?\)")
_BRACKET_FOLD = str.maketrans(
    {"〔": "(", "〕": ")", "[": "(", "]": ")", "【": "(", "】": ")", "〈": "<", "〉": ">"}
)


@dataclass(frozen=True, slots=True)
class DocumentNumber:
    """A document number as printed: issuer code, year and serial."""

    issuer: str  # 国发, 鲁政办字
    year: int
    serial: int
    printed: str  # normalised, brackets as printed: 鲁政发[2023]5号
    span: Span

    @property
    def key(self) -> str:
        """The canonical form, brackets 〔〕 whatever was printed: 国发〔2022〕18号."""
        return f"{self.issuer}〔{self.year}〕{self.serial}号"


@dataclass(frozen=True, slots=True)
class Citation:
    """One cited document: its title and/or its number, how the text relates to it, and where."""

    title: str | None  # normalised, without 《》
    title_span: Span | None  # 《…》, brackets included
    number: DocumentNumber | None
    period: tuple[int, int] | None  # years of the period the title holds
    key: str  # title_key(title), or the number's key when there is no title
    relation: Relation
    trigger: str | None  # the word the relation was read from
    trigger_span: Span | None
    span: Span  # the whole quote: 《…》, its number in parentheses, or the number alone
    location: Location  # of the first character of ``span``


def title_key(title: str) -> str:
    """The matching key of a (normalised) document title: 《》 dropped, brackets and spaces normalised,
    the period years moved after ``@``: ``山东省…方案(2023—2025年)`` → ``山东省…方案@2023-2025``."""
    folded = normalise(title.strip().strip("《》")).text.translate(_BRACKET_FOLD).replace(" ", "")
    period = _PERIOD.search(folded)
    if period is None:
        return folded
    base = (folded[: period.start()] + folded[period.end() :]).strip()
    return f"{base}@{period.group(1)}-{period.group(2)}"


def _period(title: str) -> tuple[int, int] | None:
    m = _PERIOD.search(title.translate(_BRACKET_FOLD))
    return (int(m.group(1)), int(m.group(2))) if m else None


@dataclass(frozen=True, slots=True)
class _Found:
    start: int
    end: int
    title: tuple[int, int] | None  # inner range of 《…》 (without the brackets)
    number: re.Match[str] | None


def _titles(text: str) -> list[tuple[int, int]]:
    """Ranges of ``《…》`` (outermost only, nesting balanced)."""
    found = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch == "《":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "》" and depth:
            depth -= 1
            if depth == 0:
                found.append((start, i + 1))
    return found


def _number_at(text: str, start: int, end: int) -> re.Match[str] | None:
    """A document number in ``text[start:end]``, its brackets matching, issuer trimmed of lead words."""
    for m in _NUMBER.finditer(text, start, end):
        if _BRACKET_PAIRS[m.group("open")] != m.group("close"):
            continue
        return m
    return None


def extract_citations(raw: str, *, source_name: str, norm: NormText | None = None) -> tuple[Citation, ...]:
    """Every citation of the document, in order of the text (``norm``: ``normalise(raw)``, if computed)."""
    if norm is None:
        norm = normalise(raw)
    elif norm.raw is not raw and norm.raw != raw:
        raise ValueError("norm is not the normalisation of raw")
    text = norm.text
    found: list[_Found] = []
    taken: list[tuple[int, int]] = []
    for start, end in _titles(text):
        number = None
        after = end
        if text.startswith("(", end):
            close = text.find(")", end + 1)
            inner = _number_at(text, end + 1, close) if close > 0 and close - end < 40 else None
            if inner is not None and _issuer_start(text, inner, end + 1) == end + 1 and inner.end() == close:
                number, after = inner, close + 1
        found.append(_Found(start, after, (start + 1, end - 1), number))
        taken.append((start, after))
    for m in _NUMBER.finditer(text):
        if _BRACKET_PAIRS[m.group("open")] != m.group("close"):
            continue
        if any(s <= m.start() < e for s, e in taken):
            continue
        begin = _issuer_start(text, m, 0)
        found.append(_Found(begin, m.end(), None, m))
    found.sort(key=lambda f: f.start)

    citations: list[Citation] = []
    for k, item in enumerate(found):
        trigger = _trigger(text, found, k)
        title = text[item.title[0] : item.title[1]] if item.title else None
        document_number = _document_number(text, norm, item.number) if item.number else None
        key = title_key(title) if title is not None else document_number.key if document_number else ""
        raw_start = norm.raw_offset(item.start)
        citations.append(
            Citation(
                title=title,
                title_span=norm.span(item.title[0] - 1, item.title[1] + 1) if item.title else None,
                number=document_number,
                period=_period(title) if title else None,
                key=key,
                relation=_TRIGGERS[trigger[0]] if trigger else Relation.CITES,
                trigger=trigger[0] if trigger else None,
                trigger_span=norm.span(trigger[1], trigger[1] + len(trigger[0])) if trigger else None,
                span=norm.span(item.start, item.end),
                location=Location.at(source_name, raw, raw_start),
            )
        )
    return tuple(citations)


def _issuer_start(text: str, m: re.Match[str], floor: int) -> int:
    """Where the issuer code of number ``m`` begins: the run of ideographs before its year bracket,
    from ``floor`` on, without the words that lead into it."""
    begin = m.start("open")
    while begin > floor and re.match(f"[{_IDEOGRAPH}]", text[begin - 1]) and m.start("open") - begin < 10:
        begin -= 1
    lead = _ISSUER_LEAD.match(text, begin, m.start("open"))
    if lead is not None and lead.end() < m.start("open"):
        begin = lead.end()
    return begin


def _document_number(text: str, norm: NormText, m: re.Match[str]) -> DocumentNumber:
    begin = _issuer_start(text, m, 0)
    return DocumentNumber(
        issuer=text[begin : m.start("open")],
        year=int(m.group("year")),
        serial=int(m.group("serial")),
        printed=text[begin : m.end()],
        span=norm.span(begin, m.end()),
    )


def _trigger(text: str, found: list[_Found], k: int) -> tuple[str, int] | None:
    """The trigger word governing citation ``k`` and its position, if its clause has one."""
    start = found[k].start
    # Walk back over a chain of citations joined directly or by 、和及与 (the chain shares a trigger).
    j = k
    while j > 0:
        gap = text[found[j - 1].end : found[j].start]
        if len(gap) > 2 or any(ch not in _CHAIN for ch in gap):
            break
        j -= 1
    start = found[j].start
    clause = start
    while clause > 0 and text[clause - 1] not in _CLAUSE_BREAK:
        clause -= 1
    last = None
    for m in _TRIGGER.finditer(text, clause, start):
        last = (m.group(), m.start())
    return last


# -- resolution ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """A citation of plan ``source`` and what it refers to: a plan of the corpus, or a stub key."""

    source: str  # the citing plan's identifier, as the caller names plans
    citation: Citation
    target: str | None  # the cited plan's identifier when it is in the corpus
    stub: str | None  # else the key a stub document is known by (Citation.key)


@dataclass(frozen=True, slots=True)
class CitationLoop:
    """Plans that implement or are based on each other in a circle: ``links[i]`` goes from
    ``plans[i]`` to ``plans[i + 1]`` (the last back to the first)."""

    plans: tuple[str, ...]
    links: tuple[Link, ...]

    def message(self) -> str:
        steps = ", ".join(
            f"{link.citation.location}: {link.source} {link.citation.relation.value} {link.target}"
            for link in self.links
        )
        return f"citation loop {' → '.join((*self.plans, self.plans[0]))} ({steps})"


@dataclass(frozen=True, slots=True)
class Resolution:
    links: tuple[Link, ...]  # one per citation, plans in the order given, citations in text order
    loops: tuple[CitationLoop, ...]


_BINDING = (Relation.IMPLEMENTS, Relation.BASED_ON)


def resolve(
    citations: Mapping[str, Sequence[Citation]],
    title_keys: Mapping[str, str],
    document_numbers: Mapping[str, str] | None = None,
) -> Resolution:
    """Match every citation against the plans of the corpus.

    ``citations`` maps each plan's identifier to its citations; ``title_keys`` each plan's identifier
    to :func:`title_key` of its title; ``document_numbers``, where known (a plan's text rarely
    carries its own), a plan's identifier to its :attr:`DocumentNumber.key`. A citation refers to a
    plan when its key equals the plan's title key (same title, same period), or else when its
    document number equals the plan's; a key two plans share is ambiguous and refers to neither.
    Loops are cycles of ``implements``/``based_on`` links between plans of the corpus (a plan that
    implements itself is one too); ``cites`` may go both ways and makes no loop."""
    by_title = _plans_by(title_keys)
    by_number = _plans_by(document_numbers or {})
    links: list[Link] = []
    for plan, found in citations.items():
        for citation in found:
            targets = by_title.get(citation.key, [])
            if not targets and citation.number is not None:
                targets = by_number.get(citation.number.key, [])
            if len(targets) == 1:
                links.append(Link(plan, citation, targets[0], None))
            else:
                links.append(Link(plan, citation, None, citation.key))
    return Resolution(tuple(links), _loops(links))


def _plans_by(keys: Mapping[str, str]) -> dict[str, list[str]]:
    plans: dict[str, list[str]] = {}
    for plan, key in keys.items():
        plans.setdefault(key, []).append(plan)
    return plans


def _loops(links: Sequence[Link]) -> tuple[CitationLoop, ...]:
    edges: dict[str, dict[str, Link]] = {}
    for link in links:
        if link.target is not None and link.citation.relation in _BINDING:
            edges.setdefault(link.source, {}).setdefault(link.target, link)
    loops: list[CitationLoop] = []
    seen: set[frozenset[str]] = set()
    for component in _strongly_connected(edges):
        if len(component) == 1:
            (only,) = component
            if only not in edges.get(only, {}):
                continue
        members = frozenset(component)
        if members in seen:
            continue
        seen.add(members)
        cycle = _cycle(edges, min(component), members)
        loop_links = tuple(edges[a][cycle[(i + 1) % len(cycle)]] for i, a in enumerate(cycle))
        loops.append(CitationLoop(tuple(cycle), loop_links))
    return tuple(sorted(loops, key=lambda loop: loop.plans))


def _strongly_connected(edges: Mapping[str, Mapping[str, Link]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively."""
    nodes = sorted(set(edges) | {t for targets in edges.values() for t in targets})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(edges.get(root, {})))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop(0)
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(edges.get(nxt, {}))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _cycle(edges: Mapping[str, Mapping[str, Link]], start: str, members: frozenset[str]) -> list[str]:
    """A cycle through ``start`` inside ``members`` (breadth first: the shortest)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(edges.get(node, {})):
                if nxt not in members:
                    continue
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return list(reversed(path))
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    return [start]
