"""Query results as plain values, read from every format the suites use, and compared the way the suites mean.

Terms are compared as terms, never as values: ``"01"^^xsd:integer`` is not ``"1"^^xsd:integer``. Only what
RDF 1.1 itself identifies is folded: a simple literal is an ``xsd:string``, language tags ignore case.
Blank nodes are compared up to one renaming for the whole answer (a label means the same node in every row),
and the order of solutions matters only when the test says so.

Formats: SPARQL results XML (``.srx``), JSON (``.srj``), TSV, CSV (kept as text: CSV drops types), the DAWG
result-set vocabulary in RDF (``.ttl``/``.rdf``, the SPARQL 1.0 suite), and RDF graphs for CONSTRUCT.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib import RDF, XSD, BNode, Graph, Namespace, URIRef
from rdflib import Literal as RdflibLiteral
from rdflib.compare import isomorphic
from rdflib.term import Node

RS = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")
SRX = "{http://www.w3.org/2005/sparql-results#}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XSD_STRING = str(XSD.string)
RDF_LANG_STRING = str(RDF.langString)


class ResultsError(Exception):
    """A results document that cannot be read."""


# ---------------------------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class IRI:
    value: str

    def __str__(self) -> str:
        return f"<{self.value}>"


@dataclass(frozen=True)
class BlankNode:
    label: str

    def __str__(self) -> str:
        return f"_:{self.label}"


@dataclass(frozen=True)
class Literal:
    lexical: str
    datatype: str = XSD_STRING
    language: str | None = None

    @classmethod
    def of(cls, lexical: str, datatype: str | None = None, language: str | None = None) -> Literal:
        if language:
            return cls(lexical, RDF_LANG_STRING, language.lower())
        return cls(lexical, datatype or XSD_STRING)

    def __str__(self) -> str:
        text = json.dumps(self.lexical, ensure_ascii=False)
        if self.language:
            return f"{text}@{self.language}"
        return text if self.datatype == XSD_STRING else f"{text}^^<{self.datatype}>"


Term = IRI | BlankNode | Literal
Row = Mapping[str, Term]


@dataclass(frozen=True)
class Solutions:
    """A SELECT answer: the projected variables and the solutions in the order they came."""

    variables: tuple[str, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Boolean:
    """An ASK answer."""

    value: bool


@dataclass(frozen=True)
class CsvTable:
    """A CSV answer: text only, since CSV carries no term types."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Answer = Solutions | Boolean | CsvTable


# --------------------------------------------------------------------------------------------- parsing


def read_expected(path: Path) -> Answer:
    """The expected answer stored in ``path``, by its extension."""
    suffix = path.suffix
    if suffix == ".srx":
        return parse_xml(path.read_bytes())
    if suffix == ".srj":
        return parse_json(path.read_bytes())
    if suffix == ".tsv":
        return parse_tsv(path.read_text(encoding="utf-8"))
    if suffix == ".csv":
        return parse_csv(path.read_text(encoding="utf-8"))
    if suffix in (".ttl", ".rdf"):
        return parse_result_set(read_graph(path))
    raise ResultsError(f"no reader for {path.name}")


def parse_xml(data: bytes) -> Solutions | Boolean:
    root = ET.fromstring(data)
    boolean = root.find(f"{SRX}boolean")
    if boolean is not None:
        return Boolean(_boolean((boolean.text or "").strip()))
    head = root.find(f"{SRX}head")
    variables = tuple(v.attrib["name"] for v in head.iter(f"{SRX}variable")) if head is not None else ()
    rows: list[Row] = []
    results = root.find(f"{SRX}results")
    for result in results.iter(f"{SRX}result") if results is not None else ():
        row: dict[str, Term] = {}
        for binding in result.iter(f"{SRX}binding"):
            (node,) = list(binding)
            row[binding.attrib["name"]] = _xml_term(node)
        rows.append(row)
    return Solutions(variables, tuple(rows))


def _xml_term(node: ET.Element) -> Term:
    text = node.text or ""
    if node.tag == f"{SRX}uri":
        return IRI(text.strip())
    if node.tag == f"{SRX}bnode":
        return BlankNode(text.strip())
    if node.tag == f"{SRX}literal":
        return Literal.of(text, node.get("datatype"), node.get(XML_LANG))
    raise ResultsError(f"unknown term element {node.tag}")


