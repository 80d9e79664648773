"""server.protocol.safety: SERVICE SILENT to a refused host, exact texts in and out.

test_safety.py shows the outcome (no SERVICE left, the query still checks); here every step of the
rewrite is pinned by the exact text it gives: the prologue read by the lexer (BASE and PREFIX), the
target a clause names, relative IRIs against the declared and the configured base, several clauses,
nested groups and malformed input left as it is for the parsers to report.
"""

from __future__ import annotations

import pytest

from server.protocol.safety import (
    _prologue,
    _silent_target,
    _tokens,
    silence_refused_services,
)

NONE: frozenset[str] = frozenset()
WIKIDATA = frozenset({"query.wikidata.org"})


# Each test meets rdflib's parser itself, not an answer an earlier test left in the cache.
pytestmark = pytest.mark.usefixtures("fresh_safety_parse_cache")


def blanked(query: str, clause: str) -> str:
    """``query`` with ``clause`` replaced as the rewrite does: ``{}`` and spaces to its length."""
    assert query.count(clause) == 1
    return query.replace(clause, "{}" + " " * (len(clause) - 2))


# -- the prologue, as the lexer reads it ----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "base", "prefixes"),
    [
        ("SELECT * WHERE { ?s <http://x.example/> ?o }", None, {}),
        ("PREFIX ex: <http://e.example/> SELECT * { }", None, {"ex": "http://e.example/"}),
        (
            "base <http://b.example/> PrEfIx ex: <http://e.example/> PREFIX : <http://d.example/> ASK { }",
            "http://b.example/",
            {"ex": "http://e.example/", "": "http://d.example/"},
        ),
        # BASE right before a PREFIX: its own IRI, not the next one.
        (
            "BASE <http://b.example/> PREFIX p: <http://p.example/>",
            "http://b.example/",
            {"p": "http://p.example/"},
        ),
        ("# a comment first\nPREFIX ex: <http://e.example/>", None, {"ex": "http://e.example/"}),
        ("PREFIX a.b-c: <http://e.example/>", None, {"a.b-c": "http://e.example/"}),
        # Malformed: a declaration without its IRI ends the reading, what came before is kept.
        ("BASE <http://b.example/> PREFIX ex:", "http://b.example/", {}),
        ("PREFIX ex:", None, {}),
    ],
)
def test_the_prologue_as_the_lexer_reads_it(query: str, base: str | None, prefixes: dict[str, str]) -> None:
    assert _prologue(_tokens(query)) == (base, prefixes)


# -- the target a clause names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "base", "prefixes", "iri"),
    [
        (" <http://a.example/q> ", None, {}, "http://a.example/q"),
        ("<q>", "http://a.example/p/", {}, "http://a.example/p/q"),
        ("<../q>", "http://a.example/p/r", {}, "http://a.example/q"),
        ("<http://a.example/q>", "http://b.example/", {}, "http://a.example/q"),
        ("e:x", None, {"e": "http://e.example/"}, "http://e.example/x"),
        ("e:x:y", None, {"e": "http://e.example/"}, "http://e.example/x:y"),  # the first colon splits
        ("e:x", "http://b.example/", {"e": "sub/"}, "http://b.example/sub/x"),  # a relative prefix IRI
        ("e:x", None, {}, None),  # an unknown prefix
        ("e", None, {"e": "http://e.example/"}, None),  # no colon: not a prefixed name
        ("?e", None, {}, None),
        ("?v:x", None, {"?v": "http://e.example/"}, None),  # a variable, whatever follows
        ("$v:x", None, {"$v": "http://e.example/"}, None),
        ("<http://a.example/q", None, {}, None),  # an IRI without its closing bracket
        ("http://a.example/q>", None, {}, None),
    ],
)
def test_the_target_a_clause_names(
    target: str, base: str | None, prefixes: dict[str, str], iri: str | None
) -> None:
    assert _silent_target(target, base, prefixes) == iri


# -- the rewrite --------------------------------------------------------------------------------


def test_a_relative_target_resolves_against_the_declared_base() -> None:
    kept = "BASE <https://query.wikidata.org/> SELECT * WHERE { SERVICE SILENT <sparql> { } }"
    assert silence_refused_services(kept, WIKIDATA) == kept
    refused = "BASE <http://127.0.0.1:9/> SELECT * WHERE { SERVICE SILENT <sparql> { } }"
    assert silence_refused_services(refused, WIKIDATA) == blanked(refused, "SERVICE SILENT <sparql> { }")


def test_a_relative_declared_base_resolves_against_the_configured_one() -> None:
    query = "BASE <other/> SELECT * WHERE { SERVICE SILENT <sparql> { } }"
    assert silence_refused_services(query, WIKIDATA, base_iri="https://query.wikidata.org/x/") == query
    clause = "SERVICE SILENT <sparql> { }"
    assert silence_refused_services(query, WIKIDATA, base_iri="http://127.0.0.1:9/") == blanked(query, clause)
    assert silence_refused_services(query, WIKIDATA) == blanked(query, clause)  # no base at all: no host


