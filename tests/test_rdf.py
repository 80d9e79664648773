"""mapping.rdf: the model of a small hand-built plan, and of the seed, mapped to RDF."""

from __future__ import annotations

import ast
import hashlib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SKOS, XSD, BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import DCTERMS

from mapping import parser
from mapping.model import Pillar, Plan, Span, Stage, StageStatistic, Task
from mapping.rdf import add_span, plan_graph, yuan
from mapping.vocab import DCAT, ELI, OA, PROV, QB, SCHEMA, Vocab

MAPPING = Path(__file__).resolve().parent.parent / "mapping"
SEED = Path(__file__).resolve().parent.parent / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"
BASE = "https://plans.example.org/"

# A two-pillar plan of the genre, written for the tests: other years, a line break inside a figure,
# and a second pillar that declares two tasks and holds one.
SAMPLE_TEXT = (
    "示例市绿色发展\n\n行动计划\n\n(2030—2032年)\n\n"
    "　　为推进绿色发展,制定本计划。\n"
    "一、聚力科技创新,在创新城市建设上先行一步\n\n"
    "认真抓好2项重点工作,扎实推进总投资30.5亿元\n\n的10个重点项目,其中续建项目4个,总投资10.25亿\n\n"
    "元,计划2030年新开工项目3个,总投资12亿元,计划2031年、2032年开工的谋划储备项目3个,总投资8.25亿元。\n"
    "(一)建设创新平台。加快建设实验室。\n"
    "(二)培育人才。到2032年人才总量突破10万。\n"
    "二、聚力扩大内需,在新发展格局上先行一步\n\n"
    "认真抓好2项重点工作,扎实推进总投资5.5亿元的4个重点项目,其中续建项目1个,总投资1.5亿元,"
    "计划2030年新开工项目2个,总投资3亿元,计划2031年、2032年开工的谋划储备项目1个,总投资1亿元。\n"
    "(三)扩大有效投资。建立项目库。\n"
)


def span_of(text: str, needle: str, after: int = 0) -> Span:
    start = text.index(needle, after)
    return Span(start, start + len(needle), needle)


def span_between(text: str, first: str, last: str, after: int = 0) -> Span:
    start = text.index(first, after)
    end = text.index(last, start) + len(last)
    return Span(start, end, text[start:end])


Figure = tuple[Stage, str, str, str, tuple[int, ...]]


def _statistics(text: str, pillar_heading: str, figures: list[Figure]) -> tuple[StageStatistic, ...]:
    """``figures``: (stage, clause start, count text, investment text as it appears) in order."""
    at = text.index(pillar_heading)
    stats = []
    for stage, clause_start, count, investment, years in figures:
        clause = span_of(text, clause_start, at)
        if stage is Stage.TOTAL:
            investment_span = span_of(text, investment, clause.start)
            count_span = span_of(text, count + "个", investment_span.end)
            count_span = Span(count_span.start, count_span.start + len(count), count)
            end = text.index("重点项目", count_span.end) + len("重点项目")
        else:
            count_span = span_of(text, count + "个", clause.start)
            count_span = Span(count_span.start, count_span.start + len(count), count)
            investment_span = span_of(text, investment, count_span.end)
            end = investment_span.end
        digits = investment.replace("\n", "").removesuffix("亿元")
        stats.append(
            StageStatistic(
                stage=stage,
                count=int(count),
                count_span=count_span,
                investment=Decimal(digits),
                investment_text=digits,
                investment_span=investment_span,
                years=years,
                span=Span(clause.start, end, text[clause.start : end]),
            )
        )
        at = end
    return tuple(stats)


