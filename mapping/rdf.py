"""Map the typed plan model to an RDF graph (terms: ontology/plankg.ttl; IRIs: docs/ARCHITECTURE.md).

The mapper knows RDF, not files: it takes the model and the source text it was parsed from (the
text is needed for the quote selectors' prefix and suffix). Every node gets an IRI (no blank
nodes), so serialising the same model twice gives the same triples.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import quote

from rdflib import RDF, RDFS, SKOS, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from mapping.model import Pillar, Plan, Span, Stage, StageStatistic, Task
from mapping.numbers import plain_decimal
from mapping.vocab import DCAT, ELI, OA, PROV, QB, SCHEMA, Vocab

CONTEXT_CHARS = 20  # characters of source text kept before and after a quote (oa:prefix, oa:suffix)
YUAN_PER_HUNDRED_MILLION = Decimal(100_000_000)
LANGUAGE_ZH = URIRef("http://publications.europa.eu/resource/authority/language/ZHO")

STAGE_LABELS: dict[Stage, tuple[str, str]] = {
    Stage.TOTAL: ("合计", "total"),
    Stage.CONTINUING: ("续建项目", "continuing projects"),
    Stage.NEW: ("新开工项目", "newly started projects"),
    Stage.RESERVE: ("谋划储备项目", "reserve projects"),
}


def plan_graph(plan: Plan, vocab: Vocab, *, source: str) -> Graph:
    """The RDF graph of ``plan``; ``source`` is the text of the file the plan was parsed from.

    Raises ``ValueError`` when ``source`` is not that text (its length or a span's quote differs).
    """
    if len(source) != plan.source_length:
        raise ValueError(
            f"source text has {len(source)} characters, the plan was parsed from {plan.source_length}"
        )
    return _Mapper(plan, vocab, source).graph()


def yuan(investment: Decimal) -> Decimal:
    """An amount in 亿元 converted to yuan, exact, without a needless fractional part."""
    return plain_decimal(investment * YUAN_PER_HUNDRED_MILLION)


def decimal_literal(value: Decimal) -> Literal:
    """An ``xsd:decimal`` literal in plain positional notation (never an exponent, never a float)."""
    return Literal(format(value, "f"), datatype=XSD.decimal)


def add_span(graph: Graph, vocab: Vocab, span: Span, source: str) -> URIRef:
    """Add to ``graph`` the oa:SpecificResource of ``span`` in ``source`` (the text as shipped) with its
    quote and position selectors, and return it. Added once: the same span gives the same node, so
    graphs that each emit a span merge without disagreeing. The one place spans are written.

    Raises ``ValueError`` when the span's quote is not the source text at its offsets.
    """
    if source[span.start : span.end] != span.quote:
        raise ValueError(
            f"span {span.start}-{span.end}: quote {span.quote!r} is not the source text there "
            f"({source[span.start : span.end]!r})"
        )
    node = vocab.span(span.start, span.end)
    if (node, RDF.type, OA.SpecificResource) in graph:
        return node
    quote_selector = URIRef(f"{node}/quote")
    position_selector = URIRef(f"{node}/position")
    graph.add((node, RDF.type, OA.SpecificResource))
    graph.add((node, OA.hasSource, vocab.source()))
    graph.add((node, OA.hasSelector, quote_selector))
    graph.add((node, OA.hasSelector, position_selector))
    graph.add((quote_selector, RDF.type, OA.TextQuoteSelector))
    graph.add((quote_selector, OA.exact, Literal(span.quote)))
    graph.add((quote_selector, OA.prefix, Literal(source[max(0, span.start - CONTEXT_CHARS) : span.start])))
    graph.add((quote_selector, OA.suffix, Literal(source[span.end : span.end + CONTEXT_CHARS])))
    graph.add((position_selector, RDF.type, OA.TextPositionSelector))
    graph.add((position_selector, OA.start, Literal(span.start, datatype=XSD.nonNegativeInteger)))
    graph.add((position_selector, OA.end, Literal(span.end, datatype=XSD.nonNegativeInteger)))
    return node


def source_node(g: Graph, vocab: Vocab, name: str, sha256: str, length: int) -> URIRef:
    """The source text file of a plan (``vocab.source()``): its name, SHA-256, length and download URL."""
    src = vocab.source()
    g.add((src, RDF.type, vocab.pk.SourceText))
    g.add((src, RDF.type, PROV.Entity))
    g.add((src, RDFS.label, Literal(name)))
    g.add((src, vocab.pk.fileName, Literal(name)))
    g.add((src, vocab.pk.sha256, Literal(sha256)))
    g.add((src, vocab.pk.characterCount, Literal(length, datatype=XSD.integer)))
    g.add((src, DCTERMS["format"], Literal("text/plain; charset=utf-8")))
    g.add((src, SCHEMA.contentUrl, URIRef(f"{vocab.base}source/{quote(name)}")))
    return src


class _Mapper:
    def __init__(self, plan: Plan, vocab: Vocab, source: str) -> None:
        self.plan = plan
        self.vocab = vocab
        self.source = source
        self.pk = vocab.pk
        self.g = Graph()
        for prefix, namespace in vocab.prefixes().items():
            self.g.bind(prefix, namespace, override=True)

    def add(self, subject: URIRef, predicate: URIRef, obj: URIRef | Literal) -> None:
        self.g.add((subject, predicate, obj))

    def zh(self, text: str) -> Literal:
        return Literal(text, lang="zh")

    def en(self, text: str) -> Literal:
        return Literal(text, lang="en")

    def integer(self, value: int) -> Literal:
        return Literal(value, datatype=XSD.integer)

    def graph(self) -> Graph:
        self.source_node()
        self.plan_node()
        for pillar in self.plan.pillars:
            self.pillar_node(pillar)
        for task in self.plan.tasks:
            self.task_node(task)
        self.statistics()
        return self.g

    # --- provenance -------------------------------------------------------------------------------

    def source_node(self) -> None:
        plan = self.plan
        source_node(self.g, self.vocab, plan.source_name, plan.source_sha256, plan.source_length)

    def span(self, span: Span) -> URIRef:
        return add_span(self.g, self.vocab, span, self.source)

    def derived(self, node: URIRef, span: Span) -> None:
        self.add(node, PROV.wasDerivedFrom, self.span(span))

    # --- document structure -----------------------------------------------------------------------

    def plan_node(self) -> None:
        plan, node = self.plan, self.vocab.plan()
        self.add(node, RDF.type, self.pk.Plan)
        self.add(node, RDF.type, ELI.LegalResource)
        self.add(node, ELI.title, self.zh(plan.title))
        self.add(node, RDFS.label, self.zh(plan.title))
        self.add(node, ELI.language, LANGUAGE_ZH)
        self.add(node, self.pk.titleSpan, self.span(plan.title_span))
        self.derived(node, plan.title_span)
        self.add(node, self.pk.preamble, self.zh(plan.preamble))
        self.add(node, self.pk.preambleSpan, self.span(plan.preamble_span))
        for pillar in plan.pillars:
            self.add(node, ELI.has_part, self.vocab.pillar(pillar.number))
        if plan.period is not None and plan.period_span is not None:
            first, last = plan.period
            period = self.vocab.period(first, last)
            self.add(node, DCTERMS.temporal, period)
            self.add(period, RDF.type, DCTERMS.PeriodOfTime)
            self.add(period, RDFS.label, self.zh(plan.period_span.quote))
            self.add(period, DCAT.startDate, Literal(f"{first:04d}", datatype=XSD.gYear))
            self.add(period, DCAT.endDate, Literal(f"{last:04d}", datatype=XSD.gYear))
            self.derived(period, plan.period_span)

        scheme = self.vocab.pillar_scheme()
        self.add(scheme, RDF.type, SKOS.ConceptScheme)
        self.add(scheme, RDF.type, self.pk.PillarScheme)
        self.add(scheme, RDFS.label, self.zh(f"{plan.title}：重点领域"))
        self.add(scheme, RDFS.label, self.en("pillars of the plan"))
        self.add(scheme, SKOS.prefLabel, self.zh(f"{plan.title}：重点领域"))
        self.add(scheme, DCTERMS.source, node)
        for pillar in plan.pillars:
            self.add(scheme, SKOS.hasTopConcept, self.vocab.pillar(pillar.number))

    def pillar_node(self, pillar: Pillar) -> None:
        node = self.vocab.pillar(pillar.number)
        self.add(node, RDF.type, self.pk.Pillar)
        self.add(node, RDF.type, ELI.LegalResourceSubdivision)
        self.add(node, RDF.type, SKOS.Concept)
        self.add(node, SKOS.inScheme, self.vocab.pillar_scheme())
        self.add(node, SKOS.topConceptOf, self.vocab.pillar_scheme())
        self.add(node, SKOS.notation, Literal(str(pillar.number)))
        self.add(node, ELI.number, Literal(pillar.numeral))
        self.add(node, self.pk.numberValue, self.integer(pillar.number))
        self.add(node, self.pk.position, self.integer(pillar.number))
        self.add(node, ELI.title, self.zh(pillar.title))
        self.add(node, RDFS.label, self.zh(pillar.title))
        self.add(node, SKOS.prefLabel, self.zh(pillar.title))
        self.add(node, self.pk.titleSpan, self.span(pillar.title_span))
        self.add(node, ELI.is_part_of, self.vocab.plan())
        self.derived(node, pillar.span)
        if pillar.declared_task_count is not None:
            self.add(node, self.pk.declaredTaskCount, self.integer(pillar.declared_task_count))
            if pillar.declared_task_count_span is not None:
                self.add(node, self.pk.declaredTaskCountSpan, self.span(pillar.declared_task_count_span))

    def task_node(self, task: Task) -> None:
        node, pillar = self.vocab.task(task.number), self.vocab.pillar(task.pillar)
        self.add(node, RDF.type, self.pk.Task)
        self.add(node, RDF.type, ELI.LegalResourceSubdivision)
        self.add(node, ELI.number, Literal(task.numeral))
        self.add(node, self.pk.numberValue, self.integer(task.number))
        self.add(node, self.pk.position, self.integer(task.order))
        self.add(node, ELI.title, self.zh(task.title))
        self.add(node, RDFS.label, self.zh(f"({task.numeral}){task.title}"))
        self.add(node, self.pk.text, self.zh(task.text))
        self.add(node, self.pk.titleSpan, self.span(task.title_span))
        self.add(node, self.pk.pillar, pillar)
        self.add(node, ELI.is_part_of, pillar)
        self.add(pillar, ELI.has_part, node)
        self.derived(node, task.span)

    # --- statistics (RDF Data Cube) -----------------------------------------------------------------

    def statistics(self) -> None:
        with_statistics = [p for p in self.plan.pillars if p.statistics]
        if not with_statistics:
            return
        dataset = self.vocab.statistics()
        self.add(dataset, RDF.type, QB.DataSet)
        self.add(dataset, QB.structure, self.vocab.structure("keyProjects"))
        self.add(dataset, RDFS.label, self.zh(f"{self.plan.title}：重点项目统计"))
        self.add(dataset, RDFS.label, self.en("key-project statistics of the plan, by pillar and stage"))
        self.add(dataset, DCTERMS.source, self.vocab.plan())
        for pillar in with_statistics:
            for statistic in pillar.statistics:
                self.observation(dataset, pillar, statistic)

    def observation(self, dataset: URIRef, pillar: Pillar, statistic: StageStatistic) -> None:
        stage = statistic.stage.value
        node = self.vocab.observation(pillar.number, stage)
        zh_stage, en_stage = STAGE_LABELS[statistic.stage]
        self.add(node, RDF.type, QB.Observation)
        self.add(node, QB.dataSet, dataset)
        self.add(node, RDFS.label, self.zh(f"{pillar.numeral}、{zh_stage}"))
        self.add(node, RDFS.label, self.en(f"pillar {pillar.number}, {en_stage}"))
        self.add(node, self.pk.pillar, self.vocab.pillar(pillar.number))
        self.add(node, self.pk.stage, self.vocab.stage(stage))
        self.add(node, self.pk.projectCount, self.integer(statistic.count))
        if Decimal(statistic.investment_text) != statistic.investment:
            raise ValueError(
                f"pillar {pillar.number} {stage}: investment {statistic.investment} "
                f"is not the figure as written ({statistic.investment_text!r})"
            )
        self.add(node, self.pk.investment, Literal(statistic.investment_text, datatype=XSD.decimal))
        self.add(node, self.pk.investmentYuan, decimal_literal(yuan(statistic.investment)))
        for year in _sorted_unique(statistic.years):
            self.add(node, self.pk.startYear, Literal(f"{year:04d}", datatype=XSD.gYear))
        self.add(node, self.pk.countSpan, self.span(statistic.count_span))
        self.add(node, self.pk.investmentSpan, self.span(statistic.investment_span))
        self.derived(node, statistic.span)


def _sorted_unique(years: Iterable[int]) -> list[int]:
    return sorted(set(years))