def parse_json(data: bytes) -> Solutions | Boolean:
    document = json.loads(data)
    if "boolean" in document:
        value = document["boolean"]
        if not isinstance(value, bool):
            raise ResultsError(f"boolean is not true or false: {value!r}")
        return Boolean(value)
    variables = tuple(document.get("head", {}).get("vars", ()))
    rows = tuple(
        {name: _json_term(term) for name, term in binding.items()}
        for binding in document["results"]["bindings"]
    )
    return Solutions(variables, rows)


def _json_term(term: Mapping[str, str]) -> Term:
    kind = term["type"]
    if kind == "uri":
        return IRI(term["value"])
    if kind == "bnode":
        return BlankNode(term["value"])
    if kind in ("literal", "typed-literal"):
        return Literal.of(term["value"], term.get("datatype"), term.get("xml:lang"))
    raise ResultsError(f"unknown term type {kind!r}")


_TSV_TERM = re.compile(
    r"""<(?P<iri>[^>]*)>
      | _:(?P<bnode>\S+)
      | "(?P<string>(?:[^"\\]|\\.)*)"(?:@(?P<lang>[A-Za-z0-9-]+)|\^\^<(?P<datatype>[^>]*)>)?
      | (?P<double>[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+)
      | (?P<decimal>[+-]?\d*\.\d+)
      | (?P<integer>[+-]?\d+)
      | (?P<boolean>true|false)
    """,
    re.VERBOSE,
)
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape[0] in "uU":
            return chr(int(escape[1:], 16))
        return _ESCAPES[escape]

    return re.sub(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", one, text)


def parse_tsv(text: str) -> Solutions:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ResultsError("TSV without a header")
    header = lines[0].rstrip("\r")
    variables = tuple(v.removeprefix("?") for v in header.split("\t")) if header else ()
    rows: list[Row] = []
    for line in lines[1:]:
        cells = line.rstrip("\r").split("\t")
        if len(cells) != len(variables):
            raise ResultsError(f"TSV row with {len(cells)} cells under {len(variables)} variables: {line!r}")
        rows.append({v: _tsv_term(c) for v, c in zip(variables, cells, strict=True) if c != ""})
    return Solutions(variables, tuple(rows))


def _tsv_term(cell: str) -> Term:
    match = _TSV_TERM.fullmatch(cell.strip())
    if match is None:
        raise ResultsError(f"not a TSV term: {cell!r}")
    groups = match.groupdict()
    if groups["iri"] is not None:
        return IRI(groups["iri"])
    if groups["bnode"] is not None:
        return BlankNode(groups["bnode"])
    if groups["string"] is not None:
        return Literal.of(_unescape(groups["string"]), groups["datatype"], groups["lang"])
    for kind in ("double", "decimal", "integer", "boolean"):
        if groups[kind] is not None:
            return Literal(groups[kind], str(XSD[kind]))
    raise AssertionError("unreachable: the pattern has no other alternative")


def parse_csv(text: str) -> CsvTable:
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        raise ResultsError("CSV without a header")
    return CsvTable(tuple(records[0]), tuple(tuple(r) for r in records[1:]))


def _boolean(text: str) -> bool:
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ResultsError(f"not a boolean: {text!r}")


@contextlib.contextmanager
def _literals_as_written() -> Iterator[None]:
    """rdflib rewrites literals to canonical form as it parses ("01" becomes "1"); not while this is open."""
    saved = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = saved


def read_graph(path: Path) -> Graph:
    """An RDF file, its relative IRIs resolved against the file's own IRI, literals as written."""
    return parse_graph(path.read_bytes(), "xml" if path.suffix == ".rdf" else "turtle", path.as_uri())


def parse_graph(data: bytes, rdf_format: str, base: str | None = None) -> Graph:
    graph = Graph()
    with _literals_as_written():
        graph.parse(data=data, format=rdf_format, publicID=base)
    return graph


def parse_result_set(graph: Graph) -> Solutions | Boolean:
    """The DAWG result-set vocabulary: ``rs:ResultSet`` with ``rs:solution``s (``rs:index`` when ordered)."""
    result_sets = list(graph.subjects(RDF.type, RS.ResultSet))
    if len(result_sets) != 1:
        raise ResultsError(f"expected one rs:ResultSet, found {len(result_sets)}")
    (result_set,) = result_sets
    boolean = graph.value(result_set, RS.boolean)
    if boolean is not None:
        return Boolean(_boolean(str(boolean)))
    variables = tuple(sorted(str(v) for v in graph.objects(result_set, RS.resultVariable)))
    indexed: list[tuple[int, Row]] = []
    for solution in graph.objects(result_set, RS.solution):
        row: dict[str, Term] = {}
        for binding in graph.objects(solution, RS.binding):
            row[str(graph.value(binding, RS.variable))] = from_rdflib(graph.value(binding, RS.value))
        index = graph.value(solution, RS["index"])
        indexed.append((int(str(index)) if index is not None else 0, row))
    indexed.sort(key=lambda pair: pair[0])
    return Solutions(variables, tuple(row for _, row in indexed))


def from_rdflib(node: Node | None) -> Term:
    if isinstance(node, URIRef):
        return IRI(str(node))
    if isinstance(node, BNode):
        return BlankNode(str(node))
    if isinstance(node, RdflibLiteral):
        datatype = str(node.datatype) if node.datatype is not None else None
        return Literal.of(str(node), datatype, node.language)
    raise ResultsError(f"not an RDF term: {node!r}")


# ------------------------------------------------------------------------------------------ comparing


def compare(expected: Answer, actual: Answer, *, ordered: bool = False, lax: bool = False) -> str | None:
    """None when ``actual`` is an acceptable answer where ``expected`` was stored, else why not.

    ``ordered``: the solution sequence must match row for row (the query has a top-level ORDER BY).
    ``lax``: only which solutions appear counts, not how often (REDUCED may or may not drop duplicates).
    """
    if type(expected) is not type(actual):
        return f"expected a {type(expected).__name__} answer, got {actual!r}"
    if isinstance(expected, Boolean):
        return None if expected == actual else f"expected {expected.value}, got {actual}"
    if isinstance(expected, CsvTable):
        assert isinstance(actual, CsvTable)
        return _compare_csv(expected, actual)
    assert isinstance(expected, Solutions) and isinstance(actual, Solutions)
    if set(expected.variables) != set(actual.variables):
        return f"variables differ: expected {sorted(expected.variables)}, got {sorted(actual.variables)}"
    expected_rows = [_row_key(r) for r in expected.rows]
    actual_rows = [_row_key(r) for r in actual.rows]
    if lax:
        expected_rows = list(dict.fromkeys(expected_rows))
        actual_rows = list(dict.fromkeys(actual_rows))
        ordered = False
    if len(expected_rows) != len(actual_rows):
        return _mismatch(f"expected {len(expected_rows)} solutions, got {len(actual_rows)}", expected, actual)
    if not _match_rows(expected_rows, actual_rows, ordered=ordered):
        order = " in this order" if ordered else ""
        return _mismatch(f"solutions differ{order}", expected, actual)
    return None


RowKey = tuple[tuple[str, Term], ...]


def _row_key(row: Row) -> RowKey:
    return tuple(sorted(row.items(), key=lambda item: item[0]))


def _mismatch(reason: str, expected: Solutions, actual: Solutions) -> str:
    return f"{reason}\nexpected:\n{_table(expected.rows)}\nactual:\n{_table(actual.rows)}"


def _table(rows: Sequence[Row], limit: int = 40) -> str:
    lines = ["  " + "  ".join(f"?{k}={v}" for k, v in sorted(row.items())) for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"  … {len(rows) - limit} more")
    return "\n".join(lines) or "  (none)"


def _has_blank(row: RowKey) -> bool:
    return any(isinstance(term, BlankNode) for _, term in row)


def _shape(row: RowKey) -> RowKey:
    """A row with every blank node made the same: rows that can match under a renaming share a shape."""
    return tuple((name, BlankNode("") if isinstance(term, BlankNode) else term) for name, term in row)


def _match_rows(expected: list[RowKey], actual: list[RowKey], *, ordered: bool) -> bool:
    if ordered:
        if [_shape(r) for r in expected] != [_shape(r) for r in actual]:
            return False
        pairs = list(zip(expected, actual, strict=True))
        return _extend_in_order(pairs, {}, {})
    if Counter(_shape(r) for r in expected) != Counter(_shape(r) for r in actual):
        return False
    ground = [r for r in expected if not _has_blank(r)]
    if Counter(ground) != Counter(r for r in actual if not _has_blank(r)):
        return False
    return _extend_unordered(
        [r for r in expected if _has_blank(r)], [r for r in actual if _has_blank(r)], {}, {}
    )


def _bind(
    expected: RowKey, actual: RowKey, forward: dict[str, str], backward: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]] | None:
    """The renaming extended so that ``expected`` becomes ``actual``, or None if it cannot be."""
    if len(expected) != len(actual):
        return None
    forward, backward = dict(forward), dict(backward)
    for (name_e, term_e), (name_a, term_a) in zip(expected, actual, strict=True):
        if name_e != name_a:
            return None
        if isinstance(term_e, BlankNode) and isinstance(term_a, BlankNode):
            if forward.setdefault(term_e.label, term_a.label) != term_a.label:
                return None
            if backward.setdefault(term_a.label, term_e.label) != term_e.label:
                return None
        elif term_e != term_a:
            return None
    return forward, backward


