"""Security hygiene: the security headers on every answer, and odd bytes in every path parameter.

Headers: every GET operation of the OpenAPI description (the test fails when a route has no sample
below, so a new route cannot slip by), the routes kept out of it (/docs, /static, /openapi.json), and
errors (404, 405, 400, 406). Paths: ``..`` written raw and percent-encoded, NUL, backslashes, overlong
UTF-8, invalid UTF-8 and very long segments in each path parameter; each answer's body is checked for
what it says (never the file it must not send).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from server.ops.security import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from tests.conftest import BuiltPlan, TestClient
from tests.test_pages import raw_get

SOURCE = "jinan-nddc-green-lowcarbon-action-plan.txt"
HTML = {"Accept": "text/html"}

# A request for each GET path template of the OpenAPI description.
SAMPLES: dict[str, tuple[str, dict[str, str]]] = {
    "/sparql": ("/sparql?query=ASK%20%7B%7D", {}),
    "/queries": ("/queries", {}),
    "/dumps/": ("/dumps/", {}),
    "/dumps/{name}": ("/dumps/plankg.ttl", {}),
    "/.well-known/void": ("/.well-known/void", {}),
    "/id/{path}": ("/id/plan", {}),
    "/def/{path}": ("/def/Task", {}),
    "/doc/{area}/{path}": ("/doc/id/plan", HTML),
    "/source/{name}": (f"/source/{SOURCE}", {}),
    "/": ("/", HTML),
    "/query": ("/query", HTML),
    "/search": ("/search?q=%E7%BB%BF%E8%89%B2", HTML),
    "/charts/investment.svg": ("/charts/investment.svg", {}),
    "/charts/targets.svg": ("/charts/targets.svg", {}),
    "/healthz": ("/healthz", {}),
    "/metrics": ("/metrics", {}),
    "/plans/{slug}": ("/plans/jinan-green-low-carbon-2023-2025", HTML),
    "/dumps/versions/": ("/dumps/versions/", {}),
    "/dumps/versions/{build_id}/{name}": ("/dumps/versions/0000/plankg.ttl", {}),  # the 404 of an unkept id
    "/changes": ("/changes", {}),
    "/changes/{span}": ("/changes/a..b", {}),  # 404: not kept
    "/reconcile": ("/reconcile", {}),
    "/reconcile/suggest/entity": ("/reconcile/suggest/entity?prefix=%E5%B1%B1", {}),
    "/reconcile/suggest/type": ("/reconcile/suggest/type?prefix=Or", {}),
    "/reconcile/suggest/property": ("/reconcile/suggest/property?prefix=c", {}),
    "/reconcile/properties": ("/reconcile/properties", {}),
    "/reconcile/preview": ("/reconcile/preview?id=x", {}),  # 404: unknown entity
}
OUTSIDE_THE_DESCRIPTION = [
    ("/docs", {}),
    ("/openapi.json", {}),
    ("/static/plankg.css", {}),
    ("/static/docs.js", {}),
    ("/nothing-here", {}),  # 404
    ("/sparql?query=SELEC", {}),  # 400
    ("/sparql?query=ASK%7B%7D&format=png", {}),  # 406
]


def get_paths(client: TestClient) -> list[str]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Duplicate Operation ID")
        paths = client.get("/openapi.json").json()["paths"]
    return [p for p, ops in paths.items() if "get" in ops]


def requests(client: TestClient) -> list[tuple[str, dict[str, str]]]:
    out = []
    for path in get_paths(client):
        if path.startswith("/queries/"):
            out.append((path, {}))  # a canned query: its defaults (or the 400 naming what it lacks)
        else:
            assert path in SAMPLES, f"no sample request for the GET route {path}: add one to SAMPLES"
            out.append(SAMPLES[path])
    return out + OUTSIDE_THE_DESCRIPTION


def assert_secured(headers: object, what: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, f"{what}: {name}"  # type: ignore[index]


def test_every_answer_carries_the_security_headers(plan_client: TestClient) -> None:
    seen = set()
    for path, headers in requests(plan_client):
        r = plan_client.get(path, headers=headers, follow_redirects=False)
        seen.add(r.status_code)
        assert_secured(r.headers, f"GET {path} ({r.status_code})")
        h = plan_client.head(path, headers=headers, follow_redirects=False)
        assert_secured(h.headers, f"HEAD {path}")
    assert {200, 303, 400, 404, 406} <= seen  # answers and errors were both among them
    r = plan_client.post("/sparql", content="ASK {}", headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 200 and r.json() == {"head": {}, "boolean": True}
    assert_secured(r.headers, "POST /sparql")
    r = plan_client.delete("/sparql")
    assert r.status_code == 405
    assert_secured(r.headers, "DELETE /sparql")


def test_the_policy_allows_only_this_servers_scripts_and_no_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"  # no inline script, no eval, no CDN
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert directives["object-src"] == "'none'"


def test_no_page_carries_an_inline_script(plan_client: TestClient) -> None:
    """What the policy refuses must not be on the pages: scripts are files or JSON data blocks."""
    import re

    for path in ("/", "/query", "/docs", "/doc/id/plan", "/search?q=x", "/nothing-here"):
        text = plan_client.get(path, headers=HTML).text
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S):
            assert "src=" in attrs or 'type="application/json"' in attrs, (path, attrs, body[:80])
        assert not re.search(r"<[^>]+\son[a-z]+=", text), path  # no inline event handler


def test_a_header_a_route_sets_itself_is_kept(plan_client: TestClient) -> None:
    from starlette.responses import Response

    from server.protocol.finishing import FinishAnswers

    async def app(scope: object, receive: object, send: object) -> None:
        await Response("x", headers={"Referrer-Policy": "no-referrer"})(scope, receive, send)  # type: ignore[arg-type]

    r = TestClient(FinishAnswers(app)).get("/")  # type: ignore[arg-type]
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers.get_list("referrer-policy") == ["no-referrer"]
    assert r.headers["x-content-type-options"] == "nosniff"


# --- odd bytes in path parameters ----------------------------------------------------------------

LONG = "a" * 5000
# (percent-encoded segment, what it decodes to where that is printable)
ODD = [
    "..%2Fpyproject.toml",
    "%2e%2e/%2e%2e/pyproject.toml",
    "%2E%2E%2F%2E%2E%2Fpyproject.toml",
    "a%00b",
    "..%5C..%5Cpyproject.toml",
    "%c0%ae%c0%ae/%c0%ae%c0%ae/pyproject.toml",  # overlong UTF-8 for '.'
    "%ff%fe",  # not UTF-8
    "%E2%80%AE",  # right-to-left override
    LONG,
]
SECRET = b"[build-system]"  # pyproject.toml's first line: never sent


@pytest.mark.parametrize("segment", ODD)
def test_odd_static_paths_are_the_static_404(plan_client: TestClient, segment: str) -> None:
    r = plan_client.get(f"/static/{segment}")
    assert (r.status_code, r.text) == (404, "not found\n")


@pytest.mark.parametrize("segment", [s for s in ODD if "/" not in s and "%2F" not in s])
def test_odd_source_names_are_refused_by_name(plan_client: TestClient, segment: str) -> None:
    r = plan_client.get(f"/source/{segment}")
    assert r.status_code == 404
    assert r.text.startswith("no source file ") and r.text.endswith(" here\n")
    assert SECRET.decode() not in r.text


@pytest.mark.parametrize("segment", [s for s in ODD if "/" not in s and "%2F" not in s])
def test_odd_dump_names_are_refused_by_name(plan_client: TestClient, segment: str) -> None:
    r = plan_client.get(f"/dumps/{segment}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"].startswith("no dump file '")


@pytest.mark.parametrize("segment", [s for s in ODD if "/" in s or "%2F" in s])
def test_dump_names_that_climb_match_no_dump(plan_client: TestClient, segment: str) -> None:
    r = plan_client.get(f"/dumps/{segment}")
    assert r.status_code == 404
    assert r.json()["detail"].startswith("nothing at /dumps/")
    assert SECRET.decode() not in r.text


@pytest.mark.parametrize("prefix", ["/id/", "/def/", "/doc/id/"])
@pytest.mark.parametrize("segment", ODD)
def test_odd_iris_are_the_html_404_naming_the_iri(plan_client: TestClient, prefix: str, segment: str) -> None:
    r = plan_client.get(prefix + segment, headers=HTML, follow_redirects=False)
    assert r.status_code == 404, r.text[:200]
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Not found" in r.text
    assert "Malformed query" not in r.text and SECRET.decode() not in r.text


def test_a_very_long_static_name_is_404_not_500(plan_client: TestClient) -> None:
    # 5000 characters is longer than a file name may be (ENAMETOOLONG): stat() raised OSError, a 500.
    r = plan_client.get("/static/" + LONG)
    assert (r.status_code, r.text) == (404, "not found\n")


def test_an_invalid_utf8_iri_is_a_404_not_a_malformed_query(plan_client: TestClient) -> None:
    # %ff%fe decodes to U+FFFD twice, which no IRI holds: the store's parser refused the lookup (400).
    r = plan_client.get("/doc/id/task/%ff%fe", headers=HTML)
    assert r.status_code == 404
    assert "Malformed query" not in r.text


@pytest.mark.parametrize(
    "path", ["/static/../pyproject.toml", "/source/../pyproject.toml", "/dumps/../pyproject.toml"]
)
def test_raw_dot_dot_segments_send_no_file(plan_client: TestClient, path: str) -> None:
    status, body = raw_get(plan_client.app, path)
    assert status == 404
    assert SECRET not in body


def test_the_source_and_a_dump_are_still_served(plan_client: TestClient, built_plan: BuiltPlan) -> None:
    """The refusals above are not a route that refuses everything."""
    r = plan_client.get(f"/source/{SOURCE}")
    assert r.status_code == 200 and r.text == built_plan.source
    r = plan_client.get("/dumps/plankg.ttl", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    assert r.content == Path(built_plan.dist / "plankg.ttl").read_bytes()
