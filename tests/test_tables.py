"""mapping.tables: the CSV tables and their CSVW metadata, validated by the csvw package, and CSVW's
CSV→RDF conversion of them giving back the graph's own triples."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import csvw
import pyoxigraph as ox
import pytest
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.term import Node
from rfc3986 import URIReference

from mapping import tables
from mapping.vocab import Vocab
from tests.conftest import BuiltPlan, TestClient
from tests.seed import SLUG

VOCAB = Vocab()
PLAN = VOCAB.for_plan(SLUG)  # the seed plan's parts
CSVW_XSD = {"integer": XSD.integer, "decimal": XSD.decimal, "gYear": XSD.gYear, "date": XSD.date}


def read_table(dist: Path, name: str) -> list[dict[str, str]]:
    with (dist / f"plankg-{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def csvw_to_rdf(metadata: Path) -> Graph:
    """CSV→RDF as CSVW specifies it (W3C csv2rdf, minimal mode), on the csvw package's reading of the
    tables: its typed cell values and its expansion of aboutUrl, propertyUrl and valueUrl templates."""
    g = Graph()
    group = csvw.TableGroup.from_file(metadata)
    for table in group.tables:
        schema = table.tableSchema
        for number, typed in enumerate(table.iterdicts(strict=True), start=1):
            # anyURI cells come back as URI objects; templates expand their text (CSVW §4.6.1).
            row = {k: _text(v) for k, v in typed.items()}
            subject = URIRef(table.expand(schema.aboutUrl, row, _row=number))
            for col in schema.columns:
                if col.suppressOutput:
                    continue
                predicate = URIRef(table.expand(col.propertyUrl, row, _row=number, _name=col.header))
                if col.virtual:
                    g.add((subject, predicate, URIRef(table.expand(col.valueUrl, row, _row=number))))
                    continue
                value = row[col.header]
                values = value if isinstance(value, list) else [value]
                for v in values:
                    if v is None or v == "":
                        continue
                    if col.valueUrl is not None:
                        one = {**row, col.header: v}
                        g.add((subject, predicate, URIRef(table.expand(col.valueUrl, one, _row=number))))
                        continue
                    base = col.datatype.base if col.datatype is not None else "string"
                    if base in CSVW_XSD:
                        lexical = v.isoformat() if base == "date" else str(v)
                        g.add((subject, predicate, Literal(lexical, datatype=CSVW_XSD[base])))
                    elif col.lang and col.lang != "und":  # "und": no language (CSVW §5.7)
                        g.add((subject, predicate, Literal(str(v), lang=col.lang)))
                    else:
                        g.add((subject, predicate, Literal(str(v))))
    return g


def assert_csvw_valid(metadata: Path) -> None:
    """The csvw package's own validation (what its ``csvwvalidate --lax`` runs): every cell of its
    datatype, primary keys unique, foreign keys resolved. Lax: a foreign-key cell may be empty (a
    top-level organisation has no parent), which the package's strict mode refuses."""
    validator = csvw.CSVW(str(metadata), validate=True, strict=False)
    assert validator.is_valid, [str(w.message) for w in validator.warnings]


def _text(value: object) -> object:
    if isinstance(value, URIReference):
        return value.unsplit()
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def comparable(node: Node) -> Node:
    """Literals by value where the graph's lexical form may differ from the table's (1292.20, 1292.2)."""
    if isinstance(node, Literal) and node.datatype == XSD.decimal:
        return Literal(Decimal(str(node)).normalize())
    if isinstance(node, Literal) and node.datatype == XSD.gYear:
        return Literal(str(node)[:4], datatype=XSD.gYear)
    return node


@pytest.fixture(scope="module")
def dist(built_plan: BuiltPlan) -> Path:
    return built_plan.dist


@pytest.fixture(scope="module")
def data(dist: Path) -> Graph:
    return Graph().parse(dist / "plankg.nt")


def test_the_csvw_package_validates_metadata_tables_and_keys(dist: Path) -> None:
    group = csvw.TableGroup.from_file(dist / tables.METADATA_FILE)
    assert [t.url.string for t in group.tables] == [t.file_name for t in tables.TABLES]
    counts = {t.url.string: sum(1 for _ in t.iterdicts(strict=True)) for t in group.tables}
    assert counts == {
        "plankg-plans.csv": 1,
        "plankg-divisions.csv": 59,  # 10 pillars, 49 tasks
        "plankg-statistics.csv": 40,  # 10 pillars × 4 stages
        "plankg-indicators.csv": 31,
        "plankg-targets.csv": 31,
        "plankg-organisations.csv": 29,
        "plankg-places.csv": 20,
        "plankg-projects.csv": 45,
        "plankg-citations.csv": 2,  # the preamble implements two documents
        "plankg-mentions.csv": 106,
    }
    # Foreign keys: every non-empty parent, broader, task, pillar and indicator cell names a row.
    assert group.check_referential_integrity()
    assert_csvw_valid(dist / tables.METADATA_FILE)


