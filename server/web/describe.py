"""Gather what a page shows about one entity, by SPARQL through the store interface.

Plain functions over a ``Select`` callable (a SELECT query in, rows of ``Node`` out), so they know
nothing of the store behind it and are tested without HTTP. Entities are classified by the IRI
patterns of docs/ARCHITECTURE.md (``{base}id/task/…``, ``{base}id/org/…``), which are the contract,
rather than by class names that may still move between vocabularies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from server.web.originals import OriginalPlace

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OA = "http://www.w3.org/ns/oa#"
PROV = "http://www.w3.org/ns/prov#"
ORG = "http://www.w3.org/ns/org#"
ELI = "http://data.europa.eu/eli/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCTERMS = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
# The graph names a media type by its IANA registry IRI (mapping.dumps writes them).
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

LABEL_PROPERTIES = (f"{RDFS}label", f"{SKOS}prefLabel")
LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Node:
    """One RDF term of a result row, as every result format can express it."""

    kind: Literal["iri", "literal", "bnode"]
    value: str
    lang: str | None = None
    datatype: str | None = None

    @property
    def is_iri(self) -> bool:
        return self.kind == "iri"


Row = Mapping[str, Node]


class Select(Protocol):
    """Run a SPARQL SELECT query and return its rows (variables without a binding are absent).

    ``bindings`` are typed values for variables of the query (the store substitutes them), so text a
    user typed is never spliced into the query.
    """

    def __call__(self, query: str, bindings: Mapping[str, Node] | None = None) -> Sequence[Row]: ...


_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
# Outside RFC 3987's ucschar (and iprivate): DEL and the C1 controls, surrogates, private use, the
# noncharacters U+FDD0-FDEF and U+FFF0-FFFF (U+FFFD, which a path of invalid UTF-8 decodes to, among
# them), each plane's last two code points, tags. The store's parser refuses them (a 400, not a 404).
_NOT_UCSCHAR = re.compile(
    "[\x7f-\x9f\ud800-\uf8ff\ufdd0-\ufdef\ufff0-\uffff"
    + "".join(f"\\U{p:04x}fffe-\\U{p:04x}ffff" for p in range(1, 17))
    + "\\U000e0000-\\U000e0fff\\U000f0000-\\U0010ffff]"
)


def sparql_iri(iri: str) -> str:
    """``<iri>`` for a query; refuses characters an IRIREF cannot hold rather than escaping them."""
    if not iri or _IRI_FORBIDDEN.search(iri) or _NOT_UCSCHAR.search(iri):
        raise ValueError(f"not an IRI a query can name: {iri!r}")
    return f"<{iri}>"


def sparql_string(text: str) -> str:
    """A SPARQL string literal holding exactly ``text`` (every character that could end it escaped)."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


@dataclass(frozen=True)
class Site:
    """Where things live: the configured base and the path prefix this server answers under."""

    base: str
    prefixes: tuple[tuple[str, str], ...] = ()  # (prefix, namespace) for compact names of IRIs

    def curie(self, iri: str) -> str | None:
        """``rdfs:label`` for ``http://www.w3.org/2000/01/rdf-schema#label``, if a prefix fits."""
        best: tuple[str, str] | None = None
        for prefix, namespace in self.prefixes:
            if iri.startswith(namespace) and (best is None or len(namespace) > len(best[1])):
                best = (prefix, namespace)
        if best is None:
            return None
        local = iri[len(best[1]) :]
        # Our own namespaces keep their slashes (id:span/1064-1080, pk:stage/new): readable, and
        # only ever shown, never written into a query or a document.
        ours = best[1] in (self.things, self.terms)
        return f"{best[0]}:{local}" if local and "#" not in local and (ours or "/" not in local) else None

    @property
    def things(self) -> str:
        return self.base + "id/"

    @property
    def terms(self) -> str:
        return self.base + "def/"

    def is_local(self, iri: str) -> bool:
        return iri.startswith(self.things) or iri.startswith(self.terms)

    def kind(self, iri: str) -> str | None:
        """The first path segment under ``id/`` (``task``, ``org``, ``pillar`` …), or under a plan's
        ``id/plan/{slug}/`` for its parts (``plan`` for the plan itself), ``def`` for terms."""
        if iri.startswith(self.terms):
            return "def"
        if iri.startswith(self.things):
            parts = iri[len(self.things) :].split("/")
            if parts[0] == "plan" and len(parts) >= 3:
                return parts[2]
            return parts[0]
        return None

    def plan_slug(self, iri: str) -> str | None:
        """The slug of the plan ``iri`` is (``id/plan/{slug}``) or is a part of, else None."""
        if not iri.startswith(self.things + "plan/"):
            return None
        slug = iri[len(self.things) + len("plan/") :].split("/", 1)[0]
        return slug or None

    @property
    def prefix(self) -> str:
        """The path of the base, e.g. ``/`` or ``/plankg/``: every route of ours lives under it."""
        after_scheme = self.base.split("://", 1)[-1]
        slash = after_scheme.find("/")
        return after_scheme[slash:] if slash >= 0 else "/"

    def page(self, iri: str) -> str | None:
        """The path of the HTML/RDF document about a local IRI (see server/web/pages.py), else None."""
        if iri.startswith(self.things):
            return f"{self.prefix}doc/id/{iri[len(self.things) :]}"
        if iri.startswith(self.terms):
            return f"{self.prefix}doc/def/{iri[len(self.terms) :]}"
        return None


