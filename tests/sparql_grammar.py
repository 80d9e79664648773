"""Hypothesis strategies that build SPARQL 1.1 queries from a small grammar (tests, not the server).

Every query drawn parses and is read-only: SELECT (plain, DISTINCT, aggregate with GROUP BY), ASK,
CONSTRUCT and DESCRIBE over one to three triple patterns that share variables (no cross products),
with OPTIONAL, UNION, FILTER (comparisons, string functions, regular expressions of escaped text),
BIND, VALUES, ORDER BY, LIMIT and OFFSET. Literals hold any text, escaped as the grammar says. Used as
the ``sparql-query`` format for schemathesis (tests/test_contract.py) and by the query fuzzer
(tests/test_fuzz.py).
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

PREFIXES = (
    "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "PREFIX eli: <http://data.europa.eu/eli/ontology#>\n"
    "PREFIX pk: <http://127.0.0.1:8000/def/>\n"
)
PREDICATES = (
    "rdf:type",
    "rdfs:label",
    "skos:prefLabel",
    "skos:notation",
    "eli:title",
    "eli:number",
    "eli:is_part_of",
    "pk:pillar",
    "pk:mentions",
    "<http://www.w3.org/ns/oa#exact>",
    "<http://example.org/unknown>",
)
IRIS = (
    "<http://127.0.0.1:8000/id/plan>",
    "<http://127.0.0.1:8000/id/task/7>",
    "<http://127.0.0.1:8000/id/pillar/1>",
    "pk:Task",
    "pk:Pillar",
    "<urn:x-nothing:here>",
)
VARIABLES = ("?s", "?o", "?x", "?y")


def string_literal(text: str) -> str:
    """``text`` as a SPARQL string literal (STRING_LITERAL2, the escapes of the grammar)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


texts = st.text(max_size=12)
literals = st.one_of(
    texts.map(string_literal),
    st.tuples(texts, st.sampled_from(["zh", "en", "en-GB"])).map(lambda t: f"{string_literal(t[0])}@{t[1]}"),
    st.integers(-(10**6), 10**6).map(str),
    st.decimals(-1000, 1000, places=2, allow_nan=False, allow_infinity=False).map(
        lambda d: str(d) if "." in str(d) else f"{d}.0"
    ),
    st.sampled_from(["true", "false"]),
)
variables = st.sampled_from(VARIABLES)
predicates = st.one_of(st.sampled_from(PREDICATES), variables)
objects = st.one_of(variables, st.sampled_from(IRIS), literals)


@st.composite
def chains(draw: st.DrawFn) -> tuple[str, list[str]]:
    """One to three triple patterns, each starting at a variable the previous one bound."""
    subject = draw(st.sampled_from(("?s", "?x")))
    patterns: list[str] = []
    bound = [subject]
    for _ in range(draw(st.integers(1, 3))):
        obj_var = draw(st.sampled_from([v for v in VARIABLES if v not in bound] or ["?y"]))
        obj = draw(st.one_of(st.just(obj_var), objects))
        patterns.append(f"{draw(st.sampled_from(bound))} {draw(st.sampled_from(PREDICATES))} {obj} .")
        if obj.startswith("?") and obj not in bound:
            bound.append(obj)
    return " ".join(patterns), bound


@st.composite
def filters(draw: st.DrawFn, bound: list[str]) -> str:
    v = draw(st.sampled_from(bound))
    word = re.escape(draw(st.text(alphabet="abcxyz绿色低碳123", max_size=4)))
    expression = draw(
        st.sampled_from(
            [
                f"isIRI({v})",
                f"isLiteral({v})",
                f"BOUND({v})",
                f"STRLEN(STR({v})) > {draw(st.integers(0, 50))}",
                f"CONTAINS(STR({v}), {string_literal(word)})",
                f'REGEX(STR({v}), {string_literal(word)}, "i")',
                f"LANG({v}) = {string_literal(draw(st.sampled_from(['zh', 'en', ''])))}",
                f"{v} = {draw(literals)}",
                f"!({v} != {draw(literals)})",
                f"STRSTARTS(STR({v}), {string_literal(draw(texts))})",
            ]
        )
    )
    return f"FILTER({expression})"


@st.composite
def groups(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A group graph pattern's body and the variables it binds."""
    body, bound = draw(chains())
    parts = [body]
    if draw(st.booleans()):
        extra, more = draw(chains())
        parts.append(f"OPTIONAL {{ {extra} }}")
        bound += [v for v in more if v not in bound]
    if draw(st.booleans()):
        other, more = draw(chains())
        parts = [f"{{ {' '.join(parts)} }} UNION {{ {other} }}"]
        bound += [v for v in more if v not in bound]
    if draw(st.booleans()):
        parts.append(draw(filters(bound)))
    if draw(st.integers(0, 5)) == 0:
        parts.append(f"BIND(STR({draw(st.sampled_from(bound))}) AS ?b)")
    if draw(st.integers(0, 5)) == 0:
        v = draw(st.sampled_from(bound))
        values = draw(st.lists(st.one_of(st.sampled_from(IRIS), literals), min_size=1, max_size=3))
        parts.append(f"VALUES {v} {{ {' '.join(values)} }}")
    return " ".join(parts), bound


@st.composite
def queries(draw: st.DrawFn) -> str:
    """A whole query: prefixes, one of the four forms, its pattern, solution modifiers."""
    body, bound = draw(groups())
    form = draw(st.sampled_from(["select", "distinct", "count", "ask", "construct", "describe"]))
    limit = f" LIMIT {draw(st.integers(0, 50))}"
    offset = f" OFFSET {draw(st.integers(0, 20))}" if draw(st.booleans()) else ""
    order = f" ORDER BY {draw(st.sampled_from(['', 'DESC']))}({bound[0]})" if draw(st.booleans()) else ""
    if form in ("select", "distinct"):
        chosen = draw(st.lists(st.sampled_from(bound), min_size=1, unique=True))
        projection = draw(st.sampled_from(["*", " ".join(chosen)]))
        distinct = "DISTINCT " if form == "distinct" else ""
        text = f"SELECT {distinct}{projection} WHERE {{ {body} }}{order}{limit}{offset}"
    elif form == "count":
        key = bound[0]
        text = (
            f"SELECT {key} (COUNT(*) AS ?n) WHERE {{ {body} }} GROUP BY {key} "
            f"ORDER BY DESC(?n){limit}{offset}"
        )
    elif form == "ask":
        text = f"ASK {{ {body} }}"
    elif form == "construct":
        template, _ = draw(chains())
        text = f"CONSTRUCT {{ {template} }} WHERE {{ {body} }}{limit}"
    else:
        text = f"DESCRIBE {bound[0]} WHERE {{ {body} }}{limit}"
    return PREFIXES + text


__all__ = ["PREFIXES", "queries", "string_literal"]