def _extend_in_order(
    pairs: list[tuple[RowKey, RowKey]], forward: dict[str, str], backward: dict[str, str]
) -> bool:
    for expected, actual in pairs:
        bound = _bind(expected, actual, forward, backward)
        if bound is None:
            return False
        forward, backward = bound
    return True


def _extend_unordered(
    expected: list[RowKey], actual: list[RowKey], forward: dict[str, str], backward: dict[str, str]
) -> bool:
    """Backtracking search for one renaming under which the rows pair off."""
    if not expected:
        return True
    row, rest = expected[0], expected[1:]
    tried: set[RowKey] = set()
    for index, candidate in enumerate(actual):
        if candidate in tried:
            continue
        tried.add(candidate)
        bound = _bind(row, candidate, forward, backward)
        if bound is not None and _extend_unordered(rest, actual[:index] + actual[index + 1 :], *bound):
            return True
    return False


def _compare_csv(expected: CsvTable, actual: CsvTable) -> str | None:
    """Rows of text, columns matched by their header (``SELECT *`` leaves the column order open)."""
    if sorted(expected.header) != sorted(actual.header) or len(set(actual.header)) != len(actual.header):
        return f"CSV header differs: expected {expected.header}, got {actual.header}"
    for table in (expected, actual):
        ragged = [row for row in table.rows if len(row) != len(table.header)]
        if ragged:
            return f"CSV rows with a cell count unlike the header {table.header}: {ragged[:3]}"
    solutions = [
        Solutions(
            table.header,
            tuple(
                {name: _csv_cell(cell) for name, cell in zip(table.header, row, strict=True)}
                for row in table.rows
            ),
        )
        for table in (expected, actual)
    ]
    return compare(solutions[0], solutions[1])