@dataclass
class Labels:
    """Labels by language; ``zh`` first, as the plan is Chinese."""

    by_lang: dict[str, list[str]] = field(default_factory=dict)

    def add(self, term: Node) -> None:
        lang = (term.lang or "").lower().split("-", 1)[0]
        values = self.by_lang.setdefault(lang, [])
        if term.value not in values:
            values.append(term.value)

    def first(self, lang: str) -> str | None:
        values = self.by_lang.get(lang)
        return values[0] if values else None

    def best(self) -> tuple[str, str] | None:
        """(text, lang) of the label to show first: zh, then en, then any."""
        for lang in (*LANGUAGES, *sorted(self.by_lang)):
            text = self.first(lang)
            if text is not None:
                return text, lang
        return None


@dataclass(frozen=True)
class Link:
    """A resource as a page shows it: its IRI, where to follow it, and its labels."""

    iri: str
    href: str
    zh: str | None = None
    en: str | None = None
    other: str | None = None
    local: bool = False
    curie: str | None = None

    @property
    def text(self) -> str:
        return self.zh or self.en or self.other or self.curie or self.iri


@dataclass(frozen=True)
class Value:
    """An object of a triple: a link, or a literal with its language tag and datatype."""

    link: Link | None = None
    literal: str | None = None
    lang: str | None = None
    datatype: Link | None = None

    @property
    def html_lang(self) -> str | None:
        """The language to declare in HTML: the tag, else zh for untagged text in Chinese characters
        (numbers as printed, values as written: the plan is a Chinese document)."""
        if self.lang:
            return self.lang
        return "zh" if self.literal and _CJK.search(self.literal) else None


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Property:
    predicate: Link
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Incoming:
    subject: Link
    predicate: Link


LONG_PASSAGE = 400  # code points


@dataclass(frozen=True)
class Passage:
    """Where a statement came from: the exact characters ``source[start:end]`` and their context."""

    span: Link
    start: int
    end: int
    before: str
    quote: str
    after: str
    exact: str | None  # oa:exact as stored in the graph
    from_source: bool  # cut from the source file by offsets (else from oa:prefix/oa:suffix)
    via: tuple[Link, ...] = ()  # the properties linking the entity to the span
    # Where the span sits in the original a text was extracted from (PDF page, DOCX paragraph or
    # cell, HTML element), each with the link that opens the original there (server/web/originals.py).
    originals: tuple[OriginalPlace, ...] = ()

    @property
    def long(self) -> bool:
        """Long passages (a whole pillar) are folded on the page, short ones shown in full."""
        return self.end - self.start > LONG_PASSAGE

    @property
    def agrees(self) -> bool:
        """The stored quote equals the characters between the offsets (when both are known)."""
        return self.exact is None or self.exact == self.quote


@dataclass(frozen=True)
class StatisticsRow:
    stage: Link
    count: str | None
    investment: str | None
    years: tuple[str, ...]
    observation: Link


