"""The queries the benchmark drives, as SPARQL text every server can run.

Canned queries come from our server's ``GET /queries`` listing (name, parameters with defaults, text);
raw ones from ``bench/queries/*.rq``. Our canned queries write relative IRIs (``PREFIX pk: <def/>``)
and are bound by the store (SEP-0007 pre-binding), which the other servers do not offer. So that
every server runs the same query, :func:`portable_text` declares ``BASE`` and writes the bindings into
the text as our server does for a remote engine (``server.stores.querytext.with_bindings``: the term
wherever the grammar takes one, a ``VALUES`` row where only a variable may stand), which gives the
same solutions (the harness checks it: every server must give our row count before it is timed). A
``VALUES`` block at the start of the outer group would not: a FILTER in a nested group (a union's
branch, the group a canned query looks its parameter up in) does not see it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from server.protocol.results import Iri, Literal, Term
from server.stores.querytext import sparql_term, with_base, with_bindings

RAW_DIR = Path(__file__).resolve().parent / "queries"
HOSTILE = "hostile-cross-product"
SIMPLE = "simple-lookup"
XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass(frozen=True)
class BenchQuery:
    name: str
    sparql: str  # runnable anywhere: BASE declared, parameters bound
    canned_path: str | None = None  # /queries/{name} on our server; None for raw queries

    @property
    def canned(self) -> bool:
        return self.canned_path is not None


def sparql_string(value: str) -> str:
    """A SPARQL string literal for ``value`` (quotes, backslashes and line breaks escaped)."""
    return sparql_term(Literal(value))


def parameter_value(kind: str, value: str, base: str) -> Term:
    """The RDF term our server binds for a canned query parameter of type ``kind``."""
    if kind == "string":
        return Literal(value)
    if kind == "integer":
        return Literal(str(int(value)), datatype=XSD + "integer")
    if kind == "year":
        return Literal(value, datatype=XSD + "gYear")
    if kind == "iri":
        return Iri(urljoin(base, value))
    raise ValueError(f"unknown parameter type {kind!r}")


def parameter_term(kind: str, value: str, base: str) -> str:
    """The same term as SPARQL text."""
    return sparql_term(parameter_value(kind, value, base))


def portable_text(sparql: str, base: str, bindings: Mapping[str, Term] | None = None) -> str:
    """``sparql`` with ``BASE <base>`` declared and ``bindings`` written in as our server writes them
    for a remote engine."""
    return with_base(with_bindings(sparql, bindings or {}), base)


def canned_queries(listing: Mapping[str, Any], base: str) -> list[BenchQuery]:
    """Our canned queries, from the ``GET /queries`` JSON, each bound with its parameters' defaults."""
    out = []
    for item in listing["queries"]:
        bindings = {}
        for param in item["parameters"]:
            value = param["default"] if param["default"] is not None else param["example"]
            bindings[param["name"]] = parameter_value(param["type"], value, base)
        path = urlsplit(item["url"]).path
        out.append(BenchQuery(item["name"], portable_text(item["sparql"], base, bindings), path))
    return out


def raw_queries(base: str, directory: Path = RAW_DIR) -> dict[str, BenchQuery]:
    """The raw queries of ``bench/queries``, by name (the hostile one included)."""
    return {
        path.stem: BenchQuery(path.stem, portable_text(path.read_text(encoding="utf-8"), base))
        for path in sorted(directory.glob("*.rq"))
    }


def row_count(body: bytes) -> int:
    """Solutions in a SPARQL JSON result (1 for a boolean); ValueError if it is not one."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not SPARQL JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError("not SPARQL JSON: not an object")
    if "boolean" in doc:
        return 1
    try:
        return len(doc["results"]["bindings"])
    except (KeyError, TypeError):
        raise ValueError("not SPARQL JSON: no results.bindings") from None