def sample_plan(text: str = SAMPLE_TEXT) -> Plan:
    """The model a parser would produce for ``SAMPLE_TEXT``, built by hand."""
    heading1 = "一、聚力科技创新,在创新城市建设上先行一步"
    heading2 = "二、聚力扩大内需,在新发展格局上先行一步"
    stats1 = _statistics(
        text,
        heading1,
        [
            (Stage.TOTAL, "扎实推进", "10", "30.5亿元", ()),
            (Stage.CONTINUING, "其中续建项目", "4", "10.25亿\n\n元", ()),
            (Stage.NEW, "计划2030年新开工项目", "3", "12亿元", (2030,)),
            (Stage.RESERVE, "计划2031年、2032年开工", "3", "8.25亿元", (2031, 2032)),
        ],
    )
    stats2 = _statistics(
        text,
        heading2,
        [
            (Stage.TOTAL, "扎实推进", "4", "5.5亿元", ()),
            (Stage.CONTINUING, "其中续建项目", "1", "1.5亿元", ()),
            (Stage.NEW, "计划2030年新开工项目", "2", "3亿元", (2030,)),
            (Stage.RESERVE, "计划2031年、2032年开工", "1", "1亿元", (2031, 2032)),
        ],
    )

    def task(number: int, numeral: str, title: str, body: str, pillar: int, order: int) -> Task:
        whole = span_between(text, f"({numeral})", body)
        return Task(
            number=number,
            numeral=numeral,
            title=title,
            title_span=span_of(text, title, whole.start),
            text=whole.quote[len(numeral) + 2 :],
            span=whole,
            pillar=pillar,
            order=order,
        )

    tasks = (
        task(1, "一", "建设创新平台", "加快建设实验室。", 1, 1),
        task(2, "二", "培育人才", "到2032年人才总量突破10万。", 1, 2),
        task(3, "三", "扩大有效投资", "建立项目库。", 2, 1),
    )

    def pillar(
        number: int, numeral: str, heading: str, stats: tuple[StageStatistic, ...], last: Task
    ) -> Pillar:
        title = heading.removeprefix(f"{numeral}、")
        start = text.index(heading)
        declared = span_of(text, "认真抓好2项重点工作", start)
        paragraph_end = stats[-1].span.end
        return Pillar(
            number=number,
            numeral=numeral,
            title=title,
            title_span=span_of(text, title, start),
            declared_task_count=2,
            declared_task_count_span=declared,
            statistics=stats,
            statistics_span=Span(declared.start, paragraph_end, text[declared.start : paragraph_end]),
            span=Span(start, last.span.end, text[start : last.span.end]),
        )

    title_span = span_between(text, "示例市", "(2030—2032年)")
    preamble = span_of(text, "为推进绿色发展,制定本计划。")
    return Plan(
        title="示例市绿色发展行动计划(2030—2032年)",
        title_span=title_span,
        period=(2030, 2032),
        period_span=span_of(text, "2030—2032年"),
        preamble=preamble.quote,
        preamble_span=preamble,
        pillars=(pillar(1, "一", heading1, stats1, tasks[1]), pillar(2, "二", heading2, stats2, tasks[2])),
        tasks=tasks,
        source_name="sample-plan.txt",
        source_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source_length=len(text),
    )


def sample_graph(vocab: Vocab | None = None) -> Graph:
    return plan_graph(sample_plan(), vocab or Vocab(BASE), source=SAMPLE_TEXT)


@pytest.fixture(scope="module")
def vocab() -> Vocab:
    return Vocab(BASE)


@pytest.fixture(scope="module")
def graph(vocab: Vocab) -> Graph:
    return sample_graph(vocab)


def triples_of(graph: Graph, subject: URIRef) -> set[tuple[Node, Node]]:
    return set(graph.predicate_objects(subject))


def int_of(graph: Graph, subject: Node, predicate: URIRef) -> int:
    value = graph.value(subject, predicate)
    assert isinstance(value, Literal), (subject, predicate)
    return int(value.toPython())


# --- golden: exact triples of the sample's nodes -------------------------------------------------------


