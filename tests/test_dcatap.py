"""mapping.dcatap and mapping.publication: the dataset description conforms to DCAT-AP 3.0.1 (the official
SHACL shapes in tests/data/dcat-ap-3.0.1), and fills the recommended properties wherever a source —
the files, the graph or the deployment's settings — states them."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SH, XSD

from mapping.build import build, staleness
from mapping.publication import Publication, PublicationError
from mapping.vocab import Vocab
from server import cli
from tests.conftest import REPO, SEEDS, BuiltPlan

SHAPES = Path(__file__).parent / "data" / "dcat-ap-3.0.1"
VOCAB = Vocab()
CONFIGURED = Publication(
    publisher_name="Example Open Data Lab",
    publisher_url="https://data.example.org/",
    contact_email="plans@data.example.org",
    license="https://creativecommons.org/licenses/by/4.0/",
    themes=("GOVE", "ENVI"),
)


def results(description: Graph, *files: str) -> set[tuple[str, str, str]]:
    """(focus node, path, severity) of every result of the named shape files on ``description``."""
    shapes = Graph()
    for name in files:
        shapes.parse(SHAPES / name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        _, report, _ = validate(description, shacl_graph=shapes, advanced=True)
    found = set()
    for result in report.subjects(SH.resultSeverity, None):
        focus = str(report.value(result, SH.focusNode)).removeprefix(VOCAB.base)
        path = str(report.value(result, SH.resultPath))
        found.add(
            (focus, path.rsplit("/", 1)[-1].rsplit("#", 1)[-1], str(report.value(result, SH.resultSeverity)))
        )
    return found


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Graph:
    root = tmp_path_factory.mktemp("dcatap")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "NotImplemented should not be used", DeprecationWarning)
        build(SEEDS, root / "dist", root / "store", linksets_dir=REPO / "linksets", publication=CONFIGURED)
    return Graph().parse(root / "dist" / "void.ttl")


def test_the_default_description_has_no_violation_of_the_mandatory_and_range_shapes(
    built_plan: BuiltPlan,
) -> None:
    description = Graph().parse(built_plan.dist / "void.ttl")
    assert results(description, "shapes.ttl", "range.ttl") == set()


def test_a_configured_deployment_conforms_and_leaves_only_what_no_source_states(configured: Graph) -> None:
    assert results(configured, "shapes.ttl", "range.ttl") == set()
    open_recommendations = {
        (path, severity.rsplit("#", 1)[-1])
        for _, path, severity in results(configured, "shapes_recommended.ttl")
    }
    # Left open on purpose: the planned availability of a file (a promise only the deployment could
    # make), the coordinates of places (not in the plans), the ADMS type of the agents, and the
    # catalogue's dates of issue and modification (a build reads no clock: the same inputs give the
    # same bytes).
    assert open_recommendations == {
        ("availability", "Warning"),
        ("bbox", "Warning"),
        ("centroid", "Warning"),
        ("type", "Warning"),
        ("issued", "Warning"),
        ("modified", "Warning"),
    }


def test_unconfigured_recommendations_are_open_not_invented(built_plan: BuiltPlan) -> None:
    description = Graph().parse(built_plan.dist / "void.ttl")
    paths = {path for _, path, _ in results(description, "shapes_recommended.ttl")}
    assert {"contactPoint", "license"} <= paths
    publisher = VOCAB.thing("dataset", "publisher")
    assert description.value(publisher, FOAF.name) == Literal(
        "publisher not configured (PLANKG_PUBLISHER_NAME)", lang="en"
    )
    assert not list(description.objects(None, DCTERMS.license))
    assert not list(description.objects(None, DCAT.contactPoint))


def test_the_recommended_properties_say_what_the_sources_say(configured: Graph) -> None:
    dataset = VOCAB.thing("dataset")
    period = configured.value(dataset, DCTERMS.temporal)
    assert configured.value(period, DCAT.startDate) == Literal("2023-01-01", datatype=XSD.date)
    assert configured.value(period, DCAT.endDate) == Literal("2025-12-31", datatype=XSD.date)
    # The divisions the plan's title and preamble name.
    assert set(configured.objects(dataset, DCTERMS.spatial)) == {
        VOCAB.thing("place", "370000"),
        VOCAB.thing("place", "370100"),
    }
    theme = "http://publications.europa.eu/resource/authority/data-theme/"
    assert set(configured.objects(dataset, DCAT.theme)) == {URIRef(theme + "GOVE"), URIRef(theme + "ENVI")}
    publisher = configured.value(dataset, DCTERMS.publisher)
    assert configured.value(publisher, FOAF.name) == Literal("Example Open Data Lab")
    contact = configured.value(dataset, DCAT.contactPoint)
    assert configured.value(contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")) == URIRef(
        "mailto:plans@data.example.org"
    )
    ttl = VOCAB.thing("dataset", "dump", "plankg.ttl")
    file_type = "http://publications.europa.eu/resource/authority/file-type/"
    assert configured.value(ttl, DCTERMS.format) == URIRef(file_type + "RDF_TURTLE")
    assert configured.value(ttl, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert configured.value(VOCAB.thing("dataset", "dump", "plankg-targets.csv"), DCTERMS.format) == URIRef(
        file_type + "CSV"
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PLANKG_LICENSE": "CC-BY"}, "PLANKG_LICENSE must be an absolute http(s) IRI, not 'CC-BY'"),
        ({"PLANKG_PUBLISHER_URL": "ftp://x.org/"}, "PLANKG_PUBLISHER_URL must be an absolute http(s) IRI"),
        ({"PLANKG_CONTACT_EMAIL": "nobody"}, "PLANKG_CONTACT_EMAIL is not an e-mail address: 'nobody'"),
        ({"PLANKG_THEMES": "GOVE CLIMATE"}, "PLANKG_THEMES: CLIMATE not an EU data theme"),
    ],
)
def test_bad_publication_settings_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(PublicationError, match=re.escape(message)):
        Publication.from_env(environ)


def test_publication_settings_from_the_environment_and_in_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Publication.from_env({}) == Publication()
    assert Publication.from_env(
        {"PLANKG_THEMES": "ECON  TECH", "PLANKG_PUBLISHER_NAME": " X "}
    ) == Publication(publisher_name="X", themes=("ECON", "TECH"))
    args = ["build", "--seeds", str(SEEDS), "--dist", str(tmp_path / "d"), "--store", str(tmp_path / "s")]
    assert cli.main(args, environ={"PLANKG_LICENSE": "CC-BY"}) == 2
    assert "PLANKG_LICENSE must be an absolute http(s) IRI" in capsys.readouterr().err


def test_publication_settings_are_inputs_of_the_build(built_plan: BuiltPlan) -> None:
    store, dist = built_plan.settings.store_dir, built_plan.settings.dist_dir
    assert staleness(SEEDS, dist, store, VOCAB, linksets_dir=REPO / "linksets") is None
    reason = staleness(SEEDS, dist, store, VOCAB, linksets_dir=REPO / "linksets", publication=CONFIGURED)
    assert reason is not None and "publication settings" in reason