def _csv_cell(cell: str) -> Term:
    """A CSV cell as text; a cell written as a blank node stays one, so labels may be renamed."""
    return BlankNode(cell[2:]) if cell.startswith("_:") else Literal(cell)


def canonical_graph(graph: Graph) -> Graph:
    """The graph with explicit ``xsd:string`` dropped and language tags lower-cased (RDF 1.1 identities)."""
    result = Graph()
    for triple in graph:
        result.add(tuple(_canonical_node(node) for node in triple))  # type: ignore[arg-type]
    return result


def _canonical_node(node: Node) -> Node:
    if isinstance(node, RdflibLiteral):
        if node.language:
            return RdflibLiteral(str(node), lang=node.language.lower(), normalize=False)
        if node.datatype is None or str(node.datatype) == XSD_STRING:
            return RdflibLiteral(str(node), normalize=False)
        return RdflibLiteral(str(node), datatype=node.datatype, normalize=False)
    return node


def compare_graphs(expected: Graph, actual: Graph) -> str | None:
    expected, actual = canonical_graph(expected), canonical_graph(actual)
    if isomorphic(expected, actual):
        return None
    return (
        f"graphs differ: expected {len(expected)} triples, got {len(actual)}\n"
        f"expected:\n{_sorted_nt(expected)}\nactual:\n{_sorted_nt(actual)}"
    )


def _sorted_nt(graph: Graph, limit: int = 60) -> str:
    lines = sorted(" ".join(node.n3() for node in triple) for triple in graph)
    if len(lines) > limit:
        lines = [*lines[:limit], f"… {len(lines) - limit} more"]
    return "\n".join(f"  {line}" for line in lines) or "  (empty)"
