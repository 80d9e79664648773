"""Backend-neutral query results and their SPARQL result formats (JSON, XML, CSV, TSV).

Every store backend turns its answers into these plain, picklable values; the serialisers below
write them. Language tags and datatypes survive JSON, XML and TSV exactly; CSV is, by the W3C
definition of the format, the lossy one: it carries lexical forms only (a spreadsheet's view).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from server.protocol.formats import CSV, CSV_EXCEL, SPARQL_JSON, SPARQL_XML, TSV, Format

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_DIR_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString"
_BARE_IN_TSV = {XSD + "integer", XSD + "decimal", XSD + "double", XSD + "boolean"}


# What an IRI cannot hold (RFC 3987: no space, control character, or any of <>"{}|\^`); the one
# definition the request readers and the query writer check IRIs with.
NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f-\x9f]')


@dataclass(frozen=True)
class Iri:
    value: str


@dataclass(frozen=True)
class BlankNode:
    id: str


@dataclass(frozen=True)
class Literal:
    value: str
    datatype: str = XSD_STRING
    language: str | None = None
    direction: str | None = None  # RDF 1.2 base direction: "ltr" | "rtl"


@dataclass(frozen=True)
class TripleTerm:
    subject: Term
    predicate: Term
    object: Term


Term = Iri | BlankNode | Literal | TripleTerm


@dataclass(frozen=True)
class Solutions:
    """A SELECT answer: the projected variables and one tuple per row (None: unbound)."""

    variables: tuple[str, ...]
    rows: tuple[tuple[Term | None, ...], ...]


@dataclass(frozen=True)
class Triple:
    subject: Term
    predicate: Term
    object: Term


# --- one term, per format --------------------------------------------------------------------


def _json_term(term: Term) -> dict[str, Any]:
    if isinstance(term, Iri):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.id}
    if isinstance(term, Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language is not None:
            out["xml:lang"] = term.language
            if term.direction is not None:
                out["its:dir"] = term.direction
        elif term.datatype != XSD_STRING:
            out["datatype"] = term.datatype
        return out
    return {
        "type": "triple",
        "value": {
            "subject": _json_term(term.subject),
            "predicate": _json_term(term.predicate),
            "object": _json_term(term.object),
        },
    }


def _xml_term(term: Term) -> str:
    if isinstance(term, Iri):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.id)}</bnode>"
    if isinstance(term, Literal):
        if term.language is not None:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return (
        f"<triple><subject>{_xml_term(term.subject)}</subject>"
        f"<predicate>{_xml_term(term.predicate)}</predicate>"
        f"<object>{_xml_term(term.object)}</object></triple>"
    )


_NT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def nt_term(term: Term) -> str:
    """A term in N-Triples syntax (also the TSV results syntax)."""
    if isinstance(term, Iri):
        return f"<{term.value}>"
    if isinstance(term, BlankNode):
        return f"_:{term.id}"
    if isinstance(term, Literal):
        quoted = f'"{term.value.translate(_NT_ESCAPES)}"'
        if term.language is not None:
            return f"{quoted}@{term.language}" + (f"--{term.direction}" if term.direction else "")
        if term.datatype == XSD_STRING:
            return quoted
        return f"{quoted}^^<{term.datatype}>"
    return f"<<( {nt_term(term.subject)} {nt_term(term.predicate)} {nt_term(term.object)} )>>"


def _tsv_term(term: Term) -> str:
    if isinstance(term, Literal) and term.datatype in _BARE_IN_TSV and "\t" not in term.value:
        # Turtle's short forms, as the TSV results format allows, when they read back the same.
        if term.datatype == XSD + "integer" and term.value.lstrip("+-").isdigit():
            return term.value
        if term.datatype == XSD + "boolean" and term.value in {"true", "false"}:
            return term.value
    return nt_term(term)


def _csv_term(term: Term) -> str:
    if isinstance(term, Iri):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.id}"
    if isinstance(term, Literal):
        return term.value
    return nt_term(term)


# --- whole answers ---------------------------------------------------------------------------


def serialize_solutions(fmt: Format, solutions: Solutions) -> bytes:
    if fmt is SPARQL_JSON:
        bindings = [
            {var: _json_term(t) for var, t in zip(solutions.variables, row, strict=True) if t is not None}
            for row in solutions.rows
        ]
        doc = {"head": {"vars": list(solutions.variables)}, "results": {"bindings": bindings}}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    if fmt is SPARQL_XML:
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>',
            *(f"<variable name={quoteattr(v)}/>" for v in solutions.variables),
            "</head><results>",
        ]
        for row in solutions.rows:
            parts.append("<result>")
            parts.extend(
                f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                for v, t in zip(solutions.variables, row, strict=True)
                if t is not None
            )
            parts.append("</result>")
        parts.append("</results></sparql>\n")
        return "".join(parts).encode()
    if fmt in (CSV, CSV_EXCEL):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(solutions.variables)
        writer.writerows([_csv_term(t) if t is not None else "" for t in row] for row in solutions.rows)
        return _bom(fmt) + buffer.getvalue().encode()
    if fmt is TSV:
        lines = ["\t".join("?" + v for v in solutions.variables)]
        lines.extend("\t".join(_tsv_term(t) if t is not None else "" for t in row) for row in solutions.rows)
        return ("\n".join(lines) + "\n").encode()
    raise ValueError(f"{fmt.name} is not a query results format")


def serialize_boolean(fmt: Format, value: bool) -> bytes:
    word = "true" if value else "false"
    if fmt is SPARQL_JSON:
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt is SPARQL_XML:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{word}</boolean></sparql>\n"
        ).encode()
    # CSV and TSV define no boolean form; a one-cell table with a header, as Jena writes it.
    if fmt in (CSV, CSV_EXCEL):
        return _bom(fmt) + f"_askResult\r\n{word}\r\n".encode()
    if fmt is TSV:
        return f"?_askResult\n{word}\n".encode()
    raise ValueError(f"{fmt.name} is not a query results format")


def _bom(fmt: Format) -> bytes:
    return b"\xef\xbb\xbf" if fmt.bom else b""


def solutions_table(solutions: Solutions) -> Sequence[dict[str, Term]]:
    """Rows as dictionaries of the bound variables (for Python callers)."""
    return [
        {v: t for v, t in zip(solutions.variables, row, strict=True) if t is not None}
        for row in solutions.rows
    ]
