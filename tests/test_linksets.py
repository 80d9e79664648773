"""mapping.linksets and mapping.linksets_rdf: researchers' links, checked, merged with provenance,
published as void:Linksets."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF

from mapping.build import build, staleness
from mapping.linksets import (
    EntityIndex,
    LinksetError,
    Relation,
    TargetKind,
    credit_code_check_character,
    parse_target,
    read_linkset,
    read_linksets,
    resolve,
)
from mapping.linksets_rdf import description_graph, entity_index, links_graph
from mapping.vocab import ORG, PROV, VOID, WD, Vocab
from tests.conftest import REPO, SEEDS, BuiltPlan

VOCAB = Vocab()
SIDECAR = 'title = "T"\ncreator = "A researcher"\ncreated = 2026-11-30\nobjects_target = "http://www.wikidata.org/"\n'
HEADER = "entity,target,relation,justification\n"
# Credit codes whose 18th character GB 32100-2015's check gives (computed by hand from its table of
# weights 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28 modulo 31).
VALID_CODES = ("91350100M000100Y43", "91110000802100433B", "914403001922038216")


def write(directory: Path, name: str, rows: str, sidecar: str | None = SIDECAR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    if sidecar is not None:
        path.with_suffix(".toml").write_text(sidecar, encoding="utf-8")
    return path


def small_graph() -> Graph:
    g = Graph()
    jinan, shandong = VOCAB.thing("place", "370100"), VOCAB.thing("place", "370000")
    byd, hospital = VOCAB.thing("org", "byd"), VOCAB.thing("org", "qilu-hospital")
    for node in (jinan, shandong):
        g.add((node, RDF.type, VOCAB.pk.Place))
    for node in (byd, hospital):
        g.add((node, RDF.type, VOCAB.pk.Institution))
    g.add((jinan, SKOS.prefLabel, Literal("济南市", lang="zh")))
    g.add((jinan, SKOS.prefLabel, Literal("Jinan", lang="en")))
    g.add((shandong, SKOS.prefLabel, Literal("山东省", lang="zh")))
    g.add((byd, SKOS.prefLabel, Literal("比亚迪股份有限公司", lang="zh")))
    g.add((byd, SKOS.altLabel, Literal("比亚迪", lang="zh")))
    g.add((hospital, SKOS.prefLabel, Literal("齐鲁医院", lang="zh")))
    g.add((hospital, SKOS.altLabel, Literal("比亚迪", lang="zh")))  # an ambiguous name on purpose
    g.add((VOCAB.thing("task", "1"), RDFS.label, Literal("济南市", lang="zh")))  # not an entity class
    return g


def resolved(directory: Path) -> list[object]:
    return list(resolve(read_linksets(directory), entity_index(small_graph(), VOCAB)))


# --- identifiers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_CODES)
def test_credit_code_check_character(code: str) -> None:
    assert credit_code_check_character(code) == code[17]
    assert parse_target(code).kind is TargetKind.CREDIT_CODE


def test_credit_code_check_character_worked_by_hand() -> None:
    """GB 32100-2015 by hand: the 17 characters' values (0-9, then A=10 … Y=30 skipping I, O, S, V, Z)
    times the standard's weights 3^(i-1) mod 31; the check character is 31 - (sum mod 31), 31 read as 0.
    91350100M000100Y4: 9·1 + 1·3 + 3·9 + 5·27 + 0·19 + 1·26 + 0·16 + 0·17 + M(21)·20 + 0·29 + 0·25
    + 0·13 + 1·8 + 0·24 + 0·10 + Y(30)·30 + 4·28 = 1640; 1640 mod 31 = 28; 31 - 28 = 3: '3'.
    With a 3 in place of the 17th character the sum is 1612 = 52·31: remainder 0, check character '0'."""
    assert credit_code_check_character("91350100M000100Y4") == "3"
    assert credit_code_check_character("91350100M000100Y3") == "0"
    assert parse_target("91350100M000100Y30").kind is TargetKind.CREDIT_CODE
    with pytest.raises(ValueError, match="GB 32100-2015 gives '0', not 'Y'"):
        parse_target("91350100M000100Y3Y")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("91350100M000100Y44", "fails its check character: GB 32100-2015 gives '3', not '4'"),
        ("91350100M000100YI3", "is not a unified social credit code: 18 characters of"),
        ("Q0123", "is not a Wikidata item ID"),
        ("Qx", "is not a Wikidata item ID"),
        ("http://www.wikidata.org/entity/P31", "is not a Wikidata item"),
        ("ftp://example.org/x", "neither a Wikidata item ID, a unified social credit code nor an absolute"),
        ("http://example.org/a b", "neither a Wikidata item ID"),
        ("example.org/x", "neither a Wikidata item ID"),
    ],
)
def test_malformed_identifiers_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_target(text)


def test_targets_are_normalised() -> None:
    assert parse_target("Q170247").value == "http://www.wikidata.org/entity/Q170247"
    assert parse_target("https://www.wikidata.org/wiki/Q170247").value == str(WD.Q170247)
    iri = parse_target("https://data.example.org/org/42")
    assert (iri.kind, iri.value, iri.namespace) == (
        TargetKind.IRI,
        "https://data.example.org/org/42",
        "data.example.org",
    )


# --- reading and checking files ----------------------------------------------------------------------


def test_a_linkset_is_read_with_its_sidecar(tmp_path: Path) -> None:
    path = write(tmp_path, "mine", 'id/place/370100,Q170247,skos:exactMatch,"checked on the item page"\n')
    linkset = read_linkset(path)
    assert (linkset.name, linkset.title, linkset.creator) == ("mine", "T", "A researcher")
    assert linkset.created == datetime.date(2026, 11, 30)
    assert len(linkset.sha256) == 64
    (row,) = linkset.rows
    assert (row.entity, row.relation, row.justification) == (
        "id/place/370100",
        Relation.EXACT_MATCH,
        "checked on the item page",
    )
    assert (row.location.line, row.location.column) == (2, 1)


@pytest.mark.parametrize(
    ("rows", "where", "message"),
    [
        ("济南市,Q170247,skos:sameAs,x\n", "2:13", "unknown relation 'skos:sameAs'"),
        ("济南市,Q01,skos:exactMatch,x\n", "2:5", "'Q01' is not a Wikidata item ID"),
        ("比亚迪股份有限公司,91350100M000100Y44,org:identifier,x\n", "2:11", "fails its check character"),
        (
            "比亚迪股份有限公司,91350100M000100Y43,skos:exactMatch,x\n",
            "2:30",
            "its relation is org:identifier",
        ),
        ("济南市,Q170247,org:identifier,x\n", "2:13", "org:identifier takes a unified social credit code"),
        ("济南市,Q170247,skos:exactMatch,\n", "2:29", "no justification"),
        (",Q170247,skos:exactMatch,x\n", "2:1", "no entity"),
        ("济南市,Q170247,skos:exactMatch\n", "2:1", "3 cells, the header names 4"),
        ('济南市,Q170247,skos:exactMatch,x\n\n"a,Q1,skos:exactMatch,x\n', "4:1", "malformed CSV"),
    ],
)
def test_malformed_rows_are_refused_with_file_line_and_column(
    tmp_path: Path, rows: str, where: str, message: str
) -> None:
    path = write(tmp_path, "bad", rows)
    with pytest.raises(LinksetError, match=message) as err:
        read_linkset(path)
    assert str(err.value).startswith(f"{path}:{where}: ")


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        (None, "no sidecar: every linkset needs bad.toml with title, creator, created, objects_target"),
        (SIDECAR.replace('creator = "A researcher"\n', ""), "missing field 'creator'"),
        (SIDECAR + 'licence = "x"\n', r"unknown field\(s\) licence"),
        (SIDECAR.replace("2026-11-30", '"yesterday"'), "created must be a TOML date"),
        (SIDECAR.replace('"T"', '""'), "title must be a non-empty string"),
        (SIDECAR.replace("http://www.wikidata.org/", "wikidata"), "objects_target: 'wikidata' is neither"),
        ("title = ", "malformed TOML"),
    ],
)
def test_sidecar_problems_are_refused(tmp_path: Path, sidecar: str | None, message: str) -> None:
    path = write(tmp_path, "bad", "济南市,Q170247,skos:exactMatch,x\n", sidecar)
    with pytest.raises(LinksetError, match=message) as err:
        read_linkset(path)
    assert str(err.value).startswith(f"{tmp_path / 'bad.toml'}:")


def test_file_level_problems(tmp_path: Path) -> None:
    with pytest.raises(LinksetError, match="the header row must be entity,target,relation,justification"):
        path = tmp_path / "h.csv"
        path.write_text("name,qid\n", encoding="utf-8")
        path.with_suffix(".toml").write_text(SIDECAR, encoding="utf-8")
        read_linkset(path)
    with pytest.raises(LinksetError, match="no links: a linkset needs at least one row"):
        read_linkset(write(tmp_path, "empty", ""))
    with pytest.raises(LinksetError, match="lower-case ASCII letters, digits and hyphens"):
        read_linkset(write(tmp_path, "My_Links", "济南市,Q170247,skos:exactMatch,x\n"))
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "orphan.toml").write_text(SIDECAR, encoding="utf-8")
    with pytest.raises(LinksetError, match=r"sidecar without its CSV: orphan\.toml"):
        read_linksets(lone)
    assert read_linksets(tmp_path / "absent") == []


# --- resolution against the graph --------------------------------------------------------------------


def test_entities_by_iri_relative_iri_or_exact_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a",
        f"{VOCAB.base}id/place/370000,Q43407,skos:exactMatch,x\n"
        "id/place/370100,Q170247,skos:exactMatch,x\n"
        "比亚迪股份有限公司,91350100M000100Y43,org:identifier,x\n"
        "Jinan,https://example.org/city/jinan,skos:closeMatch,x\n",
    )
    links = resolve(read_linksets(tmp_path), entity_index(small_graph(), VOCAB))
    assert [link.subject for link in links] == [
        str(VOCAB.thing("place", "370000")),
        str(VOCAB.thing("place", "370100")),
        str(VOCAB.thing("org", "byd")),
        str(VOCAB.thing("place", "370100")),
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("青岛市,Q1,skos:exactMatch,x\n", "unknown entity '青岛市': no entity has this exact name"),
        ("id/place/379999,Q1,skos:exactMatch,x\n", "unknown entity http://127.0.0.1:8000/id/place/379999"),
        ("id/task/1,Q1,skos:exactMatch,x\n", "unknown entity http://127.0.0.1:8000/id/task/1"),
        ("http://elsewhere.org/id/x,Q1,skos:exactMatch,x\n", "is not one of our IRIs"),
        (
            "比亚迪,Q1,skos:exactMatch,x\n",
            "ambiguous entity '比亚迪': .*byd, .*qilu-hospital carry this name",
        ),
        (
            "济南市,Q170247,skos:exactMatch,x\n济南市,Q170247,skos:exactMatch,y\n",
            "duplicate link: .* is already stated at .*a.csv:2:1",
        ),
        (
            "济南市,Q170247,skos:exactMatch,x\n济南市,Q43407,owl:sameAs,y\n",
            "conflict: .*370100 is already identified with .*Q170247 .*, not also .*Q43407",
        ),
        (
            "济南市,Q170247,skos:exactMatch,x\n山东省,Q170247,skos:exactMatch,y\n",
            "conflict: .*Q170247 already identifies .*370100 .*, not also .*370000",
        ),
        (
            "比亚迪股份有限公司,91350100M000100Y43,org:identifier,x\n"
            "比亚迪股份有限公司,91110000802100433B,org:identifier,y\n",
            "conflict: .*byd is already identified with 91350100M000100Y43",
        ),
    ],
)
def test_unknown_ambiguous_duplicate_and_conflicting_links_are_refused(
    tmp_path: Path, rows: str, message: str
) -> None:
    write(tmp_path, "a", rows)
    with pytest.raises(LinksetError, match=message) as err:
        resolved(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'a.csv'}:")


def test_a_close_match_may_point_at_two_targets_and_conflicts_span_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a",
        "济南市,https://example.org/a,skos:closeMatch,x\n济南市,https://example.org/b,skos:closeMatch,y\n",
    )
    assert len(resolved(tmp_path)) == 2
    write(tmp_path, "b", "济南市,Q1,skos:exactMatch,x\n")
    write(tmp_path, "c", "济南市,Q2,skos:exactMatch,x\n")
    with pytest.raises(
        LinksetError, match=r"c\.csv:2:1: conflict: .* already identified with .*Q1 \(at .*b\.csv:2:1\)"
    ):
        resolved(tmp_path)


def test_every_problem_is_named_at_once_with_its_file_and_line(tmp_path: Path) -> None:
    """A researcher fixes a file in one round: every malformed row of every file, then every row that
    does not fit the graph, each on its own line of the one error."""
    write(
        tmp_path,
        "a",
        "济南市,Q01,skos:exactMatch,x\n"
        "比亚迪股份有限公司,91350100M000100Y44,org:identifier,x\n"
        "山东省,Q43407,skos:exactMatch,x\n"
        "济南市,Q170247,skos:sameAs,x\n",
    )
    write(tmp_path, "b", "济南市,Q170247,skos:exactMatch,\n")
    with pytest.raises(LinksetError) as err:
        read_linksets(tmp_path)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    lines = str(err.value).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{a}:2:5", f"{a}:3:11", f"{a}:5:13", f"{b}:2:29"]
    assert "'Q01' is not a Wikidata item ID" in lines[0] and "fails its check character" in lines[1]
    assert "unknown relation 'skos:sameAs'" in lines[2] and "no justification" in lines[3]
    assert (err.value.location.line, len(err.value.problems)) == (2, 4)
    write(
        tmp_path,
        "a",
        "青岛市,Q1,skos:exactMatch,x\n"
        "济南市,Q170247,skos:exactMatch,x\n"
        "济南市,Q170247,skos:exactMatch,y\n"
        "山东省,Q170247,skos:exactMatch,z\n",
    )
    write(tmp_path, "b", "id/place/379999,Q2,skos:exactMatch,x\n")
    with pytest.raises(LinksetError) as err:
        resolved(tmp_path)
    lines = str(err.value).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{a}:2:1", f"{a}:4:1", f"{a}:5:1", f"{b}:2:1"]
    assert "unknown entity '青岛市'" in lines[0] and "duplicate link" in lines[1]
    assert "Q170247 already identifies" in lines[2] and "379999" in lines[3]


def test_the_index_names_only_entities() -> None:
    index = entity_index(small_graph(), VOCAB)
    assert isinstance(index, EntityIndex)
    assert str(VOCAB.thing("task", "1")) not in index.iris
    assert index.names["济南市"] == frozenset({str(VOCAB.thing("place", "370100"))})


# --- RDF --------------------------------------------------------------------------------------------


def test_links_with_their_statements_and_the_linkset_description(tmp_path: Path) -> None:
    write(
        tmp_path,
        "mine",
        "济南市,Q170247,skos:exactMatch,seen on the item page\n"
        "比亚迪股份有限公司,91350100M000100Y43,org:identifier,national registry\n",
    )
    linksets = read_linksets(tmp_path)
    links = resolve(linksets, entity_index(small_graph(), VOCAB))
    data = links_graph(links, linksets, VOCAB)
    jinan, byd = VOCAB.thing("place", "370100"), VOCAB.thing("org", "byd")
    code = Literal("91350100M000100Y43", datatype=VOCAB.pk.UnifiedSocialCreditCode)
    assert (jinan, SKOS.exactMatch, WD.Q170247) in data
    assert (byd, ORG.identifier, code) in data
    statement = VOCAB.thing("linkset", "mine", "2")
    linkset = VOCAB.thing("linkset", "mine")
    assert set(data.predicate_objects(statement)) == {
        (RDF.type, RDF.Statement),
        (RDF.subject, jinan),
        (RDF.predicate, SKOS.exactMatch),
        (RDF.object, WD.Q170247),
        (RDFS.comment, Literal("seen on the item page")),
        (VOCAB.pk.sourceLine, Literal(2, datatype=XSD.positiveInteger)),
        (PROV.wasDerivedFrom, linkset),
    }
    assert len(data) == 2 + 2 * 7
    described = description_graph(links, linksets, VOCAB)
    assert (VOCAB.thing("dataset"), VOID.subset, linkset) in described
    assert (linkset, RDF.type, VOID.Linkset) in described
    assert described.value(linkset, VOID.triples) == Literal(2, datatype=XSD.integer)
    assert set(described.objects(linkset, VOID.linkPredicate)) == {SKOS.exactMatch, ORG.identifier}
    assert described.value(linkset, VOID.objectsTarget) == URIRef("http://www.wikidata.org/")
    assert described.value(linkset, DCTERMS.created) == Literal("2026-11-30", datatype=XSD.date)
    creator = described.value(linkset, DCTERMS.creator)
    assert described.value(creator, FOAF.name) == Literal("A researcher")
    assert (creator, RDF.type, FOAF.Agent) in described
    assert OWL.sameAs not in set(described.objects(linkset, VOID.linkPredicate))


# --- the build ----------------------------------------------------------------------------------------


def assert_the_verified_links_are_merged(dist: Path) -> None:
    """The three links of linksets/wikidata-verified.csv in the build in ``dist``, with their linkset."""
    graph = Graph().parse(dist / "plankg.nt")
    assert set(graph.subject_objects(SKOS.exactMatch)) == {
        (VOCAB.thing("place", "370000"), WD.Q43407),
        (VOCAB.thing("place", "370100"), WD.Q170247),
        (VOCAB.thing("place", "371300"), WD.Q373346),
    }
    statement = VOCAB.thing("linkset", "wikidata-verified", "3")
    assert graph.value(statement, RDF.subject) == VOCAB.thing("place", "370100")
    assert "modelling guide" in str(graph.value(statement, RDFS.comment))
    void = Graph().parse(dist / "void.ttl")
    linkset = VOCAB.thing("linkset", "wikidata-verified")
    assert void.value(linkset, VOID.triples) == Literal(3, datatype=XSD.integer)
    assert (VOCAB.thing("dataset"), VOID.subset, linkset) in void


def test_the_verified_wikidata_links_come_from_the_first_linkset(built_plan: BuiltPlan) -> None:
    """The three identifiers verified when the graph was first built, now linksets/wikidata-verified.csv."""
    assert_the_verified_links_are_merged(built_plan.dist)


def test_a_bad_linkset_fails_the_build_and_keeps_the_previous_output(tmp_path: Path) -> None:
    linksets = tmp_path / "linksets"
    write(linksets, "mine", "济南市,Q170247,skos:exactMatch,x\n")
    dist, store = tmp_path / "dist", tmp_path / "store"
    build(SEEDS, dist, store, linksets_dir=linksets)
    before = (dist / "SHA256SUMS").read_bytes()
    assert staleness(SEEDS, dist, store, VOCAB, linksets_dir=linksets) is None
    write(linksets, "mine", "济南市,Q170247,skos:exactMatch,x\n重庆市,Q11725,skos:exactMatch,y\n")
    assert staleness(SEEDS, dist, store, VOCAB, linksets_dir=linksets) is not None
    with pytest.raises(LinksetError, match=r"mine\.csv:3:1: unknown entity '重庆市'"):
        build(SEEDS, dist, store, linksets_dir=linksets)
    assert (dist / "SHA256SUMS").read_bytes() == before


def test_the_repository_linksets_are_valid() -> None:
    (linkset,) = read_linksets(REPO / "linksets")
    assert linkset.name == "wikidata-verified"
    assert [row.target.value for row in linkset.rows] == [str(WD.Q43407), str(WD.Q170247), str(WD.Q373346)]
