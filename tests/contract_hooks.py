"""Loaded by schemathesis (SCHEMATHESIS_HOOKS=tests.contract_hooks; tests/test_contract.py): a query
parameter or body (``format: sparql-query``) is drawn from the SPARQL grammar, not from arbitrary text;
the reconciliation service's JSON texts in a POSTed form (``format: reconciliation-queries`` and
``reconciliation-extend``) are drawn as JSON of the schemas its GET declares for them, each checked
against that schema before it is sent; and GET /reconcile is never given both ``queries`` and
``extend`` (its description says that is a 400; no OpenAPI schema can)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import schemathesis
from hypothesis import strategies as st

from mapping.vocab import DEFAULT_BASE
from server.reconcile import openapi, requests
from server.reconcile.schema import TYPES
from tests.sparql_grammar import queries

schemathesis.openapi.format("sparql-query", queries())

# The server under test runs with the default base (tests/browser/harness.serve_plan).
BASE = DEFAULT_BASE
NAMES = ["济南", "济南市", "中国科学院", "历下区", "绿色", "低碳", "plan", "x"]
_texts = st.sampled_from(NAMES) | st.text(max_size=12)
_value = st.one_of(
    _texts,
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.fixed_dictionaries({"id": _texts}, optional={"name": _texts}),
)


@st.composite
def _query(draw: st.DrawFn) -> dict[str, Any]:
    families = [(openapi.type_ids(BASE, spec), sorted({p.id for p in spec.properties})) for spec in TYPES]
    every = openapi.all_type_ids(BASE)
    common = sorted(set.intersection(*(set(pids) for _, pids in families)))
    query: dict[str, Any] = {}
    kind = draw(st.sampled_from(["none", "family", "mixed"]))
    if kind == "family":
        ids, pids = draw(st.sampled_from(families))
        query["type"] = draw(st.sampled_from(ids) | st.lists(st.sampled_from(ids), min_size=1, max_size=3))
    elif kind == "mixed":
        pids = common
        query["type"] = draw(st.lists(st.sampled_from(every), min_size=2, max_size=3))
    else:
        pids = openapi.all_property_ids()
        if draw(st.booleans()):
            query["type"] = []
    constraints = draw(
        st.lists(
            st.fixed_dictionaries({"pid": st.sampled_from(pids), "v": _value | st.lists(_value, max_size=3)}),
            max_size=3,
        )
        if pids
        else st.just([])
    )
    if constraints:
        query["properties"] = constraints
    if not constraints or draw(st.booleans()):
        query["query"] = draw(_texts.filter(lambda t: not requests.is_blank(t)))
    if draw(st.booleans()):
        query["limit"] = draw(st.integers(1, 50))
    if draw(st.booleans()):
        query["type_strict"] = draw(st.sampled_from(requests.TYPE_STRICT))
    return query


def _checked(schema: dict[str, Any]) -> Any:
    validator = jsonschema.Draft202012Validator(schema)

    def dump(value: Any) -> str:
        validator.validate(value)  # the hook draws only what the description declares
        return json.dumps(value, ensure_ascii=False)

    return dump


_batches = st.dictionaries(st.sampled_from([f"q{i}" for i in range(12)]), _query(), max_size=4)
_extends = st.fixed_dictionaries(
    {
        "ids": st.lists(st.sampled_from([BASE + "place/370100", BASE + "plan"]) | _texts, max_size=4),
        "properties": st.lists(
            st.fixed_dictionaries(
                {"id": st.sampled_from(openapi.all_property_ids())},
                optional={
                    "settings": st.fixed_dictionaries(
                        {}, optional={"limit": st.integers(0, 5) | st.integers(0, 5).map(str)}
                    )
                },
            ),
            min_size=1,
            max_size=3,
        ),
    }
)
schemathesis.openapi.format(openapi.QUERIES_FORMAT, _batches.map(_checked(openapi.batch_schema(BASE))))
schemathesis.openapi.format(openapi.EXTEND_FORMAT, _extends.map(_checked(openapi.extend_schema())))


@schemathesis.hook
def filter_case(ctx: Any, case: Any) -> bool:
    """Not both of ``queries`` and ``extend``, in the URL or a POSTed form (only /reconcile has them);
    every phase applies this hook (the coverage phase applies no filter_query or filter_body)."""
    given: set[str] = set()
    for part in (case.query, case.body):
        if isinstance(part, dict):
            given |= set(part)
    return not {"queries", "extend"} <= given
