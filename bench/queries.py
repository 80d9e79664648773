"""The queries the benchmark drives, as SPARQL text every server can run.

Canned queries come from our server's ``GET /queries`` listing (name, parameters with defaults, text);
raw ones from ``bench/queries/*.rq``. Our canned queries write relative IRIs (``PREFIX pk: <def/>``)
and are bound by the store (SEP-0007 pre-binding), which the other servers do not offer. So that
every server runs the same query, :func:`portable_text` declares ``BASE`` and binds each parameter with
a ``VALUES`` block at the start of the query's outer group, which gives the same solutions for these
queries (the harness checks it: every server must give our row count before it is timed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

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
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def parameter_term(kind: str, value: str, base: str) -> str:
    """The SPARQL term our server binds for a canned query parameter of type ``kind``."""
    if kind == "string":
        return sparql_string(value)
    if kind == "integer":
        return f"{sparql_string(str(int(value)))}^^<{XSD}integer>"
    if kind == "year":
        return f"{sparql_string(value)}^^<{XSD}gYear>"
    if kind == "iri":
        return f"<{urljoin(base, value)}>"
    raise ValueError(f"unknown parameter type {kind!r}")


def outer_group_start(sparql: str) -> int:
    """The offset just after the ``{`` that opens the query's outer group pattern.

    Skips comments, IRIs in angle brackets and string literals (where a ``{`` is no brace).
    """
    i, n = 0, len(sparql)
    while i < n:
        c = sparql[i]
        if c == "#":
            end = sparql.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if c == "<":
            end = sparql.find(">", i + 1)
            space = next((j for j in range(i + 1, end if end >= 0 else n) if sparql[j].isspace()), None)
            if end >= 0 and space is None:  # an IRI; otherwise a less-than sign
                i = end + 1
                continue
        elif c in "\"'":
            j = i + 1
            while j < n and sparql[j] != c:
                j += 2 if sparql[j] == "\\" else 1
            i = j + 1
            continue
        elif c == "{":
            return i + 1
        i += 1
    raise ValueError("the query has no group pattern")


def portable_text(sparql: str, base: str, bindings: Sequence[tuple[str, str]] = ()) -> str:
    """``sparql`` with ``BASE <base>`` declared and each (variable, term) bound by ``VALUES``."""
    text = sparql
    if bindings:
        at = outer_group_start(text)
        values = "".join(f" VALUES ?{name} {{ {term} }}" for name, term in bindings)
        text = text[:at] + values + text[at:]
    return f"BASE <{base}>\n{text}"


def canned_queries(listing: Mapping[str, Any], base: str) -> list[BenchQuery]:
    """Our canned queries, from the ``GET /queries`` JSON, each bound with its parameters' defaults."""
    out = []
    for item in listing["queries"]:
        bindings = []
        for param in item["parameters"]:
            value = param["default"] if param["default"] is not None else param["example"]
            bindings.append((param["name"], parameter_term(param["type"], value, base)))
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
