"""Which queries may skip the query workers: those whose evaluation work is provably bounded.

Every query is evaluated in a query worker process that the server SIGKILLs at the time limit; the
hand-off (a thread, the socket pair, the worker's own interpreter) costs more than the engine's work on
a one-subject lookup. A query this module accepts is evaluated by the server process itself, against
its own read-only handle on the same store (``OxigraphStore.query_bounded``): its work is bounded by a
constant, so nothing needs to be able to kill it.

The rule, decided from the query text alone by a whitelist grammar (anything it does not recognise,
to the last character, goes to the workers as before)::

    query    := prologue ( SELECT ( '*' | VAR+ ) WHERE? group ( LIMIT INTEGER )?
                         | ASK WHERE? group )
    prologue := ( BASE IRIREF | PREFIX PNAME_NS IRIREF )*
    group    := '{' subject predicate object '.'? '}'

one triple pattern over the default graph, where

* the subject or the object is a constant (an IRI, a prefixed name; the object also a literal),
* the predicate is an IRI, a prefixed name, ``a`` or a variable — no property path,
* no variable occurs twice (``<s> ?p ?p`` would scan triples that give no row),
* no blank node, quoted triple, DISTINCT/REDUCED (rows collapsing), OFFSET (rows skipped), FILTER,
  OPTIONAL, UNION, VALUES, BIND, sub-query, GRAPH, FROM, SERVICE, ORDER BY, GROUP BY, aggregate or
  function: none of them is in the grammar;
* tokens are read strictly as the SPARQL grammar defines them (ASCII names only, ``\\u`` escapes
  refused anywhere), so the engine cannot read a different query than the one classified.

Why that is bounded: the engine answers one triple pattern with a constant subject or object by one
seek in the index that starts with it (SPO, POS or OSP) and then one index entry per row, every entry
a row (no variable repeats, so none is filtered out). ``OxigraphStore.query_bounded`` stops reading at
:data:`BOUNDED_ROWS` rows (or the server's row limit, if lower); past that it hands the query to a
worker, having spent at most that many index steps. So a query of this lane costs one parse, one seek
and at most ``BOUNDED_ROWS + 1`` index entries, whatever the data; the request's dataset must be the
store's own (no ``default-graph-uri``/``named-graph-uri``) and it must carry no pre-bound variables.
"""

from __future__ import annotations

import re

# At most this many rows are read in the server process; a longer answer is asked of a worker.
BOUNDED_ROWS = 1000

# The terminals the grammar above needs, as the SPARQL 1.1 grammar writes them (ASCII letters only
# in names: PN_CHARS_BASE's other ranges send the query to the workers).
_PN_PREFIX = r"[A-Za-z](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?"
_PLX = r"%[0-9A-Fa-f]{2}"
_PN_LOCAL = rf"(?:[A-Za-z0-9_:]|{_PLX})(?:(?:[A-Za-z0-9_.:-]|{_PLX})*(?:[A-Za-z0-9_:-]|{_PLX}))?"
# White space and comments, read whole (atomic: never given back to let a token start inside them).
_SKIP = r"(?>(?:[ \t\r\n]++|\#[^\r\n]*+)*)"
# One token, after the white space and comments before it (one match per token, not two).
_TOKEN = re.compile(
    rf"""
    {_SKIP}
    (?:
      (?P<iri><[^<>"{{}}|^`\\\x00-\x20]*>)
    | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
    | (?P<var>[?$][A-Za-z0-9_]+)
    | (?P<string>"(?:[^"\\\r\n]|\\[tbnrf\\"'])*"|'(?:[^'\\\r\n]|\\[tbnrf\\"'])*')
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<number>[+-]?(?:[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.?[0-9]+[eE][+-]?[0-9]+|[0-9]*\.[0-9]+|[0-9]+))
    | (?P<word>[A-Za-z]+)
    | (?P<punct>\^\^|[{{}}.*])
    )
    """,
    re.VERBOSE,
)
_END = re.compile(rf"{_SKIP}\Z", re.VERBOSE)  # white space and comments to the end of the text
_INTEGER = re.compile(r"[0-9]+")


def _lex(query: str) -> list[tuple[str, str]] | None:
    """(kind, text) of every token but white space and comments; None if a character is not part of
    a token of the grammar (the whole text must be read)."""
    tokens: list[tuple[str, str]] = []
    at, end = 0, len(query)
    match = _TOKEN.match
    while at < end:
        found = match(query, at)
        if found is None:
            return tokens if _END.match(query, at) is not None else None
        kind = found.lastgroup
        assert kind is not None
        tokens.append((kind, found.group(kind)))
        at = found.end()
    return tokens


