"""Forwarded headers (server.protocol.forwarded): honoured from configured proxies only.

The absolute URLs the server writes into answers as locations (the versions index, the change set's
file links) take the origin the client addressed: behind a trusted proxy the forwarded one, otherwise
the socket's scheme and Host. A spoofed X-Forwarded-Host from any other peer changes nothing.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.app import create_app
from server.protocol.forwarded import ForwardedHeaders, is_trusted, parse_forwarded, read_forwarded
from server.settings import Settings, SettingsError, _networks
from tests.browser.harness import serve_plan
from tests.conftest import BuiltPlan
from tests.test_build import SHAPES, VOCAB, Dirs, run_build

PROXY = "10.0.0.5"
SPOOF = {"x-forwarded-host": "evil.example", "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9"}


async def echo(request: Request) -> Response:
    client = request.client
    return JSONResponse({"url": str(request.url), "client": client.host if client else None})


def echo_app(trusted: str) -> Starlette:
    app = Starlette(routes=[Route("/x", echo)])
    app.add_middleware(ForwardedHeaders, trusted=_networks(trusted))
    return app


def seen(trusted: str, peer: str, headers: dict[str, str]) -> dict[str, str]:
    with TestClient(echo_app(trusted), client=(peer, 4711)) as c:
        body: dict[str, str] = c.get("/x", headers=headers).json()
    return body


def test_a_trusted_proxy_sets_scheme_host_and_client() -> None:
    assert seen("10.0.0.0/8", PROXY, SPOOF) == {"url": "https://evil.example/x", "client": "203.0.113.9"}


def test_the_same_headers_from_an_untrusted_peer_are_ignored() -> None:
    assert seen("10.0.0.0/8", "192.0.2.7", SPOOF) == {"url": "http://testserver/x", "client": "192.0.2.7"}
    assert seen("", PROXY, SPOOF) == {"url": "http://testserver/x", "client": PROXY}


def test_rfc_7239_forwarded_wins_and_its_last_element_counts() -> None:
    headers = {
        "forwarded": (
            "for=198.51.100.1;host=a.example, "
            'for="[2001:db8::1]:80";proto=https;host="plans.example.org:8443"'
        ),
        **SPOOF,
    }
    assert seen("10.0.0.5", PROXY, headers) == {
        "url": "https://plans.example.org:8443/x",
        "client": "2001:db8::1",
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"x-forwarded-host": "evil.example/../x", "x-forwarded-proto": "gopher"},
        {"x-forwarded-host": "a b", "x-forwarded-proto": "javascript"},
        {"forwarded": 'host="x\r\ny";proto=ftp'},
    ],
)
def test_malformed_forwarded_values_are_ignored_even_from_a_proxy(headers: dict[str, str]) -> None:
    assert seen("10.0.0.5", PROXY, headers)["url"] == "http://testserver/x"


def test_helpers() -> None:
    assert parse_forwarded('for=1.2.3.4;Proto=HTTPS;host="h.example"') == {
        "for": "1.2.3.4",
        "proto": "HTTPS",
        "host": "h.example",
    }
    assert (
        read_forwarded({"x-forwarded-proto": "http, https", "x-forwarded-host": "a.example, b.example"}).host
        == "b.example"
    )
    assert is_trusted("::1", _networks("::1"))
    assert not is_trusted("testclient", _networks("127.0.0.1"))
    assert not is_trusted("127.0.0.1", ())


def test_trusted_proxies_setting() -> None:
    settings = Settings.from_env({"PLANKG_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"})
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(SettingsError, match="not an address or CIDR block"):
        Settings.from_env({"PLANKG_TRUSTED_PROXIES": "proxy.example"})


@pytest.fixture
def built(tmp_path: Path) -> Dirs:
    d = Dirs(tmp_path / "seeds", tmp_path / "dist", tmp_path / "var" / "store", tmp_path / "ontology")
    d.seeds.mkdir()
    d.ontology.mkdir()
    (d.ontology / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    d.write_seed("title: 测试计划\ntask 1: 推进绿色发展\n")
    (d.seeds / "plan.plan.toml").write_text('slug = "toy"\n', encoding="utf-8")  # as tests/test_build.py
    run_build(d)
    return d


@pytest.mark.parametrize(
    ("peer", "origin"),
    [(PROXY, "https://evil.example"), ("192.0.2.7", "http://testserver")],
)
def test_the_versions_index_links_on_the_public_origin(built: Dirs, peer: str, origin: str) -> None:
    settings = Settings(
        base=VOCAB.base, store_dir=built.store, dist_dir=built.dist, trusted_proxies=_networks("10.0.0.0/8")
    )
    with TestClient(create_app(settings), client=(peer, 4711)) as c:
        listing = c.get("/plan/dumps/versions/?format=json", headers=SPOOF).json()
        changes = c.get("/plan/changes?format=json", headers=SPOOF).json()
    (version,) = listing["versions"]
    assert version["url"] == f"{origin}/plan/dumps/versions/{version['build_id']}/"
    assert changes["files"]["added"] == f"{origin}/plan/dumps/changes.added.nq"
    # identifiers never follow the request: the description keeps the configured base
    assert (
        f"{VOCAB.base}dumps/versions/{version['build_id']}/plankg.nq.gz"
        in (built.dist / "void.ttl").read_text()
    )


def test_several_server_processes_ignore_forwarded_headers_from_an_unconfigured_peer(
    built_plan: BuiltPlan,
) -> None:
    """`plankg serve` with two processes (the default on two cores) ran uvicorn with its own proxy
    headers on, which trust 127.0.0.1: a local client's X-Forwarded-Proto made the versions index
    link https://, whatever PLANKG_TRUSTED_PROXIES said; and without the guarded protocol a request
    the parser refuses was answered text/plain."""
    with serve_plan(built_plan.settings.store_dir, built_plan.dist, timeout=180, processes=2) as origin:
        for _ in range(6):  # new connections: the kernel spreads them over both processes
            listing = httpx.get(f"{origin}/dumps/versions/?format=json", headers=SPOOF).json()
            assert all(v["url"].startswith(f"{origin}/dumps/versions/") for v in listing["versions"]), listing
            assert listing["versions"]
        host, port = origin.removeprefix("http://").split(":")
        for _ in range(4):
            with socket.create_connection((host, int(port)), timeout=10) as sock:  # httpx refuses the URL
                sock.sendall(b"GET /reconcile?queries=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/problem+json" in head
            assert json.loads(body)["title"] == "Bad HTTP request"
