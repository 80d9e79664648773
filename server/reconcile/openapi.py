"""The reconciliation service in the OpenAPI description: each operation's parameters, bodies and answers.

What the routes (``router``) read and answer, written once as JSON Schemas so that /openapi.json says
exactly what ``requests`` accepts: a ``queries`` batch names only the service's types, and a property
of the types it names (``_query_schema``: one branch a type family); ``extend`` names known properties;
the suggest services' ``limit`` and ``cursor`` are integers; a ``callback`` is a dotted identifier.
The JSON texts ``queries`` and ``extend`` are query parameters with ``content: application/json`` on
GET; in a POSTed form they are strings of the formats ``reconciliation-queries`` and
``reconciliation-extend`` whose JSON has the same schema (an OpenAPI form property cannot be declared
as JSON text of a schema in a way clients generate from; tests/contract_hooks.py draws them).

What no schema can say is in the operation's description: ``queries`` and ``extend`` are not given
together (400), and a JSONP ``callback`` turns the JSON answer into ``application/javascript``.
"""

from __future__ import annotations

from typing import Any

from server.protocol.contract import responses
from server.reconcile import requests
from server.reconcile.schema import TYPES, TypeSpec

JSON = "application/json"
JAVASCRIPT = "application/javascript"
FORM = "application/x-www-form-urlencoded"
HTML = "text/html"
QUERIES_FORMAT = "reconciliation-queries"
EXTEND_FORMAT = "reconciliation-extend"


def type_ids(base: str, spec: TypeSpec) -> list[str]:
    """The type ids of a declared type: its class, then its subtypes' classes."""
    return [spec.absolute(base)] + [base + "def/" + sub.local for sub in spec.subtypes]


def all_type_ids(base: str) -> list[str]:
    return [t for spec in TYPES for t in type_ids(base, spec)]


def all_property_ids() -> list[str]:
    return sorted({p.id for spec in TYPES for p in spec.properties})


def _one_or_many(ids: list[str]) -> dict[str, Any]:
    return {
        "oneOf": [
            {"type": "string", "enum": ids},
            {"type": "array", "items": {"type": "string", "enum": ids}},
        ]
    }


_VALUE: dict[str, Any] = {
    "oneOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {
            "type": "object",
            "description": "another entity, e.g. reconciled before",
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            "required": ["id"],
        },
    ]
}


def _with_pids(pids: list[str]) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "object", "properties": {"pid": {"enum": pids}}}}


def _query_schema(base: str) -> dict[str, Any]:
    """One query of a batch, as ``requests.parse_query`` reads it.

    A property constraint's ``pid`` must be a property of the query's types (of any type without
    one): ``anyOf`` a branch per type family (its types, alone or listed, and its properties), a branch
    without types (every property), and one for types of several families (the properties all of
    them have; the service also takes a property of any one of them, which no schema short of one
    branch per combination of families could say)."""
    families = [(type_ids(base, spec), sorted({p.id for p in spec.properties})) for spec in TYPES]
    common = sorted(set.intersection(*(set(pids) for _, pids in families)))
    branches: list[dict[str, Any]] = [
        {
            "properties": {
                "type": {"type": "array", "maxItems": 0},
                "properties": _with_pids(all_property_ids()),
            }
        }
    ]
    for ids, pids in families:
        branches.append(
            {"required": ["type"], "properties": {"type": _one_or_many(ids), "properties": _with_pids(pids)}}
        )
    branches.append({"properties": {"properties": _with_pids(common)}})
    return {
        "type": "object",
        "properties": {
            "query": {
                "type": "string",
                "maxLength": requests.MAX_QUERY_TEXT,
                "description": "the text to match against the entities' names",
            },
            "type": {**_one_or_many(all_type_ids(base)), "description": "a type id or a list of them"},
            "limit": {"type": "integer", "minimum": 1, "description": "candidates at most"},
            "properties": {
                "type": "array",
                "description": "property values that the candidates' values are compared with",
                "items": {
                    "type": "object",
                    "properties": {
                        "pid": {"type": "string", "enum": all_property_ids()},
                        "v": {"oneOf": [_VALUE, {"type": "array", "items": _VALUE}]},
                    },
                    "required": ["pid", "v"],
                },
            },
            "type_strict": {"type": "string", "enum": list(requests.TYPE_STRICT)},
        },
        "additionalProperties": False,
        "allOf": [
            {
                "description": "a query text with a character other than white space, or properties",
                "anyOf": [
                    {"required": ["query"], "properties": {"query": {"pattern": requests.NOT_BLANK}}},
                    {"required": ["properties"], "properties": {"properties": {"minItems": 1}}},
                ],
            },
            {"anyOf": branches},
        ],
    }


def batch_schema(base: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "reconciliation queries by key (q0, q1, …), at most "
        f"{requests.MAX_QUERIES} (W3C Reconciliation API 0.2)",
        "maxProperties": requests.MAX_QUERIES,
        "additionalProperties": _query_schema(base),
    }


def extend_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "a data-extension query: the properties to fetch for the ids",
        "properties": {
            "ids": {"type": "array", "items": {"type": "string"}, "maxItems": requests.MAX_EXTEND_IDS},
            "properties": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "enum": all_property_ids()},
                        "settings": {
                            "type": "object",
                            "properties": {
                                "limit": {
                                    "description": "values at most per entity (0: all)",
                                    "oneOf": [
                                        {"type": "integer", "minimum": 0},
                                        {"type": "string", "pattern": "^[0-9]+$"},
                                    ],
                                }
                            },
                        },
                    },
                    "required": ["id"],
                },
            },
        },
        "required": ["ids", "properties"],
    }


def _parameter(
    name: str, description: str, schema: dict[str, Any], *, required: bool = False
) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