def test_task_triples_exactly(graph: Graph, vocab: Vocab) -> None:
    pk, text = vocab.pk, SAMPLE_TEXT
    whole = span_between(text, "(二)", "突破10万。")
    title = span_of(text, "培育人才", whole.start)
    assert triples_of(graph, vocab.task(2)) == {
        (RDF.type, pk.Task),
        (RDF.type, ELI.LegalResourceSubdivision),
        (ELI.number, Literal("二")),
        (pk.numberValue, Literal(2, datatype=XSD.integer)),
        (pk.position, Literal(2, datatype=XSD.integer)),
        (ELI.title, Literal("培育人才", lang="zh")),
        (RDFS.label, Literal("(二)培育人才", lang="zh")),
        (pk.text, Literal("培育人才。到2032年人才总量突破10万。", lang="zh")),
        (pk.titleSpan, vocab.span(title.start, title.end)),
        (pk.pillar, vocab.pillar(1)),
        (ELI.is_part_of, vocab.pillar(1)),
        (PROV.wasDerivedFrom, vocab.span(whole.start, whole.end)),
    }


def test_observation_triples_exactly(graph: Graph, vocab: Vocab) -> None:
    pk, text = vocab.pk, SAMPLE_TEXT
    at = text.index("二、")
    clause = span_between(text, "计划2031年、2032年开工", "总投资1亿元", at)
    count = span_of(text, "1个", clause.start)
    investment = span_of(text, "1亿元", count.end)
    assert triples_of(graph, vocab.observation(2, "reserve")) == {
        (RDF.type, QB.Observation),
        (QB.dataSet, vocab.statistics()),
        (RDFS.label, Literal("二、谋划储备项目", lang="zh")),
        (RDFS.label, Literal("pillar 2, reserve projects", lang="en")),
        (pk.pillar, vocab.pillar(2)),
        (pk.stage, URIRef(BASE + "def/stage/reserve")),
        (pk.projectCount, Literal(1, datatype=XSD.integer)),
        (pk.investment, Literal("1", datatype=XSD.decimal)),
        (pk.investmentYuan, Literal("100000000", datatype=XSD.decimal)),
        (pk.startYear, Literal("2031", datatype=XSD.gYear)),
        (pk.startYear, Literal("2032", datatype=XSD.gYear)),
        (pk.countSpan, vocab.span(count.start, count.start + 1)),
        (pk.investmentSpan, vocab.span(investment.start, investment.end)),
        (PROV.wasDerivedFrom, vocab.span(clause.start, clause.end)),
    }


def test_span_and_selectors_exactly(graph: Graph, vocab: Vocab) -> None:
    figure = span_of(SAMPLE_TEXT, "10.25亿\n\n元")
    node = vocab.span(figure.start, figure.end)
    quote, position = URIRef(f"{node}/quote"), URIRef(f"{node}/position")
    assert triples_of(graph, node) == {
        (RDF.type, OA.SpecificResource),
        (OA.hasSource, URIRef(BASE + "id/source")),
        (OA.hasSelector, quote),
        (OA.hasSelector, position),
    }
    assert triples_of(graph, quote) == {
        (RDF.type, OA.TextQuoteSelector),
        (OA.exact, Literal("10.25亿\n\n元")),
        (OA.prefix, Literal(SAMPLE_TEXT[figure.start - 20 : figure.start])),
        (OA.suffix, Literal(SAMPLE_TEXT[figure.end : figure.end + 20])),
    }
    assert triples_of(graph, position) == {
        (RDF.type, OA.TextPositionSelector),
        (OA.start, Literal(figure.start, datatype=XSD.nonNegativeInteger)),
        (OA.end, Literal(figure.end, datatype=XSD.nonNegativeInteger)),
    }


