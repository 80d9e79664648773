"""ontology/shapes.ttl with mapping.validate: the graph of a plan checked against itself."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import SH

from mapping import parser
from mapping.errors import ValidationFailed
from mapping.model import Plan, StageStatistic
from mapping.rdf import plan_graph
from mapping.validate import ValidationIssue, ValidationResult, load_shapes, validate
from mapping.vocab import ELI, OA, PROV, QB, Vocab
from tests.test_rdf import BASE, SAMPLE_TEXT, SEED, sample_plan

VOCAB = Vocab(BASE)


def graph_of(plan: Plan) -> Graph:
    return plan_graph(plan, VOCAB, source=SAMPLE_TEXT)


def with_statistic(plan: Plan, pillar: int, index: int, **changes: object) -> Plan:
    """``plan`` with one statistic of pillar number ``pillar`` changed."""
    pillars = list(plan.pillars)
    p = pillars[pillar - 1]
    stats = list(p.statistics)
    stats[index] = replace(stats[index], **changes)  # type: ignore[arg-type]
    pillars[pillar - 1] = replace(p, statistics=tuple(stats))
    return replace(plan, pillars=tuple(pillars))


def violations(result: ValidationResult) -> list[ValidationIssue]:
    return [r for r in result.results if r.severity == "Violation"]


def focus(result: ValidationResult, node: URIRef) -> list[ValidationIssue]:
    name = node.n3(result.report_graph.namespace_manager)
    return [r for r in violations(result) if r.focus_node == name]


@pytest.fixture(scope="module")
def sample_result() -> ValidationResult:
    return validate(graph_of(sample_plan()), VOCAB)


# --- a conforming plan -----------------------------------------------------------------------------


def test_sample_conforms_with_one_warning_for_the_short_pillar(sample_result: ValidationResult) -> None:
    assert sample_result.conforms, sample_result.report_text
    assert sample_result.violations == 0
    assert sample_result.warnings == 1
    (warning,) = sample_result.results
    assert warning.severity == "Warning"
    assert warning.focus_node == f"<{BASE}id/pillar/2>"
    assert "declares 2 key tasks but the text holds 1" in warning.message
    assert warning.source_shape == "pksh:PillarDeclaredTasks"


def test_report_names_node_and_rule(sample_result: ValidationResult) -> None:
    assert sample_result.report_text.splitlines()[0] == "SHACL: 0 violation(s), 1 warning(s)"
    line = sample_result.report_text.splitlines()[1]
    assert f"{BASE}id/pillar/2" in line and "pksh:PillarDeclaredTasks" in line
    assert (None, SH.conforms, Literal(True)) in sample_result.report_graph


def test_shapes_resolve_their_sparql_prefixes_against_the_base() -> None:
    shapes = load_shapes(VOCAB)
    namespaces = {str(o) for o in shapes.objects(None, SH.namespace)}
    assert BASE + "def/" in namespaces
    assert "def/" not in namespaces
    # Absolute namespaces are kept as written (urljoin would drop the empty fragment of "…#").
    assert "http://purl.org/linked-data/cube#" in namespaces
    assert "http://data.europa.eu/eli/ontology#" in namespaces


# --- statistics add up ----------------------------------------------------------------------------


def test_altered_count_is_a_violation_naming_the_pillar() -> None:
    plan = with_statistic(sample_plan(), 1, 1, count=5)  # continuing 4 -> 5: 5 + 3 + 3 != 10
    result = validate(graph_of(plan), VOCAB)
    assert not result.conforms
    (issue,) = focus(result, VOCAB.pillar(1))
    assert issue.source_shape == "pksh:Pillar"
    assert "11 projects, but the total says 10" in issue.message
    assert f"{BASE}id/pillar/1" in issue.message
    assert f"{BASE}id/pillar/1" in result.report_text
    with pytest.raises(ValidationFailed) as failed:
        result.raise_for_violations()
    assert failed.value.violations == result.violations
    assert f"{BASE}id/pillar/1" in failed.value.report


def test_altered_figure_in_the_graph_is_a_violation_naming_the_pillar() -> None:
    graph = graph_of(sample_plan())
    total = VOCAB.observation(2, "total")
    graph.set((total, VOCAB.pk.projectCount, Literal(5, datatype=XSD.integer)))
    result = validate(graph, VOCAB)
    assert [i.message for i in focus(result, VOCAB.pillar(2))] == [
        f"pillar {BASE}id/pillar/2: continuing + new + reserve = 4 projects, but the total says 5"
    ]


@pytest.mark.parametrize(("written", "fails"), [("10.254", False), ("10.256", True), ("10.24", True)])
def test_investment_sum_tolerance_is_half_a_hundredth(written: str, fails: bool) -> None:
    plan = with_statistic(sample_plan(), 1, 1, investment=Decimal(written), investment_text=written)
    result = validate(graph_of(plan), VOCAB)
    issues = focus(result, VOCAB.pillar(1))
    assert bool(issues) is fails, result.report_text
    if fails:
        assert "亿元 of investment, but the total says 30.5" in issues[0].message


def test_missing_stage_is_a_violation() -> None:
    graph = graph_of(sample_plan())
    graph.remove((VOCAB.observation(1, "new"), None, None))
    result = validate(graph, VOCAB)
    messages = [i.message for i in focus(result, VOCAB.pillar(1))]
    assert any("no observation for stage" in m and "stage/new" in m for m in messages), messages


def test_yuan_must_be_the_investment_times_1e8() -> None:
    graph = graph_of(sample_plan())
    node = VOCAB.observation(2, "new")
    graph.set((node, VOCAB.pk.investmentYuan, Literal("300000001", datatype=XSD.decimal)))
    result = validate(graph, VOCAB)
    assert [i.source_shape for i in focus(result, node)] == ["pksh:Observation"]


def test_a_float_figure_is_a_violation() -> None:
    graph = graph_of(sample_plan())
    node = VOCAB.observation(2, "new")
    graph.set((node, VOCAB.pk.projectCount, Literal(2.0)))
    result = validate(graph, VOCAB)
    constraints = {i.constraint for i in focus(result, node)}
    assert "sh:DatatypeConstraintComponent" in constraints


# --- provenance -----------------------------------------------------------------------------------


def test_task_without_provenance_is_a_violation() -> None:
    graph = graph_of(sample_plan())
    graph.remove((VOCAB.task(2), PROV.wasDerivedFrom, None))
    result = validate(graph, VOCAB)
    (issue,) = focus(result, VOCAB.task(2))
    assert issue.path == "prov:wasDerivedFrom"
    assert issue.constraint == "sh:MinCountConstraintComponent"


def test_observation_without_provenance_is_a_violation() -> None:
    graph = graph_of(sample_plan())
    node = VOCAB.observation(1, "reserve")
    graph.remove((node, PROV.wasDerivedFrom, None))
    graph.remove((node, VOCAB.pk.countSpan, None))
    result = validate(graph, VOCAB)
    assert {i.path for i in focus(result, node)} == {"prov:wasDerivedFrom", "pk:countSpan"}


def test_span_whose_quote_does_not_fit_its_offsets_is_a_violation() -> None:
    graph = graph_of(sample_plan())
    span = next(iter(graph.subjects(RDF.type, OA.SpecificResource)))
    assert isinstance(span, URIRef)
    graph.set((URIRef(f"{span}/quote"), OA.exact, Literal("x" * 500)))
    result = validate(graph, VOCAB)
    issues = focus(result, span)
    assert issues and "the quote has 500 characters" in issues[0].message


def test_span_past_the_end_of_the_source_is_a_violation() -> None:
    graph = graph_of(sample_plan())
    graph.set((VOCAB.source(), VOCAB.pk.characterCount, Literal(10, datatype=XSD.integer)))
    result = validate(graph, VOCAB)
    assert any("past the end of the source" in i.message for i in violations(result))


# --- task numbering -------------------------------------------------------------------------------


def test_gap_in_task_numbers_is_detected() -> None:
    plan = sample_plan()
    renumbered = replace(plan.tasks[2], number=4, numeral="四")
    result = validate(graph_of(replace(plan, tasks=(*plan.tasks[:2], renumbered))), VOCAB)
    (issue,) = focus(result, VOCAB.task(4))
    assert "numbered 4 but the plan holds no task 3" in issue.message


def test_missing_middle_task_is_a_gap() -> None:
    plan = sample_plan()
    result = validate(graph_of(replace(plan, tasks=(plan.tasks[0], plan.tasks[2]))), VOCAB)
    assert [i.message for i in focus(result, VOCAB.task(3))] == [
        f"task {BASE}id/task/3 is numbered 3 but the plan holds no task 2: a gap in the task numbers"
    ]


def test_task_numbers_must_start_at_one() -> None:
    graph = graph_of(sample_plan())
    graph.set((VOCAB.task(1), VOCAB.pk.numberValue, Literal(0, datatype=XSD.integer)))
    result = validate(graph, VOCAB)
    assert any("none numbered 1" in i.message for i in focus(result, VOCAB.plan()))


def test_duplicate_task_number_is_a_violation() -> None:
    graph = graph_of(sample_plan())
    graph.set((VOCAB.task(3), VOCAB.pk.numberValue, Literal(2, datatype=XSD.integer)))
    result = validate(graph, VOCAB)
    assert any("shares its number 2" in i.message for i in focus(result, VOCAB.task(3)))


# --- core constraints ----------------------------------------------------------------------------


def test_title_must_be_tagged_zh() -> None:
    graph = graph_of(sample_plan())
    graph.set((VOCAB.task(1), ELI.title, Literal("Build innovation platforms", lang="en")))
    result = validate(graph, VOCAB)
    (issue,) = focus(result, VOCAB.task(1))
    assert issue.constraint == "sh:LanguageInConstraintComponent"


def test_task_pillar_must_match_its_parent() -> None:
    graph = graph_of(sample_plan())
    graph.set((VOCAB.task(3), VOCAB.pk.pillar, VOCAB.pillar(1)))
    result = validate(graph, VOCAB)
    assert "sh:EqualsConstraintComponent" in {i.constraint for i in focus(result, VOCAB.task(3))}


def test_observation_stage_must_be_one_of_the_four() -> None:
    graph = graph_of(sample_plan())
    node = VOCAB.observation(1, "total")
    graph.set((node, VOCAB.pk.stage, VOCAB.stage("planned")))
    result = validate(graph, VOCAB)
    assert "sh:InConstraintComponent" in {i.constraint for i in focus(result, node)}


def test_dataset_needs_a_structure() -> None:
    graph = graph_of(sample_plan())
    graph.remove((VOCAB.statistics(), QB.structure, None))
    result = validate(graph, VOCAB)
    assert [i.path for i in focus(result, VOCAB.statistics())] == ["qb:structure"]


# --- the seed -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_result() -> ValidationResult:
    raw = SEED.read_text(encoding="utf-8")
    plan = parser.parse_plan(raw, source_name=SEED.name)
    return validate(plan_graph(plan, VOCAB, source=raw), VOCAB)


def test_seed_has_no_violation_and_exactly_one_warning(seed_result: ValidationResult) -> None:
    assert seed_result.violations == 0, seed_result.report_text
    assert seed_result.conforms
    assert seed_result.warnings == 1
    (warning,) = [r for r in seed_result.results if r.severity == "Warning"]
    assert warning.focus_node == f"<{BASE}id/pillar/10>"
    assert "declares 5 key tasks but the text holds 4" in warning.message


def test_seed_with_one_altered_statistic_names_that_pillar() -> None:
    raw = SEED.read_text(encoding="utf-8")
    plan = parser.parse_plan(raw, source_name=SEED.name)
    stat: StageStatistic = plan.pillars[6].statistics[2]
    altered = with_statistic(plan, 7, 2, count=stat.count + 1)
    result = validate(plan_graph(altered, VOCAB, source=raw), VOCAB)
    assert result.violations == 1, result.report_text
    (issue,) = violations(result)
    assert issue.focus_node == f"<{BASE}id/pillar/7>"
    assert f"{BASE}id/pillar/7" in result.report_text
