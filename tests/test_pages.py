"""Linked-data pages and the front end over the plan-shaped fixture, in process (no socket).

Dereferencing pattern under test: 303 from ``{base}id/…`` and ``{base}def/…`` to ``{base}doc/…``, where
the document is negotiated (Vary: Accept, Content-Location) and every variant has its own URL.
"""

from __future__ import annotations

import asyncio
import json
import re
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDFS

from server.settings import Settings
from server.stores.oxigraph import Store
from tests.browser.app import FIXTURE, build_app, fixture_settings, open_store

with warnings.catch_warnings():
    # Starlette warns once, at import, that it would rather drive httpx2; httpx works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

BASE = "http://127.0.0.1:8000/"
ID = Namespace(BASE + "id/")
PK = Namespace(BASE + "def/")
OA = Namespace("http://www.w3.org/ns/oa#")
SOURCE = Path(__file__).resolve().parent.parent / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    s = open_store(fixture_settings())
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="module")
def client(store: Store) -> TestClient:
    return TestClient(build_app(fixture_settings(), store))


def rdf(data: bytes, parser: str) -> Graph:
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
        return Graph().parse(data=data, format=parser)


def html(client: TestClient, path: str) -> str:
    r = client.get(path, headers={"Accept": HTML_ACCEPT})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    return r.text


# --- the fixture itself ----------------------------------------------------------------------


def test_fixture_quotes_are_the_source_characters_at_their_offsets() -> None:
    g = Graph().parse(FIXTURE, format="turtle")
    source = SOURCE.read_text(encoding="utf-8")
    spans = list(g.subjects(OA.hasSelector, None))
    assert len(spans) >= 10
    for span in spans:
        selectors = list(g.objects(span, OA.hasSelector))
        start = next(int(g.value(s, OA.start)) for s in selectors if g.value(s, OA.start) is not None)
        end = next(int(g.value(s, OA.end)) for s in selectors if g.value(s, OA.end) is not None)
        exact = next(str(g.value(s, OA.exact)) for s in selectors if g.value(s, OA.exact) is not None)
        assert source[start:end] == exact, span
        assert str(span) == f"{BASE}id/span/{start}-{end}"


# --- dereferencing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "document"),
    [
        ("/id/task/1", "/doc/id/task/1"),
        ("/id/span/343-548/quote", "/doc/id/span/343-548/quote"),
        ("/def/Task", "/doc/def/Task"),
        ("/def/stage/new", "/doc/def/stage/new"),
    ],
)
def test_things_and_terms_303_to_their_document(client: TestClient, path: str, document: str) -> None:
    r = client.get(path, headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == document
    assert f'<{document}>; rel="describedby"' in r.headers["link"]


RDF_VARIANTS = [
    ("text/turtle", "text/turtle", "ttl", "turtle"),
    ("application/ld+json", "application/ld+json", "jsonld", "json-ld"),
    ("application/n-triples", "application/n-triples", "nt", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "rdf", "xml"),
    ("*/*", "text/turtle", "ttl", "turtle"),
    ("text/html;q=0.5, application/ld+json", "application/ld+json", "jsonld", "json-ld"),
]


@pytest.mark.parametrize(("accept", "media_type", "extension", "parser"), RDF_VARIANTS)
def test_document_is_negotiated(
    client: TestClient, accept: str, media_type: str, extension: str, parser: str
) -> None:
    r = client.get("/id/task/1", headers={"Accept": accept})  # follows the 303, Accept kept
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in [v.strip() for v in r.headers["vary"].split(",")]
    assert r.headers["content-location"] == f"/doc/id/task/1.{extension}"
    g = rdf(r.content, parser)
    task = ID["task/1"]
    assert (task, RDFS.label, Literal("构建高能级创新平台", lang="zh")) in g
    assert (task, PK.pillar, ID["pillar/1"]) in g
    assert (ID["pillar/1"], URIRef("http://data.europa.eu/eli/ontology#has_part"), task) in g  # incoming


def test_a_span_document_carries_its_selectors(client: TestClient) -> None:
    r = client.get("/doc/id/span/1064-1080.nt")
    g = Graph().parse(data=r.content, format="nt")
    assert (ID["span/1064-1080/quote"], OA.exact, Literal("到2025年人才总量突破300万")) in g
    assert (ID["target/6-1"], URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), ID["span/1064-1080"]) in g