def test_plan_source_and_period_exactly(graph: Graph, vocab: Vocab) -> None:
    pk = vocab.pk
    plan = sample_plan()
    title = vocab.span(plan.title_span.start, plan.title_span.end)
    period = URIRef(BASE + "id/period/2030-2032")
    assert triples_of(graph, vocab.plan()) == {
        (RDF.type, pk.Plan),
        (RDF.type, ELI.LegalResource),
        (ELI.title, Literal("示例市绿色发展行动计划(2030—2032年)", lang="zh")),
        (RDFS.label, Literal("示例市绿色发展行动计划(2030—2032年)", lang="zh")),
        (ELI.language, URIRef("http://publications.europa.eu/resource/authority/language/ZHO")),
        (pk.titleSpan, title),
        (PROV.wasDerivedFrom, title),
        (pk.preamble, Literal("为推进绿色发展,制定本计划。", lang="zh")),
        (pk.preambleSpan, vocab.span(plan.preamble_span.start, plan.preamble_span.end)),
        (ELI.has_part, vocab.pillar(1)),
        (ELI.has_part, vocab.pillar(2)),
        (DCTERMS.temporal, period),
    }
    assert plan.period_span is not None
    assert triples_of(graph, period) == {
        (RDF.type, DCTERMS.PeriodOfTime),
        (RDFS.label, Literal("2030—2032年", lang="zh")),
        (DCAT.startDate, Literal("2030", datatype=XSD.gYear)),
        (DCAT.endDate, Literal("2032", datatype=XSD.gYear)),
        (PROV.wasDerivedFrom, vocab.span(plan.period_span.start, plan.period_span.end)),
    }
    assert triples_of(graph, vocab.source()) == {
        (RDF.type, pk.SourceText),
        (RDF.type, PROV.Entity),
        (RDFS.label, Literal("sample-plan.txt")),
        (pk.fileName, Literal("sample-plan.txt")),
        (pk.sha256, Literal(hashlib.sha256(SAMPLE_TEXT.encode()).hexdigest())),
        (pk.characterCount, Literal(len(SAMPLE_TEXT), datatype=XSD.integer)),
        (DCTERMS["format"], Literal("text/plain; charset=utf-8")),
        (SCHEMA.contentUrl, URIRef(BASE + "source/sample-plan.txt")),
    }


def test_pillar_is_a_concept_in_the_scheme(graph: Graph, vocab: Vocab) -> None:
    pk, node, scheme = vocab.pk, vocab.pillar(2), URIRef(BASE + "id/pillars")
    for cls in (pk.Pillar, ELI.LegalResourceSubdivision, SKOS.Concept):
        assert (node, RDF.type, cls) in graph
    assert (node, SKOS.inScheme, scheme) in graph
    assert (scheme, SKOS.hasTopConcept, node) in graph
    assert (scheme, RDF.type, SKOS.ConceptScheme) in graph
    assert graph.value(node, ELI.number) == Literal("二")
    assert graph.value(node, pk.declaredTaskCount) == Literal(2, datatype=XSD.integer)
    assert graph.value(node, SKOS.prefLabel) == Literal("聚力扩大内需,在新发展格局上先行一步", lang="zh")
    assert set(graph.objects(node, ELI.has_part)) == {vocab.task(3)}
    declared = graph.value(node, pk.declaredTaskCountSpan)
    assert declared is not None
    assert graph.value(URIRef(f"{declared}/quote"), OA.exact) == Literal("认真抓好2项重点工作")


def test_dataset_has_one_observation_per_pillar_and_stage(graph: Graph, vocab: Vocab) -> None:
    observations = set(graph.subjects(QB.dataSet, vocab.statistics()))
    assert observations == {
        vocab.observation(p, s) for p in (1, 2) for s in ("total", "continuing", "new", "reserve")
    }
    assert graph.value(vocab.statistics(), QB.structure) == URIRef(BASE + "def/structure/keyProjects")


# --- properties of the mapping -------------------------------------------------------------------------


def test_no_blank_nodes(graph: Graph) -> None:
    assert not [t for t in graph if any(isinstance(term, BNode) for term in t)]


def test_figures_are_integers_and_decimals_never_floats(graph: Graph, vocab: Vocab) -> None:
    for predicate, datatype in (
        (vocab.pk.projectCount, XSD.integer),
        (vocab.pk.investment, XSD.decimal),
        (vocab.pk.investmentYuan, XSD.decimal),
    ):
        values = list(graph.objects(None, predicate))
        assert len(values) == 8
        assert all(isinstance(v, Literal) and v.datatype == datatype for v in values)
        assert all("e" not in str(v).lower() for v in values)


