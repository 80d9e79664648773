"""``/.well-known/void`` and ``dataset_description``: the dataset, its distributions, endpoint and source.

Every figure the description states is checked against something independent of it: the dump files'
bytes on disk, the line count of the N-Triples dump, the seed file's own hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import warnings
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, VOID, XSD

from server.app import create_app
from server.protocol.results import Triple
from server.settings import Settings
from server.stores.oxigraph import DatasetDescription, QueryOutcome, ResultKind
from server.web.dumps import dataset_description
from tests.conftest import SEEDS, BuiltPlan, TestClient
from tests.seed import SLUG

pytestmark = pytest.mark.slow

BASE = "http://127.0.0.1:8000/"
ID = Namespace(BASE + "id/")
PK = Namespace(BASE + "def/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
IANA = "https://www.iana.org/assignments/media-types/"
DUMPS = ("plankg.ttl", "plankg.nt", "plankg.nq", "plankg.jsonld")


def fetch(client: TestClient, accept: str = "text/turtle") -> Graph:
    response = client.get("/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept)
    assert response.headers["link"] == f'<{ID}dataset>; rel="describes"'
    fmt = {"text/turtle": "turtle", "application/ld+json": "json-ld"}.get(accept, accept)
    formats = {"application/n-triples": "nt", "application/rdf+xml": "xml"}
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
        return Graph().parse(data=response.content, format=formats.get(fmt, fmt))


@pytest.fixture(scope="module")
def void(plan_client: TestClient) -> Graph:
    return fetch(plan_client)


def test_the_dataset_its_endpoint_triples_and_uri_space(void: Graph, built_plan: BuiltPlan) -> None:
    dataset = ID.dataset
    assert (dataset, RDF.type, VOID.Dataset) in void
    assert (dataset, RDF.type, DCAT.Dataset) in void
    endpoint = URIRef(BASE + "sparql")
    assert void.value(dataset, VOID.sparqlEndpoint) == endpoint
    assert (endpoint, RDF.type, DCAT.DataService) in void
    assert void.value(endpoint, DCAT.endpointURL) == endpoint
    assert void.value(endpoint, DCAT.servesDataset) == dataset
    assert void.value(dataset, DCAT.accessService) == endpoint
    assert void.value(dataset, VOID.uriSpace) == Literal(BASE + "id/")
    # void:triples is the plan's graph: one line per triple in the N-Triples dump.
    nt_lines = (built_plan.dist / "plankg.nt").read_bytes().count(b"\n")
    assert void.value(dataset, VOID.triples) == Literal(nt_lines, datatype=XSD.integer)
    assert nt_lines == built_plan.result.triples
    assert void.value(dataset, URIRef(str(DCAT) + "version")) == Literal(built_plan.result.build_id)


def test_the_source_and_its_hash(void: Graph) -> None:
    seed = next(SEEDS.glob("*.txt"))
    source = ID[f"plan/{SLUG}/source"]
    assert void.value(ID.dataset, DCTERMS.source) == source
    assert void.value(source, PK.sha256) == Literal(hashlib.sha256(seed.read_bytes()).hexdigest())
    assert void.value(source, PK.fileName) == Literal(seed.name)


def test_every_dump_is_a_distribution_with_its_size_and_hash(
    void: Graph, built_plan: BuiltPlan, plan_client: TestClient
) -> None:
    distributions = set(void.objects(ID.dataset, DCAT.distribution))
    names = {n + gz for n in DUMPS for gz in ("", ".gz")}
    assert len(distributions) == len(names)
    by_name = {str(void.value(d, DCAT.downloadURL)).removeprefix(BASE + "dumps/"): d for d in distributions}
    assert set(by_name) == names
    for name, distribution in by_name.items():
        data = (built_plan.dist / name).read_bytes()
        assert (distribution, RDF.type, DCAT.Distribution) in void
        assert void.value(distribution, DCAT.byteSize) == Literal(len(data), datatype=XSD.nonNegativeInteger)
        checksum = void.value(distribution, SPDX.checksum)
        assert void.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        digest = str(void.value(checksum, SPDX.checksumValue))
        assert digest == hashlib.sha256(data).hexdigest()
        # The download URL serves exactly those bytes.
        served = plan_client.get(f"/dumps/{name}", headers={"Accept-Encoding": "identity"})
        assert hashlib.sha256(served.content).hexdigest() == digest
        plain = name.removesuffix(".gz")
        media = {"ttl": "text/turtle", "nt": "application/n-triples", "nq": "application/n-quads"}
        expected = media.get(plain.rsplit(".", 1)[1], "application/ld+json")
        assert void.value(distribution, DCAT.mediaType) == URIRef(IANA + expected)
        zipped = void.value(distribution, DCAT.compressFormat)
        assert zipped == (URIRef(IANA + "application/gzip") if name.endswith(".gz") else None)
    data_dumps = {str(u).removeprefix(BASE + "dumps/") for u in void.objects(ID.dataset, VOID.dataDump)}
    assert data_dumps == set(DUMPS)


@pytest.mark.parametrize("accept", ["application/ld+json", "application/n-triples", "application/rdf+xml"])
def test_every_rdf_format_says_the_same(plan_client: TestClient, void: Graph, accept: str) -> None:
    assert isomorphic(fetch(plan_client, accept), void)


def test_unacceptable_format_is_406(plan_client: TestClient) -> None:
    response = plan_client.get("/.well-known/void", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert "image/png" in body["detail"]
    assert {"text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"} <= set(
        body["available"]
    )


def test_dataset_description_is_the_served_graph(
    plan_client: TestClient, built_plan: BuiltPlan, void: Graph
) -> None:
    store = plan_client.app.state.store  # type: ignore[attr-defined]
    assert isomorphic(dataset_description(built_plan.settings, store), void)


class EmptyStore:
    """A store with nothing in it (as when only data files are served); never asked here."""

    build_id = "none"
    triple_count = 0

    def query(self, sparql: str, **options: Any) -> QueryOutcome:
        empty: tuple[Triple, ...] = ()
        return QueryOutcome(ResultKind.GRAPH, 0, value=empty)

    def describe_dataset(self) -> DatasetDescription:
        return DatasetDescription("none", 0, 0, (), ())

    def close(self) -> None:
        pass


def test_without_a_built_description_the_route_is_404(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path, dist_dir=tmp_path)
    store = EmptyStore()
    assert len(dataset_description(settings, store)) == 0
    with TestClient(create_app(settings, store=store)) as client:
        response = client.get("/.well-known/void")
    assert response.status_code == 404


def test_the_description_is_serialised_off_the_event_loop(
    plan_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_loop: list[bool] = []
    real_serialize = Graph.serialize

    def recording_serialize(self: Graph, *args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return real_serialize(self, *args, **kwargs)

    monkeypatch.setattr(Graph, "serialize", recording_serialize)
    for accept in ("text/turtle", "application/ld+json"):
        assert plan_client.get("/.well-known/void", headers={"Accept": accept}).status_code == 200
    assert on_loop == [False, False]
