"""The web front end: home page, query page (YASGUI, served locally), search, charts, offline /docs.

Routes are thin: each gathers plain data through the store (``describe``, ``charts``) and renders a
Jinja2 template. ``query_page`` is exported so that ``GET /sparql`` from a browser (Accept: text/html)
can answer with the same page.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from mapping.vocab import SLUG, Vocab
from server.ops.admission import ADMITTED
from server.protocol.canned import QUERIES_DIR, read_query
from server.protocol.contract import responses
from server.protocol.head import FileAnswer
from server.settings import Settings
from server.web import charts, describe
from server.web.describe import Link, Linker, Node, Select, Site, sparql_string
from server.web.pages import TEMPLATES_DIR, StoreData, StoreRef, templates

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
VENDOR_DIR = STATIC_DIR / "vendor"

KIND_NAMES = {
    "pillar": ("Pillars", "重点领域"),
    "task": ("Tasks", "重点工作"),
    "statistics": ("Statistics observations", "统计观测"),
    "target": ("Targets", "目标"),
    "org": ("Organisations", "机构"),
    "place": ("Places", "行政区划"),
    "region": ("Regions", "区域"),
    "project": ("Named projects", "重点项目"),
    "span": ("Source spans", "原文片段"),
}

SEARCH_LIMIT = 50
MAX_QUERY = 200  # characters of a search; longer input is cut, not refused
SNIPPET = 40


@dataclass(frozen=True)
class Hit:
    item: Link
    kind: str
    matched: str  # the label or text that matched
    before: str
    match: str
    after: str
    in_label: bool


def _snippet(text: str, needle: str) -> tuple[str, str, str]:
    at = text.lower().find(needle.lower())
    if at < 0:
        return "", text[: SNIPPET * 2], ""
    before = text[max(0, at - SNIPPET) : at]
    after = text[at + len(needle) : at + len(needle) + SNIPPET]
    return (
        ("…" if at > SNIPPET else "") + before,
        text[at : at + len(needle)],
        after + ("…" if at + len(needle) + SNIPPET < len(text) else ""),
    )


def search(site: Site, select: Select, q: str, query: str, plan: str | None = None) -> list[Hit]:
    """Things whose labels, alternative labels, titles or text contain ``q`` (any case).

    ``query`` is the body of the canned query ``queries/search.rq`` (one query for the search box and
    for ``/queries/search``): a substring match (CONTAINS), which is what a reader of Chinese expects
    without a word segmenter, and case-insensitive for English. Label matches rank before text matches.
    ``plan``: the slug of the one plan to search (its parameter ``plan`` of the canned query).
    """
    needle = q.strip()[:MAX_QUERY]
    if not needle:
        return []
    # ?q is bound as a typed literal, never spliced into the query text.
    rows = [
        {"s": row["thing"], "p": row["property"], "text": row["text"]}
        for row in select(
            query, {"q": Node("literal", needle), **({"plan": Node("literal", plan)} if plan else {})}
        )
    ]
    best: dict[str, tuple[bool, str]] = {}
    for row in rows:
        s, p, text = row["s"].value, row["p"].value, row["text"].value
        in_label = p != f"{site.terms}text"
        current = best.get(s)
        if current is None or (in_label and not current[0]):
            best[s] = (in_label, text)
    linker = Linker(site, select)
    linker.prefetch(best)

    def rank(item: tuple[str, tuple[bool, str]]) -> tuple[object, ...]:
        iri, (in_label, text) = item
        exact = text.strip().lower() == needle.lower()
        return (not exact, not in_label, len(text) if in_label else 0, describe._natural(iri))

    hits = []
    for iri, (in_label, text) in sorted(best.items(), key=rank)[:SEARCH_LIMIT]:
        before, match, after = _snippet(text, needle)
        hits.append(Hit(linker.link(iri), site.kind(iri) or "", text, before, match, after, in_label))
    return hits


@dataclass(frozen=True)
class PlanEntry:
    """A plan of the corpus as the home page lists it."""

    slug: str
    link: Link
    title: str
    period: str | None
    page: str  # its own page, {prefix}plans/{slug}
    tasks: int
    targets: int


@dataclass(frozen=True)
class Overview:
    plan: Link | None
    title: str | None  # the plan's title (zh); None when the graph holds no plan or several
    source_name: str | None
    source_sha256: str | None
    source_link: Link | None
    triples: int
    counts: list[tuple[str, str, str, int]]  # kind, english, chinese, number
    pillars: list[Link]
    plans: list[PlanEntry] = field(default_factory=list)
    graph: str | None = None  # the plan's named graph, when this is one plan's overview


def plan_graph_iri(site: Site, slug: str) -> str:
    return f"{site.things}graph/plan/{slug}"


def plans(site: Site, select: Select) -> list[PlanEntry]:
    """The plans of the corpus, by slug: title, period, counts of tasks and targets."""
    pk, eli = site.terms, describe.ELI
    rows = select(f"""
        SELECT ?plan ?title ?period (COUNT(DISTINCT ?task) AS ?tasks) (COUNT(DISTINCT ?target) AS ?targets)
        WHERE {{
          ?plan a <{pk}Plan> ; <{eli}title> ?title .
          OPTIONAL {{ ?plan <http://purl.org/dc/terms/temporal> ?p . ?p <{RDFS_LABEL}> ?period }}
          OPTIONAL {{ ?task a <{pk}Task> ; <{pk}pillar>/<{eli}is_part_of> ?plan .
                     OPTIONAL {{ ?target <{pk}task> ?task }} }}
        }} GROUP BY ?plan ?title ?period ORDER BY ?plan""")
    linker = Linker(site, select)
    linker.prefetch(r["plan"].value for r in rows)
    out = []
    for row in rows:
        # A plan of the one-plan layout ({base}id/plan, no slug) is the home page itself.
        slug = site.plan_slug(row["plan"].value) or ""
        out.append(
            PlanEntry(
                slug,
                linker.link(row["plan"].value),
                row["title"].value,
                row["period"].value if "period" in row else None,
                f"{site.prefix}plans/{slug}" if slug else site.prefix,
                int(row["tasks"].value),
                int(row["targets"].value),
            )
        )
    return out


RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def overview(site: Site, select: Select, slug: str | None = None) -> Overview:
    """What the home page says about the dataset (``slug`` None: the corpus; when it holds one plan,
    that plan's pillars and source too) or a plan's page says about one plan (its named graph)."""
    listed = plans(site, select)
    if slug is None and len(listed) == 1:
        focus: PlanEntry | None = listed[0]
    else:
        focus = next((p for p in listed if p.slug and p.slug == slug), None) if slug else None
    graph = plan_graph_iri(site, slug) if slug else None
    linker = Linker(site, select)
    triples_rows = select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {describe.within(graph, '?s ?p ?o')} }}")
    triples = int(triples_rows[0]["n"].value) if triples_rows else 0
    subjects = select(
        f"SELECT DISTINCT ?s WHERE {{ {describe.within(graph, '?s a ?t')} "
        f"FILTER(STRSTARTS(STR(?s), {sparql_string(site.things)})) }}"
    )
    tally: dict[str, int] = {}
    for row in subjects:
        kind = site.kind(row["s"].value)
        if kind == "statistics" and row["s"].value.endswith("/statistics"):
            continue  # the data set itself; its observations are counted
        if kind in KIND_NAMES:
            tally[kind] = tally.get(kind, 0) + 1
    counts = [(k, *KIND_NAMES[k], tally[k]) for k in KIND_NAMES if k in tally]
    if focus is None:
        return Overview(None, None, None, None, None, triples, counts, [], listed, graph)
    plan_iri = focus.link.iri
    source = plan_iri + "/source" if focus.slug else site.things + "source"
    src = select(
        f"SELECT ?name ?sha WHERE {{ OPTIONAL {{ <{source}> <{site.terms}fileName> ?name }} "
        f"OPTIONAL {{ <{source}> <{site.terms}sha256> ?sha }} }}"
    )
    name = src[0]["name"].value if src and "name" in src[0] else None
    sha = src[0]["sha"].value if src and "sha" in src[0] else None
    pillar_rows = select(
        f"SELECT ?p ?pos WHERE {{ ?p a <{site.terms}Pillar> ; <{describe.ELI}is_part_of> <{plan_iri}> ; "
        f"<{site.terms}position> ?pos }}"
    )
    pillars = sorted(pillar_rows, key=lambda r: int(r["pos"].value) if r["pos"].value.isdigit() else 0)
    linker.prefetch([plan_iri, source, *(r["p"].value for r in pillars)])
    return Overview(
        plan=linker.link(plan_iri),
        title=focus.title,
        source_name=name,
        source_sha256=sha,
        source_link=linker.link(source) if name or sha else None,
        triples=triples,
        counts=counts,
        pillars=[linker.link(r["p"].value) for r in pillars],
        plans=listed,
        graph=plan_graph_iri(site, focus.slug) if focus.slug else None,
    )


def query_page(
    request: Request, site: Site, prefixes: Mapping[str, str], tpl: Jinja2Templates
) -> HTMLResponse:
    """The query page: YASGUI over this server's /sparql, our prefixes preloaded, canned queries as
    examples (read from ``GET /queries`` in the browser), shareable links (YASGUI's URL state).

    Without JavaScript the page is a plain form that sends the query to /sparql.
    """
    prefix_lines = "\n".join(f"PREFIX {k}: <{v}>" for k, v in prefixes.items())
    default_query = (
        f"{prefix_lines}\n\nSELECT ?task ?title WHERE {{\n  ?task a pk:Task ; rdfs:label ?title .\n"
        f'  FILTER(LANG(?title) = "zh")\n}}\nORDER BY ?task\nLIMIT 20\n'
    )
    config = {
        "endpoint": f"{site.prefix}sparql",
        "base": site.base,
        "queries": f"{site.prefix}queries",
        "defaultQuery": default_query,
        "prefixes": dict(prefixes),
    }
    return tpl.TemplateResponse(
        request,
        "query.html",
        {
            "request": request,
            "prefix": site.prefix,
            "alternates": [],
            "config_json": json.dumps(config, ensure_ascii=False).replace("</", "<\\/"),
            "default_query": default_query,
            "assets": (VENDOR_DIR / "yasgui" / "yasgui.min.js").is_file(),
        },
    )


def _static_file(path: str) -> Response:
    root = STATIC_DIR.resolve()
    missing = Response("not found\n", status_code=404, media_type="text/plain; charset=utf-8")
    if "\x00" in path:  # no file name holds one (resolve() would raise ValueError: a 500)
        return missing
    try:
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return missing
    except OSError:  # a name longer than the file system takes (ENAMETOOLONG), and the like
        return missing
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type == "application/javascript":
        media_type += "; charset=utf-8"
    return FileAnswer(target, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})


SVG = "image/svg+xml"


def docs_page(prefix: str, openapi_url: str) -> str:
    """/docs: swagger-ui from this server's static files, started by static/docs.js (no inline script)."""
    vendor = f"{prefix}static/vendor/swagger-ui"
    config = json.dumps({"openapi": openapi_url}).replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f'<link rel="stylesheet" href="{vendor}/swagger-ui.css">\n'
        f'<link rel="icon" href="{vendor}/favicon-32x32.png">\n<title>plankg API</title>\n</head>\n<body>\n'
        '<div id="swagger-ui"></div>\n'
        f'<script id="plankg-docs" type="application/json">{config}</script>\n'
        f'<script src="{vendor}/swagger-ui-bundle.js"></script>\n'
        f'<script src="{prefix}static/docs.js"></script>\n</body>\n</html>\n'
    )


def make_router(
    site: Site, select: Select, prefixes: Mapping[str, str], openapi_url: str = "/openapi.json"
) -> APIRouter:
    """Home, query page, search, charts, static assets and an offline /docs under the base's path."""
    router = APIRouter(tags=["web front end"])
    p = site.prefix
    tpl = templates()
    search_query = read_query(QUERIES_DIR / "search.rq").body

    async def overview_page(request: Request, slug: str | None) -> HTMLResponse:
        # A slug no plan could have (lower-case ASCII words joined by '-') names no graph: the 404 page.
        valid = slug is None or SLUG.fullmatch(slug) is not None
        info = await asyncio.to_thread(overview, site, select, slug if valid else None)
        if slug is not None and (not valid or info.plan is None):
            return tpl.TemplateResponse(
                request,
                "notfound.html",
                {
                    "request": request,
                    "prefix": p,
                    "alternates": [],
                    "iri": f"{site.things}plan/{slug}",
                    "guess": slug,
                    "things": site.things,
                    "terms": site.terms,
                    "suggestions": [e.link for e in info.plans],
                },
                status_code=404,
            )
        invest, years = await asyncio.gather(
            asyncio.to_thread(charts.investment_by_pillar, site, select, info.graph),
            asyncio.to_thread(charts.targets_by_year, site, select, info.graph),
        )
        return tpl.TemplateResponse(
            request,
            "home.html",
            {
                "request": request,
                "prefix": p,
                "alternates": [],
                "info": info,
                "slug": slug,
                "investment_svg": charts.investment_svg(invest) if info.plan else None,
                "targets_svg": charts.targets_svg(years) if info.plan else None,
            },
        )

    @router.get(
        p,
        response_class=HTMLResponse,
        summary="Home page: the plans, counts; one plan's pillars, charts",
        dependencies=[ADMITTED],
        responses=responses(["text/html"], 503),
    )
    async def home(request: Request) -> HTMLResponse:
        return await overview_page(request, None)

    @router.get(
        f"{p}plans/{{slug}}",
        response_class=HTMLResponse,
        summary="A plan's page: counts, pillars, charts",
        dependencies=[ADMITTED],
        responses=responses(["text/html"], 503, also={404: {"content": {"text/html": {}}}}),
    )
    async def plan_page(request: Request, slug: str) -> HTMLResponse:
        return await overview_page(request, slug)

    @router.get(
        f"{p}query",
        response_class=HTMLResponse,
        summary="Query page (YASGUI)",
        responses=responses(["text/html"]),
    )
    async def query(request: Request) -> HTMLResponse:
        return query_page(request, site, prefixes, tpl)

    @router.get(
        f"{p}search",
        response_class=HTMLResponse,
        summary="Search labels and task text (zh, en)",
        dependencies=[ADMITTED],
        responses=responses(["text/html"], 503),
    )
    async def search_page(request: Request, q: str = "", plan: str = "") -> HTMLResponse:
        scope = plan.strip() or None
        hits = await asyncio.to_thread(search, site, select, q, search_query, scope) if q.strip() else []
        listed = await asyncio.to_thread(plans, site, select)
        return tpl.TemplateResponse(
            request,
            "search.html",
            {
                "request": request,
                "prefix": p,
                "alternates": [],
                "q": q,
                "plan": scope or "",
                "plans": listed,
                "hits": hits,
                "kinds": KIND_NAMES,
                "limit": SEARCH_LIMIT,
            },
        )

    @router.get(
        f"{p}charts/investment.svg",
        summary="Chart: investment by pillar and stage (SVG)",
        dependencies=[ADMITTED],
        response_class=Response,
        responses=responses([SVG], 503),
    )
    async def investment_chart() -> Response:
        data = await asyncio.to_thread(charts.investment_by_pillar, site, select)
        return Response(charts.investment_svg(data), media_type=SVG)

    @router.get(
        f"{p}charts/targets.svg",
        summary="Chart: targets by target year (SVG)",
        dependencies=[ADMITTED],
        response_class=Response,
        responses=responses([SVG], 503),
    )
    async def targets_chart() -> Response:
        data = await asyncio.to_thread(charts.targets_by_year, site, select)
        return Response(charts.targets_svg(data), media_type=SVG)

    @router.get(f"{p}static/{{path:path}}", include_in_schema=False)
    async def static(path: str) -> Response:
        return _static_file(path)

    @router.get(f"{p}docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_page(p, openapi_url))

    return router


def router(settings: Settings, store: StoreRef, openapi_url: str = "/openapi.json") -> APIRouter:
    """The front-end routes for ``create_app``:
    ``app.include_router(ui.router(settings, lambda: app.state.store))``.

    The app must be created with ``docs_url=None, redoc_url=None``: ``{base path}docs`` is served here
    with swagger-ui from this server's static files, so it works offline.
    """
    site = Site(settings.base, tuple(Vocab(settings.base).prefixes().items()))
    data = StoreData(store, settings.base, settings.query_timeout)
    return make_router(site, data.select, Vocab(settings.base).prefixes(), openapi_url)


def query_page_handler(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """For ``GET /sparql`` without a query from a browser:
    ``app.state.query_page = ui.query_page_handler(settings)``."""
    site, prefixes = Site(settings.base), Vocab(settings.base).prefixes()
    tpl = templates()  # read and compiled once, not on the event loop per page

    async def page(request: Request) -> Response:
        return query_page(request, site, prefixes, tpl)

    return page


__all__ = ["TEMPLATES_DIR", "make_router", "overview", "query_page", "query_page_handler", "router", "search"]