def test_investment_is_kept_as_written_and_converted_exactly(graph: Graph, vocab: Vocab) -> None:
    node = vocab.observation(1, "continuing")
    assert str(graph.value(node, vocab.pk.investment)) == "10.25"
    assert str(graph.value(node, vocab.pk.investmentYuan)) == "1025000000"
    assert yuan(Decimal("1292.2")) == Decimal("129220000000")
    assert str(yuan(Decimal("0.000000015"))) == "1.5"


def test_chinese_literals_are_tagged_zh(graph: Graph, vocab: Vocab) -> None:
    for predicate in (ELI.title, vocab.pk.text, vocab.pk.preamble, SKOS.prefLabel):
        values = list(graph.objects(None, predicate))
        assert values
        assert all(isinstance(v, Literal) and v.language == "zh" for v in values)


def test_every_span_quote_is_the_source_text(graph: Graph) -> None:
    checked = 0
    for quote in graph.subjects(RDF.type, OA.TextQuoteSelector):
        position = URIRef(str(quote).removesuffix("/quote") + "/position")
        start = int_of(graph, position, OA.start)
        end = int_of(graph, position, OA.end)
        assert str(graph.value(quote, OA.exact)) == SAMPLE_TEXT[start:end]
        checked += 1
    assert checked > 20


def test_same_model_gives_the_same_triples() -> None:
    first, second = sample_graph(), sample_graph()
    assert set(first) == set(second)


def test_base_is_configurable() -> None:
    graph = sample_graph(Vocab("http://other.example/kg/"))
    subjects = {str(s) for s in graph.subjects()}
    assert all(s.startswith("http://other.example/kg/") for s in subjects)


def test_wrong_source_text_is_refused() -> None:
    with pytest.raises(ValueError, match="characters"):
        plan_graph(sample_plan(), Vocab(BASE), source=SAMPLE_TEXT + " ")
    altered = SAMPLE_TEXT.replace("培育人才", "培养人才")
    with pytest.raises(ValueError, match="not the source text"):
        plan_graph(sample_plan(), Vocab(BASE), source=altered)


def test_investment_text_must_match_the_figure() -> None:
    plan = sample_plan()
    pillar = plan.pillars[0]
    bad = replace(pillar.statistics[1], investment=Decimal("10.26"))
    altered = replace(pillar, statistics=(pillar.statistics[0], bad, *pillar.statistics[2:]))
    plan = replace(plan, pillars=(altered, plan.pillars[1]))
    with pytest.raises(ValueError, match="as written"):
        plan_graph(plan, Vocab(BASE), source=SAMPLE_TEXT)


def test_plan_without_period_or_statistics() -> None:
    plan = sample_plan()
    plan = replace(
        plan,
        period=None,
        period_span=None,
        pillars=tuple(replace(p, statistics=(), statistics_span=None) for p in plan.pillars),
    )
    graph = plan_graph(plan, Vocab(BASE), source=SAMPLE_TEXT)
    assert not list(graph.subjects(RDF.type, QB.Observation))
    assert not list(graph.subjects(RDF.type, QB.DataSet))
    assert not list(graph.objects(None, DCTERMS.temporal))


# --- the seed --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_graph(vocab: Vocab) -> Graph:
    raw = SEED.read_text(encoding="utf-8")
    plan = parser.parse_plan(raw, source_name=SEED.name)
    graph: Graph = plan_graph(plan, vocab, source=raw)
    return graph