@dataclass(frozen=True)
class Related:
    """Things linked with an entity, in either direction, that the page lists in their own section."""

    item: Link
    details: tuple[Property, ...] = ()
    via: Link | None = None  # for tasks reached through a sub-organisation


@dataclass
class Entity:
    iri: str
    labels: Labels
    types: list[Link]
    properties: list[Property]
    incoming: list[Incoming]
    incoming_total: int
    passages: list[Passage]
    kind: str | None
    sections: dict[str, list[Related]] = field(default_factory=dict)
    statistics: list[StatisticsRow] = field(default_factory=list)

    def title(self) -> tuple[str, str | None]:
        best = self.labels.best()
        return (best[0], best[1] or None) if best else (self.iri, None)


# --- label lookup ------------------------------------------------------------------------------


def fetch_labels(select: Select, iris: Iterable[str]) -> dict[str, Labels]:
    """Labels (rdfs:label, skos:prefLabel) of many IRIs in one query."""
    unique = sorted({i for i in iris if not _IRI_FORBIDDEN.search(i)})
    found: dict[str, Labels] = {}
    for chunk_start in range(0, len(unique), 200):
        chunk = unique[chunk_start : chunk_start + 200]
        values = " ".join(sparql_iri(i) for i in chunk)
        props = " ".join(sparql_iri(p) for p in LABEL_PROPERTIES)
        query = f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} VALUES ?p {{ {props} }} ?x ?p ?l }}"
        for row in select(query):
            found.setdefault(row["x"].value, Labels()).add(row["l"])
    return found


class Linker:
    """Turns IRIs into ``Link``s with labels, looked up in batches."""

    def __init__(self, site: Site, select: Select) -> None:
        self.site = site
        self.select = select
        self.labels: dict[str, Labels] = {}

    def prefetch(self, iris: Iterable[str]) -> None:
        missing = [i for i in iris if i not in self.labels]
        fetched = fetch_labels(self.select, missing)
        for iri in missing:
            self.labels[iri] = fetched.get(iri, Labels())

    def link(self, iri: str) -> Link:
        if iri not in self.labels:
            self.prefetch([iri])
        labels = self.labels[iri]
        best = labels.best()
        page = self.site.page(iri)
        return Link(
            iri=iri,
            href=page or iri,
            zh=labels.first("zh"),
            en=labels.first("en"),
            other=best[0] if best and best[1] not in LANGUAGES else None,
            local=page is not None,
            curie=self.site.curie(iri),
        )

    def value(self, term: Node) -> Value:
        if term.kind == "iri":
            return Value(link=self.link(term.value))
        if term.kind == "bnode":
            return Value(literal=f"_:{term.value}")
        datatype = self.link(term.datatype) if term.datatype else None
        return Value(literal=term.value, lang=term.lang, datatype=datatype)


# --- the entity --------------------------------------------------------------------------------


def within(graph: str | None, pattern: str) -> str:
    """``pattern`` in the named graph ``graph`` (a plan's), or as it is (the default graph)."""
    return pattern if graph is None else f"GRAPH {sparql_iri(graph)} {{ {pattern} }}"


def exists(select: Select, iri: str) -> bool:
    """Whether the graph says anything with ``iri`` as subject or object."""
    try:
        ref = sparql_iri(iri)
    except ValueError:
        return False  # characters no IRI can hold (a space, a quote …): not in any graph
    query = f"SELECT ?x WHERE {{ {{ {ref} ?p ?x }} UNION {{ ?x ?p {ref} }} }} LIMIT 1"
    return bool(select(query))


