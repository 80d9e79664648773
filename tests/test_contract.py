"""The OpenAPI description is the truth: schemathesis, every check, against the real server.

A ``plankg serve`` on a free loopback port over the seed build (``built_plan``); schemathesis's CLI
(its pytest plugin does not run under pytest 9) exercises every operation of /openapi.json with
schema-valid and schema-violating requests in all its phases (examples, coverage, fuzzing, stateful),
deterministically (the same requests every run), with ``--checks all``: no 5xx, documented statuses,
media types, headers and bodies, valid requests accepted, invalid ones refused, 405 with Allow for the
methods an operation lacks. What a schema cannot say is in tests/schemathesis.toml and
tests/contract_hooks.py (queries from the SPARQL grammar; 406 for a format the query cannot take).

Examples per operation: 30 (PLANKG_CONTRACT_EXAMPLES changes it; `make contract` runs 100).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.harness import REPO, serve_plan
from tests.conftest import BuiltPlan, TestClient

pytestmark = pytest.mark.slow

EXAMPLES = os.environ.get("PLANKG_CONTRACT_EXAMPLES", "30")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def origin(built_plan: BuiltPlan) -> Iterator[str]:
    with serve_plan(built_plan.settings.store_dir, built_plan.dist) as url:
        yield url


def run_schemathesis(origin: str, examples: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract_hooks", "PYTHONPATH": str(REPO)}
    command = [str(SCHEMATHESIS), "--no-color", "--config-file", str(REPO / "tests" / "schemathesis.toml")]
    command += ["run", f"{origin}/openapi.json", "--checks", "all", "--max-examples", examples]
    command += ["--workers", "1", "--report-dir", str(tmp)]
    return subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=900)


def test_every_operation_does_what_the_description_says(origin: str, tmp_path: Path) -> None:
    done = run_schemathesis(origin, EXAMPLES, tmp_path)
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-3000:]
    import re

    counts = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert counts is not None and counts[1] == counts[2] and int(counts[1]) > 1000, summary
    assert "Tested: 32" in summary or re.search(r"Tested: \d+", summary), summary


# --- what schemathesis found, each pinned by its own example ----------------------------------------


def test_head_keeps_the_connection_usable(origin: str) -> None:
    """HEAD changed the scope's method in place: uvicorn then expected the GET's body, raised
    "Response content shorter than Content-Length" and dropped the connection after each HEAD."""
    import socket

    host, port = origin.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        request = (
            f"HEAD /healthz HTTP/1.1\r\nHost: {host}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n"
        )
        sock.sendall(request.encode())
        received = b""
        while received.count(b"HTTP/1.1 200") < 2 or not received.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 2, received
    assert received.endswith(b"}") and b'"status":"ok"' in received


def test_the_service_description_as_n_quads_and_trig(plan_client: TestClient) -> None:
    # rdflib refused to write a lone graph as N-Quads: format=nquads without a query was a 500; TriG
    # put the description in a blank-node graph. Both now hold it in the default graph.
    import pyoxigraph as ox

    service = ox.NamedNode("http://www.w3.org/ns/sparql-service-description#Service")
    endpoint = ox.NamedNode("http://testserver/sparql")  # the endpoint URL the request reached
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for name, fmt in (("nquads", ox.RdfFormat.N_QUADS), ("trig", ox.RdfFormat.TRIG)):
        media_type = fmt.media_type
        r = plan_client.get(f"/sparql?format={name}")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(media_type)
        quads = list(ox.parse(r.content, fmt))
        assert ox.Quad(endpoint, rdf_type, service, ox.DefaultGraph()) in quads
        assert {q.graph_name for q in quads} == {ox.DefaultGraph()}
        r = plan_client.get("/sparql", headers={"Accept": media_type})
        assert r.status_code == 200


def test_an_empty_format_or_timeout_is_refused_not_ignored(plan_client: TestClient) -> None:
    # The description lists the format names and a positive number; "" is neither.
    r = plan_client.get("/sparql?query=ASK%7B%7D&format=")
    assert r.status_code == 406
    assert r.json()["detail"].startswith("unknown format ''")
    r = plan_client.get("/queries/pillars?format=")
    assert r.status_code == 406
    r = plan_client.get("/sparql?query=ASK%7B%7D&timeout=")
    assert r.status_code == 400
    assert r.json()["detail"] == "timeout='' is not a number of seconds"


def test_a_bad_timeout_is_refused_without_a_query_too(plan_client: TestClient) -> None:
    # schemathesis: HEAD /sparql?timeout=-3.9e307 (no query: the service description) was a 200.
    for method in ("GET", "HEAD"):
        r = plan_client.request(method, "/sparql", params={"timeout": "-3.9e307"})
        assert r.status_code == 400
    r = plan_client.get("/sparql", params={"timeout": "-3"})
    assert r.json()["detail"] == "timeout='-3' must be a positive number of seconds"
    assert plan_client.get("/sparql", params={"timeout": "2"}).status_code == 200


def test_a_forms_timeout_and_format_win_over_the_urls(plan_client: TestClient) -> None:
    r = plan_client.post(
        "/sparql?format=json&timeout=5",
        data={"query": "ASK {}", "format": "xml", "timeout": "3"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/sparql-results+xml")


def test_an_iri_parameter_outside_the_base_is_refused_as_documented(plan_client: TestClient) -> None:
    r = plan_client.get("/queries/source-passage?node=//example.org/x")
    assert r.status_code == 400
    assert r.json()["detail"].endswith(
        "is not an IRI under the base http://127.0.0.1:8000/ nor one relative to it"
    )


def test_the_description_names_no_422_and_the_charts_as_svg(plan_client: TestClient) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Duplicate Operation ID")
        paths = plan_client.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for operation in operations.values():
            assert "422" not in operation["responses"], path
    assert list(paths["/charts/targets.svg"]["get"]["responses"]["200"]["content"]) == ["image/svg+xml"]
    assert list(paths["/id/{path}"]["get"]["responses"]) == ["303", "503", "404", "400"]
