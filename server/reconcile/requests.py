"""Reading the service's parameters into typed requests; every refusal says what and where.

``queries`` (a reconciliation batch) and ``extend`` (a data-extension query) are JSON texts, in the
URL or in a POSTed form. A batch holds at most ``MAX_QUERIES`` queries: OpenRefine sends 10 per request
by default, so 100 leaves room for other clients while one request stays a bounded amount of work.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from server.errors import BadReconciliationRequest
from server.reconcile.index import Index
from server.reconcile.matching import PropertyConstraint, Query

MAX_QUERIES = 100
MAX_QUERY_TEXT = 1000  # characters of one query's text: names are short, and scoring is linear in it
MAX_EXTEND_IDS = 1000
DEFAULT_LIMIT = 10
TYPE_STRICT = ("any", "should", "all")
# A JSONP callback: a dotted JavaScript identifier, nothing else (no brackets, quotes or calls). The
# pattern is also the OpenAPI description's (server.reconcile.openapi), so it is matched whole here.
CALLBACK_PATTERN = r"^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$"
_CALLBACK = re.compile(CALLBACK_PATTERN)
MAX_CALLBACK = 128
# White space as JSON Schema's (ECMAScript's) \s: spelled out, so that the description's pattern and
# this module agree on what a blank text is (Python's str.isspace also counts \x1c-\x1f and \x85).
WHITE_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_BLANK = f"[^{WHITE_SPACE}]"
_NOT_BLANK = re.compile(NOT_BLANK)
_DIGITS = re.compile(r"[0-9]+")


def is_blank(text: str) -> bool:
    """No character other than white space (as the description's ``pattern`` counts it)."""
    return _NOT_BLANK.search(text) is None


def _json(text: str, parameter: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise BadReconciliationRequest(f"'{parameter}' is nested too deeply", parameter=parameter) from None
    except json.JSONDecodeError as exc:
        raise BadReconciliationRequest(
            f"'{parameter}' is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            parameter=parameter,
            line=exc.lineno,
            column=exc.colno,
        ) from None


def callback(value: str | None) -> str | None:
    """The JSONP callback name, checked; None when the parameter is absent."""
    if value is None:
        return None
    if len(value) > MAX_CALLBACK or not _CALLBACK.fullmatch(value):
        raise BadReconciliationRequest(
            f"'callback' must be a JavaScript identifier (letters, digits, _ and $, dotted), "
            f"at most {MAX_CALLBACK} characters: {value[:MAX_CALLBACK]!r}",
            parameter="callback",
        )
    return value


def positive_int(value: object, where: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value != int(value)
        or value < 1
    ):
        raise BadReconciliationRequest(f"{where} must be a positive integer, not {json.dumps(value)}")
    return int(value)


def count_parameter(value: str | None, name: str) -> int | None:
    """A URL parameter that is a count: ASCII digits only (None when absent)."""
    if value is None:
        return None
    if not _DIGITS.fullmatch(value):
        raise BadReconciliationRequest(
            f"'{name}' must be a non-negative integer, not {value!r}", parameter=name
        )
    return int(value)


def limit_parameter(value: str | None, default: int) -> int:
    if value is None:
        return default
    number = int(value) if _DIGITS.fullmatch(value) else 0
    if number < 1:
        raise BadReconciliationRequest(
            f"'limit' must be a positive integer, not {value!r}", parameter="limit"
        )
    return number


def check_types(index: Index, types: list[str], where: str) -> tuple[str, ...]:
    unknown = [t for t in types if t not in index.type_names]
    if unknown:
        raise BadReconciliationRequest(
            f"{where}: unknown type {unknown[0]!r}; the types are {', '.join(index.type_names)}"
        )
    return tuple(types)


def _property_ids(index: Index, types: tuple[str, ...]) -> dict[str, str]:
    """Property id -> type name, for the given types (every type when none)."""
    specs = [index.specs[index.type_broader.get(t, t)] for t in types] or list(index.specs.values())
    return {p.id: s.name for s in specs for p in s.properties}


def parse_batch(text: str, index: Index) -> dict[str, Query]:
    """The queries of a ``queries`` parameter, by key (q0, q1, …)."""
    batch = _json(text, "queries")
    if not isinstance(batch, dict):
        raise BadReconciliationRequest(
            f"'queries' must be a JSON object of queries keyed q0, q1, …, not a {type(batch).__name__}",
            parameter="queries",
        )
    if len(batch) > MAX_QUERIES:
        raise BadReconciliationRequest(
            f"'queries' holds {len(batch)} queries; at most {MAX_QUERIES} per request", limit=MAX_QUERIES
        )
    return {key: parse_query(key, q, index) for key, q in batch.items()}


def parse_query(key: str, q: object, index: Index) -> Query:
    where = f"query {key!r}"
    if not isinstance(q, dict):
        raise BadReconciliationRequest(f"{where} must be a JSON object, not {json.dumps(q)[:60]}")
    unknown = sorted(set(q) - {"query", "type", "limit", "properties", "type_strict"})
    if unknown:
        raise BadReconciliationRequest(f"{where}: unknown member {unknown[0]!r}")
    text = q.get("query", "")
    if not isinstance(text, str):
        raise BadReconciliationRequest(f"{where}: 'query' must be a string")
    if len(text) > MAX_QUERY_TEXT:
        raise BadReconciliationRequest(
            f"{where}: 'query' is {len(text)} characters long; at most {MAX_QUERY_TEXT}", limit=MAX_QUERY_TEXT
        )
    raw_type = q.get("type", [])
    if isinstance(raw_type, str):
        raw_type = [raw_type]
    if not isinstance(raw_type, list) or not all(isinstance(t, str) for t in raw_type):
        raise BadReconciliationRequest(f"{where}: 'type' must be a type id or a list of them")
    types = check_types(index, raw_type, where)
    limit = positive_int(q["limit"], f"{where}: 'limit'") if "limit" in q else DEFAULT_LIMIT
    strict = q.get("type_strict", "any")
    if strict not in TYPE_STRICT:
        raise BadReconciliationRequest(f"{where}: 'type_strict' must be one of {', '.join(TYPE_STRICT)}")
    raw_properties = q.get("properties", [])
    if not isinstance(raw_properties, list):
        raise BadReconciliationRequest(f"{where}: 'properties' must be a list of {{pid, v}} objects")
    known = _property_ids(index, types)
    constraints = []
    for i, p in enumerate(raw_properties):
        if not isinstance(p, dict) or not isinstance(p.get("pid"), str) or "v" not in p:
            raise BadReconciliationRequest(f"{where}: properties[{i}] must be an object with 'pid' and 'v'")
        if p["pid"] not in known:
            raise BadReconciliationRequest(
                f"{where}: properties[{i}]: unknown property {p['pid']!r}; "
                f"known for {'these types' if types else 'any type'}: {', '.join(sorted(known))}"
            )
        values = p["v"] if isinstance(p["v"], list) else [p["v"]]
        for v in values:
            if not isinstance(v, str | int | float | bool) and not (
                isinstance(v, dict) and isinstance(v.get("id"), str)
            ):
                raise BadReconciliationRequest(
                    f"{where}: properties[{i}].v must be a string, number, boolean or {{id, name}} object"
                )
        constraints.append(PropertyConstraint(p["pid"], tuple(values)))
    if is_blank(text) and not constraints:
        raise BadReconciliationRequest(f"{where}: needs a 'query' text or 'properties'")
    return Query(text, types, limit, tuple(constraints), strict)


def parse_extend(text: str, index: Index) -> tuple[list[str], list[tuple[str, int]]]:
    """The ids and the (property id, limit setting) pairs of an ``extend`` parameter."""
    query = _json(text, "extend")
    if not isinstance(query, dict):
        raise BadReconciliationRequest("'extend' must be a JSON object with 'ids' and 'properties'")
    ids = query.get("ids")
    props = query.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadReconciliationRequest("'extend': 'ids' must be a list of entity ids")
    if len(ids) > MAX_EXTEND_IDS:
        raise BadReconciliationRequest(f"'extend' asks for {len(ids)} ids; at most {MAX_EXTEND_IDS}")
    if not isinstance(props, list) or not props:
        raise BadReconciliationRequest("'extend': 'properties' must be a non-empty list of {id} objects")
    known = _property_ids(index, ())
    out: list[tuple[str, int]] = []
    for i, p in enumerate(props):
        if not isinstance(p, dict) or not isinstance(p.get("id"), str):
            raise BadReconciliationRequest(f"'extend': properties[{i}] must be an object with an 'id'")
        if p["id"] not in known:
            raise BadReconciliationRequest(
                f"'extend': properties[{i}]: unknown property {p['id']!r}; known: {', '.join(sorted(known))}"
            )
        settings = p.get("settings", {})
        if not isinstance(settings, dict):
            raise BadReconciliationRequest(f"'extend': properties[{i}].settings must be an object")
        limit = 0
        if "limit" in settings:
            raw = settings["limit"]
            if isinstance(raw, str) and _DIGITS.fullmatch(raw):
                raw = int(raw)
            if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
                raise BadReconciliationRequest(
                    f"'extend': properties[{i}].settings.limit must be a non-negative integer (0: all values)"
                )
            limit = raw
        out.append((p["id"], limit))
    return ids, out