def describe(site: Site, select: Select, iri: str, source: str | SourceFor | None = None) -> Entity | None:
    """Everything an entity page shows about ``iri``, or None when the graph does not know it."""
    ref = sparql_iri(iri)
    out = select(f"SELECT ?p ?o WHERE {{ {ref} ?p ?o }}")
    inc = select(f"SELECT ?s ?p WHERE {{ ?s ?p {ref} }} ORDER BY ?p ?s LIMIT {INCOMING_LIMIT}")
    if not out and not inc:
        return None
    linker = Linker(site, select)
    linker.prefetch(
        [iri]
        + [r["p"].value for r in out]
        + [r["o"].value for r in out if r["o"].is_iri]
        + [r["o"].datatype for r in out if r["o"].datatype]
        + [r["s"].value for r in inc if r["s"].is_iri]
        + [r["p"].value for r in inc]
    )
    labels = linker.labels.get(iri, Labels())
    types: list[Link] = []
    grouped: dict[str, list[Value]] = {}
    for row in out:
        p, o = row["p"].value, row["o"]
        if p == RDF_TYPE and o.is_iri:
            types.append(linker.link(o.value))
            continue
        grouped.setdefault(p, []).append(linker.value(o))
    properties = [
        Property(linker.link(p), tuple(sorted(vs, key=_value_order)))
        for p, vs in sorted(grouped.items(), key=lambda kv: _predicate_order(kv[0]))
    ]
    incoming = [Incoming(linker.link(r["s"].value), linker.link(r["p"].value)) for r in inc if r["s"].is_iri]
    incoming.sort(key=lambda i: (i.predicate.text, _natural(i.subject.iri)))
    entity = Entity(
        iri=iri,
        labels=labels,
        types=sorted(types, key=lambda t: t.iri),
        properties=properties,
        incoming=incoming,
        incoming_total=_count_incoming(select, ref) if len(inc) >= INCOMING_LIMIT else len(inc),
        passages=passages(linker, iri, source),
        kind=site.kind(iri),
    )
    if entity.kind == "task":
        entity.sections = task_sections(site, linker, iri)
    elif entity.kind == "org":
        entity.sections = organisation_sections(site, linker, iri)
    elif entity.kind == "pillar":
        entity.statistics = pillar_statistics(site, linker, iri)
        entity.sections = {"task": pillar_tasks(site, linker, iri)}
    return entity


INCOMING_LIMIT = 300  # links to an entity listed on its page (the source text has thousands)


def _count_incoming(select: Select, ref: str) -> int:
    rows = select(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p {ref} }}")
    return int(rows[0]["n"].value) if rows else 0


_NATURAL = re.compile(r"(\d+)")


def _natural(text: str) -> tuple[object, ...]:
    """Sort key that puts task/9 before task/10."""
    return tuple(int(part) if part.isdigit() else part for part in _NATURAL.split(text))


def _value_order(value: Value) -> tuple[object, ...]:
    if value.link is not None:
        return (1, _natural(value.link.iri))
    lang_rank = {"zh": 0, "en": 1}.get((value.lang or "").split("-", 1)[0], 2)
    return (0, lang_rank, value.literal or "")


def _predicate_order(iri: str) -> tuple[int, str]:
    first = (*LABEL_PROPERTIES, f"{ELI}title", f"{ELI}number")
    return (first.index(iri), iri) if iri in first else (len(first), iri)


# --- provenance --------------------------------------------------------------------------------

CONTEXT = 60  # code points of source shown on each side of a quote


SourceFor = Callable[[str], str | None]
"""The text of the source file a span (by its IRI) points into, if it is at hand."""


def passages(linker: Linker, iri: str, source: str | SourceFor | None) -> list[Passage]:
    """The source spans the entity was derived from (or the span it is), with the quote in context.

    Any object of the entity that has a TextPositionSelector counts (prov:wasDerivedFrom and its
    sub-properties such as pk:countSpan); a span or a selector shows itself.
    """
    ref = sparql_iri(iri)
    oa = f"<{OA}"
    query = f"""
        SELECT DISTINCT ?span ?p ?start ?end ?exact ?prefix ?suffix WHERE {{
          {{ {ref} ?p ?span }} UNION {{ BIND({ref} AS ?span) }} UNION {{ ?span {oa}hasSelector> {ref} }}
          ?span {oa}hasSelector> ?pos . ?pos {oa}start> ?start ; {oa}end> ?end .
          OPTIONAL {{ ?span {oa}hasSelector> ?q . ?q {oa}exact> ?exact .
                     OPTIONAL {{ ?q {oa}prefix> ?prefix }} OPTIONAL {{ ?q {oa}suffix> ?suffix }} }}
        }}"""
    rows = linker.select(query)
    linker.prefetch(r["p"].value for r in rows if "p" in r)
    found: dict[str, Passage] = {}
    via: dict[str, list[Link]] = {}
    for row in rows:
        span = row["span"].value
        if "p" in row:
            links = via.setdefault(span, [])
            link = linker.link(row["p"].value)
            if link not in links:
                links.append(link)
        if span in found:
            continue
        try:
            start, end = int(row["start"].value), int(row["end"].value)
        except ValueError:
            continue
        exact = row["exact"].value if "exact" in row else None
        text = source(span) if callable(source) else source
        if text is not None and 0 <= start <= end <= len(text):
            before = text[max(0, start - CONTEXT) : start]
            quote = text[start:end]
            after = text[end : end + CONTEXT]
            from_source = True
        elif exact is not None:
            before = row["prefix"].value if "prefix" in row else ""
            quote, after = exact, row["suffix"].value if "suffix" in row else ""
            from_source = False
        else:
            continue
        found[span] = Passage(linker.link(span), start, end, before, quote, after, exact, from_source)
    from server.web.originals import places  # it builds on this module's Site and Select

    where = places(linker.site, linker.select, sorted(found), {s: p.quote for s, p in found.items()})
    found = {
        span: replace(
            passage,
            via=tuple(sorted(via.get(span, []), key=lambda link: link.iri)),
            originals=tuple(where.get(span, ())),
        )
        for span, passage in found.items()
    }
    return sorted(found.values(), key=lambda p: (p.start, p.end))


