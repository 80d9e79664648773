"""The text of a query as a remote engine gets it: its form, the base IRI, variable bindings.

The embedded store takes a base IRI and typed bindings beside the query text; the SPARQL 1.1 Protocol
has neither, so they are written into the text, never by splicing what a client typed:

* the base IRI becomes a ``BASE <…>`` declaration in front of the prologue (a later ``BASE`` in the
  query still resolves against it, as the grammar says);
* each binding becomes one row of inline data, ``VALUES (?a ?b) { (term term) }``, placed first in the
  query's outermost group pattern, so the filters, optionals and aggregates of that group see the
  variable bound (pre-binding in the manner of SEP-0007). A term is written in N-Triples syntax with
  every quote, backslash and control character escaped, and an IRI that holds a character no IRIREF
  may hold is refused: no value can end the term early.

A small lexer (strings, IRIs, comments, variables, words, punctuation) finds the positions; it does not
parse the query, the engine does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from server.errors import QueryNotSupported
from server.protocol.results import BlankNode, Iri, Literal, Term, TripleTerm, nt_term

_LEXEME = re.compile(
    r"""
      (?P<comment>\#[^\r\n]*)
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                 |"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*')
    | (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)
    | (?P<pname>[A-Za-z][A-Za-z0-9_.-]*:[A-Za-z0-9_.:%-]*|:[A-Za-z0-9_.:%-]*)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`]')


class QueryForm(Enum):
    SELECT = "select"
    ASK = "ask"
    CONSTRUCT = "construct"
    DESCRIBE = "describe"


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int


def _tokens(query: str) -> list[_Token]:
    out = []
    for match in _LEXEME.finditer(query):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            out.append(_Token(kind, match.group(), match.start()))
    return out


def query_form(query: str) -> QueryForm | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first keyword after the prologue (None: none of them)."""
    for token in _tokens(query):
        if token.kind != "word":
            continue
        word = token.text.lower()
        if word in ("prefix", "base"):
            continue
        try:
            return QueryForm(word)
        except ValueError:
            return None
    return None


def has_dataset_clause(query: str) -> bool:
    """Whether the query names its own dataset (``FROM`` / ``FROM NAMED``)."""
    return any(t.kind == "word" and t.text.lower() == "from" for t in _tokens(query))


def sparql_term(term: Term) -> str:
    """A term as SPARQL text, escaped so that no value can end it early."""
    if isinstance(term, Iri) and _NOT_IN_IRI.search(term.value):
        raise QueryNotSupported(f"not an IRI a query can hold: {term.value!r}")
    if isinstance(term, BlankNode | TripleTerm):
        raise QueryNotSupported("a blank node or triple term cannot be bound in a query sent to an engine")
    if (
        isinstance(term, Literal)
        and term.language is not None
        and not re.fullmatch(r"[A-Za-z]+(-[A-Za-z0-9]+)*", term.language)
    ):
        raise QueryNotSupported(f"not a language tag: {term.language!r}")
    if isinstance(term, Literal) and _NOT_IN_IRI.search(term.datatype):
        raise QueryNotSupported(f"not a datatype IRI: {term.datatype!r}")
    # N-Triples escapes quotes, backslashes and line breaks; other control characters as \\u.
    text = nt_term(term)
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04X}", text)


def _projection(tokens: list[_Token], select_at: int) -> tuple[set[str] | None, int]:
    """Variables the SELECT clause projects (None for ``*``) and the index of the WHERE group's '{'."""
    names: set[str] = set()
    star = False
    depth = 0
    for i in range(select_at + 1, len(tokens)):
        token = tokens[i]
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif depth == 0 and token.text == "*":
            star = True
        elif token.kind == "var" and (depth == 0 or tokens[i - 1].text.lower() == "as"):
            names.add(token.text[1:])
        elif depth == 0 and token.text == "{":
            return (None if star else names), i
    raise QueryNotSupported("the query has no WHERE clause the bindings could be added to")


def with_bindings(query: str, bindings: Mapping[str, Term]) -> str:
    """``query`` with ``VALUES`` for ``bindings`` first in its outermost group (SELECT queries only)."""
    if not bindings:
        return query
    tokens = _tokens(query)
    select_at = next(
        (i for i, t in enumerate(tokens) if t.kind == "word" and t.text.lower() == "select"), None
    )
    if select_at is None or query_form(query) is not QueryForm.SELECT:
        raise QueryNotSupported("variables can only be bound in a SELECT query")
    projected, brace = _projection(tokens, select_at)
    for name in bindings:
        if projected is not None and name not in projected:
            raise QueryNotSupported(f"the variable ?{name} is bound but the query does not project it")
        if not re.fullmatch(r"[A-Za-z0-9_\u00b7\u00c0-\uffff]+", name):
            raise QueryNotSupported(f"not a variable name: {name!r}")
    names = sorted(bindings)
    values = (
        f" VALUES ({' '.join('?' + n for n in names)}) "
        f"{{ ({' '.join(sparql_term(bindings[n]) for n in names)}) }} "
    )
    at = tokens[brace].start + 1
    return query[:at] + values + query[at:]


def with_base(query: str, base_iri: str | None) -> str:
    """``query`` with ``BASE <base_iri>`` in front (unchanged without a base)."""
    if base_iri is None:
        return query
    if _NOT_IN_IRI.search(base_iri):
        raise QueryNotSupported(f"not a base IRI: {base_iri!r}")
    return f"BASE <{base_iri}>\n{query}"
