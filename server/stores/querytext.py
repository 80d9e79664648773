"""The text of a query as a remote engine gets it: its form, the base IRI, variable bindings.

The embedded store takes a base IRI and typed bindings beside the query text; the SPARQL 1.1 Protocol
has neither, so they are written into the text, never by splicing what a client typed:

* the base IRI becomes a ``BASE <…>`` declaration in front of the prologue (a later ``BASE`` in the
  query still resolves against it, as the grammar says);
* bindings are pre-bound as the embedded store pre-binds them (pyoxigraph's ``substitutions``): the
  variable is replaced by its term wherever the grammar takes a term, throughout the query and in
  every sub-select that projects it, so filters, ``COALESCE``, optionals and aggregates in nested
  groups and sub-selects see the value; where only a variable may stand, it stays and is bound by one
  row of inline data, ``VALUES (?a ?b) { (term term) }`` (see :func:`with_bindings`). A term is written
  in N-Triples syntax with every quote, backslash and control character escaped, and an IRI that
  holds a character no IRIREF may hold is refused: no value can end the term early.

A small lexer (strings, IRIs, comments, variables, words, punctuation) finds the positions, and a walk
over its tokens follows the brackets (groups, sub-selects, expressions, ``VALUES`` blocks); it does
not parse the query, the engine does. tests/test_querytext.py checks each construct against what
Oxigraph's own pre-binding answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from server.errors import QueryNotSupported
from server.protocol.results import NOT_IN_IRI, BlankNode, Iri, Literal, Term, TripleTerm, nt_term

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
    if isinstance(term, Iri) and NOT_IN_IRI.search(term.value):
        raise QueryNotSupported(f"not an IRI a query can hold: {term.value!r}")
    if isinstance(term, BlankNode | TripleTerm):
        raise QueryNotSupported("a blank node or triple term cannot be bound in a query sent to an engine")
    if (
        isinstance(term, Literal)
        and term.language is not None
        and not re.fullmatch(r"[A-Za-z]+(-[A-Za-z0-9]+)*", term.language)
    ):
        raise QueryNotSupported(f"not a language tag: {term.language!r}")
    if isinstance(term, Literal) and NOT_IN_IRI.search(term.datatype):
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


_VAR_NAME = re.compile(r"[A-Za-z0-9_\u00b7\u00c0-\uffff]+")
_MODIFIERS = {"group", "having", "order", "limit", "offset", "values"}


@dataclass
class _Frame:
    """One open bracket while walking the query: a group ``{``, a ``(`` or a SELECT's clauses."""

    kind: str  # "group", "paren" or "select"
    names: frozenset[str]  # the bound variables that are the same variable here
    open: int = -1  # a group: just after its '{'
    close: int = -1  # a group: where its '}' is (filled in when it closes)
    where_of_select: bool = False  # a group: the WHERE group of a SELECT in scope
    phase: str = "clause"  # a select: "clause" (projection), "where", "modifiers"
    outermost: bool = False  # a select: the query itself, not a sub-select
    star: bool = False  # a select: SELECT *
    modifier: str = ""  # a select: the solution modifier being read ("group", "having", "order" …)
    projected_at: dict[str, int] = field(default_factory=dict)  # a select: token of a plain ?x
    kept: set[str] = field(default_factory=set)  # a select: bound names its body binds itself
    where: _Frame | None = None  # a select: its WHERE group
    grouped_at: dict[str, int] = field(default_factory=dict)  # a select: token of a plain GROUP BY ?x
    marked: set[str] | None = None  # a group: bound names it must bind itself (inline data)
    at_start: bool = True  # a group: its inline data goes first (last when it assigns a bound name)
    holds_select: bool = False  # a group that is a sub-select: inline data needs a group of its own


class _Substitution:
    """The walk of :func:`with_bindings` over the tokens (see its description)."""

    def __init__(self, query: str, bindings: Mapping[str, Term]) -> None:
        self.query = query
        self.tokens = _tokens(query)
        self.bindings = bindings
        self.terms = {name: sparql_term(term) for name, term in bindings.items()}
        self.edits: list[tuple[int, int, str]] = []  # (start, end, text): replace query[start:end]
        self.groups: list[_Frame] = []  # every group that gets inline data, with its '}' position

    def _end(self, token: _Token) -> int:
        return token.start + len(token.text)

    def _word(self, i: int) -> str:
        if 0 <= i < len(self.tokens) and self.tokens[i].kind == "word":
            return self.tokens[i].text.lower()
        return ""

    def _text(self, i: int) -> str:
        return self.tokens[i].text if 0 <= i < len(self.tokens) else ""

    def _replace(self, token: _Token, name: str) -> None:
        self.edits.append((token.start, self._end(token), self.terms[name]))

    def _keep(self, stack: list[_Frame], name: str) -> None:
        """The variable stays where only a variable may stand: its group binds it (inline data)."""
        group = next(f for f in reversed(stack) if f.kind == "group")
        assert group.marked is not None
        group.marked.add(name)
        select = next((f for f in reversed(stack) if f.kind == "select"), None)
        if select is not None:
            select.kept.add(name)

    def _in_expression(self, stack: list[_Frame]) -> bool:
        """Inside brackets ``( )`` opened since the innermost group or SELECT clause."""
        return bool(stack) and stack[-1].kind == "paren"

    def _expression(self, i: int, name: str) -> None:
        """A variable in an expression: its term, and ``BOUND(?x)`` is ``(true)``."""
        if self._word(i - 2) == "bound" and self._text(i - 1) == "(" and self._text(i + 1) == ")":
            self.edits.append((self.tokens[i - 2].start, self._end(self.tokens[i + 1]), "(true)"))
        else:
            self._replace(self.tokens[i], name)

    def _select(self, i: int, names: frozenset[str], outermost: bool) -> _Frame:
        projected, _ = _projection(self.tokens, i)
        if outermost:
            for name in self.bindings:
                if projected is not None and name not in projected:
                    raise QueryNotSupported(
                        f"the variable ?{name} is bound but the query does not project it"
                    )
        scope = frozenset(n for n in names if projected is None or n in projected)
        return _Frame("select", scope, outermost=outermost, star=projected is None)

    def _skip_values(self, i: int, stack: list[_Frame]) -> int:
        """``VALUES`` at ``i``: its header keeps bound variables (a join, as pre-binding gives); the
        data block is skipped. Returns the index after the block."""
        names = stack[-1].names if stack else frozenset()
        # The query's own trailing VALUES joins with its WHERE group, which binds the variable.
        trailing = bool(stack) and stack[-1].kind == "select" and stack[-1].outermost
        j = i + 1
        header: list[_Token] = []
        if self._text(j) == "(":
            j += 1
            while j < len(self.tokens) and self._text(j) != ")":
                header.append(self.tokens[j])
                j += 1
            j += 1
        elif j < len(self.tokens):
            header.append(self.tokens[j])
            j += 1
        for token in header:
            name = token.text[1:]
            if token.kind == "var" and name in names and not trailing:
                self._keep(stack, name)
        if self._text(j) != "{":
            raise QueryNotSupported("the query's VALUES has no data block")
        depth = 0
        while j < len(self.tokens):
            if self._text(j) == "{":
                depth += 1
            elif self._text(j) == "}":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        raise QueryNotSupported("the query's VALUES data block is not closed")

    def run(self) -> str:
        tokens = self.tokens
        select_at = next((i for i, t in enumerate(tokens) if self._word(i) == "select"), None)
        if select_at is None or query_form(self.query) is not QueryForm.SELECT:
            raise QueryNotSupported("variables can only be bound in a SELECT query")
        for name in self.bindings:
            if not _VAR_NAME.fullmatch(name):
                raise QueryNotSupported(f"not a variable name: {name!r}")
        stack: list[_Frame] = []
        i = select_at
        while i < len(tokens):
            token = tokens[i]
            word = self._word(i)
            top = stack[-1] if stack else None
            if word == "select":
                frame = self._select(i, top.names if top else frozenset(self.bindings), top is None)
                stack.append(frame)
            elif word == "values":
                i = self._skip_values(i, stack)
                continue
            elif token.text == "{":
                names = top.names if top else frozenset()
                if top is not None and top.kind == "select" and top.phase == "clause":
                    # The query's WHERE group binds every bound variable (its projection, GROUP BY and
                    # ORDER BY name it); a sub-select's need not: the query's binding joins with it.
                    top.phase = "where"
                    binds = names if top.outermost or top.star else frozenset()
                    group = _Frame("group", names, where_of_select=True, marked=set(binds))
                    top.where = group
                elif self._word(i - 1) == "minus":
                    # Pre-bound, both sides of MINUS hold the variable: never the disjoint-domain case.
                    group = _Frame("group", names, marked=set(names))
                else:
                    group = _Frame("group", names, marked=set())
                group.open = self._end(token)
                group.holds_select = self._word(i + 1) == "select"
                stack.append(group)
            elif token.text == "}":
                if top is not None and top.kind == "select":  # a sub-select ends with its group
                    self._sub_select_ends(stack.pop())
                if not stack or stack[-1].kind != "group":
                    raise QueryNotSupported("the query's braces do not match")
                group = stack.pop()
                group.close = token.start
                self.groups.append(group)
                if group.where_of_select:
                    stack[-1].phase = "modifiers"
            elif token.text == "(":
                stack.append(_Frame("paren", top.names if top else frozenset()))
            elif token.text == ")":
                if not stack or stack[-1].kind != "paren":
                    raise QueryNotSupported("the query's brackets do not match")
                stack.pop()
            elif word in _MODIFIERS and top is not None and top.kind == "select":
                top.modifier = word
            elif token.kind == "var" and top is not None and token.text[1:] in top.names:
                self._variable(i, token.text[1:], stack)
            i += 1
        return self._apply()

    def _variable(self, i: int, name: str, stack: list[_Frame]) -> None:
        before = self._word(i - 1)
        owner = next(f for f in reversed(stack) if f.kind != "paren")
        term = self.bindings[name]
        if owner.kind == "select":  # the projection, or GROUP BY / HAVING / ORDER BY
            if before == "as":
                raise QueryNotSupported(
                    f"the variable ?{name} is bound but the query assigns it in its SELECT clause "
                    "or GROUP BY (… AS ?{name})"
                )
            if self._in_expression(stack):
                self._expression(i, name)
            elif owner.phase == "clause":
                owner.projected_at.setdefault(name, i)
            elif owner.modifier == "group":
                owner.grouped_at.setdefault(name, i)
            # A variable the projection, GROUP BY or ORDER BY names stays: see _sub_select_ends.
            return
        if before == "as":  # BIND (… AS ?x): a join with the value, as pre-binding gives
            self._keep(stack, name)
            next(f for f in reversed(stack) if f.kind == "group").at_start = False
        elif self._in_expression(stack):
            self._expression(i, name)
        elif isinstance(term, Iri):  # a triple pattern, GRAPH or SERVICE: an IRI may stand anywhere
            self._replace(self.tokens[i], name)
        else:  # a literal may not stand everywhere (predicate, GRAPH): the group binds the variable
            self._keep(stack, name)

    def _sub_select_ends(self, select: _Frame) -> None:
        """A sub-select in scope gives the value of each bound variable it projects: the projected
        ``?x`` becomes ``(term AS ?x)``, and ``GROUP BY ?x`` (if any) ``GROUP BY (term)``.
        (Not inline data in its WHERE group: joined back on a variable, an engine may plan that
        sub-select as if unconstrained — Virtuoso refuses it as too costly.) A sub-select whose body
        binds the variable itself (a BIND, a VALUES, a literal kept in a triple pattern) cannot also
        assign it with AS: its WHERE group binds it with inline data instead."""
        for name in select.names:
            projected = select.projected_at.get(name)
            if name in select.kept and select.where is not None and select.where.marked is not None:
                select.where.marked.add(name)
                continue
            if projected is None:
                continue
            token = self.tokens[projected]
            self.edits.append((token.start, self._end(token), f"({self.terms[name]} AS {token.text})"))
            grouped = select.grouped_at.get(name)
            if grouped is not None:  # grouping by a constant makes the same groups
                token = self.tokens[grouped]
                self.edits.append((token.start, self._end(token), f"({self.terms[name]})"))

    def _apply(self) -> str:
        edits = list(self.edits)
        for group in self.groups:
            if group.marked:
                names = sorted(group.marked)
                values = (
                    f" VALUES ({' '.join('?' + n for n in names)}) "
                    f"{{ ({' '.join(self.terms[n] for n in names)}) }} "
                )
                if group.holds_select:  # { SELECT … } holds nothing else: { VALUES … { SELECT … } }
                    edits.append((group.open, group.open, values + "{"))
                    edits.append((group.close, group.close, "} "))
                else:
                    at = group.open if group.at_start else group.close
                    edits.append((at, at, values))
        text = self.query
        for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
            text = text[:start] + replacement + text[end:]
        return text


def with_bindings(query: str, bindings: Mapping[str, Term]) -> str:
    """``query`` with ``bindings`` pre-bound as the embedded store pre-binds them (SELECT queries only).

    The bound variable is the same variable throughout the query and in every sub-select that
    projects it (a sub-select that does not project it has a variable of its own, left alone). Within
    that scope each occurrence becomes the term where the grammar takes a term — in expressions
    (``FILTER``, ``BIND``, ``COALESCE`` …, ``HAVING``, ``GROUP BY (…)``), and in triple patterns and
    ``GRAPH`` when the term is an IRI — and ``BOUND(?x)`` becomes ``(true)``. Where only a variable may
    stand (the projection, ``GROUP BY ?x``, ``ORDER BY ?x``, the target of ``BIND … AS``, a
    ``VALUES`` header, a literal where a predicate or graph name stands) the variable stays, and the
    group that holds it binds it with one row of inline data at its end: so the projection gives the
    value, and a ``BIND`` or ``VALUES`` that gives it another value joins with it (no solution), as
    pre-binding does. The WHERE group of the query and of every sub-select in scope binds it so.
    A bound variable that the query assigns in its SELECT clause (``(… AS ?x)``) is refused.
    """
    if not bindings:
        return query
    return _Substitution(query, bindings).run()


def with_base(query: str, base_iri: str | None) -> str:
    """``query`` with ``BASE <base_iri>`` in front (unchanged without a base)."""
    if base_iri is None:
        return query
    if NOT_IN_IRI.search(base_iri):
        raise QueryNotSupported(f"not a base IRI: {base_iri!r}")
    return f"BASE <{base_iri}>\n{query}"