# --- sections by kind ----------------------------------------------------------------------------

TASK_SECTIONS = ("target", "org", "place", "region", "project")
DETAIL_SKIP = {RDF_TYPE, f"{PROV}wasDerivedFrom", *LABEL_PROPERTIES}


def _neighbours(site: Site, linker: Linker, iri: str, kinds: Sequence[str]) -> dict[str, list[str]]:
    ref = sparql_iri(iri)
    rows = linker.select(f"SELECT DISTINCT ?x WHERE {{ {{ {ref} ?p ?x }} UNION {{ ?x ?p {ref} }} }}")
    grouped: dict[str, list[str]] = {k: [] for k in kinds}
    for row in rows:
        if row["x"].is_iri:
            kind = site.kind(row["x"].value)
            if kind in grouped:
                grouped[kind].append(row["x"].value)
    for iris in grouped.values():
        iris.sort(key=_natural)
    return grouped


def _details(linker: Linker, iris: Sequence[str]) -> dict[str, tuple[Property, ...]]:
    """The properties of several things (e.g. a task's targets: value, unit, comparator, year)."""
    if not iris:
        return {}
    values = " ".join(sparql_iri(i) for i in iris)
    rows = linker.select(f"SELECT ?x ?p ?o WHERE {{ VALUES ?x {{ {values} }} ?x ?p ?o }}")
    linker.prefetch(
        [r["p"].value for r in rows]
        + [r["o"].value for r in rows if r["o"].is_iri]
        + [r["o"].datatype for r in rows if r["o"].datatype]
    )
    grouped: dict[str, dict[str, list[Value]]] = {}
    for row in rows:
        p = row["p"].value
        if p in DETAIL_SKIP:
            continue
        grouped.setdefault(row["x"].value, {}).setdefault(p, []).append(linker.value(row["o"]))
    return {
        x: tuple(
            Property(linker.link(p), tuple(sorted(vs, key=_value_order)))
            for p, vs in sorted(props.items(), key=lambda kv: _predicate_order(kv[0]))
        )
        for x, props in grouped.items()
    }


def task_sections(site: Site, linker: Linker, iri: str) -> dict[str, list[Related]]:
    """A task's targets (with their values, units, comparators, years), organisations, places, projects."""
    grouped = _neighbours(site, linker, iri, TASK_SECTIONS)
    grouped["place"] = grouped.pop("place") + grouped.pop("region")
    linker.prefetch(i for iris in grouped.values() for i in iris)
    details = _details(linker, grouped["target"])
    return {
        kind: [Related(linker.link(i), details.get(i, ()) if kind == "target" else ()) for i in iris]
        for kind, iris in grouped.items()
    }


