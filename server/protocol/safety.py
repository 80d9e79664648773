"""Refuse, before evaluation, any query that would make the server fetch from a host not allowed.

The store federates on ``SERVICE`` and cannot be told not to, so the server decides. What fetches:

* ``SERVICE <iri> { … }`` and ``SERVICE ?var { … }``: refused unless the IRI's host is on the
  allow-list (empty by default); a variable target is always refused, its host is unknowable in
  advance.
* ``FROM`` / ``FROM NAMED`` and the protocol's ``default-graph-uri`` / ``named-graph-uri`` only name
  graphs already in the store: Oxigraph never dereferences them (a test with a canary proves it), so
  they are allowed.
* ``LOAD`` is an update; every update is refused with 403 before this module is asked.

How the decision is made, so that a parser disagreement cannot open a hole:

1. Oxigraph only reads the keyword SERVICE from the letters ``service`` in the query text (it does not
   decode ``\\u`` escapes outside strings; a test pins that). A query without those letters, in any
   case, is safe and is passed without parsing: the fast path for nearly every query.
2. Otherwise the query is parsed with rdflib's SPARQL parser and every SERVICE clause is found in the
   tree, and a lexical scan (outside strings, IRIs and comments) counts the keyword independently.
   A query the safety parser cannot read is refused rather than guessed at; each clause found by
   either method must name an allowed host.

``SERVICE SILENT`` to a host that is not allowed is not refused: :func:`silence_refused_services` gives
it the outcome the SPARQL 1.1 Federated Query spec gives a SILENT service that fails, the solution
with no bindings, by replacing the clause with ``{}`` (which evaluates to exactly that) before the
query is checked and evaluated, so no connection is ever attempted.

Besides this check, query workers run without network access where the OS allows it (see
``server.stores.oxigraph``), so a disagreement would still fetch nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from server.errors import UnsafeQuery, UpdateRefused

_MENTIONS_SERVICE = re.compile("service", re.IGNORECASE)
# The characters that regex reads as letters of "service" and str.lower() does not lower to them.
_FOLDED_APART = ("\u017f", "\u0130", "\u0131")  # ſ (s), İ and ı (i)

# One left-to-right pass over the text: the first alternative that matches at a position wins, as in
# a lexer. Everything but bare words is skipped.
_LEXEME = re.compile(
    r"""
      (?P<comment>\#[^\r\n]*)
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                 |"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*')
    | (?P<var>[?$][A-Za-z0-9_]+)
    | (?P<local>:[A-Za-z0-9_]+)
    | (?P<word>[A-Za-z]+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_UPDATE_WORDS = {"insert", "delete", "load", "clear", "create", "drop", "copy", "move", "add", "with"}
_PROLOGUE_WORDS = {"prefix", "base"}
_NO_SERVICE = (
    "SERVICE (federated query) is not allowed on this server: it would make the server connect to "
    "another host"
)


def mentions_service(query: str) -> bool:
    """True when the letters ``service`` occur anywhere in ``query``, in any case (see step 1 above):
    where :data:`_MENTIONS_SERVICE` finds them. On an ASCII text that regex's case-insensitive search
    (which also reads ``ſ`` as ``s`` and ``İ``, ``ı`` as ``i``) is ASCII case-insensitive equality, so
    there the lowered text is searched (a search of the bytes; the regex tests every position: ~34,000
    instructions for a 250-character lookup, ~2% of its request). So it is on any text without the three
    characters of :data:`_FOLDED_APART`: every other character that regex reads as a letter of
    ``service`` lowers to that letter, none other does, and only ``İ`` lowers to two characters, so
    the lowered text has the letters where the text has them (tests/test_safety.py checks every code
    point). A canned query's text holds Chinese: the regex took ~0.05 ms of its 2 kB, three times a
    request (the lane's decision, the SILENT rewrite, the check)."""
    if query.isascii() or not any(c in query for c in _FOLDED_APART):
        return "service" in query.lower()
    return _MENTIONS_SERVICE.search(query) is not None


def lexical_service_count(query: str) -> int:
    """How many times the bare word SERVICE occurs outside strings, IRIs, comments and names.

    Deliberately broad: ``xSERVICE`` and ``SERVICE:x`` count; only a variable name or the local
    part of a prefixed name (letters, digits, underscores) shields it, as every SPARQL parser reads
    those greedily.
    """
    count = 0
    for match in _LEXEME.finditer(query):
        if match.lastgroup == "word" and "service" in match.group().lower():
            count += 1
    return count


def looks_like_update(query: str) -> bool:
    """True when the first keyword after the prologue starts a SPARQL Update operation."""
    in_declaration = False  # after PREFIX or BASE, until its IRI
    for match in _LEXEME.finditer(query):
        if match.lastgroup == "iri":
            in_declaration = False
        elif match.lastgroup == "word" and not in_declaration:
            word = match.group().lower()
            if word in _PROLOGUE_WORDS:
                in_declaration = True
                continue
            return word in _UPDATE_WORDS
    return False


@lru_cache(maxsize=256)
def _parsed_service_targets(query: str, base_iri: str | None) -> tuple[str | None, ...]:
    """IRIs of the SERVICE clauses as rdflib reads them (None: a variable). Raises on a parse error."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.term import URIRef

    tree = parseQuery(query)
    algebra = translateQuery(tree, base=base_iri)
    targets: list[str | None] = []
    _collect_services(algebra.algebra, targets, set())
    return tuple(str(t) if isinstance(t, URIRef) else None for t in targets)


def _collect_services(node: Any, out: list[Any], seen: set[int]) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            out.append(node.get("term"))
        for value in node.values():
            _collect_services(value, out, seen)
    elif isinstance(node, list | tuple | set):
        for value in node:
            _collect_services(value, out, seen)
    elif isinstance(node, dict):
        for value in node.values():
            _collect_services(value, out, seen)


def _tokens(query: str) -> list[re.Match[str]]:
    """The lexemes of ``query`` without white space."""
    return [m for m in _LEXEME.finditer(query) if not (m.lastgroup == "other" and m.group().isspace())]


def _prologue(tokens: list[re.Match[str]]) -> tuple[str | None, dict[str, str]]:
    """The ``BASE`` and the ``PREFIX`` declarations of a query, as far as the lexer tells them."""
    base: str | None = None
    prefixes: dict[str, str] = {}
    for i, token in enumerate(tokens):
        if token.lastgroup != "word" or token.group().lower() not in _PROLOGUE_WORDS:
            continue
        j = i + 1
        while j < len(tokens) and tokens[j].lastgroup != "iri":
            j += 1
        if j == len(tokens):
            break
        iri = tokens[j].group()[1:-1]
        if token.group().lower() == "base":
            base = iri
        else:
            name = "".join(t.group() for t in tokens[i + 1 : j])
            prefixes[name.removesuffix(":")] = iri
    return base, prefixes


def _silent_target(target: str, base: str | None, prefixes: dict[str, str]) -> str | None:
    """The IRI a SILENT SERVICE clause names (``<iri>`` or a prefixed name); None for a variable or
    what cannot be resolved."""
    target = target.strip()
    if target.startswith("<") and target.endswith(">"):
        return urljoin(base or "", target[1:-1])
    if ":" in target and not target.startswith(("?", "$")):
        prefix, _, local = target.partition(":")
        if prefix in prefixes:
            return urljoin(base or "", prefixes[prefix]) + local
    return None


def silence_refused_services(
    query: str, allowed_hosts: frozenset[str], *, base_iri: str | None = None
) -> str:
    """``query`` with every ``SERVICE SILENT`` clause to a host not allowed replaced by ``{}``.

    ``{}`` evaluates to the one solution with no bindings: what a SILENT service that fails gives
    (SPARQL 1.1 Federated Query, section 4). The replacement keeps the text's lines and columns (the
    rest of the clause becomes spaces), so a syntax error elsewhere is reported where it is. A SILENT
    clause whose target cannot be resolved here (a variable, an unknown prefix) is silenced only when no
    host at all is allowed; otherwise it is left for :func:`check_query` to refuse.
    """
    if not mentions_service(query):
        return query
    tokens = _tokens(query)
    declared_base, prefixes = _prologue(tokens)
    base = urljoin(base_iri or "", declared_base) if declared_base is not None else base_iri
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens) - 2:
        token, after = tokens[i], tokens[i + 1]
        if not (
            token.lastgroup == "word"
            and token.group().lower() == "service"
            and after.lastgroup == "word"
            and after.group().lower() == "silent"
            # `SILENT:x` is a prefixed name (a SERVICE that is not silent), not the keyword.
            and not (tokens[i + 2].start() == after.end() and tokens[i + 2].group()[0] in ":_-.0123456789")
        ):
            i += 1
            continue
        opening = i + 2
        while opening < len(tokens) and tokens[opening].group() != "{":
            opening += 1
        depth, closing = 0, opening
        while closing < len(tokens):
            text = tokens[closing].group()
            depth += 1 if text == "{" else -1 if text == "}" else 0
            if depth == 0:
                break
            closing += 1
        if opening >= len(tokens) or closing >= len(tokens):
            break  # malformed: left to the parsers
        target = query[after.end() : tokens[opening].start()]
        iri = _silent_target(target, base, prefixes)
        host = (urlsplit(iri).hostname or "").lower() if iri is not None else None
        refused = host not in allowed_hosts if host is not None else not allowed_hosts
        if refused:
            spans.append((token.start(), tokens[closing].end()))
        i = closing + 1
    if not spans:
        return query
    out, last = [], 0
    for start, end in spans:
        blank = re.sub(r"[^\r\n]", " ", query[start + 2 : end])
        out += [query[last:start], "{}", blank]
        last = end
    out.append(query[last:])
    return "".join(out)


def check_query(query: str, allowed_hosts: frozenset[str], *, base_iri: str | None = None) -> None:
    """Raise :class:`UnsafeQuery` (400) or :class:`UpdateRefused` (403) unless ``query`` may run."""
    if looks_like_update(query):
        raise UpdateRefused("this endpoint is read-only: SPARQL Update operations are refused")
    if not mentions_service(query):
        return
    lexical = lexical_service_count(query)
    if lexical and not allowed_hosts:
        raise UnsafeQuery(_NO_SERVICE)
    try:
        targets = _parsed_service_targets(query, base_iri)
    except Exception as exc:  # the rdflib parser raises pyparsing and assorted errors
        raise UnsafeQuery(
            "the query mentions 'service' and the safety check could not parse it to make sure it "
            f"contains no SERVICE clause ({type(exc).__name__}); nothing was evaluated"
        ) from exc
    if not targets and not lexical:
        return
    if not allowed_hosts:
        raise UnsafeQuery(_NO_SERVICE)
    if lexical > len(targets):
        raise UnsafeQuery("the query has SERVICE clauses the safety check could not identify")
    for target in targets:
        if target is None:
            raise UnsafeQuery("SERVICE with a variable is refused: its host cannot be checked in advance")
        host = (urlsplit(target).hostname or "").lower()
        if host not in allowed_hosts:
            raise UnsafeQuery(f"SERVICE <{target}> is refused: host {host or '(none)'!r} is not allowed")
