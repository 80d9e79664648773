"""Canned queries: header parsing, typed binding, routes, and each query's exact answer on the built plan.

Expected answers are read from the source text (seeds/…txt), not from a run of the queries: the
statistics paragraphs for the investment figures, the task texts for organisations, places, projects
and targets. Only catalogue sizes (how many organisations and projects were curated) come from the
curated data files.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from mapping.entities import load_catalogue
from server.errors import BadRequest
from server.protocol.canned import (
    CannedQuery,
    CannedQueryError,
    Param,
    ParamType,
    iri_pattern,
    load_queries,
    read_query,
)
from server.protocol.results import Iri, Literal
from server.protocol.safety import mentions_service
from tests.conftest import BuiltPlan, TestClient
from tests.seed import SLUG

pytestmark = pytest.mark.slow

BASE = "http://127.0.0.1:8000/"
ID = BASE + "id/"
PLAN = ID + f"plan/{SLUG}/"  # the Jinan plan's parts
PK = BASE + "def/"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
QUDT_UNIT = "http://qudt.org/vocab/unit/"

# Read from the statistics paragraph opening each pillar: (projects, 亿元) for the total, then the
# continuing projects, those to start in 2023, and the reserve for 2024-2025.
STAGES = ("total", "continuing", "new", "reserve")
STATISTICS_ROWS: dict[int, tuple[tuple[int, str], ...]] = {
    1: ((90, "1920.83"), (37, "854.58"), (37, "683.91"), (16, "382.34")),
    2: ((308, "3110.49"), (88, "1611.69"), (154, "754.63"), (66, "744.17")),
    3: ((267, "5420.69"), (103, "2838.88"), (100, "1292.2"), (64, "1289.61")),
    4: ((96, "850.39"), (21, "176.94"), (45, "302.41"), (30, "371.04")),
    5: ((102, "6551.23"), (33, "3102.9"), (23, "1429.6"), (46, "2018.73")),
    6: ((94, "524.95"), (24, "130.79"), (53, "327.76"), (17, "66.4")),
    7: ((48, "990.2"), (15, "552.03"), (24, "348.15"), (9, "90.02")),
    8: ((48, "1509.71"), (13, "499.03"), (15, "259.26"), (20, "751.42")),
    9: ((210, "3097.59"), (105, "1666.84"), (79, "1169.27"), (26, "261.48")),
    10: ((38, "125.74"), (11, "37.34"), (15, "66.56"), (12, "21.84")),
}
STATISTICS = {n: dict(zip(STAGES, row, strict=True)) for n, row in STATISTICS_ROWS.items()}

# Pillar titles (line breaks and stray spaces dropped), declared key tasks ("认真抓好N项重点工作") and
# the tasks the text holds: (一)…(四十九); pillar 十 declares 5 but the text stops inside (四十九).
PILLARS: dict[int, tuple[str, int, int]] = {
    1: ("聚力推动科技自立自强,在高水平创新型城市建设上先行一步", 6, 6),
    2: ("聚力深化新旧动能转换,在构建更具韧性的现代产业体系上先行一步", 5, 5),
    3: ("聚力扩大内需战略基点,在主动服务和融入新发展格局上先行一步", 5, 5),
    4: ("聚力协同推进降碳减污扩绿增长,在促进人与自然和谐共生上先行一步", 5, 5),
    5: ("聚力发挥中心城市作用,在服务和落实区域战略上先行一步", 6, 6),
    6: ("聚力推动农业农村现代化,在深入打造乡村振兴齐鲁样板上先行一步", 4, 4),
    7: ("聚力用好“关键一招”,在加快建设改革开放新高地上先行一步", 4, 4),
    8: ("聚力推动文化自信自强,在打造文明交流互鉴新高地上先行一步", 5, 5),
    9: ("聚力增进民生福祉,在切实提高人民生活品质上先行一步", 5, 5),
    10: ("聚力统筹发展和安全,在坚决守牢“一排底线”上先行一步", 5, 4),
}

# Tasks stating a target with a number: (六) 300万, (九) 10个/25个/30个/200家, (十) 8个, (十六) 1万家/20%,
# (十七) 919处/1996公顷, (十八) 430万千瓦, (十九) 14%/50%, (二十) 15万辆, (二十二) 1000万人/1.5万亿元,
# (二十八) 3—5家, (二十九) 58亿斤/100万吨/670万吨, (三十一) 30%, (三十三) 15家, (三十五) 35亿美元,
# (四十三) 90%, (四十六) 98%, (四十七) 15天. Milestones only: (七) 2025年年底前, (二十一) 2023年年底前,
# (三十四) 到2024年, (四十一) 2023年6月底前.
QUANTIFIED_TASKS = {6, 9, 10, 16, 17, 18, 19, 20, 22, 28, 29, 31, 33, 35, 43, 46, 47}
MILESTONE_ONLY_TASKS = {7: 1, 21: 1, 34: 1, 41: 1}

# --- helpers ---------------------------------------------------------------------------------


def run(client: TestClient, name: str, **params: str) -> list[dict[str, Any]]:
    """The rows of a canned query as SPARQL JSON bindings: {variable: term dict}."""
    response = client.get(
        f"/queries/{name}", params=params, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.text
    data = response.json()
    rows: list[dict[str, Any]] = data["results"]["bindings"]
    assert response.headers["X-Result-Rows"] == str(len(rows))
    return rows


def value(row: dict[str, Any], var: str) -> str | None:
    term = row.get(var)
    return None if term is None else str(term["value"])


def number(row: dict[str, Any], var: str) -> int:
    term = row[var]
    assert term["datatype"] == XSD + "integer", term
    return int(term["value"])


def decimal(row: dict[str, Any], var: str) -> Decimal:
    term = row[var]
    assert term["datatype"] == XSD + "decimal", term
    return Decimal(term["value"])


def problem(client: TestClient, name: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/queries/{name}", params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


# --- reading query files -------------------------------------------------------------------------


ANY = "SELECT ?x WHERE { ?x ?p ?o }\n"
GOOD_HEADER = """#+ title@zh: 标题
#+ title@en: Title
#+ description: What it does.
"""


def write(tmp_path: Path, text: str, name: str = "a-query") -> Path:
    path = tmp_path / f"{name}.rq"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_query_reads_and_there_are_at_least_twelve() -> None:
    queries = load_queries()
    assert len(queries) >= 12
    for q in queries:
        assert q.title_zh and q.title_en and q.description
        for p in q.params:
            assert (p.default is not None or p.optional) and p.example is not None, (q.name, p.name)


def test_header_fields_and_parameters_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD_HEADER
        + "#+ description: Second line.\n"
        + "#+ param: n type=integer default=3 example=4 min=1 max=9 — how many\n"
        + "# a plain comment\n"
        + "SELECT ?n ?x WHERE { ?x ?p ?n }\n",
    )
    q = read_query(path)
    assert (q.name, q.title_zh, q.title_en) == ("a-query", "标题", "Title")
    assert q.description == "What it does. Second line."
    assert q.params == (Param("n", ParamType.INTEGER, "how many", "3", "4", 1, 9),)
    assert q.body.startswith("# a plain comment\nSELECT")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("#+ title@en: T\n#+ description: D\n" + ANY, 1, "title@zh"),
        (GOOD_HEADER + "#+ colour: blue\n" + ANY, 4, "unknown header key"),
        (GOOD_HEADER + "#+ title@en: Again\n" + ANY, 4, "given twice"),
        (GOOD_HEADER + "#+ param: x type=float — d\n" + ANY, 4, "type="),
        (GOOD_HEADER + "#+ param: x type=integer default=abc — d\n" + ANY, 4, "not an integer"),
        (GOOD_HEADER + "#+ param: x type=string default=a\n" + ANY, 4, "description"),
        (GOOD_HEADER + "#+ param: x type=string colour=red — d\n" + ANY, 4, "colour=red"),
        (GOOD_HEADER + "#+ param: x type=string min=1 — d\n" + ANY, 4, "min="),
        (GOOD_HEADER + "#+ param: 9x type=string — d\n" + ANY, 4, "parameter name"),
        (GOOD_HEADER + "#+ param: x type=string — d\n" * 2 + ANY, 5, "declared twice"),
        (GOOD_HEADER + "#+ param: y type=string — d\nSELECT ?x WHERE { ?x ?p ?y }\n", 1, "projects"),
        (GOOD_HEADER + "#+ param: x type=iri default=http://a.example/x — d\n" + ANY, 4, "under the base"),
        (GOOD_HEADER + "SELECT * WHERE { ?x ?p ?o }\n", 1, "SELECT *"),
        (GOOD_HEADER + "ASK { ?x ?p ?o }\n", 1, "SELECT query"),
        (GOOD_HEADER + "SELECT ?x WHERE { ?x ?p }\n", 4, "does not parse"),
        (GOOD_HEADER + "SELECT ?x WHERE { SERVICE <http://a.example/> { ?x ?p ?o } }\n", 1, "SERVICE"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_refused_with_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CannedQueryError) as caught:
        read_query(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message.lower() in str(caught.value).lower()


def test_a_file_name_must_be_a_plain_name(tmp_path: Path) -> None:
    with pytest.raises(CannedQueryError, match="lower-case"):
        read_query(write(tmp_path, GOOD_HEADER + "SELECT ?x WHERE { ?x ?p ?o }\n", name="Bad_Name"))


# --- binding -----------------------------------------------------------------------------------


def query_with(*params: Param) -> Any:
    text = GOOD_HEADER + "".join(
        f"#+ param: {p.name} type={p.type.value}"
        + (f" default={p.default}" if p.default is not None else "")
        + (f" min={p.minimum}" if p.minimum is not None else "")
        + (f" max={p.maximum}" if p.maximum is not None else "")
        + " — d\n"
        for p in params
    )
    variables = " ".join(f"?{p.name}" for p in params)
    return text + f"SELECT ?x {variables} WHERE {{ ?x ?p ?o }}\n"


def test_values_become_typed_terms(tmp_path: Path) -> None:
    q = read_query(
        write(
            tmp_path,
            query_with(
                Param("s", ParamType.STRING, "d", "默认"),
                Param("n", ParamType.INTEGER, "d", "7", minimum=1),
                Param("y", ParamType.YEAR, "d", "2025"),
                Param("i", ParamType.IRI, "d", "id/task/1"),
            ),
        )
    )
    assert q.bind({}, BASE) == {
        "s": Literal("默认"),
        "n": Literal("7", XSD + "integer"),
        "y": Literal("2025", XSD + "gYear"),
        "i": Iri(ID + "task/1"),
    }
    given = {"s": ['a"} UNION {?s ?p ?o'], "n": ["+12"], "y": ["2023"], "i": [ID + "org/x"]}
    assert q.bind(given, BASE) == {
        "s": Literal('a"} UNION {?s ?p ?o'),
        "n": Literal("12", XSD + "integer"),
        "y": Literal("2023", XSD + "gYear"),
        "i": Iri(ID + "org/x"),
    }
    # The base decides what an IRI parameter accepts.
    assert q.bind({"i": ["id/task/2"]}, "https://plans.example.org/kg/")["i"] == Iri(
        "https://plans.example.org/kg/id/task/2"
    )


@pytest.mark.parametrize(
    ("given", "parameter", "message"),
    [
        ({"n": ["1.5"]}, "n", "not an integer"),
        ({"n": ["0"]}, "n", "less than 1"),
        ({"n": ["9999999999999999999999"]}, "n", "not an integer"),
        ({"y": ["25"]}, "y", "four-digit year"),
        ({"y": ["2101"]}, "y", "more than 2100"),
        ({"s": [""]}, "s", "empty"),
        ({"s": ["x" * 201]}, "s", "longer than 200"),
        ({"s": ["a\nb"]}, "s", "control"),
        ({"i": ["http://elsewhere.example/id/task/1"]}, "i", "under the base"),
        ({"i": ["id/task 1"]}, "i", "not an IRI"),
        ({"i": ["<id/task/1>"]}, "i", "not an IRI"),
        ({"s": ["a", "b"]}, "s", "given 2 times"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(
    tmp_path: Path, given: dict[str, list[str]], parameter: str, message: str
) -> None:
    q = read_query(
        write(
            tmp_path,
            query_with(
                Param("s", ParamType.STRING, "d", "x"),
                Param("n", ParamType.INTEGER, "d", "7", minimum=1),
                Param("y", ParamType.YEAR, "d", "2025", maximum=2100),
                Param("i", ParamType.IRI, "d", "id/task/1"),
            ),
        )
    )
    with pytest.raises(BadRequest) as caught:
        q.bind(given, BASE)
    assert caught.value.extra["parameter"] == parameter
    assert f"parameter {parameter!r}" in caught.value.detail
    assert message in caught.value.detail


def test_a_required_parameter_must_be_given_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    q = read_query(write(tmp_path, query_with(Param("s", ParamType.STRING, "d"))))
    with pytest.raises(BadRequest, match="'s' is required"):
        q.bind({}, BASE)
    with pytest.raises(BadRequest, match="unknown parameter 't'"):
        q.bind({"s": ["a"], "t": ["b"]}, BASE)
    assert q.bind({"s": ["a"], "format": ["csv"]}, BASE) == {"s": Literal("a")}


def _subselect_projections(node: object, found: list[frozenset[str]], top: bool = True) -> None:
    """The projected variables of every sub-select under ``node`` (rdflib's algebra: a Project)."""
    if isinstance(node, CompValue):
        if node.name == "Project" and not top:
            found.append(frozenset(str(v) for v in node.PV))
        for value in node.values():
            _subselect_projections(value, found, top and node.name != "Project")
    elif isinstance(node, list):
        for item in node:
            _subselect_projections(item, found, top)


@pytest.mark.parametrize("query", load_queries(), ids=lambda q: q.name)
def test_no_join_on_a_variable_a_parameter_may_leave_unbound(query: CannedQuery) -> None:
    """Sub-selects are never joined on an optional parameter's variable (left unbound when not given).

    SPARQL joins two unbound values, but Virtuoso 7 at times plans that join as an SQL equality, which
    no NULL satisfies, and answers no row at all (plan-totals did, in about half of fresh engines): a
    canned query joins its groups on a key that is always bound instead.
    """
    unbound = {p.name for p in query.params if p.optional and p.default is None}
    projections: list[frozenset[str]] = []
    _subselect_projections(prepareQuery(query.sparql, base=BASE).algebra, projections)
    for name in unbound:
        sharing = sum(1 for projected in projections if name in projected)
        assert sharing <= 1, f"{sharing} sub-selects of {query.name} are joined on ?{name}"


def _variables(node: object) -> set[str]:
    if isinstance(node, Variable):
        return {str(node)}
    if isinstance(node, CompValue):
        return set().union(*(_variables(v) for v in node.values()))
    if isinstance(node, list | tuple):
        return set().union(*(_variables(v) for v in node))
    return set()


def _lookups(node: object, params: set[str], found: list[tuple[str, str, str]], parent: str = "") -> None:
    """(parameters, the pattern it filters, the node holding the FILTER) for every FILTER conjunct
    under ``node`` that compares a parameter for equality (``STR(?label) = ?place``)."""
    if isinstance(node, CompValue):
        if node.name == "Filter":
            conjuncts = [node.expr]
            if node.expr.name == "ConditionalAndExpression":
                conjuncts = [node.expr.expr, *node.expr.other]
            for c in conjuncts:
                named = _variables(c) & params
                if isinstance(c, CompValue) and c.name == "RelationalExpression" and c.op == "=" and named:
                    found.append((",".join(sorted(named)), node.p.name, parent))
        for value in node.values():
            _lookups(value, params, found, node.name)
    elif isinstance(node, list):
        for item in node:
            _lookups(item, params, found, parent)


@pytest.mark.parametrize("query", load_queries(), ids=lambda q: q.name)
def test_a_parameter_is_looked_up_in_a_group_of_its_own(query: CannedQuery) -> None:
    """A FILTER that finds the thing a parameter names (``STR(?label) = ?place``) filters the triple
    patterns of the lookup alone, in a group of its own joined with the rest of the query.

    The embedded store binds a parameter with pyoxigraph's ``substitutions``, which Oxigraph's
    optimiser does not see: a FILTER on it in the outer group was evaluated last, over the answers for
    every place, organisation or plan of the corpus. plans-by-place so took 10–20 s on 100 plans and
    was refused (503) on 1,000; with the lookup in its own group it takes 30–400 ms on 100 plans
    (bench/results/2026-12-03-canned-100-before.md, …-canned-100-s5place.md).
    """
    # An optional parameter's FILTER is a switch (COALESCE(?plan, "") = "" when not given), no lookup.
    bound = {p.name for p in query.params if not p.optional}
    found: list[tuple[str, str, str]] = []
    _lookups(prepareQuery(query.sparql, base=BASE).algebra, bound, found)
    # The lookup's group is joined with the rest (Join), or has the rest's OPTIONALs after it.
    assert [f for f in found if f[1] != "BGP" or f[2] not in ("Join", "LeftJoin")] == []


def _parts(node: CompValue) -> list[CompValue]:
    """The patterns a group joins (rdflib's algebra: nested Joins, a Filter around them)."""
    if node.name == "Join":
        return _parts(node.p1) + _parts(node.p2)
    if node.name == "Filter":
        return _parts(node.p)
    return [node]


def _triple_variables(node: object) -> list[set[str]]:
    """The variables of every triple pattern under ``node``."""
    found: list[set[str]] = []
    if isinstance(node, CompValue):
        if node.name == "BGP":
            found += [{str(t) for t in triple if isinstance(t, Variable)} for triple in node.triples]
        for value in node.values():
            found += _triple_variables(value)
    elif isinstance(node, list):
        for item in node:
            found += _triple_variables(item)
    return found


def _graphs_by_variable(node: object, found: dict[int, CompValue], sought: set[int]) -> None:
    """Every ``GRAPH ?g`` under ``node`` (``found``), and those a pattern of their own group seeks
    (``sought``): the group has a triple pattern outside ``GRAPH ?g`` that binds ``?g``, or a
    ``GRAPH ?g`` whose triple pattern shares a variable other than ``?g`` with one outside."""
    if isinstance(node, CompValue):
        if node.name == "Graph" and isinstance(node.term, Variable):
            found[id(node)] = node
        if node.name == "Join":
            parts = _parts(node)
            for part in parts:
                if part.name != "Graph" or not isinstance(part.term, Variable):
                    continue
                g = str(part.term)
                inside = [p for p in parts if p.name == "Graph" and str(p.term) == g]
                outside = [v for p in parts if p not in inside for v in _triple_variables(p)]
                linked = any(g in v for v in outside) or any(
                    (names - {g}) & other
                    for p in inside
                    for names in _triple_variables(p)
                    for other in outside
                )
                if linked:
                    sought.add(id(part))
        for value in node.values():
            _graphs_by_variable(value, found, sought)
    elif isinstance(node, list):
        for item in node:
            _graphs_by_variable(item, found, sought)


@pytest.mark.parametrize("query", load_queries(), ids=lambda q: q.name)
def test_a_graph_named_by_a_variable_is_found_by_a_seek(query: CannedQuery) -> None:
    """A ``GRAPH ?g`` is joined, in its group, with triple patterns that find ``?g`` by seeks (one
    that binds ``?g``, or a ``GRAPH ?g`` of a node found outside it), so that the engine reads the
    statements of the graphs found, never every graph to keep those a FILTER names. search's
    plan-scoped branch named the plan's graph in a FILTER only (``?g = IRI(CONCAT(…, ?plan))``):
    2.9 CPU-s at 1,000 plans against 1.7 s for every plan, and 1.0–1.1 s at 300 plans; found through
    the dataset description and the graph that types the plan, 30–60 ms, the same rows
    (bench/results/2026-12-03-corpus-s7-mem.md)."""
    found: dict[int, CompValue] = {}
    sought: set[int] = set()
    _graphs_by_variable(prepareQuery(query.sparql, base=BASE).algebra, found, sought)
    assert [str(g.term) for i, g in found.items() if i not in sought] == [], query.name


def test_no_canned_query_sends_its_text_to_the_safety_parser() -> None:
    """A query whose text has the letters "service" (a namespace's name, a comment) is parsed by
    rdflib on every request (server.protocol.safety's slow path): +250 ms for search over 100 plans
    through the server when its plan lookup used the service description's namespace."""
    assert [q.name for q in load_queries() if mentions_service(q.sparql)] == []


# --- the routes ----------------------------------------------------------------------------------


def test_list_as_json_names_titles_and_typed_parameters(plan_client: TestClient) -> None:
    response = plan_client.get("/queries")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    listed = {q["name"]: q for q in response.json()["queries"]}
    assert set(listed) == {q.name for q in load_queries()}
    org = listed["tasks-by-organisation"]
    assert org["title"] == {"zh": "涉及某机构的重点工作", "en": "Tasks involving an organisation"}
    assert org["url"] == "/queries/tasks-by-organisation"
    assert org["parameters"] == [
        {
            "name": "org",
            "type": "string",
            "required": False,
            "default": "山东大学",
            "example": "中科院",
            "minimum": None,
            "maximum": None,
            "description": "the organisation's name or alias, in Chinese or English, "
            "exactly as in its labels",
        },
        {
            "name": "plan",
            "type": "string",
            "required": False,
            "default": None,
            "example": SLUG,
            "minimum": None,
            "maximum": None,
            "description": "the slug of one plan (id/plan/{slug}); every plan when not given",
        },
    ]
    assert listed["targets-due-by"]["parameters"][0]["type"] == "year"
    assert [p["name"] for p in listed["plan-totals"]["parameters"]] == ["plan"]


def test_list_as_html_to_a_browser(plan_client: TestClient) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = plan_client.get("/queries", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Accept" in response.headers["vary"].split(", ")
    page = response.text
    for q in load_queries():
        assert f'id="{q.name}"' in page
        assert q.title_zh in page and q.title_en in page
    assert "/queries/tasks-by-organisation?org=%E4%B8%AD%E7%A7%91%E9%99%A2&amp;format=csv" in page
    assert plan_client.get("/queries?format=json", headers={"Accept": accept}).headers["content-type"] == (
        "application/json"
    )
    assert plan_client.get("/queries", headers={"Accept": "image/png"}).status_code == 406


# FastAPI warns that /sparql (one route for GET, HEAD and POST) repeats an operation id; not ours.
@pytest.mark.filterwarnings("ignore:Duplicate Operation ID sparql:UserWarning")
def test_each_query_is_its_own_operation_with_typed_parameters(plan_client: TestClient) -> None:
    paths = plan_client.get("/openapi.json").json()["paths"]
    queries = load_queries()
    operation_ids = set()
    for q in queries:
        operation = paths[f"/queries/{q.name}"]["get"]
        operation_ids.add(operation["operationId"])
        declared = {p["name"]: p for p in operation["parameters"]}
        assert set(declared) == {p.name for p in q.params} | {"format"}
    assert len(operation_ids) == len(queries)
    year = {p["name"]: p for p in paths["/queries/targets-due-by"]["get"]["parameters"]}["year"]
    assert year["in"] == "query"
    assert year["schema"] == {
        "type": "integer",
        "format": "year",
        "minimum": 1900,
        "maximum": 2100,
        "default": 2025,
    }
    pillar = {p["name"]: p for p in paths["/queries/targets-of-pillar"]["get"]["parameters"]}["pillar"]
    assert pillar["schema"] == {"type": "integer", "minimum": 1, "default": 1}
    node = {p["name"]: p for p in paths["/queries/source-passage"]["get"]["parameters"]}["node"]
    assert node["schema"] == {
        "type": "string",
        "minLength": 1,
        "pattern": iri_pattern(BASE),
        "default": f"id/plan/{SLUG}/task/6",
    }
    for fits in ("id/task/6", f"{BASE}id/task/6", "def/Task#x", "?a"):
        assert re.match(node["schema"]["pattern"], fits), fits
    for refused in ("https://example.org/id/task/6", "//example.org/x", "/id/task/6", "a b", "urn:x"):
        assert not re.match(node["schema"]["pattern"], refused), refused
    assert "text/csv" in paths["/queries/pillars"]["get"]["responses"]["200"]["content"]


def test_results_are_negotiated_like_sparql(plan_client: TestClient) -> None:
    params = {"org": "山东大学"}
    url = "/queries/tasks-by-organisation"
    as_csv = plan_client.get(url, params=params, headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert sorted({r["number"] for r in table}) == ["1", "43", "44"]
    as_tsv = plan_client.get(url, params={**params, "format": "tsv"})
    assert as_tsv.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    assert '"山东大学"' in as_tsv.text
    as_xml = plan_client.get(url, params=params, headers={"Accept": "application/sparql-results+xml"})
    assert as_xml.headers["content-type"].startswith("application/sparql-results+xml")
    assert "<literal>山东大学</literal>" in as_xml.text
    excel = plan_client.get(url, params={**params, "format": "csv-excel"})
    assert excel.content.startswith("\ufeff".encode())
    refused = plan_client.get(url, params=params, headers={"Accept": "text/turtle"})
    assert refused.status_code == 406
    assert plan_client.get(url, params={**params, "format": "png"}).status_code == 406


def test_bad_parameters_are_400_naming_them(plan_client: TestClient) -> None:
    body = problem(plan_client, "targets-due-by", year="twenty")
    assert body["parameter"] == "year" and "'year'" in body["detail"]
    assert (
        problem(plan_client, "source-passage", node="http://elsewhere.example/id/task/1")["parameter"]
        == "node"
    )
    assert problem(plan_client, "targets-of-pillar", pillar="0")["parameter"] == "pillar"
    assert (
        "unknown parameter 'organisation'"
        in problem(plan_client, "tasks-by-organisation", organisation="x")["detail"]
    )
    twice = plan_client.get("/queries/search-task-text?text=a&text=b")
    assert twice.status_code == 400 and twice.json()["parameter"] == "text"
    assert plan_client.get("/queries/no-such-query").status_code == 404


def test_a_value_is_data_never_query_text(plan_client: TestClient) -> None:
    for hostile in ['山东大学" } UNION { ?organisation ?p ?o } #', "') } #", "?org"]:
        assert run(plan_client, "tasks-by-organisation", org=hostile) == []
        assert run(plan_client, "search-task-text", text=hostile) == []


# --- each query's exact answer ------------------------------------------------------------------


def test_tasks_by_organisation_includes_aliases_and_sub_organisations(plan_client: TestClient) -> None:
    def tasks(org: str) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for row in run(plan_client, "tasks-by-organisation", org=org):
            assert value(row, "org") == org
            assert value(row, "task") == f"{PLAN}task/{number(row, 'number')}"
            out.setdefault(number(row, "number"), set()).add(str(value(row, "namedLabel")))
        return out

    # (一) 山东大学齐鲁医院创建国家医学中心; (四十三) 山东大学龙山校区(创新港);
    # (四十四) 山东大学齐鲁医院国家医学中心项目.
    shandong = {1: {"山东大学齐鲁医院"}, 43: {"山东大学龙山校区"}, 44: {"山东大学齐鲁医院"}}
    assert tasks("山东大学") == shandong
    assert tasks("Shandong University") == shandong
    assert tasks("中科院") == {1: {"中国科学院"}}  # 高标准建设中科院济南科创城
    assert tasks("国家电投") == {18: {"国家电力投资集团"}}  # 国家电投黄河流域氢能产业基地
    # 国务院 is named only in the preamble; its ministry 科技部 in (一).
    assert tasks("国务院") == {1: {"科学技术部"}}
    # 首都医科大学 through 首都医科大学宣武医院 in (一).
    assert tasks("首都医科大学") == {1: {"首都医科大学宣武医院"}}
    assert tasks("不存在的机构") == {}
    default = run(plan_client, "tasks-by-organisation")
    assert {number(r, "number") for r in default} == {1, 43, 44}


def test_tasks_by_place_includes_places_within_and_projects(plan_client: TestClient) -> None:
    def tasks(place: str) -> dict[int, set[str | None]]:
        out: dict[int, set[str | None]] = {}
        for row in run(plan_client, "tasks-by-place", place=place):
            out.setdefault(number(row, "number"), set()).add(value(row, "via"))
        return out

    # (十五) 协同临沂市共建…; (二十五) 加强济南临沂对口合作; (二十六) 莱临高铁 (Laiwu–Linyi railway).
    assert tasks("临沂市") == {15: {None}, 25: {None}, 26: {PLAN + "project/laiwu-linyi-high-speed-railway"}}
    # (二十三) 争取商河县、平阴县纳入…; (三十) 支持商河县、莱芜区创建….
    assert tasks("商河县") == {23: {None}, 30: {None}}
    # (三十) 章丘大葱; (二十六) 庆云至章丘 expressway.
    assert tasks("章丘区") == {26: {PLAN + "project/qingyun-zhangqiu-expressway"}, 30: {None}}


def test_targets_due_by_a_year(plan_client: TestClient) -> None:
    def due(year: str) -> list[tuple[str, str, str | None]]:
        rows = run(plan_client, "targets-due-by", year=year)
        for row in rows:
            assert row["year"] == {"type": "literal", "value": year, "datatype": XSD + "gYear"}
        return [
            (
                str(value(r, "target")).removeprefix(PLAN + "target/"),
                str(value(r, "targetYear")),
                value(r, "deadline"),
            )
            for r in rows
        ]

    # (四十一) 2023年6月底前制定…; (十七) 到2023年年底前完成…; (二十一) 2023年年底前制定碳达峰工作方案.
    by_2023 = [("41-1", "2023", "2023-06-30"), ("17-3", "2023", "2023-12-31"), ("21-1", "2023", "2023-12-31")]
    assert due("2023") == by_2023
    assert due("2024") == [*by_2023, ("34-1", "2024", "2024-12-31")]  # (三十四) 到2024年…基本建成
    assert due("2022") == []
    per_task: dict[int, int] = {}
    for row in run(plan_client, "targets-due-by", year="2025"):
        per_task[number(row, "number")] = per_task.get(number(row, "number"), 0) + 1
    # Sentences naming 2025: (六) (七) (九: 10个, 25个, 30个; 200家 is in the next sentence) (十) (十九: 14%)
    # (二十) (二十二: 1000万人, 1.5万亿元) (三十一) (三十三) (三十五) (四十三).
    assert per_task == {
        6: 1,
        7: 1,
        9: 3,
        10: 1,
        17: 1,
        19: 1,
        20: 1,
        21: 1,
        22: 2,
        31: 1,
        33: 1,
        34: 1,
        35: 1,
        41: 1,
        43: 1,
    }


def test_targets_of_a_pillar(plan_client: TestClient) -> None:
    def targets(pillar: str) -> list[tuple[str, str | None, str | None, str | None, str | None, str | None]]:
        return [
            (
                str(value(r, "target")).removeprefix(PLAN + "target/"),
                value(r, "valueAsWritten"),
                value(r, "value"),
                value(r, "upperValue"),
                value(r, "unit"),
                str(value(r, "comparator")).removeprefix(PK + "comparator/"),
            )
            for r in run(plan_client, "targets-of-pillar", pillar=pillar)
        ]

    # (六) 到2025年人才总量突破300万.
    assert targets("1") == [("6-1", "300万", "3000000", None, PK + "unit/person", "greaterThan")]
    # (二十八) 引进3—5家…; (二十九) 58亿斤左右 (2.9e9 kg), 肉蛋奶100万吨以上, 蔬菜670万吨以上;
    # (三十一) 30%以上.
    assert targets("6") == [
        ("28-1", "3—5家", "3", "5", PK + "unit/enterprise", "range"),
        ("29-1", "58亿斤", "2900000000", None, QUDT_UNIT + "KiloGM", "approximately"),
        ("29-2", "100万吨", "1000000000", None, QUDT_UNIT + "KiloGM", "atLeast"),
        ("29-3", "670万吨", "6700000000", None, QUDT_UNIT + "KiloGM", "atLeast"),
        ("31-1", "30%", "30", None, QUDT_UNIT + "PERCENT", "atLeast"),
    ]
    assert targets("11") == []


def test_investment_by_pillar_and_stage(plan_client: TestClient) -> None:
    rows = run(plan_client, "investment-by-pillar-and-stage")
    got = [
        (number(r, "number"), value(r, "stageLabel"), number(r, "projects"), decimal(r, "investment"))
        for r in rows
    ]
    expected = [
        (pillar, stage, count, Decimal(amount))
        for pillar, stages in STATISTICS.items()
        for stage, (count, amount) in stages.items()
    ]
    assert got == expected
    for r in rows:
        assert value(r, "stage") == f"{PK}stage/{value(r, 'stageLabel')}"
        assert decimal(r, "investmentYuan") == decimal(r, "investment") * 100_000_000


def test_the_statistics_read_from_the_text_add_up() -> None:
    # A check on the expected table itself: each pillar's stages sum to its total, as the text says.
    for stages in STATISTICS.values():
        parts = [stages[s] for s in ("continuing", "new", "reserve")]
        assert sum(c for c, _ in parts) == stages["total"][0]
        assert sum(Decimal(a) for _, a in parts) == Decimal(stages["total"][1])


def test_plan_totals(plan_client: TestClient) -> None:
    (row,) = run(plan_client, "plan-totals")
    investment = sum(Decimal(s["total"][1]) for s in STATISTICS.values())
    assert investment == Decimal("24101.82")
    assert number(row, "pillars") == 10
    assert number(row, "declaredTasks") == sum(d for _, d, _ in PILLARS.values()) == 50
    assert number(row, "tasks") == 49
    assert number(row, "projects") == sum(s["total"][0] for s in STATISTICS.values()) == 1301
    assert decimal(row, "investment") == investment
    assert decimal(row, "investmentYuan") == investment * 100_000_000
    assert number(row, "namedProjects") == len(load_catalogue().projects)


def test_plan_totals_count_every_target(plan_client: TestClient) -> None:
    (row,) = run(plan_client, "plan-totals")
    # 26 figures (see QUANTIFIED_TASKS) and 5 dated milestones ((七) (十七) (二十一) (三十四) (四十一)).
    assert number(row, "targets") == 31


def test_named_projects_of_a_task(plan_client: TestClient) -> None:
    def projects(task: str) -> list[tuple[str, set[str], set[str]]]:
        return [
            (
                str(value(r, "name")),
                set(filter(None, str(value(r, "organisations") or "").split("、"))),
                set(filter(None, str(value(r, "places") or "").split("、"))),
            )
            for r in run(plan_client, "projects-of-task", task=task)
        ]

    # (十) 加快建设比亚迪新能源汽车整车、泉意光罩等项目,建成北斗导航、AIRSAT卫星星座等未来产业标志性项目.
    assert [p[0] for p in projects("10")] == [
        "比亚迪新能源汽车整车",
        "泉意光罩",
        "北斗导航",
        "AIRSAT卫星星座",
    ]
    assert projects("10")[0][1] == {"比亚迪"}
    # (二十六), in the order the text names them.
    task26 = projects("26")
    assert [p[0] for p in task26] == [
        "济滨高铁",
        "莱临高铁",
        "城市轨道交通二期",
        "济南东站至济阳有轨电车项目",
        "云巴示范线",
        "济南至微山",
        "庆云至章丘",
        "济南至宁津",
        "济南遥墙国际机场二期改扩建工程",
    ]
    assert task26[1][2] == {"莱芜区", "临沂市"}
    assert projects("12") == []


def test_full_text_search_in_task_text(plan_client: TestClient) -> None:
    def found(text: str) -> list[int]:
        return [number(r, "number") for r in run(plan_client, "search-task-text", text=text)]

    # 黄河: (二) 黄河流域(济南)…, (五) 黄河技术转移中心, (十七) 黄河生态风貌带, (十八) 国家电投黄河流域…,
    # (二十四) 黄河流域生态保护…母基金, (三十一) 黄河滩区, (三十七) 黄河国家文化公园, (三十九) 黄河文化旅游带,
    # (四十) “新黄河”.
    assert found("黄河") == [2, 5, 17, 18, 24, 31, 37, 39, 40]
    assert found("氢") == [3, 18]  # 氢进万家; 氢能产业基地
    assert found("氢能") == [18]
    # Matched on the normalised text: 比\n\n亚迪 in the file is 比亚迪 in (十).
    assert found("比亚迪") == [10]
    assert found("reits") == [13]  # (REITs), any case
    assert found("量子计算") == [8]


def test_search_names_labels_and_task_text(plan_client: TestClient) -> None:
    def found(q: str) -> set[tuple[str, str]]:
        rows = run(plan_client, "search", q=q)
        assert all(value(r, "q") == q for r in rows)
        return {
            (
                str(value(r, "thing")).removeprefix(PLAN).removeprefix(ID),
                str(value(r, "property")).rsplit("/", 1)[-1],
            )
            for r in rows
        }

    # 山东大学 as a name: the university, its hospital and campus (with the alias 山东大学龙山校区(创新港)
    # as printed in (四十三)), the named project of (四十四); as text: tasks (一), (四十三), (四十四).
    assert found("山东大学") == {
        ("org/shandong-university", "rdf-schema#label"),
        ("org/shandong-university", "core#prefLabel"),
        ("org/qilu-hospital-of-shandong-university", "rdf-schema#label"),
        ("org/qilu-hospital-of-shandong-university", "core#prefLabel"),
        ("org/shandong-university-longshan-campus", "rdf-schema#label"),
        ("org/shandong-university-longshan-campus", "core#prefLabel"),
        ("org/shandong-university-longshan-campus", "core#altLabel"),
        ("project/qilu-hospital-national-medical-center", "rdf-schema#label"),
        ("project/qilu-hospital-national-medical-center", "core#prefLabel"),
        ("task/1", "text"),
        ("task/43", "text"),
        ("task/44", "text"),
    }
    # English labels, any case: the two hydrogen projects of (三) 氢进万家 and (十八) 国家电投…氢能产业基地.
    assert {thing for thing, _ in found("HYDROGEN")} == {
        "project/hydrogen-into-homes-demonstration",
        "project/spic-yellow-river-hydrogen-industry-base",
    }
    assert found("no such words 无此文字") == set()


def test_source_passage_of_a_node(plan_client: TestClient, built_plan: BuiltPlan) -> None:
    raw = built_plan.source

    def spans(node: str) -> list[tuple[str, int, int, str, str | None]]:
        rows = run(plan_client, "source-passage", node=node)
        out = []
        for r in rows:
            start, end = number(r, "start"), number(r, "end")
            assert value(r, "span") == f"{PLAN}span/{start}-{end}"
            assert value(r, "source") == PLAN + "source"
            assert value(r, "node") == (node if node.startswith("http") else BASE + node)
            out.append((str(value(r, "property")), start, end, str(value(r, "exact")), value(r, "in")))
        return out

    task = re.search(r"[((]六[))]建设区域人才高地.*?300万。", raw, re.S)
    assert task is not None
    title = raw.index("建设区域人才高地", task.start())
    assert spans(f"id/plan/{SLUG}/task/6") == [
        ("http://www.w3.org/ns/prov#wasDerivedFrom", task.start(), task.end(), task.group(), None),
        (PK + "titleSpan", title, title + 8, "建设区域人才高地", None),
    ]
    # An organisation's passages are its mentions: 中科院 in (一).
    cas = raw.index("中科院")
    assert spans(ID + "org/chinese-academy-of-sciences") == [
        ("http://www.w3.org/ns/oa#hasBody", cas, cas + 3, "中科院", PLAN + "task/1")
    ]
    # A statistic: 总投资1920.83亿元的90个重点项目 opens pillar 一.
    amount = raw.index("1920.83亿元")
    count = raw.index("90个重点项目")
    passages = spans(f"id/plan/{SLUG}/statistics/1/total")
    assert (PK + "investmentSpan", amount, amount + 9, "1920.83亿元", None) in passages
    assert (PK + "countSpan", count, count + 2, "90", None) in passages
    for _, start, end, exact, _ in passages:
        assert raw[start:end] == exact
    assert spans("id/task/999") == []


def test_source_passage_of_a_target(plan_client: TestClient, built_plan: BuiltPlan) -> None:
    raw = built_plan.source
    clause = raw.index("到2025年人才总量突破300万")
    figure = raw.index("300万", clause)
    rows = run(plan_client, "source-passage", node=f"id/plan/{SLUG}/target/6-1")
    got = {(value(r, "property"), number(r, "start"), number(r, "end"), value(r, "exact")) for r in rows}
    assert got == {
        ("http://www.w3.org/ns/prov#wasDerivedFrom", clause, figure + 4, "到2025年人才总量突破300万"),
        (PK + "valueSpan", figure, figure + 4, "300万"),
    }


def test_organisations_ranked_by_number_of_tasks(plan_client: TestClient) -> None:
    rows = run(plan_client, "organisations-by-task-count")
    ranked = [(str(value(r, "organisation")).removeprefix(ID + "org/"), number(r, "tasks")) for r in rows]
    # 山东大学: (一) (四十三) (四十四); 广安门医院: (一), and (四十四) through 广安门医院济南医院;
    # 山东大学齐鲁医院: (一) (四十四); every other organisation the text names appears in one task
    # (国务院 only through 科技部 in (一): the preamble is not a task).
    assert ranked[:3] == [
        ("shandong-university", 3),
        ("guanganmen-hospital", 2),
        ("qilu-hospital-of-shandong-university", 2),
    ]
    rest = ranked[3:]
    assert all(count == 1 for _, count in rest)
    assert [key for key, _ in rest] == sorted(key for key, _ in rest)
    assert {key for key, _ in ranked} == set(load_catalogue().organisations)


def test_tasks_without_a_quantitative_target(plan_client: TestClient) -> None:
    rows = run(plan_client, "tasks-without-quantitative-target")
    got = {number(r, "number"): number(r, "milestones") for r in rows}
    expected = {n: MILESTONE_ONLY_TASKS.get(n, 0) for n in range(1, 50) if n not in QUANTIFIED_TASKS}
    assert len(expected) == 32
    assert got == expected


def test_consistency_report(plan_client: TestClient) -> None:
    rows = run(plan_client, "consistency-report")
    # Pillar 十 declares 认真抓好5项重点工作 but the text holds (四十六)…(四十九): a warning, nothing else.
    assert len(rows) == 1
    (row,) = rows
    assert row["conforms"] == {"type": "literal", "value": "true", "datatype": XSD + "boolean"}
    assert value(row, "severity") == SH + "Warning"
    assert value(row, "focus") == PLAN + "pillar/10"
    assert value(row, "constraint") == SH + "SPARQLConstraintComponent"
    message = str(value(row, "message"))
    assert "5" in message and "4" in message


def test_pillars_at_a_glance(plan_client: TestClient) -> None:
    rows = run(plan_client, "pillars")
    got = [
        (
            number(r, "number"),
            value(r, "title"),
            number(r, "declaredTasks"),
            number(r, "tasks"),
            number(r, "projects"),
            decimal(r, "investment"),
        )
        for r in rows
    ]
    expected = [
        (n, title, declared, present, STATISTICS[n]["total"][0], Decimal(STATISTICS[n]["total"][1]))
        for n, (title, declared, present) in PILLARS.items()
    ]
    assert got == expected
    assert all(r["titleEn"]["xml:lang"] == "en" for r in rows)


def test_every_shipped_query_has_an_answer_test() -> None:
    # Each query file is exercised by name, above or (the queries across plans) in tests/test_corpus.py.
    source = Path(__file__).read_text(encoding="utf-8")
    for other in ("test_corpus.py", "test_general.py"):
        source += (Path(__file__).parent / other).read_text(encoding="utf-8")
    for q in load_queries():
        assert f'"{q.name}"' in source or f'"{q.name}?' in source, q.name


def test_default_and_example_values_run(plan_client: TestClient) -> None:
    for q in load_queries():
        default = plan_client.get(f"/queries/{q.name}")
        assert default.status_code == 200, q.name
        assert default.headers["content-type"].startswith("application/sparql-results+json"), q.name
        answer = default.json()
        assert answer["head"]["vars"], q.name
        assert int(default.headers["x-result-rows"]) == len(answer["results"]["bindings"]), q.name
        example = {p.name: str(p.example) for p in q.params}
        response = plan_client.get(f"/queries/{q.name}", params=example, headers={"Accept": "text/csv"})
        assert response.status_code == 200, (q.name, response.text)
        assert response.headers["content-type"].startswith("text/csv"), q.name
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == answer["head"]["vars"], q.name
        assert len(rows) - 1 == int(response.headers["x-result-rows"]), q.name
