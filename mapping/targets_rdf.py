"""Targets as RDF (terms: ontology/targets.ttl; IRIs: docs/ARCHITECTURE.md). No blank nodes.

Each target is ``{base}id/target/{task}-{k}``, linked to ``{base}id/task/{task}``, derived from the span
``{base}id/span/{start}-{end}`` of its quote, emitted by ``mapping.rdf.add_span`` (the same node as
in the plan graph, so the graphs merge without disagreeing). The indicator
concepts the targets use are emitted from the curated data file, with their labels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from rdflib import RDF, RDFS, SKOS, XSD, Graph, Literal, URIRef

from mapping.rdf import add_span, decimal_literal
from mapping.targets import Comparator, Indicator, Target, TargetVocabulary, Unit, default_vocabulary
from mapping.vocab import PROV, QUDT, UNIT, Vocab

_SYMBOLS = {
    Comparator.EQUAL: "=",
    Comparator.AT_LEAST: "≥",
    Comparator.GREATER_THAN: ">",
    Comparator.AT_MOST: "≤",
    Comparator.APPROXIMATELY: "≈",
    Comparator.RANGE: "",
}


def unit_iri(unit: Unit, vocab: Vocab) -> URIRef:
    """QUDT's IRI where QUDT has the unit, else ours: a plankg.ttl term or a counting unit of targets.ttl."""
    if unit.qudt is not None:
        return UNIT[unit.qudt]
    if unit.pk is not None:
        return vocab.term(unit.pk)
    return vocab.term(f"unit/{unit.key}")


def indicator_iri(key: str, vocab: Vocab) -> URIRef:
    return vocab.term(f"indicator/{key}")


def comparator_iri(comparator: Comparator, vocab: Vocab) -> URIRef:
    return vocab.term(f"comparator/{comparator.value}")


def _figure(value: Decimal, unit: Unit) -> str:
    amount = f"{value:,}"
    if not unit.abbr:
        return amount
    return f"{amount}{unit.abbr}" if unit.abbr == "%" else f"{amount} {unit.abbr}"


def english_label(target: Target, vocabulary: TargetVocabulary) -> str:
    """E.g. 'Total talent pool > 3,000,000 persons by 2025', 'Carbon peaking work plan … by 2023-12-31'.

    Built from the hand-written English label of the indicator, the comparator and the figure.
    """
    indicator = vocabulary.indicators[target.indicator].en if target.indicator else "Target"
    q = target.quantity
    if q is None:
        return f"{indicator} by {target.deadline.isoformat()}" if target.deadline else indicator
    unit = vocabulary.units[q.unit]
    if q.upper is not None:
        figure = f"{q.value:,}–{_figure(q.upper, unit)}"
    else:
        symbol = _SYMBOLS[target.comparator] if target.comparator else "="
        figure = f"{symbol} {_figure(q.value, unit)}"
    label = f"{indicator} {figure}"
    if target.baseline_year is not None:
        label += f" compared with {target.baseline_year}"
    if target.target_year is not None:
        label += f" by {target.target_year}"
    return label


def targets_graph(
    targets: Iterable[Target],
    vocab: Vocab,
    *,
    source: str,
    vocabulary: TargetVocabulary | None = None,
    task_iri: Callable[[int | str], URIRef] | None = None,
) -> Graph:
    """The RDF graph of ``targets``; ``source`` is the text they were read from (for the selectors)."""
    vocabulary = vocabulary or default_vocabulary()
    pk = vocab.pk
    g = Graph()
    for prefix, namespace in vocab.prefixes().items():
        g.bind(prefix, namespace, override=True)
    used_indicators: set[str] = set()
    for t in targets:
        node = vocab.target(t.task, t.k)
        g.add((node, RDF.type, pk.Target))
        if t.is_milestone:
            g.add((node, RDF.type, pk.Milestone))
        if task_iri is not None:
            g.add((node, pk.task, task_iri(t.task)))
        else:
            assert isinstance(t.task, int)
            g.add((node, pk.task, vocab.task(t.task)))
        g.add((node, RDFS.label, Literal(t.label, lang="zh")))
        g.add((node, RDFS.label, Literal(english_label(t, vocabulary), lang="en")))
        g.add((node, PROV.wasDerivedFrom, add_span(g, vocab, t.span, source)))
        if t.indicator is not None:
            used_indicators.add(t.indicator)
            g.add((node, pk.indicator, indicator_iri(t.indicator, vocab)))
        if t.quantity is not None:
            q = t.quantity
            g.add((node, pk.value, decimal_literal(q.value)))
            if q.upper is not None:
                g.add((node, pk.upperValue, decimal_literal(q.upper)))
            g.add((node, QUDT.unit, unit_iri(vocabulary.units[q.unit], vocab)))
            g.add((node, pk.valueAsWritten, Literal(q.as_written, lang="zh")))
            g.add((node, pk.valueSpan, add_span(g, vocab, q.span, source)))
        if t.comparator is not None:
            g.add((node, pk.comparator, comparator_iri(t.comparator, vocab)))
        if t.target_year is not None:
            g.add((node, pk.targetYear, Literal(f"{t.target_year:04d}", datatype=XSD.gYear)))
        if t.baseline_year is not None:
            g.add((node, pk.baselineYear, Literal(f"{t.baseline_year:04d}", datatype=XSD.gYear)))
        if t.deadline is not None:
            g.add((node, pk.deadline, Literal(t.deadline.isoformat(), datatype=XSD.date)))
    for key in sorted(used_indicators):
        indicator = vocabulary.indicators[key]
        node = indicator_iri(key, vocab)
        g.add((node, RDF.type, pk.Indicator))
        g.add((node, RDF.type, SKOS.Concept))
        g.add((node, SKOS.inScheme, pk.indicators))
        g.add((node, SKOS.notation, Literal(key)))
        for predicate in (RDFS.label, SKOS.prefLabel):
            g.add((node, predicate, Literal(indicator.zh, lang="zh")))
            g.add((node, predicate, Literal(indicator.en, lang="en")))
        for phrase in indicator.match:
            if phrase != indicator.zh:
                g.add((node, SKOS.altLabel, Literal(phrase, lang="zh")))
        if indicator.unit is not None:
            g.add((node, QUDT.unit, unit_iri(vocabulary.units[indicator.unit], vocab)))
        for definition in indicator_definition(indicator, vocabulary):
            g.add((node, SKOS.definition, definition))
    return g


def indicator_definition(indicator: Indicator, vocabulary: TargetVocabulary) -> tuple[Literal, Literal]:
    """The skos:definition of an indicator concept in zh and en, from its curated labels and unit."""
    if indicator.milestone or indicator.unit is None:
        return (
            Literal(f"计划目标中的里程碑事项(有完成期限、无数值):{indicator.zh}。", lang="zh"),
            Literal(f"A milestone of the plan's targets (a deadline, no figure): {indicator.en}.", lang="en"),
        )
    unit = vocabulary.units[indicator.unit]
    return (
        Literal(f"计划目标所衡量的指标:{indicator.zh},单位:{unit.zh}。", lang="zh"),
        Literal(f"An indicator the plan's targets measure: {indicator.en}, in {unit.en}.", lang="en"),
    )
