"""SHACL validation of a plan graph against the shapes in ontology/ (pyshacl).

The files in ``ontology/`` carry no ``@base``: each is parsed with the configured base as its
document base. Files whose name contains ``shapes`` hold SHACL shapes; every other ``*.ttl`` file is
ontology. Raising ``mapping.errors.ValidationFailed`` is the build's job: ``ValidationResult`` gives
it the counts, a report that names node and rule, and the report graph.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from pyshacl import validate as shacl_validate
from rdflib import RDF, XSD, Graph, Literal, Node, URIRef
from rdflib.namespace import SH
from rdflib.plugins.sparql.processor import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Processor, Result
from rdflib.term import Identifier

from mapping.errors import ValidationFailed
from mapping.vocab import Vocab

ONTOLOGY_DIR = Path(__file__).resolve().parent.parent / "ontology"

SEVERITY_NAMES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


def is_shapes_file(path: Path) -> bool:
    """Whether an ``ontology/`` file holds SHACL shapes (named ``*shapes*.ttl``) rather than ontology."""
    return "shapes" in path.stem


def ontology_files(directory: Path = ONTOLOGY_DIR) -> list[Path]:
    """The ontology files (every ``*.ttl`` that is not a shapes file), in name order."""
    return [p for p in sorted(directory.glob("*.ttl")) if not is_shapes_file(p)]


def shapes_files(directory: Path = ONTOLOGY_DIR) -> list[Path]:
    """The shapes files (``*shapes*.ttl``), in name order."""
    return [p for p in sorted(directory.glob("*.ttl")) if is_shapes_file(p)]


def _parse(paths: list[Path], vocab: Vocab) -> Graph:
    graph = Graph()
    for prefix, namespace in vocab.prefixes().items():
        graph.bind(prefix, namespace, override=True)
    for path in paths:
        graph.parse(path, format="turtle", publicID=vocab.base)
    return graph


def load_ontology(vocab: Vocab, directory: Path = ONTOLOGY_DIR) -> Graph:
    """All ontology files of ``directory`` in one graph, relative IRIs resolved against the base."""
    return _parse(ontology_files(directory), vocab)


def load_shapes(vocab: Vocab, directory: Path = ONTOLOGY_DIR) -> Graph:
    """All shapes files of ``directory`` in one graph.

    Relative ``sh:namespace`` values of the SPARQL prefix declarations (``"def/"``) are resolved
    against the base here, since a Turtle parser leaves literals alone.
    """
    return _resolve_namespaces(_parse(shapes_files(directory), vocab), vocab)


def _resolve_namespaces(graph: Graph, vocab: Vocab) -> Graph:
    for declaration, namespace in list(graph.subject_objects(SH.namespace)):
        if urlsplit(str(namespace)).scheme:
            continue  # absolute already; urljoin would drop an empty fragment ("…/cube#" → "…/cube")
        resolved = urljoin(vocab.base, str(namespace))
        if resolved != str(namespace):
            graph.remove((declaration, SH.namespace, namespace))
            graph.add((declaration, SH.namespace, Literal(resolved, datatype=XSD.anyURI)))
    return graph


@dataclass(frozen=True)
class ValidationIssue:
    """One SHACL result: severity, focus node, the shape and constraint that raised it, its message."""

    severity: str  # "Violation", "Warning" or "Info"
    focus_node: str
    source_shape: str
    constraint: str  # the sh:sourceConstraintComponent
    path: str | None
    value: str | None
    message: str

    def line(self) -> str:
        where = f" {self.path}" if self.path else ""
        value = f" (value {self.value})" if self.value is not None else ""
        return (
            f"{self.severity}: {self.focus_node}{where}: {self.message}{value} "
            f"[shape {self.source_shape}, {self.constraint}]"
        )


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of validating a data graph."""

    conforms: bool  # no violation (warnings and infos do not fail a graph)
    violations: int
    warnings: int
    results: tuple[ValidationIssue, ...]  # sorted: violations first, then by focus node and shape
    report_text: str  # one line per result, naming node and rule
    report_graph: Graph

    def raise_for_violations(self) -> None:
        """Raise ``ValidationFailed`` with the report when there is any violation."""
        if self.violations:
            raise ValidationFailed(self.report_text, self.violations)


@lru_cache(maxsize=256)
def _prepared(text: str, namespaces: tuple[tuple[str, str], ...]) -> Query:
    """A SPARQL query parsed and translated once (rdflib's ``prepareQuery``, which is what
    ``Graph.query`` does with a string each time it is called)."""
    return prepareQuery(text, initNs=dict(namespaces))


