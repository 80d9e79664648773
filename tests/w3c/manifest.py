"""Reading W3C SPARQL test manifests (the DAWG ``mf:``/``qt:`` vocabulary) into plain test cases.

A manifest is Turtle; ``mf:include`` names further manifests, ``mf:entries`` lists the tests in order.
Only tests marked ``dawgt:approval dawgt:Approved`` are returned: proposed, withdrawn and unapproved tests
are what the working groups did not agree on, so they are not a standard to hold the endpoint to.

Files are named by ``file:`` IRIs of where they lie; the same IRIs name the graphs loaded from them, so
``FROM <data-g1.ttl>`` in a query and ``<data-g1.ttl>`` in an expected result meet on one IRI.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")


class Kind(enum.Enum):
    """What a test asks of the endpoint."""

    EVALUATION = "evaluation"  # run the query on the data, compare with the expected result
    CSV_FORMAT = "csv-format"  # the same, but the answer is compared as CSV text
    POSITIVE_SYNTAX = "positive-syntax"  # the query is accepted
    NEGATIVE_SYNTAX = "negative-syntax"  # the query is refused as malformed


_KINDS = {
    MF.QueryEvaluationTest: Kind.EVALUATION,
    MF.CSVResultFormatTest: Kind.CSV_FORMAT,
    MF.PositiveSyntaxTest: Kind.POSITIVE_SYNTAX,
    MF.PositiveSyntaxTest11: Kind.POSITIVE_SYNTAX,
    MF.NegativeSyntaxTest: Kind.NEGATIVE_SYNTAX,
    MF.NegativeSyntaxTest11: Kind.NEGATIVE_SYNTAX,
}


class ManifestError(Exception):
    """A manifest that cannot be read as the suite describes it."""


@dataclass(frozen=True)
class TestCase:
    """One approved test, with every file it needs as a local path."""

    __test__ = False  # not a pytest test class

    iri: str
    name: str
    kind: Kind
    query: Path
    data: tuple[Path, ...] = ()  # merged into the default graph
    graph_data: tuple[Path, ...] = ()  # each a named graph, named by its file IRI
    result: Path | None = None
    lax_cardinality: bool = False  # REDUCED: the solutions count, not how often each comes
    requires: frozenset[str] = field(default_factory=frozenset)


def path_of(iri: Node) -> Path:
    """The local file a ``file:`` IRI names."""
    parts = urlsplit(str(iri))
    if parts.scheme != "file":
        raise ManifestError(f"not a local file: {iri}")
    return Path(unquote(parts.path))


def load(manifest: Path, *, approved_only: bool = True) -> list[TestCase]:
    """The approved tests of ``manifest`` and of every manifest it includes, in manifest order.

    ``approved_only=False`` also returns the proposed and never-approved ones (to see how we fare on them).
    """
    return list(_load(manifest.resolve(), set(), approved_only))


def _load(manifest: Path, seen: set[Path], approved_only: bool) -> Iterator[TestCase]:
    if manifest in seen:
        return
    seen.add(manifest)
    if not manifest.is_file():
        raise ManifestError(f"manifest missing: {manifest}")
    graph = Graph()
    graph.parse(manifest, format="turtle", publicID=manifest.as_uri())
    for node in graph.subjects(RDF.type, MF.Manifest):
        for included in _list(graph, node, MF.include):
            yield from _load(path_of(included), seen, approved_only)
        for entry in _list(graph, node, MF.entries):
            if approved_only and (entry, DAWGT.approval, DAWGT.Approved) not in graph:
                continue
            case = _case(graph, entry)
            if case is not None:
                yield case


def _list(graph: Graph, subject: Node, predicate: URIRef) -> list[Node]:
    items: list[Node] = []
    for head in graph.objects(subject, predicate):
        items.extend(Collection(graph, head))
    return items


def _case(graph: Graph, entry: Node) -> TestCase | None:
    kinds = {_KINDS[t] for t in graph.objects(entry, RDF.type) if isinstance(t, URIRef) and t in _KINDS}
    if len(kinds) != 1:
        return None  # a test type outside the query suites (update, protocol, entailment)
    (kind,) = kinds
    action = graph.value(entry, MF.action)
    if action is None:
        raise ManifestError(f"{entry} has no mf:action")
    result = graph.value(entry, MF.result)
    common = {
        "iri": str(entry),
        "name": str(graph.value(entry, MF.name) or entry),
        "kind": kind,
        "result": path_of(result) if result is not None else None,
        "lax_cardinality": (entry, MF.resultCardinality, MF.LaxCardinality) in graph,
        "requires": frozenset(str(r) for r in graph.objects(entry, MF.requires)),
    }
    if kind in (Kind.POSITIVE_SYNTAX, Kind.NEGATIVE_SYNTAX) and isinstance(action, URIRef):
        return TestCase(query=path_of(action), **common)  # type: ignore[arg-type]
    query = graph.value(action, QT.query)
    if query is None:
        raise ManifestError(f"{entry} has no qt:query")
    return TestCase(
        query=path_of(query),
        data=tuple(sorted(path_of(d) for d in graph.objects(action, QT.data))),
        graph_data=tuple(sorted(_graph_file(graph, g) for g in graph.objects(action, QT.graphData))),
        **common,  # type: ignore[arg-type]
    )


def _graph_file(graph: Graph, node: Node) -> Path:
    """``qt:graphData`` is the file itself, or (in a few SPARQL 1.1 tests) a node with ``qt:graph``."""
    if isinstance(node, URIRef):
        return path_of(node)
    inner = graph.value(node, QT.graph)
    if inner is None:
        raise ManifestError(f"qt:graphData without a file: {node}")
    return path_of(inner)


# ------------------------------------------------------------------------------------------ query text

_LEXEME = re.compile(
    r"""(?P<comment>\#[^\n]*)
      | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                   |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
      | (?P<iri><[^<>"{}|^`\\\s]*>)
      | (?P<variable>[?$]\w+)
      | (?P<open>\{) | (?P<close>\})
      | (?P<word>[A-Za-z_][\w.-]*(?::[\w.-]*)?|:[\w.-]*)
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


def outer_words(query: str) -> list[str]:
    """The words of ``query`` outside every ``{…}``, upper-cased; strings and comments dropped."""
    depth = 0
    words: list[str] = []
    for match in _LEXEME.finditer(query):
        kind = match.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(depth - 1, 0)
        elif kind == "word" and depth == 0:
            words.append(match.group().upper())
    return words


def query_form(query: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword outside the query's braces."""
    for word in outer_words(query):
        if word in FORMS:
            return word
    raise ManifestError(f"no query form in {query[:80]!r}")


def is_ordered(query: str) -> bool:
    """Whether the outermost query has ORDER BY (one in a subquery orders nothing the client sees)."""
    words = outer_words(query)
    return any(a == "ORDER" and b == "BY" for a, b in itertools.pairwise(words))


def dataset_clauses(query: str) -> list[str]:
    """The IRIs of ``FROM`` and ``FROM NAMED`` as written (perhaps relative)."""
    iris: list[str] = []
    matches = [m for m in _LEXEME.finditer(query) if m.lastgroup != "comment" and not m.group().isspace()]
    for index, match in enumerate(matches):
        if match.lastgroup == "word" and match.group().upper() == "FROM":
            following = matches[index + 1 : index + 3]
            iris.extend(m.group()[1:-1] for m in following if m.lastgroup == "iri")
    return iris
