"""The W3C SPARQL query test suites, run against our endpoint over the SPARQL protocol.

In scope: SPARQL 1.0 evaluation and syntax tests, the SPARQL 1.1 query tests (aggregates, bind, bindings,
cast, construct, exists, functions, grouping, negation, project-expression, property-path, subquery,
syntax-query) and the SPARQL 1.1 result-format tests (json-res, csv-tsv-res). Only the tests marked
``dawgt:Approved`` run (714 of 820 entries); proposed and never-approved ones are not held against us.

Out of scope, because they test what a read-only query endpoint does not offer: update (and its syntax
tests), the graph store protocol and http-rdf-update, federation (SERVICE is refused by design), entailment
regimes, service description. The SPARQL protocol suite is written for a live server and is covered by the
endpoint's own tests.

The app runs as ``plankg serve --without-plan --data FILE`` would, in process, reached over the protocol
(FastAPI's TestClient, no socket). Starting our store costs about half a second (it starts query worker
processes), too much to pay for each of 148 datasets, so one app serves them all: FILE holds every data file
of the suites as a named graph under the file's own IRI, and each test chooses its dataset with the
protocol's ``default-graph-uri`` (its ``qt:data``: their merge is the default graph) and ``named-graph-uri``
(its ``qt:graphData``), or names it in the query with ``FROM``/``FROM NAMED``. A part of the dataset a test
leaves empty is given as one graph that does not exist. The query is sent with a ``BASE`` of its file's IRI
(what a client that fetched it would have); the answer is asked for in the expected result's format (XML,
JSON, TSV, CSV; N-Triples for CONSTRUCT and DESCRIBE) and compared term by term, blank nodes up to renaming,
in order only under a top-level ORDER BY. Syntax tests POST ``application/sparql-query``: a valid query
must get 200, a malformed one 400.

``tests/w3c/KNOWN_FAILURES.txt`` lists tests that fail for a documented reason; they run as strict xfails,
so one that starts to pass fails the run until it is taken off the list.

The suites are in the repository, under ``tests/w3c/suites`` (only the files these tests read, with their
licence and upstream commit in ``SOURCE.md``), so a clone made anywhere runs them;
``test_a_fresh_clone_finds_the_suites`` clones the repository into a temporary directory and collects them
there. Without them these tests fail rather than skip.
"""

from __future__ import annotations

import contextlib
import functools
import subprocess
import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
from rdflib import URIRef

from server.app import create_app
from server.settings import Settings
from tests.w3c import manifest, results
from tests.w3c.manifest import Kind, TestCase

with warnings.catch_warnings():
    # Starlette warns once, at import, that it would rather drive httpx2; httpx works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

REPOSITORY = Path(__file__).resolve().parent.parent
SUITES = Path(__file__).resolve().parent / "w3c" / "suites" / "sparql"
KNOWN_FAILURES = Path(__file__).resolve().parent / "w3c" / "KNOWN_FAILURES.txt"

# Manifest → how many approved tests it holds (a loader that silently loses tests fails here).
MANIFESTS = {
    "sparql10/manifest-evaluation.ttl": 242,
    "sparql10/manifest-syntax.ttl": 199,
    "sparql11/manifest-sparql11-query.ttl": 263,
    "sparql11/manifest-sparql11-results.ttl": 10,
}

MEDIA_TYPES = {
    ".srx": "application/sparql-results+xml",
    ".srj": "application/sparql-results+json",
    ".tsv": "text/tab-separated-values",
    ".csv": "text/csv",
    ".ttl": "application/sparql-results+json",  # DAWG result sets in RDF: any results format will do
    ".rdf": "application/sparql-results+json",
}
N_TRIPLES = "application/n-triples"
SYNTAX_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"


# ------------------------------------------------------------------------------------------- collection


@functools.cache
def all_cases() -> tuple[TestCase, ...]:
    if not SUITES.is_dir():
        return ()
    return tuple(case for name in MANIFESTS for case in manifest.load(SUITES / name))


def known_failures() -> dict[str, str]:
    """Test IRI → why it fails. One entry a line: the IRI, white space, the reason; ``#`` starts a comment."""
    entries: dict[str, str] = {}
    for number, line in enumerate(KNOWN_FAILURES.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        iri, _, reason = line.partition(" ")
        if not reason.strip():
            raise ValueError(f"{KNOWN_FAILURES.name}:{number}: {iri} has no reason")
        if iri in entries:
            raise ValueError(f"{KNOWN_FAILURES.name}:{number}: {iri} listed twice")
        entries[iri] = reason.strip()
    return entries


def params(*kinds: Kind) -> list[object]:
    known = known_failures()
    return [
        pytest.param(
            case,
            id=case.iri,
            marks=[pytest.mark.xfail(strict=True, reason=known[case.iri])] if case.iri in known else [],
        )
        for case in all_cases()
        if case.kind in kinds
    ]


# ------------------------------------------------------------------------------------------- endpoint


@dataclass(frozen=True)
class Reply:
    status: int
    media_type: str
    body: bytes


@dataclass(frozen=True)
class RdfDataset:
    """The protocol's ``default-graph-uri`` and ``named-graph-uri`` parameters."""

    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]