def _constant(tokens: list[tuple[str, str]], i: int, *, literal: bool) -> int | None:
    """The index after a constant term at ``i`` (an IRI or prefixed name; with ``literal``, also a
    literal), or None."""
    kind, text = tokens[i] if i < len(tokens) else ("", "")
    if kind in ("iri", "pname"):
        return i + 1
    if not literal:
        return None
    if kind == "number" or (kind == "word" and text.lower() in ("true", "false")):
        return i + 1
    if kind != "string":
        return None
    after = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
    if after[0] == "lang":
        return i + 2
    if after == ("punct", "^^"):
        return i + 3 if i + 2 < len(tokens) and tokens[i + 2][0] in ("iri", "pname") else None
    return i + 1


# What :func:`lane_shape` says of a query of the lane: its form ("select" or "ask"), its own LIMIT
# (None when it has none), and whether every row of its answer binds a variable (a SELECT projecting
# a variable of its pattern: one triple pattern binds all of its variables in every solution).
LaneShape = tuple[str, int | None, bool]


def is_bounded(query: str) -> bool:
    """True when ``query`` is in the bounded lane (see the module): one triple pattern anchored on a
    constant subject or object, nothing else that could make its evaluation work grow."""
    return lane_shape(query) is not None


def lane_shape(query: str) -> LaneShape | None:
    """:func:`is_bounded`, and for a query of the lane its form and its LIMIT; None when not in the lane."""
    if "\\u" in query or "\\U" in query:  # escapes the engine might decode before reading the text
        return None
    tokens = _lex(query)
    if tokens is None:
        return None
    i = 0

    def word(at: int) -> str:
        return tokens[at][1].lower() if at < len(tokens) and tokens[at][0] == "word" else ""

    # The prologue.
    while word(i) in ("base", "prefix"):
        if word(i) == "base":
            if i + 1 >= len(tokens) or tokens[i + 1][0] != "iri":
                return None
            i += 2
        else:
            if i + 2 >= len(tokens) or tokens[i + 1][0] != "pname" or not tokens[i + 1][1].endswith(":"):
                return None
            if tokens[i + 2][0] != "iri":
                return None
            i += 3
    form = word(i)
    i += 1
    projection: set[str] | None = None  # None: every variable of the pattern (SELECT *)
    if form == "select":
        if i < len(tokens) and tokens[i] == ("punct", "*"):
            i += 1
        else:
            start = i
            while i < len(tokens) and tokens[i][0] == "var":
                i += 1
            if i == start:
                return None
            projection = {text[1:] for _, text in tokens[start:i]}
    elif form != "ask":
        return None
    if word(i) == "where":
        i += 1
    if i >= len(tokens) or tokens[i] != ("punct", "{"):
        return None
    i += 1
    # The one triple pattern.
    variables: list[str] = []
    subject_end = _constant(tokens, i, literal=False)
    if subject_end is None:
        if i >= len(tokens) or tokens[i][0] != "var":
            return None
        variables.append(tokens[i][1][1:])
        i += 1
    else:
        i = subject_end
    if i < len(tokens) and tokens[i][0] == "var":
        variables.append(tokens[i][1][1:])
        i += 1
    elif word(i) == "a" and tokens[i][1] == "a":
        i += 1
    else:
        predicate_end = _constant(tokens, i, literal=False)
        if predicate_end is None:
            return None
        i = predicate_end
    object_end = _constant(tokens, i, literal=True)
    if object_end is None:
        if i >= len(tokens) or tokens[i][0] != "var":
            return None
        if subject_end is None:
            return None  # neither the subject nor the object is a constant
        variables.append(tokens[i][1][1:])
        i += 1
    else:
        i = object_end
    if len(set(variables)) != len(variables):
        return None
    if i < len(tokens) and tokens[i] == ("punct", "."):
        i += 1
    if i >= len(tokens) or tokens[i] != ("punct", "}"):
        return None
    i += 1
    limit: int | None = None
    if form == "select" and word(i) == "limit":
        if i + 1 >= len(tokens) or not _INTEGER.fullmatch(tokens[i + 1][1]):
            return None
        limit = int(tokens[i + 1][1])
        i += 2
    if i != len(tokens):
        return None
    bound = (
        form == "select" and bool(variables) and (projection is None or not projection.isdisjoint(variables))
    )
    return (form, limit, bound)


__all__ = ["BOUNDED_ROWS", "LaneShape", "is_bounded", "lane_shape"]