def test_csvw_round_trip_gives_the_graphs_own_triples(dist: Path, data: Graph) -> None:
    converted = csvw_to_rdf(dist / tables.METADATA_FILE)
    graph = {(s, p, comparable(o)) for s, p, o in data}
    produced = {(s, p, comparable(o)) for s, p, o in converted}
    assert produced - graph == set()
    # Every fact a table declares as output comes back: e.g. all 31 targets' values and the
    # statistics' counts, and each row's class.
    assert len(produced) > 2000
    target = PLAN.target(19, 1)
    assert (target, VOCAB.pk.value, comparable(Literal("14", datatype=XSD.decimal))) in produced
    assert (target, VOCAB.pk.baselineYear, Literal("2020", datatype=XSD.gYear)) in produced
    assert (target, RDF.type, VOCAB.pk.Target) in produced
    for subject, predicate in [
        (PLAN.observation(3, "total"), VOCAB.pk.projectCount),
        (PLAN.task(18), VOCAB.pk.text),
        (VOCAB.thing("org", "qilu-hospital-of-shandong-university"), VOCAB.pk.Institution),
    ]:
        assert any(s == subject and predicate in (p, o) for s, p, o in produced), (subject, predicate)


def facts_left_out(metadata: Path, data: Graph) -> list[tuple[Node, Node, Node]]:
    """The graph's triples that a table states as output (its column's property, about one of its
    rows) but that CSVW's conversion of the tables does not give back."""
    converted = {(s, p, comparable(o)) for s, p, o in csvw_to_rdf(metadata)}
    prefixes = {**VOCAB.prefixes(), "pk": str(VOCAB.pk)}
    missing: list[tuple[Node, Node, Node]] = []
    for t in tables.TABLES:
        cls = URIRef(prefixes[t.cls.split(":")[0]] + t.cls.split(":")[1])
        for row in data.subjects(RDF.type, cls):
            for c in t.columns:
                if not c.direct or c.path == "a":
                    continue
                prop = URIRef(prefixes[c.path.split(":")[0]] + c.path.split(":")[1])
                for o in data.objects(row, prop):
                    if c.lang and (not isinstance(o, Literal) or o.language != c.lang):
                        continue
                    if (row, prop, comparable(o)) not in converted:
                        missing.append((row, prop, o))
    return missing


def test_every_output_fact_of_the_graph_is_in_the_tables(dist: Path, data: Graph) -> None:
    """The other direction: for each output column, every triple of that property about the table's
    rows is in the conversion — nothing the graph says of them is dropped by the tables."""
    assert facts_left_out(dist / tables.METADATA_FILE, data) == []


def test_targets_table_golden_row(dist: Path) -> None:
    rows = {r["target"]: r for r in read_table(dist, "targets")}
    row = rows[str(PLAN.target(19, 1))]
    assert row["task"] == str(PLAN.task(19))
    assert row["indicator"] == str(VOCAB.term("indicator/energyIntensityReduction"))
    assert (row["value"], row["unit"], row["comparator"]) == (
        "14",
        "http://qudt.org/vocab/unit/PERCENT",
        str(VOCAB.term("comparator/atLeast")),
    )
    assert (row["target_year"], row["baseline_year"], row["deadline"]) == ("2025", "2020", "")
    assert row["quote"] == "2025\n年全市能耗强度较2020年降低14%以上"  # the exact characters, line break kept
    assert row["value_as_written"] == "14%"


def test_statistics_and_mentions_golden_rows(dist: Path) -> None:
    stats = {r["observation"]: r for r in read_table(dist, "statistics")}
    total = stats[str(PLAN.observation(3, "total"))]
    assert (total["pillar"], total["project_count"], total["investment"], total["investment_yuan"]) == (
        str(PLAN.pillar(3)),
        "267",
        "5420.69",
        "542069000000",
    )
    reserve = next(r for k, r in stats.items() if k.endswith("/3/reserve"))
    assert reserve["start_year"] == "2024;2025"
    mentions = read_table(dist, "mentions")
    byd = [m for m in mentions if m["entity"] == str(VOCAB.thing("org", "byd"))]
    assert next((m["mention_in"], m["start"], m["end"]) for m in byd) == (
        str(PLAN.task(10)),
        "1690",
        "1695",
    )
    source = (Path(__file__).resolve().parents[1] / "seeds").glob("*.txt")
    text = next(source).read_text(encoding="utf-8")
    for m in mentions:
        assert text[int(m["start"]) : int(m["end"])] == m["quote"], m["mention"]