def test_without_a_declared_base_the_configured_one_resolves() -> None:
    query = "SELECT * WHERE { SERVICE SILENT <sparql> { } }"
    assert silence_refused_services(query, WIKIDATA, base_iri="https://query.wikidata.org/") == query
    assert silence_refused_services(query, WIKIDATA, base_iri="http://127.0.0.1:9/") == blanked(
        query, "SERVICE SILENT <sparql> { }"
    )


def test_a_relative_prefix_resolves_against_the_base() -> None:
    query = "BASE <https://query.wikidata.org/> PREFIX w: <bigdata/> SELECT * { SERVICE SILENT w:sparql { } }"
    assert silence_refused_services(query, WIKIDATA) == query


def test_two_clauses_in_a_row_are_both_silenced() -> None:
    first = "SERVICE SILENT <http://127.0.0.1:9/a> { ?s ?p ?o }"
    second = "SERVICE SILENT <http://127.0.0.1:9/b> { ?s ?q ?r }"
    query = f"SELECT * WHERE {{ {first} {second} ?x ?y ?z }}"
    assert silence_refused_services(query, NONE) == blanked(blanked(query, first), second)


def test_only_the_refused_one_of_two_clauses_is_silenced() -> None:
    allowed = "SERVICE SILENT <https://query.wikidata.org/sparql> { ?s ?p ?o }"
    refused = "SERVICE SILENT <http://127.0.0.1:9/b> { ?s ?q ?r }"
    query = f"SELECT * WHERE {{ {refused} {allowed} }}"
    assert silence_refused_services(query, WIKIDATA) == blanked(query, refused)


def test_nested_groups_end_at_the_matching_brace() -> None:
    clause = "SERVICE SILENT <http://127.0.0.1:9/> { { ?s ?p ?o } UNION { ?s ?q ?o } }"
    query = f"SELECT * WHERE {{ {clause} ?a ?b ?c }}"
    assert silence_refused_services(query, NONE) == blanked(query, clause)


def test_the_clause_may_stand_first_and_touch_its_neighbours() -> None:
    query = "SERVICE SILENT<http://127.0.0.1:9/>{ ?s ?p ?o }"
    assert silence_refused_services(query, NONE) == blanked(query, query)


def test_a_prefixed_target_after_a_space_is_silent() -> None:
    query = "PREFIX : <http://127.0.0.1:9/> SELECT * WHERE { SERVICE SILENT :x { } }"
    assert silence_refused_services(query, NONE) == blanked(query, "SERVICE SILENT :x { }")


def test_a_clause_without_target_is_silenced_when_nothing_is_allowed() -> None:
    query = "SELECT * WHERE { SERVICE SILENT { ?s ?p ?o } }"
    assert silence_refused_services(query, NONE) == blanked(query, "SERVICE SILENT { ?s ?p ?o }")
    assert silence_refused_services(query, WIKIDATA) == query


def test_a_target_without_host_is_refused() -> None:
    query = "SELECT * WHERE { SERVICE SILENT <urn:x:y> { } }"
    assert silence_refused_services(query, WIKIDATA) == blanked(query, "SERVICE SILENT <urn:x:y> { }")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p ?o } SERVICE SILENT",  # nothing after SILENT
        "SELECT * WHERE { ?s ?p ?o } SERVICE SILENT <http://127.0.0.1:9/> .",  # no group
        "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/> { ?s ?p ?o",  # the group never closes
        "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/> { { ?s ?p ?o }",  # only the inner one closes
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { } }",  # not SILENT: check_query refuses it
        "SELECT * WHERE { SERVICE SILENT:x { } }",  # the prefixed name SILENT:x, not the keyword
        "SELECT * WHERE { ?s ?p 'service silent <x> { }' }",  # in a string
    ],
)
def test_what_is_not_a_whole_silent_clause_is_left_as_it_is(query: str) -> None:
    assert silence_refused_services(query, NONE) == query


def test_lines_and_columns_are_kept_across_several_lines() -> None:
    clause = "SERVICE SILENT\r\n  <http://127.0.0.1:9/> {\n ?s ?p ?o\n}"
    query = f"SELECT * WHERE {{\n{clause} ?a ?b ?c }}"
    silenced = silence_refused_services(query, NONE)
    assert (
        silenced
        == "SELECT * WHERE {\n{}" + " " * 12 + "\r\n" + " " * 25 + "\n" + " " * 9 + "\n" + "  ?a ?b ?c }"
    )
    assert [len(line) for line in silenced.splitlines()] == [len(line) for line in query.splitlines()]
