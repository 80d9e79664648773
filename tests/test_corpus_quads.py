"""mapping.build._corpus_quads: the corpus's quads in canonical order without one sort of them all —
the same list as sorting the default graph and every named graph together."""

from __future__ import annotations

import pyoxigraph as ox

from mapping import dumps
from mapping.build import PlanOutput, PlanSummary, _corpus_quads, _in_graph, validation_graph
from mapping.vocab import Vocab

VOCAB = Vocab("http://example.org/")
ID = "http://example.org/id/"


def t(s: str, p: str, o: str | int) -> ox.Quad:
    obj: ox.NamedNode | ox.Literal = ox.Literal(str(o)) if isinstance(o, int) else ox.NamedNode(ID + o)
    return ox.Quad(ox.NamedNode(ID + s), ox.NamedNode(ID + p), obj, ox.DefaultGraph())


def output(slug: str, quads: list[ox.Quad], report: list[ox.Quad]) -> PlanOutput:
    summary = PlanSummary(slug, slug, None, f"{slug}.txt", "0" * 64, 1, False, len(quads), 0, 0, "")
    return PlanOutput(summary, dumps.canonical_order(quads), dumps.canonical_order(report))


def test_the_corpus_quads_are_the_canonical_order_of_all_of_them() -> None:
    shared = t("org/1", "label", 1)  # an entity two plans name: once in the default graph
    # slugs whose graph IRIs sort otherwise than the slugs ("a-b" before "a": '-' < '>')
    outputs = [
        output(
            "a", [t("plan/a", "title", 2), shared, t("plan/a/task/1", "part", "plan/a")], [t("r/a", "m", 3)]
        ),
        output("a-b", [t("plan/a-b", "title", 4), shared], []),
        output("c", [t("plan/c", "title", 5)], [t("r/c", "m", 6), t("r/a", "m", 3)]),
    ]
    extra = [t("def/Plan", "label", 7), shared]
    default = [q for o in outputs for q in o.quads] + extra
    named: list[ox.Quad] = []
    for o in outputs:
        named += _in_graph(o.quads, str(VOCAB.for_plan(o.summary.slug).plan_graph_iri()))
        named += _in_graph(o.report, validation_graph(VOCAB))
    expected = dumps.canonical_order(default + named)
    got = _corpus_quads(outputs, extra, VOCAB)
    assert got == expected
    assert sum(1 for q in got if q == shared) == 1
    assert sum(1 for q in got if q.graph_name == ox.NamedNode(validation_graph(VOCAB))) == 2