def test_tables_are_utf8_with_one_header_row_and_iris_as_identifiers(dist: Path) -> None:
    for t in tables.TABLES:
        raw = (dist / t.file_name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        body = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
        assert body[0] == [t.key, *(c.name for c in t.columns)]
        keys = [r[0] for r in body[1:]]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        assert all(k.startswith(VOCAB.base) or k.startswith("http") for k in keys)


def test_tables_are_listed_in_the_manifest_and_the_dataset_description(dist: Path) -> None:
    manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["name"]: f for f in manifest["files"]}
    for t in tables.TABLES:
        assert listed[t.file_name]["media_type"] == "text/csv"
    assert listed["csv-metadata.json"]["media_type"] == "application/csvm+json"
    void = Graph().parse(dist / "void.ttl")
    dcat = "http://www.w3.org/ns/dcat#"
    distribution = VOCAB.thing("dataset", "dump", "plankg-targets.csv")
    assert (VOCAB.thing("dataset"), URIRef(dcat + "distribution"), distribution) in void
    assert (
        distribution,
        URIRef(dcat + "mediaType"),
        URIRef("https://www.iana.org/assignments/media-types/text/csv"),
    ) in void
    data_dumps = set(void.objects(VOCAB.thing("dataset"), URIRef("http://rdfs.org/ns/void#dataDump")))
    assert all(str(d).rsplit(".", 1)[-1] in {"ttl", "nt", "nq", "jsonld"} for d in data_dumps)


def test_tables_are_served_with_their_metadata_link(plan_client: TestClient) -> None:
    r = plan_client.get("/dumps/plankg-targets.csv")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["link"] == '<csv-metadata.json>; rel="describedby"; type="application/csvm+json"'
    assert r.text.startswith("target,class,task,indicator,value,unit,comparator,")
    meta = plan_client.get("/dumps/csv-metadata.json")
    assert meta.status_code == 200
    assert meta.headers["content-type"] == "application/csvm+json"
    assert meta.json()["tables"][0]["url"] == "plankg-plans.csv"
    assert "link" not in plan_client.get("/dumps/plankg.ttl").headers


def test_citations_table_golden_rows(dist: Path) -> None:
    rows = read_table(dist, "citations")
    assert [(r["citing_plan"], r["relation"], r["cited_title"]) for r in rows] == [
        (str(PLAN.plan()), "http://data.europa.eu/eli/ontology#implements", title)
        for title in (
            "国务院关于支持山东深化新旧动能转换推动绿色低碳高质量发展的意见",
            "山东省建设绿色低碳高质量发展先行区三年行动计划(2023—2025年)",
        )
    ]
    assert rows[0]["quote"].startswith("《国务院关于支")


def test_the_plan_of_every_division_at_any_depth_in_a_corpus() -> None:
    """The divisions table's ``plan`` column follows ``eli:is_part_of`` up to the node that is a
    ``pk:Plan``, whatever the depth, in a store of two plans (and a part chain that reaches no plan)."""
    eli, pk, base = "http://data.europa.eu/eli/ontology#", str(VOCAB.pk), VOCAB.base
    rdf_type, part_of = ox.NamedNode(str(RDF.type)), ox.NamedNode(eli + "is_part_of")
    division = ox.NamedNode(eli + "LegalResourceSubdivision")
    store = ox.Store()
    chains = {"a": ["a/1", "a/1/1", "a/1/1/1", "a/1/1/1/1"], "b": ["b/1", "b/2", "b/2/1"], "loose": ["x/1"]}
    for root, parts in chains.items():
        plan = ox.NamedNode(f"{base}id/plan/{root}")
        if root != "loose":
            store.add(ox.Quad(plan, rdf_type, ox.NamedNode(pk + "Plan")))
        for part in parts:
            node = ox.NamedNode(f"{base}id/plan/{part}")
            parent = part.rsplit("/", 1)[0]
            store.add(ox.Quad(node, rdf_type, division))
            store.add(ox.Quad(node, part_of, ox.NamedNode(f"{base}id/plan/{parent}")))
    table = next(t for t in tables.TABLES if t.name == "divisions")
    column = 1 + [c.name for c in table.columns].index("plan")
    got = {row[0].removeprefix(f"{base}id/plan/"): row[column] for row in tables.rows(store, table, VOCAB)}
    assert got == {
        "a/1": f"{base}id/plan/a",
        "a/1/1": f"{base}id/plan/a",
        "a/1/1/1": f"{base}id/plan/a",
        "a/1/1/1/1": f"{base}id/plan/a",
        "b/1": f"{base}id/plan/b",
        "b/2": f"{base}id/plan/b",
        "b/2/1": f"{base}id/plan/b",
        "x/1": "",
    }