class ProtocolClient:
    """Our endpoint, in process, spoken to over the SPARQL 1.1 Protocol."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def query(self, query: bytes, accept: str, dataset: RdfDataset | None, *, form: bool = True) -> Reply:
        """POST the query as a form, or (``form=False``) as ``application/sparql-query`` with the
        dataset in the URL: two of the protocol's three ways (GET has its own tests)."""
        graphs: dict[str, list[str]] = {}
        if dataset is not None:
            graphs = {"default-graph-uri": list(dataset.default_graphs)}
            graphs["named-graph-uri"] = list(dataset.named_graphs)
        headers = {"Accept": accept}
        if form:
            response = self.client.post(
                "/sparql", data={"query": query.decode("utf-8"), **graphs}, headers=headers
            )
        else:
            headers["Content-Type"] = "application/sparql-query"
            response = self.client.post("/sparql", params=graphs, content=query, headers=headers)
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        return Reply(response.status_code, media_type, response.content)


@contextlib.contextmanager
def serve(data: Path) -> Iterator[ProtocolClient]:
    """The app as ``plankg serve --without-plan --data FILE`` would run it."""
    settings = Settings(data_files=(data,), without_plan=True)
    with TestClient(create_app(settings)) as client:
        yield ProtocolClient(client)


# ------------------------------------------------------------------------------------------- datasets

# Names no graph: as the only default or named graph it makes that part of the dataset empty.
NO_GRAPH = "urn:x-plankg-test:no-graph"


def named_files(case: TestCase, query: str) -> list[Path]:
    """The files a test loads as named graphs: its ``qt:graphData`` and what the query names in FROM."""
    named = set(case.graph_data)
    for iri in manifest.dataset_clauses(query):
        path = manifest.path_of(URIRef(urljoin(case.query.as_uri(), iri)))
        if path.is_file():
            named.add(path)
    return sorted(named)


def protocol_dataset(case: TestCase, query: str) -> RdfDataset | None:
    """The test's dataset as protocol parameters; None when the query names its own with FROM."""
    if manifest.dataset_clauses(query):
        return None
    return RdfDataset(
        tuple(p.as_uri() for p in case.data) or (NO_GRAPH,),
        tuple(p.as_uri() for p in case.graph_data) or (NO_GRAPH,),
    )


def write_corpus(cases: Iterable[TestCase], target: Path) -> Path:
    """Every data file of ``cases`` as one N-Quads file, each file a named graph under its own IRI."""
    files: set[Path] = set()
    for case in cases:
        files.update(case.data)
        files.update(named_files(case, case.query.read_text(encoding="utf-8")))
    with target.open("w", encoding="utf-8") as out:
        for path in sorted(files):
            # An N-Triples line is "s p o ." and becomes an N-Quads line when the graph goes before the dot.
            graph = results.read_graph(path).serialize(format="nt", encoding="utf-8").decode("utf-8")
            lines = [line.removesuffix(".").rstrip() for line in graph.splitlines() if line]
            out.writelines(f"{line} <{path.as_uri()}> .\n" for line in lines)
    return target


def query_bytes(case: TestCase) -> bytes:
    """The query file as sent: behind a ``BASE`` of its own IRI, so relative IRIs mean what the test means."""
    return f"BASE <{case.query.as_uri()}>\n".encode() + case.query.read_bytes()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProtocolClient]:
    """One endpoint serving the data of every evaluation test, each file a named graph."""
    assert SUITES.is_dir(), f"the W3C SPARQL test suites are missing at {SUITES}"
    corpus = write_corpus(
        (c for c in all_cases() if c.kind in (Kind.EVALUATION, Kind.CSV_FORMAT)),
        tmp_path_factory.mktemp("w3c") / "corpus.nq",
    )
    with serve(corpus) as served:
        yield served


# ---------------------------------------------------------------------------------------------- tests


def test_suites_are_present() -> None:
    assert SUITES.is_dir(), (
        f"the W3C SPARQL test suites are missing: expected them at {SUITES} "
        "(tests/w3c/suites in the repository)"
    )


