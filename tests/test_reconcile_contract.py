"""The reconciliation service's OpenAPI declaration (server/reconcile/openapi.py) and what the service
does agree: each case here is one that schemathesis (tests/test_contract.py) found or would find, with
its answer checked. Golden values come from the seed build (tests/test_reconcile.py has the rest)."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from server.reconcile import openapi, requests
from tests.conftest import TestClient

pytestmark = pytest.mark.slow

BASE = "http://127.0.0.1:8000/"
ORG = "http://www.w3.org/ns/org#Organization"
PLACE = BASE + "def/Place"
JINAN = BASE + "id/place/370100"


def _paths(client: TestClient) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Duplicate Operation ID")
        paths: dict[str, Any] = client.get("/openapi.json").json()["paths"]
    return paths


def _refused(client: TestClient, path: str, params: dict[str, str], reason: str) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert reason in r.json()["detail"], r.json()["detail"]


def test_every_operation_declares_its_parameters(plan_client: TestClient) -> None:
    paths = _paths(plan_client)
    declared = {
        (path, method): [p["name"] for p in op.get("parameters", [])]
        for path, ops in paths.items()
        if path.startswith("/reconcile")
        for method, op in ops.items()
    }
    assert declared == {
        ("/reconcile", "get"): ["queries", "extend", "callback"],
        ("/reconcile", "post"): ["callback"],
        ("/reconcile/suggest/entity", "get"): ["prefix", "type", "limit", "cursor", "callback"],
        ("/reconcile/suggest/type", "get"): ["prefix", "limit", "cursor", "callback"],
        ("/reconcile/suggest/property", "get"): ["prefix", "type", "limit", "cursor", "callback"],
        ("/reconcile/properties", "get"): ["type", "limit", "callback"],
        ("/reconcile/preview", "get"): ["id"],
    }
    get = paths["/reconcile"]["get"]
    assert list(get["parameters"][0]["content"]) == ["application/json"]
    assert sorted(get["responses"]["200"]["content"]) == ["application/javascript", "application/json"]
    form = paths["/reconcile"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert form["schema"]["properties"]["queries"]["format"] == "reconciliation-queries"
    assert sorted(paths["/reconcile"]["post"]["responses"]) == ["200", "400", "413", "415", "503"]
    assert list(paths["/reconcile/preview"]["get"]["responses"]["200"]["content"]) == ["text/html"]


def test_the_declared_batch_schema_is_what_the_service_takes(plan_client: TestClient) -> None:
    schema = openapi.batch_schema(BASE)
    Draft202012Validator.check_schema(schema)
    valid = Draft202012Validator(schema)
    accepted = [
        {"q0": {"query": "济南市", "type": PLACE, "properties": [{"pid": "code", "v": "370100"}]}},
        {"q0": {"properties": [{"pid": "alias", "v": ["泉城"]}]}},
        {"q0": {"query": "x", "type": [ORG, PLACE], "limit": 3, "type_strict": "all"}},
        {"q0": {"query": "发改委", "type": [], "properties": [{"pid": "code", "v": {"id": JINAN}}]}},
    ]
    refused = [
        (
            {"q0": {"query": "济南", "type": ORG, "properties": [{"pid": "code", "v": "1"}]}},
            "unknown property",
        ),
        ({"q0": {"query": " \u3000\t"}}, "needs a 'query' text or 'properties'"),
        ({"q0": {"query": "x", "properties": [{"pid": "alias", "v": {"id": 5}}]}}, "properties[0].v must be"),
        ({"q0": {"query": "x", "limit": 0}}, "'limit' must be a positive integer"),
        ({"q0": {"query": "x", "colour": "red"}}, "unknown member 'colour'"),
    ]
    for batch in accepted:
        assert valid.is_valid(batch), batch
        r = plan_client.get("/reconcile", params={"queries": json.dumps(batch)})
        assert r.status_code == 200, r.text
        assert set(r.json()) == {"q0"}
    assert (
        plan_client.get("/reconcile", params={"queries": json.dumps(accepted[0])}).json()["q0"]["result"][0][
            "id"
        ]
        == JINAN
    )
    for batch, reason in refused:
        assert not valid.is_valid(batch), batch
        _refused(plan_client, "/reconcile", {"queries": json.dumps(batch)}, reason)


def test_odd_numbers_and_digits_are_refused_not_a_server_error(plan_client: TestClient) -> None:
    # json.loads reads Infinity; int(inf) raised OverflowError (500). "²".isdigit() is True and
    # int("²") raised ValueError (500); "٣" read as 3.
    _refused(plan_client, "/reconcile", {"queries": '{"q0": {"query": "x", "limit": Infinity}}'}, "'limit'")
    _refused(plan_client, "/reconcile/suggest/entity", {"prefix": "济", "cursor": "²"}, "'cursor' must be")
    _refused(plan_client, "/reconcile/suggest/type", {"prefix": "P", "limit": "٣"}, "'limit' must be")
    extend = {"ids": [JINAN], "properties": [{"id": "code", "settings": {"limit": "²"}}]}
    _refused(plan_client, "/reconcile", {"extend": json.dumps(extend)}, "settings.limit must be")
    extend["properties"][0]["settings"] = {"limit": "1"}
    r = plan_client.get("/reconcile", params={"extend": json.dumps(extend)})
    assert r.status_code == 200
    assert r.json()["rows"][JINAN]["code"] == [{"str": "370100"}]


def test_an_empty_type_is_an_unknown_type_as_declared(plan_client: TestClient) -> None:
    # The description lists the type ids; '' was read as "no type" and answered every property.
    _refused(plan_client, "/reconcile/properties", {"type": ""}, "unknown type ''")
    _refused(plan_client, "/reconcile/suggest/entity", {"prefix": "济", "type": ""}, "unknown type ''")


def test_a_callback_is_matched_whole(plan_client: TestClient) -> None:
    # re.match with $ took "cb\n" (the end of the line before a final line break).
    _refused(plan_client, "/reconcile", {"callback": "cb\n"}, "'callback' must be a JavaScript identifier")
    r = plan_client.get("/reconcile", params={"callback": "cb"})
    assert r.status_code == 200 and r.text.startswith("/**/cb({")


def test_blank_is_white_space_as_json_schema_counts_it() -> None:
    assert requests.is_blank(" \t\n\u3000\u00a0\ufeff")
    assert not requests.is_blank("\x1c")  # str.strip() removes it; the description's \s does not
    assert not requests.is_blank(" 济 ")


def test_allow_names_every_method_of_the_service(plan_client: TestClient) -> None:
    r = plan_client.options("/reconcile")
    assert r.status_code == 204
    assert r.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    r = plan_client.put("/reconcile")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert r.json()["detail"] == "PUT is not allowed on /reconcile; allowed: GET, HEAD, POST, OPTIONS"
    r = plan_client.delete("/reconcile/preview")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