CALLBACK = _parameter(
    "callback",
    "JSONP: the answer as a call of this function (application/javascript)",
    {"type": "string", "maxLength": requests.MAX_CALLBACK, "pattern": requests.CALLBACK_PATTERN},
)
PREFIX = _parameter(
    "prefix", "what the names start with", {"type": "string", "pattern": requests.NOT_BLANK}, required=True
)
LIMIT = _parameter("limit", "results at most", {"type": "integer", "minimum": 1})
CURSOR = _parameter("cursor", "results to skip", {"type": "integer", "minimum": 0})


def _type_parameter(base: str, description: str) -> dict[str, Any]:
    return _parameter("type", description, {"type": "string", "enum": all_type_ids(base)})


def _answers(answer: dict[str, Any], *errors: int) -> dict[int | str, dict[str, Any]]:
    """200: ``answer`` as JSON, or as JavaScript with a callback; then the problem documents of ``errors``."""
    return responses({JSON: answer, JAVASCRIPT: {"type": "string"}}, *errors)


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


_STRING: dict[str, Any] = {"type": "string"}
_NAMED = _object(["id", "name"], id=_STRING, name=_STRING)
_LIST_OF_NAMED = {"type": "array", "items": _NAMED}
# The answers' shapes (what shapes.py writes; tests/test_reconcile.py checks them against the W3C
# JSON Schemas of the API as well).
MANIFEST = _object(
    ["versions", "name", "identifierSpace", "schemaSpace"],
    versions={"type": "array", "items": _STRING},
    name=_STRING,
    identifierSpace=_STRING,
    schemaSpace=_STRING,
)
RESULTS = {
    "type": "object",
    "additionalProperties": _object(
        ["result"],
        result={
            "type": "array",
            "items": _object(
                ["id", "name", "score", "match"],
                id=_STRING,
                name=_STRING,
                score={"type": "number"},
                match={"type": "boolean"},
                type=_LIST_OF_NAMED,
            ),
        },
    ),
}
EXTENSION = _object(
    ["meta", "rows"],
    meta=_LIST_OF_NAMED,
    rows={
        "type": "object",
        "additionalProperties": {"type": "object", "additionalProperties": {"type": "array"}},
    },
)
SUGGESTIONS = _object(["result"], result=_LIST_OF_NAMED)
PROPOSAL = _object(["properties"], properties=_LIST_OF_NAMED, type=_STRING, limit={"type": "integer"})


def service_get(base: str) -> dict[str, Any]:
    """``openapi_extra`` of GET /reconcile."""
    return {
        "parameters": [
            {
                "name": "queries",
                "in": "query",
                "required": False,
                "description": "a batch of reconciliation queries (JSON)",
                "content": {JSON: {"schema": batch_schema(base)}},
            },
            {
                "name": "extend",
                "in": "query",
                "required": False,
                "description": "a data-extension query (JSON)",
                "content": {JSON: {"schema": extend_schema()}},
            },
            CALLBACK,
        ]
    }


_AS_JSON = "{}: a JSON text of the schema of GET's `{}`"


def service_post(base: str) -> dict[str, Any]:
    """``openapi_extra`` of POST /reconcile: the same as a form (the URL's parameters count too: the
    callback is declared in the URL only, since a parameter given twice is refused)."""
    return {
        "parameters": [CALLBACK],
        "requestBody": {
            "required": False,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "queries": {
                                "type": "string",
                                "format": QUERIES_FORMAT,
                                "description": _AS_JSON.format(
                                    "a batch of reconciliation queries", "queries"
                                ),
                            },
                            "extend": {
                                "type": "string",
                                "format": EXTEND_FORMAT,
                                "description": _AS_JSON.format("a data-extension query", "extend"),
                            },
                        },
                    },
                }
            },
        },
    }


SERVICE_DESCRIPTION = (
    "Without `queries` or `extend`: the service manifest. With `queries`: a result per query of the "
    "batch. With `extend`: the values of the properties for the ids. Give `queries` or `extend`, not "
    "both (400). With `callback` the JSON answer is wrapped as JSONP (`application/javascript`)."
)
_SERVICE = {"anyOf": [MANIFEST, RESULTS, EXTENSION]}
SERVICE_ANSWERS = _answers(_SERVICE, 400, 503)
SERVICE_POST_ANSWERS = _answers(_SERVICE, 400, 413, 415, 503)


def suggest_entity(base: str) -> dict[str, Any]:
    return {
        "parameters": [PREFIX, _type_parameter(base, "only entities of this type"), LIMIT, CURSOR, CALLBACK]
    }


def suggest_type() -> dict[str, Any]:
    return {"parameters": [PREFIX, LIMIT, CURSOR, CALLBACK]}


def suggest_property(base: str) -> dict[str, Any]:
    return {
        "parameters": [PREFIX, _type_parameter(base, "only properties of this type"), LIMIT, CURSOR, CALLBACK]
    }


def propose_properties(base: str) -> dict[str, Any]:
    return {
        "parameters": [
            _type_parameter(base, "properties of this type (of every type without)"),
            LIMIT,
            CALLBACK,
        ]
    }


def preview() -> dict[str, Any]:
    return {
        "parameters": [
            _parameter(
                "id", "the entity's id", {"type": "string", "pattern": requests.NOT_BLANK}, required=True
            )
        ]
    }


SUGGEST_ANSWERS = _answers(SUGGESTIONS, 400, 503)
PROPOSE_ANSWERS = _answers(PROPOSAL, 400, 503)
PREVIEW_ANSWERS = responses({HTML: {"type": "string"}}, 400, 404, 503)


__all__ = [
    "EXTEND_FORMAT",
    "QUERIES_FORMAT",
    "batch_schema",
    "extend_schema",
]