class _PreparedQueryGraph(Graph):
    """A graph whose ``query`` parses each distinct query text once.

    pyshacl runs every SPARQL constraint once per focus node, as the same text with ``$this`` bound
    through ``initBindings``; rdflib parses the text again on every call, which took more than half of
    a plan's validation (cProfile: 43 s of 70 s in pyparsing for the Jinan seed). The query evaluated
    is the same: ``Graph.query`` translates a string with the graph's namespaces as ``initNs`` when
    none are given, and so does the cache key here."""

    def query(
        self,
        query_object: str | Query,
        processor: str | Processor = "sparql",
        result: str | type[Result] = "sparql",
        initNs: Mapping[str, Any] | None = None,
        initBindings: Mapping[str, Identifier] | None = None,
        use_store_provided: bool = True,
        **kwargs: Any,
    ) -> Result:
        if isinstance(query_object, str) and processor == "sparql" and "base" not in kwargs:
            namespaces = initNs or dict(self.namespaces())
            key = tuple(sorted((str(p), str(ns)) for p, ns in namespaces.items()))
            query_object = _prepared(query_object, key)
        return super().query(
            query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs
        )


@lru_cache(maxsize=8)
def _parsed(
    kind: str, base: str, files: tuple[tuple[str, bytes], ...]
) -> tuple[tuple[Any, ...], tuple[tuple[str, str], ...]]:
    """The triples and prefix bindings of the ontology or the shapes files, parsed once per process;
    the key holds every file's bytes, so an edited file is parsed again."""
    paths = [Path(name) for name, _ in files]
    vocab = Vocab(base)
    graph = _parse(paths, vocab) if kind == "ontology" else _resolve_namespaces(_parse(paths, vocab), vocab)
    return tuple(graph), tuple((str(p), str(ns)) for p, ns in graph.namespaces())


def _fresh(kind: str, vocab: Vocab, paths: list[Path]) -> Graph:
    """A new graph equal to ``load_ontology`` / ``load_shapes`` (same triples, same prefixes)."""
    triples, namespaces = _parsed(kind, vocab.base, tuple((str(p), p.read_bytes()) for p in paths))
    graph = Graph()
    for prefix, namespace in namespaces:
        graph.bind(prefix, namespace, override=True, replace=True)
    for triple in triples:
        graph.add(triple)
    return graph


def validate(data: Graph, vocab: Vocab, directory: Path = ONTOLOGY_DIR) -> ValidationResult:
    """Validate ``data`` (with the ontology mixed in) against the shapes of ``directory``."""
    # pyshacl's ont_graph only "inoculates" selected ontology axioms; the SPARQL constraints and
    # sh:class need the whole vocabulary (stage concepts, the structure definition), so mix it in here.
    mixed = _PreparedQueryGraph()
    mixed += data
    mixed += _fresh("ontology", vocab, ontology_files(directory))
    shapes = _fresh("shapes", vocab, shapes_files(directory))
    # inplace: `mixed` is this call's own copy, and the shapes hold no rules that could change it;
    # pyshacl would otherwise copy it again (into a plain graph, losing the prepared queries).
    _conforms, report_graph, _text = shacl_validate(
        mixed,
        shacl_graph=shapes,
        inference="none",
        advanced=True,
        allow_warnings=True,
        inplace=True,
    )
    for prefix, namespace in vocab.prefixes().items():
        report_graph.bind(prefix, namespace, override=True)
    issues = tuple(sorted(_issues(report_graph), key=_order))
    violations = sum(1 for i in issues if i.severity == "Violation")
    warnings = sum(1 for i in issues if i.severity == "Warning")
    return ValidationResult(
        conforms=violations == 0,
        violations=violations,
        warnings=warnings,
        results=issues,
        report_text=_report_text(issues, violations, warnings),
        report_graph=report_graph,
    )


def _order(issue: ValidationIssue) -> tuple[int, str, str, str]:
    rank = {"Violation": 0, "Warning": 1}.get(issue.severity, 2)
    return (rank, issue.focus_node, issue.source_shape, issue.message)


def _issues(report: Graph) -> Iterator[ValidationIssue]:
    def name(node: Node | None) -> str | None:
        if node is None:
            return None
        if isinstance(node, URIRef):
            return str(node.n3(report.namespace_manager))
        return str(node)

    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        yield ValidationIssue(
            severity=SEVERITY_NAMES.get(severity, str(severity)) if isinstance(severity, URIRef) else "?",
            focus_node=name(report.value(result, SH.focusNode)) or "?",
            source_shape=name(report.value(result, SH.sourceShape)) or "?",
            constraint=name(report.value(result, SH.sourceConstraintComponent)) or "?",
            path=name(report.value(result, SH.resultPath)),
            value=name(report.value(result, SH.value)),
            message="; ".join(messages) or "(no message)",
        )


def _report_text(issues: tuple[ValidationIssue, ...], violations: int, warnings: int) -> str:
    head = f"SHACL: {violations} violation(s), {warnings} warning(s)"
    return "\n".join([head, *(issue.line() for issue in issues)])
