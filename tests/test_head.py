"""HEAD on every GET route: the GET answer's status and headers, no body (server.protocol.head)."""

from __future__ import annotations

import pytest

from tests.conftest import TestClient

IDENTITY = {"Accept-Encoding": "identity"}
HTML = {"Accept": "text/html", **IDENTITY}

# (path, extra request headers)
GET_ROUTES: list[tuple[str, dict[str, str]]] = [
    ("/", HTML),
    ("/query", HTML),
    ("/search?q=%E7%BB%BF%E8%89%B2", HTML),
    ("/queries", IDENTITY),
    ("/queries", HTML),
    ("/queries/pillars", IDENTITY),
    ("/queries/plan-totals", {"Accept": "text/csv", **IDENTITY}),
    ("/.well-known/void", IDENTITY),
    ("/dumps/", IDENTITY),
    ("/dumps/", HTML),
    ("/dumps/plankg.ttl", IDENTITY),
    ("/healthz", IDENTITY),
    ("/metrics", IDENTITY),
    ("/docs", IDENTITY),
    ("/openapi.json", IDENTITY),
    ("/charts/investment.svg", IDENTITY),
    ("/charts/targets.svg", IDENTITY),
    ("/static/plankg.css", IDENTITY),
    ("/sparql?query=ASK%20%7B%7D", IDENTITY),
    ("/id/plan", IDENTITY),
    ("/doc/plan", HTML),
    ("/nothing-here", IDENTITY),
]
VARYING = {"date", "content-length", "x-cache"}  # /metrics grows; a repeated query is a cache hit


@pytest.mark.parametrize(("path", "headers"), GET_ROUTES)
def test_head_answers_like_get_without_a_body(
    plan_client: TestClient, path: str, headers: dict[str, str]
) -> None:
    got = plan_client.get(path, headers=headers, follow_redirects=False)
    head = plan_client.head(path, headers=headers, follow_redirects=False)
    assert head.status_code == got.status_code
    assert head.content == b""
    assert head.headers.get("content-type") == got.headers.get("content-type")
    if path == "/metrics":
        assert ("content-length" in head.headers) == ("content-length" in got.headers)
        return
    assert head.headers.get("content-length") == got.headers.get("content-length")
    if "content-length" in got.headers:
        assert int(head.headers["content-length"]) == len(got.content)
    assert {k: v for k, v in head.headers.items() if k not in VARYING} == {
        k: v for k, v in got.headers.items() if k not in VARYING
    }


def test_head_of_a_compressed_answer_names_the_compressed_length(plan_client: TestClient) -> None:
    gzip = {"Accept-Encoding": "gzip", "Accept": "application/json"}
    with plan_client.stream("GET", "/dumps/", headers=gzip) as got:
        raw = b"".join(got.iter_raw())
    head = plan_client.head("/dumps/", headers=gzip)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-encoding"] == got.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == str(len(raw))


def test_head_is_logged_and_counted_as_head(plan_client: TestClient) -> None:
    plan_client.head("/healthz")
    text = plan_client.get("/metrics").text
    assert 'plankg_http_requests_total{route="/healthz",method="HEAD",status="200"}' in text