def test_seed_holds_ten_pillars_the_tasks_and_80_figures(seed_graph: Graph, vocab: Vocab) -> None:
    pk = vocab.pk
    assert len(set(seed_graph.subjects(RDF.type, pk.Pillar))) == 10
    tasks = set(seed_graph.subjects(RDF.type, pk.Task))
    assert {int_of(seed_graph, t, pk.numberValue) for t in tasks} == set(range(1, 50))
    observations = set(seed_graph.subjects(RDF.type, QB.Observation))
    assert len(observations) == 40
    figures = [
        (o, p)
        for o in observations
        for p in (pk.projectCount, pk.investment)
        if seed_graph.value(o, p) is not None
    ]
    assert len(figures) == 80
    # Every figure carries its own span.
    for observation in observations:
        assert seed_graph.value(observation, pk.countSpan) is not None
        assert seed_graph.value(observation, pk.investmentSpan) is not None


def test_seed_every_span_quote_equals_the_source_characters(seed_graph: Graph) -> None:
    raw = SEED.read_text(encoding="utf-8")
    spans = set(seed_graph.subjects(RDF.type, OA.SpecificResource))
    assert len(spans) > 200
    for span in spans:
        quote = position = None
        for selector in seed_graph.objects(span, OA.hasSelector):
            if (selector, RDF.type, OA.TextQuoteSelector) in seed_graph:
                quote = selector
            if (selector, RDF.type, OA.TextPositionSelector) in seed_graph:
                position = selector
        assert quote is not None and position is not None, span
        start, end = int_of(seed_graph, position, OA.start), int_of(seed_graph, position, OA.end)
        assert str(span) == f"{BASE}id/span/{start}-{end}"
        assert str(seed_graph.value(quote, OA.exact)) == raw[start:end], span
        assert str(seed_graph.value(quote, OA.prefix)) == raw[max(0, start - 20) : start]
        assert str(seed_graph.value(quote, OA.suffix)) == raw[end : end + 20]


def test_seed_figures_of_pillar_3(seed_graph: Graph, vocab: Vocab) -> None:
    new = vocab.observation(3, "new")
    assert seed_graph.value(new, vocab.pk.projectCount) == Literal(100, datatype=XSD.integer)
    assert str(seed_graph.value(new, vocab.pk.investment)) == "1292.2"
    assert str(seed_graph.value(new, vocab.pk.investmentYuan)) == "129220000000"
    assert set(seed_graph.objects(new, vocab.pk.startYear)) == {Literal("2023", datatype=XSD.gYear)}


def test_add_span_writes_the_span_and_its_selectors_once() -> None:
    vocab = Vocab(BASE)
    source = "为推进绿色发展,制定本计划。"
    graph = Graph()
    node = add_span(graph, vocab, span_of(source, "绿色发展"), source)
    assert add_span(graph, vocab, span_of(source, "绿色发展"), source) == node == vocab.span(3, 7)
    quote, position = URIRef(f"{node}/quote"), URIRef(f"{node}/position")
    nni = XSD.nonNegativeInteger
    assert set(graph) == {
        (node, RDF.type, OA.SpecificResource),
        (node, OA.hasSource, vocab.source()),
        (node, OA.hasSelector, quote),
        (node, OA.hasSelector, position),
        (quote, RDF.type, OA.TextQuoteSelector),
        (quote, OA.exact, Literal("绿色发展")),
        (quote, OA.prefix, Literal("为推进")),
        (quote, OA.suffix, Literal(",制定本计划。")),
        (position, RDF.type, OA.TextPositionSelector),
        (position, OA.start, Literal(3, datatype=nni)),
        (position, OA.end, Literal(7, datatype=nni)),
    }
    with pytest.raises(ValueError, match="not the source text"):
        add_span(graph, vocab, Span(0, 2, "绿色"), source)


def test_spans_are_written_by_add_span_alone_and_no_module_imports_private_names() -> None:
    """One span emitter: only mapping/rdf.py writes selectors, and nobody borrows a private helper."""
    writers, private_imports = [], []
    for path in sorted(MAPPING.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "TextQuoteSelector":
                writers.append(path.name)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mapping"):
                private_imports += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert writers == ["rdf.py"]
    assert private_imports == []