VARIANTS = [("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("nt", "application/n-triples"),
            ("rdf", "application/rdf+xml"), ("html", "text/html")]  # fmt: skip


@pytest.mark.parametrize(("extension", "media_type"), VARIANTS)
def test_each_variant_has_its_own_url(client: TestClient, extension: str, media_type: str) -> None:
    r = client.get(f"/doc/id/pillar/1.{extension}", headers={"Accept": "image/png"})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media_type
    assert "Accept" not in [v.strip() for v in r.headers.get("vary", "").split(",")]
    assert "content-location" not in r.headers


def test_link_header_names_every_alternate(client: TestClient) -> None:
    r = client.get("/doc/id/task/6", headers={"Accept": "text/turtle"})
    links = dict(re.findall(r'<([^>]+)>; rel="alternate"; type="([^"]+)"', r.headers["link"]))
    assert links == {
        "/doc/id/task/6.ttl": "text/turtle",
        "/doc/id/task/6.jsonld": "application/ld+json",
        "/doc/id/task/6.nt": "application/n-triples",
        "/doc/id/task/6.rdf": "application/rdf+xml",
        "/doc/id/task/6.html": "text/html",
    }
    assert f'<{BASE}id/task/6>; rel="about"' in r.headers["link"]


class Page(HTMLParser):
    """Collects <link rel=alternate>, and text with the lang in force where it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.alternates: dict[str, str] = {}
        self.stack: list[tuple[str, str | None]] = []
        self.texts: list[tuple[str, str | None]] = []
        self.in_head_or_script = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "alternate":
            self.alternates[a["href"] or ""] = a["type"] or ""
        if tag in {"meta", "link", "input", "br", "img"}:
            return
        lang = a.get("lang", self.stack[-1][1] if self.stack else None)
        self.stack.append((tag, lang))
        if tag in {"script", "title", "style"}:
            self.in_head_or_script += 1

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            top, _ = self.stack.pop()
            if top in {"script", "title", "style"}:
                self.in_head_or_script -= 1
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not self.in_head_or_script:
            self.texts.append((data, self.stack[-1][1] if self.stack else None))


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    "path",
    ["/doc/id/task/1", "/doc/id/task/6", "/doc/id/org/shandong-university", "/doc/id/pillar/1",
     "/doc/def/Task", "/", "/search?q=山东大学", "/query", "/id/task/99"],
)  # fmt: skip
def test_chinese_text_always_carries_lang_zh(client: TestClient, path: str) -> None:
    r = client.get(path, headers={"Accept": HTML_ACCEPT})
    page = parse(r.text)
    untagged = [t for t, lang in page.texts if CJK.search(t) and (lang or "").split("-")[0] != "zh"]
    assert untagged == []
    assert '<html lang="en">' in r.text


def test_html_document_links_its_alternates(client: TestClient) -> None:
    page = parse(html(client, "/doc/id/task/1"))
    assert page.alternates == {
        "/doc/id/task/1.ttl": "text/turtle",
        "/doc/id/task/1.jsonld": "application/ld+json",
        "/doc/id/task/1.nt": "application/n-triples",
        "/doc/id/task/1.rdf": "application/rdf+xml",
        "/doc/id/task/1.html": "text/html",
    }


def test_unknown_iri_is_a_helpful_404(client: TestClient) -> None:
    r = client.get("/id/task/99", headers={"Accept": HTML_ACCEPT}, follow_redirects=False)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert f"<code>{BASE}id/task/99</code>" in r.text
    # Known things of the same kind are offered, in numeric order.
    assert re.findall(r'href="(/doc/id/task/\d+)"', r.text) == [
        "/doc/id/task/1",
        "/doc/id/task/6",
        "/doc/id/task/7",
    ]
    assert client.get("/doc/id/task/99.ttl").status_code == 404
    assert client.get("/def/NoSuchTerm", follow_redirects=False).status_code == 404
    assert client.get("/doc/other/x").status_code == 404


@pytest.mark.parametrize(
    ("path", "iri"),
    [
        ("/id/task/a%20b", "id/task/a b"),
        ("/doc/id/task/a%22b", "id/task/a&#34;b"),
        ("/doc/id/task/x%3Cy.ttl", "id/task/x&lt;y"),
    ],
)
def test_an_iri_no_graph_can_hold_is_a_404_not_a_failure(client: TestClient, path: str, iri: str) -> None:
    """A path decoding to characters an IRI cannot hold (space, quote, angle bracket) names nothing here."""
    r = client.get(path, headers={"Accept": HTML_ACCEPT}, follow_redirects=False)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert f"<code>{BASE}{iri}</code>" in r.text


def test_unacceptable_media_type_is_406(client: TestClient) -> None:
    r = client.get("/doc/id/task/1", headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "text/turtle" in r.json()["detail"]


# --- what the entity pages show --------------------------------------------------------------


def test_task_page_shows_the_highlighted_quote_targets_and_mentions(client: TestClient) -> None:
    text = html(client, "/doc/id/task/6")
    source = SOURCE.read_text(encoding="utf-8")
    marks = re.findall(r'<mark class="quote" data-start="(\d+)" data-end="(\d+)">(.*?)</mark>', text, re.S)
    assert (("1000", "1081", source[1000:1081])) in marks
    # the context either side is the source itself
    assert source[940:1000] in text and source[1081:1141] in text
    target = re.search(r'<section class="related related-target">(.*?)</section>', text, re.S)
    assert target and 'href="/doc/id/target/6-1"' in target[1]
    assert ">3000000<" in target[1] and ">300万<" in target[1] and ">2025<" in target[1]
    place = re.search(r'<section class="related related-place">(.*?)</section>', text, re.S)
    assert place and 'href="/doc/id/place/370100"' in place[1]


def test_target_page_highlights_exactly_its_quote(client: TestClient) -> None:
    text = html(client, "/doc/id/target/6-1")
    assert re.findall(r'<mark class="quote"[^>]*>(.*?)</mark>', text) == ["到2025年人才总量突破300万"]
    caption = re.search(r"<figcaption>(.*?)</figcaption>", text, re.S)
    assert caption and '<code class="curie">prov:wasDerivedFrom</code>' in caption[1]
    assert 'href="/doc/id/span/1064-1080"' in caption[1]


def test_organisation_page_lists_tasks_directly_and_through_sub_organisations(client: TestClient) -> None:
    text = html(client, "/doc/id/org/shandong-university")
    tasks = re.search(r'<section class="related related-task">(.*?)</section>', text, re.S)
    assert tasks is not None
    assert re.findall(r'href="(/doc/id/task/\d+)"', tasks[1]) == ["/doc/id/task/1"]
    assert "through" in tasks[1] and 'href="/doc/id/org/qilu-hospital"' in tasks[1]
    family = re.search(r'<section class="related related-suborg">(.*?)</section>', text, re.S)
    assert family and "Parent and sub-organisations" in family[1]
    assert re.findall(r'href="(/doc/id/org/[\w-]+)"', family[1]) == ["/doc/id/org/qilu-hospital"]
    direct = html(client, "/doc/id/org/qilu-hospital")
    section = re.search(r'<section class="related related-task">(.*?)</section>', direct, re.S)
    assert section and "through" not in section[1]


def test_pillar_page_shows_its_statistics_in_stage_order(client: TestClient) -> None:
    text = html(client, "/doc/id/pillar/2")
    table = re.search(r'<section class="statistics">(.*?)</section>', text, re.S)
    assert table is not None
    rows = re.findall(r'<td class="num">([^<]*)</td><td class="num">([^<]*)</td>', table[1])
    assert rows == [("308", "3110.49"), ("88", "1611.69"), ("154", "754.63"), ("66", "744.17")]
    assert "/doc/def/stage/total" in table[1].split("</tr>")[1]


def test_vocabulary_terms_document_themselves(client: TestClient) -> None:
    text = html(client, "/doc/def/Task")
    assert '<h1><span lang="zh">任务</span></h1>' in text
    assert '<p class="alt-label" lang="en">Task</p>' in text
    assert "A numbered key task of the plan." in text
    assert '<code class="curie">rdfs:subClassOf</code>' in text


# --- home, search, query page, docs ----------------------------------------------------------


def test_home_page_says_what_and_where_from(client: TestClient) -> None:
    text = html(client, "/")
    assert "jinan-nddc-green-lowcarbon-action-plan.txt" in text
    assert "4ed757512b5c0bef6028d7f0802f68948e2ac26f7eed8e56b5523d88777f25aa" in text
    assert re.search(r'<li data-kind="task"><strong>3</strong>', text)
    assert re.search(r'<li data-kind="pillar"><strong>2</strong>', text)
    assert text.count('<rect class="bar" data-pillar=') == 6
    assert 'data-year="2025"' in text
    for link in (
        'href="/query"',
        'href="/queries"',
        'href="/dumps/"',
        'href="/.well-known/void"',
        'href="/docs"',
    ):
        assert link in text


JINAN_TITLE = "济南市深化新旧动能转换推动绿色低碳高质量发展三年行动计划(2023—2025年)"
NO_PLAN = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<http://127.0.0.1:8000/id/thing/1> skos:prefLabel "一件事"@zh .
"""


def _home_over(data: str, tmp_path: Path) -> str:
    data_file = tmp_path / "data.ttl"
    data_file.write_text(data, encoding="utf-8")
    settings = Settings(data_files=(data_file,), without_plan=True, query_workers=1)
    store = open_store(settings)
    try:
        return html(TestClient(build_app(settings, store)), "/")
    finally:
        store.close()


def test_home_page_title_is_the_plans_title_in_the_graph(tmp_path: Path) -> None:
    fixture = FIXTURE.read_text(encoding="utf-8")
    assert JINAN_TITLE in fixture
    text = _home_over(fixture.replace(JINAN_TITLE, "某市绿色低碳行动方案"), tmp_path)
    assert '<h1><span lang="zh">某市绿色低碳行动方案</span></h1>' in text
    assert JINAN_TITLE not in text


def test_home_page_without_a_plan_has_a_generic_heading(tmp_path: Path) -> None:
    text = _home_over(NO_PLAN, tmp_path)
    assert '<h1><span lang="en">Linked open data</span> <span lang="zh">关联开放数据</span></h1>' in text
    assert JINAN_TITLE not in text
    assert "the plan's text" not in text
    assert re.search(r"<strong>1</strong> triples", text)


def test_investment_chart_is_drawn_to_scale(client: TestClient) -> None:
    r = client.get("/charts/investment.svg")
    assert r.headers["content-type"].startswith("image/svg+xml")
    widths = {
        (m[0], m[1]): float(m[2])
        for m in re.findall(
            r'data-pillar="(\d)" data-stage="(\w+)" x="[\d.]+" y="\d+" width="([\d.]+)"', r.text
        )
    }
    assert len(widths) == 6
    # continuing 1611.69 vs 854.58 亿元
    assert widths[("2", "continuing")] / widths[("1", "continuing")] == pytest.approx(
        1611.69 / 854.58, rel=1e-3
    )


def test_search_finds_shandong_university_first(client: TestClient) -> None:
    text = html(client, "/search?q=山东大学")
    hits = re.findall(r'<li data-kind="(\w+)"><a href="([^"]+)"', text)
    assert hits == [
        ("org", "/doc/id/org/shandong-university"),
        ("org", "/doc/id/org/qilu-hospital"),
        ("task", "/doc/id/task/1"),
    ]
    assert "<mark>山东大学</mark>齐鲁医院创建国家医学中心" in text


def test_search_in_english_ignores_case_and_takes_any_text(client: TestClient) -> None:
    text = html(client, "/search?q=shandong")
    assert 'href="/doc/id/org/shandong-university"' in text
    odd = html(client, "/search?q=%22%7D%20%3Cscript%3E")  # '"} <script>' is text, not query or markup
    assert "0 results" in odd and "<script>" not in odd.split("<main>")[1]


def test_query_page_preloads_prefixes_and_serves_yasgui_locally(client: TestClient) -> None:
    text = html(client, "/query")
    config = json.loads(
        re.search(r'<script id="plankg-config" type="application/json">(.*?)</script>', text, re.S)[1]
    )
    assert config["prefixes"]["pk"] == BASE + "def/"
    assert config["endpoint"] == "/sparql" and config["queries"] == "/queries"
    assert "PREFIX pk: <http://127.0.0.1:8000/def/>" in config["defaultQuery"]
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', text)
    assert all(s.startswith("/") for s in sources), sources  # nothing from another origin
    assert '<textarea id="plain-query" name="query"' in text or 'name="query"' in text  # works without JS


def test_sparql_from_a_browser_is_the_query_page(client: TestClient) -> None:
    r = client.get("/sparql", headers={"Accept": HTML_ACCEPT})
    assert r.headers["content-type"].startswith("text/html")
    assert 'id="plankg-config"' in r.text
    assert (
        client.get("/sparql", headers={"Accept": "text/turtle"})
        .headers["content-type"]
        .startswith("text/turtle")
    )


def test_the_query_page_compiles_no_templates_per_request(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The query page's template is loaded once, not read and compiled on the event loop per page."""
    from server.web import ui

    made: list[object] = []
    monkeypatch.setattr(ui, "templates", lambda: made.append(1))
    for path in ("/query", "/sparql", "/query"):
        r = client.get(path, headers={"Accept": HTML_ACCEPT})
        assert r.status_code == 200
        assert 'id="plankg-config"' in r.text
    assert made == []


def test_docs_work_offline(client: TestClient) -> None:
    from tests.browser.harness import missing

    text = client.get("/docs").text
    assets = re.findall(r"""['"](/static/vendor/swagger-ui/[^'"]+)['"]""", text)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    assert "cdn" not in text.lower()
    if not Path(__file__).resolve().parent.parent.joinpath("server/static/vendor/.installed").exists():
        missing("the front-end assets are not installed")
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    with warnings.catch_warnings():
        # server/protocol/sparql.py registers GET, HEAD and POST as one route: FastAPI warns of the repeated
        # operation id (theirs to fix); the document is complete all the same.
        warnings.filterwarnings("ignore", message="Duplicate Operation ID sparql_sparql_")
        paths = client.get("/openapi.json").json()["paths"]
    assert "/doc/{area}/{path}" in paths and "/search" in paths


def raw_get(app: Any, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written, straight into the ASGI app: an HTTP client (httpx included)
    resolves ``..`` segments before sending, so only a raw call shows what the server does with them."""
    sent: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        while not any(m["type"] == "http.response.body" and not m.get("more_body") for m in sent):
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    (start,) = [m for m in sent if m["type"] == "http.response.start"]
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_static_files_stay_inside_their_directory(client: TestClient) -> None:
    assert raw_get(client.app, "/static/plankg.css")[0] == 200
    # server/app.py is one level above the static directory: a server that joined the path naively
    # would send it.
    assert (Path(__file__).resolve().parent.parent / "server" / "app.py").is_file()
    for path in ("/static/../app.py", "/static/./../app.py", "/static/css/../../app.py"):
        status, body = raw_get(client.app, path)
        assert status == 404 and b"def " not in body, path
    assert client.get("/static/%2e%2e/app.py").status_code == 404


def test_a_static_path_with_a_nul_byte_is_404(client: TestClient) -> None:
    r = client.get("/static/plankg%00.css")
    assert r.status_code == 404
    assert r.text == "not found\n"


# --- another base: a path prefix -------------------------------------------------------------


def test_a_base_with_a_path_serves_everything_under_it(tmp_path: Path) -> None:
    base = "http://example.org/plankg/"
    data = tmp_path / "sample.ttl"
    data.write_text(FIXTURE.read_text(encoding="utf-8").replace(f"@base <{BASE}>", f"@base <{base}>", 1))
    settings = Settings(base=base, data_files=(data,), without_plan=True, query_workers=1)
    s = open_store(settings)
    try:
        c = TestClient(build_app(settings, s))
        r = c.get("/plankg/id/task/1", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/plankg/doc/id/task/1")
        page = c.get("/plankg/doc/id/task/1.html").text
        assert 'href="/plankg/doc/id/pillar/1"' in page
        assert c.get("/plankg/").status_code == 200
        assert c.get("/id/task/1", follow_redirects=False).status_code == 404
    finally:
        s.close()


def test_a_much_linked_entity_lists_the_first_links_and_says_how_many(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.web import describe

    monkeypatch.setattr(describe, "INCOMING_LIMIT", 5)
    total = len(list(Graph().parse(FIXTURE, format="turtle").subjects(None, ID["source"])))
    text = html(client, "/doc/id/source")
    section = re.search(r'<section class="incoming">(.*?)</section>', text, re.S)
    assert section is not None
    assert f"The first 5 of {total} links" in section[1]
    assert section[1].count("<tr>") == 5


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    thing = client.head("/id/task/1", follow_redirects=False)
    assert (thing.status_code, thing.headers["location"]) == (303, "/doc/id/task/1")
    doc = client.head("/doc/id/task/1", headers={"Accept": "application/ld+json"})
    assert doc.status_code == 200 and doc.content == b""
    assert doc.headers["content-type"].startswith("application/ld+json")
    assert doc.headers["content-location"] == "/doc/id/task/1.jsonld"
    assert client.head("/id/task/99").status_code == 404


def test_search_says_when_it_shows_only_the_first_results(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.web import ui

    monkeypatch.setattr(ui, "SEARCH_LIMIT", 2)
    text = html(client, "/search?q=山东大学")
    assert len(re.findall(r'<li data-kind="', text)) == 2
    assert "(the first 2;" in text
    assert client.get("/search", params={"q": "山东大学" + "x" * 5000}).status_code == 200


def test_the_source_file_is_served_byte_for_byte(client: TestClient) -> None:
    home = html(client, "/")
    assert f'href="/source/{SOURCE.name}"' in home
    r = client.get(f"/source/{SOURCE.name}")
    assert r.status_code == 200
    assert r.content == SOURCE.read_bytes()
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["etag"] == '"4ed757512b5c0bef6028d7f0802f68948e2ac26f7eed8e56b5523d88777f25aa"'
    assert client.get("/source/other.txt").status_code == 404
    # A client holding the current copy is told so, without the body; a stale tag gets the text.
    cached = client.get(f"/source/{SOURCE.name}", headers={"If-None-Match": r.headers["etag"]})
    assert (cached.status_code, cached.content, cached.headers["etag"]) == (304, b"", r.headers["etag"])
    stale = client.get(f"/source/{SOURCE.name}", headers={"If-None-Match": '"0000", W/"1111"'})
    assert (stale.status_code, stale.content) == (200, SOURCE.read_bytes())


def test_the_ontology_iri_itself_dereferences(client: TestClient) -> None:
    r = client.get("/def/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/doc/def/")
    page = client.get("/doc/def/", headers={"Accept": HTML_ACCEPT})
    assert '<span lang="en">plankg ontology</span>' in page.text or "plankg ontology" in page.text
    assert 'href="/doc/def/Task"' in page.text  # the terms defined by it link back
    assert parse(page.text).alternates["/doc/def/?format=turtle"] == "text/turtle"
    turtle = client.get("/doc/def/?format=turtle")
    assert turtle.headers["content-type"].startswith("text/turtle")
    g = rdf(turtle.content, "turtle")
    assert (URIRef(BASE + "def/"), RDFS.label, Literal("plankg ontology", lang="en")) in g
    assert client.get("/id/", follow_redirects=False).status_code == 404


def test_an_entity_page_opens_the_query_page_on_it(client: TestClient) -> None:
    from urllib.parse import parse_qs, urlsplit

    text = html(client, "/doc/id/task/7")
    href = re.search(r'<a class="query-this" href="([^"]+)"', text)
    assert href is not None
    url = urlsplit(href[1].replace("&amp;", "&"))
    assert url.path == "/query"
    assert parse_qs(url.query)["query"] == [
        f"SELECT ?property ?value WHERE {{\n  <{BASE}id/task/7> ?property ?value\n}}"
    ]