def test_a_fresh_clone_finds_the_suites(tmp_path: Path) -> None:
    """A clone made anywhere, with nothing beside it, collects every W3C test: the suites are committed."""
    clone = tmp_path / "elsewhere" / "plankg"
    subprocess.run(["git", "clone", "--quiet", str(REPOSITORY), str(clone)], check=True, capture_output=True)
    assert list(clone.parent.iterdir()) == [clone]  # nothing beside the clone to read from
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_w3c_sparql.py",
        ],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    ids = [line for line in collected.stdout.splitlines() if line.startswith("tests/test_w3c_sparql.py::")]
    cases = [i for i in ids if "::test_syntax[" in i or "::test_evaluation[" in i]
    assert len(cases) == sum(MANIFESTS.values())  # every approved test of the four manifests
    where = subprocess.run(
        [sys.executable, "-c", "from tests.test_w3c_sparql import SUITES; print(SUITES)"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()) == clone / "tests" / "w3c" / "suites" / "sparql"  # its own copy


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_manifest_yields_its_approved_tests(name: str) -> None:
    assert SUITES.is_dir(), f"the W3C SPARQL test suites are missing at {SUITES}"
    cases = manifest.load(SUITES / name)
    assert len(cases) == MANIFESTS[name]
    assert len({case.iri for case in cases}) == len(cases)


def test_known_failures_name_tests_that_run() -> None:
    collected = {case.iri for case in all_cases()}
    assert collected, f"no tests collected from {SUITES}"
    stale = sorted(set(known_failures()) - collected)
    assert not stale, f"{KNOWN_FAILURES.name} names tests that are not run: {stale}"


@pytest.mark.parametrize("case", params(Kind.POSITIVE_SYNTAX, Kind.NEGATIVE_SYNTAX))
def test_syntax(case: TestCase, endpoint: ProtocolClient) -> None:
    reply = endpoint.query(query_bytes(case), SYNTAX_ACCEPT, RdfDataset((NO_GRAPH,), (NO_GRAPH,)), form=False)
    if case.kind is Kind.POSITIVE_SYNTAX:
        assert reply.status == 200, f"a valid query was refused: {reply.body.decode(errors='replace')}"
    else:
        assert reply.status == 400, f"a malformed query got {reply.status}"


@pytest.mark.parametrize("case", params(Kind.EVALUATION, Kind.CSV_FORMAT))
def test_evaluation(case: TestCase, endpoint: ProtocolClient) -> None:
    assert case.result is not None, f"{case.iri} has no expected result"
    text = case.query.read_text(encoding="utf-8")
    graph_answer = manifest.query_form(text) in ("CONSTRUCT", "DESCRIBE")
    accept = N_TRIPLES if graph_answer else MEDIA_TYPES[case.result.suffix]
    reply = endpoint.query(query_bytes(case), accept, protocol_dataset(case, text))
    assert reply.status == 200, reply.body.decode(errors="replace")
    assert reply.media_type == accept
    if graph_answer:
        mismatch = results.compare_graphs(
            results.read_graph(case.result), results.parse_graph(reply.body, "nt")
        )
    else:
        mismatch = results.compare(
            results.read_expected(case.result),
            parse_answer(reply),
            ordered=manifest.is_ordered(text),
            lax=case.lax_cardinality,
        )
    assert mismatch is None, mismatch


def parse_answer(reply: Reply) -> results.Answer:
    if reply.media_type == "application/sparql-results+xml":
        return results.parse_xml(reply.body)
    if reply.media_type == "application/sparql-results+json":
        return results.parse_json(reply.body)
    if reply.media_type == "text/tab-separated-values":
        return results.parse_tsv(reply.body.decode("utf-8"))
    if reply.media_type == "text/csv":
        return results.parse_csv(reply.body.decode("utf-8"))
    raise AssertionError(f"unexpected media type {reply.media_type}")


# ------------------------------------------------------------------------ the harness checks itself


def _solutions(*rows: dict[str, results.Term]) -> results.Solutions:
    return results.Solutions(("x", "y"), rows)


A, B = results.IRI("http://example/a"), results.IRI("http://example/b")


def test_comparison_renames_blank_nodes_once_for_the_whole_answer() -> None:
    b1, b2, c1 = results.BlankNode("b1"), results.BlankNode("b2"), results.BlankNode("c1")
    expected = _solutions({"x": b1, "y": A}, {"x": b1, "y": B})
    assert results.compare(expected, _solutions({"x": c1, "y": B}, {"x": c1, "y": A})) is None
    # two distinct nodes where the expected answer has one node twice
    assert results.compare(expected, _solutions({"x": b1, "y": A}, {"x": b2, "y": B})) is not None


def test_comparison_keeps_order_only_when_asked() -> None:
    one, two = _solutions({"x": A}, {"x": B}), _solutions({"x": B}, {"x": A})
    assert results.compare(one, two) is None
    assert results.compare(one, two, ordered=True) is not None


def test_comparison_is_by_term_not_by_value() -> None:
    integer = "http://www.w3.org/2001/XMLSchema#integer"
    expected = _solutions({"x": results.Literal("01", integer)})
    assert results.compare(expected, _solutions({"x": results.Literal("1", integer)})) is not None
    assert results.compare(expected, _solutions({"x": results.Literal("01", integer)})) is None


def test_comparison_counts_duplicates_unless_lax() -> None:
    expected, actual = _solutions({"x": A}, {"x": A}), _solutions({"x": A})
    assert results.compare(expected, actual) is not None
    assert results.compare(expected, actual, lax=True) is None


def test_order_by_counts_only_in_the_outermost_query() -> None:
    assert manifest.is_ordered("SELECT * { ?s ?p ?o } ORDER BY ?s")
    assert not manifest.is_ordered("SELECT * { { SELECT ?s { ?s ?p ?o } ORDER BY ?s LIMIT 1 } }")
    assert not manifest.is_ordered('SELECT * { ?s ?p "ORDER BY" } # ORDER BY ?s')