def organisation_sections(site: Site, linker: Linker, iri: str) -> dict[str, list[Related]]:
    """The tasks an organisation is involved in, directly and through its sub-organisations."""
    ref = sparql_iri(iri)
    things = sparql_string(site.things)
    org_prefix = sparql_string(site.things + "org/")
    rows = linker.select(f"""
        SELECT DISTINCT ?task ?via WHERE {{
          {{ BIND({ref} AS ?via) }} UNION {{ ?via <{ORG}subOrganizationOf>+ {ref} }}
          {{ ?task ?p ?via }} UNION {{ ?via ?p ?task }}
          FILTER(isIRI(?task) && STRSTARTS(STR(?task), {things}) && REGEX(STR(?task), {TASK_PATH}))
        }}""")
    subs = linker.select(f"""
        SELECT DISTINCT ?x WHERE {{
          {{ ?x <{ORG}subOrganizationOf> {ref} }} UNION {{ {ref} <{ORG}subOrganizationOf> ?x }}
          FILTER(STRSTARTS(STR(?x), {org_prefix}))
        }}""")
    by_task: dict[str, str | None] = {}
    for row in rows:
        task, via = row["task"].value, row["via"].value
        if via == iri:
            by_task[task] = None
        elif by_task.get(task, "") is not None:
            by_task.setdefault(task, via)
    linker.prefetch([*by_task, *(v for v in by_task.values() if v), *(r["x"].value for r in subs)])
    tasks = [
        Related(linker.link(t), via=linker.link(v) if v else None)
        for t, v in sorted(by_task.items(), key=lambda kv: _natural(kv[0]))
    ]
    related = sorted({r["x"].value for r in subs}, key=_natural)
    return {"task": tasks, "suborg": [Related(linker.link(o)) for o in related]}


# A task of any plan: {base}id/plan/{slug}/task/{n} (or {base}id/task/{n} in the one-plan layout).
TASK_PATH = sparql_string("^[^?#]*/id/(plan/[^/]+/)?task/[^/]+$")
STAGE_ORDER = ("total", "continuing", "new", "reserve")


def pillar_statistics(site: Site, linker: Linker, iri: str) -> list[StatisticsRow]:
    """The key-project statistics of a pillar, one row per stage, total first."""
    pk = site.terms
    rows = linker.select(f"""
        SELECT ?obs ?stage ?count ?investment ?year WHERE {{
          ?obs <{pk}pillar> {sparql_iri(iri)} ; <{pk}stage> ?stage .
          OPTIONAL {{ ?obs <{pk}projectCount> ?count }}
          OPTIONAL {{ ?obs <{pk}investment> ?investment }}
          OPTIONAL {{ ?obs <{pk}startYear> ?year }}
        }}""")
    by_obs: dict[str, dict[str, object]] = {}
    for row in rows:
        entry = by_obs.setdefault(
            row["obs"].value,
            {
                "stage": row["stage"].value,
                "count": row["count"].value if "count" in row else None,
                "investment": row["investment"].value if "investment" in row else None,
                "years": set(),
            },
        )
        if "year" in row:
            years = entry["years"]
            assert isinstance(years, set)
            years.add(row["year"].value)
    linker.prefetch([*by_obs, *(str(e["stage"]) for e in by_obs.values())])

    def order(item: tuple[str, dict[str, object]]) -> tuple[int, str]:
        key = str(item[1]["stage"]).rsplit("/", 1)[-1]
        return (STAGE_ORDER.index(key) if key in STAGE_ORDER else len(STAGE_ORDER), key)

    result = []
    for obs, entry in sorted(by_obs.items(), key=order):
        years = entry["years"]
        assert isinstance(years, set)
        count, investment = entry["count"], entry["investment"]
        result.append(
            StatisticsRow(
                stage=linker.link(str(entry["stage"])),
                count=str(count) if count is not None else None,
                investment=str(investment) if investment is not None else None,
                years=tuple(sorted(str(y) for y in years)),
                observation=linker.link(obs),
            )
        )
    return result


def pillar_tasks(site: Site, linker: Linker, iri: str) -> list[Related]:
    pk = site.terms
    rows = linker.select(f"""
        SELECT DISTINCT ?task WHERE {{
          {{ ?task <{pk}pillar> {sparql_iri(iri)} }} UNION {{ ?task <{ELI}is_part_of> {sparql_iri(iri)} }}
          FILTER(STRSTARTS(STR(?task), {sparql_string(site.things)}) && REGEX(STR(?task), {TASK_PATH}))
        }}""")
    tasks = sorted((r["task"].value for r in rows), key=_natural)
    linker.prefetch(tasks)
    return [Related(linker.link(t)) for t in tasks]
