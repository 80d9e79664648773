"""mapping.build.PlanCache.key names the build's seams the same way in every process, so that the
CLI's ``partial(document_graph, discover=…)`` finds the plans an earlier ``plankg build`` cached."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from mapping.build import PlanCache, _stage_name
from mapping.corpus import find_seeds
from mapping.graph import document_graph, plan_heading
from mapping.validate import validate

REPO = Path(__file__).resolve().parent.parent


def key(make_graph: object) -> str:
    seed = find_seeds([REPO / "tests" / "fixtures" / "corpus-genre"])[0]
    return PlanCache.key("code", seed.path.read_bytes(), seed, (make_graph, plan_heading, validate))


def test_two_partials_of_the_same_seam_give_one_key() -> None:
    # Two objects, two addresses (as in two processes): the key must not see the address.
    first, second = partial(document_graph, discover=True), partial(document_graph, discover=True)
    assert key(first) == key(second)
    assert _stage_name(first) == "mapping.graph.document_graph(; discover=True)"


def test_other_arguments_or_another_function_give_another_key() -> None:
    assert key(partial(document_graph, discover=True)) != key(partial(document_graph, discover=False))
    assert key(partial(document_graph, discover=True)) != key(document_graph)
    assert _stage_name(document_graph) == "mapping.graph.document_graph"
